"""Object names sent byte for byte: an aiohttp session wrapper that stops yarl re-quoting
the URLs gcloud-aio builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

__all__ = ["ExactURLSession", "exact_url"]


def exact_url(url: Any) -> Any:
    """A plain-ASCII string URL as a yarl URL marked already encoded (sent byte for byte)."""
    if isinstance(url, str) and url.isascii() and " " not in url:
        from yarl import URL  # loaded with aiohttp

        return URL(url, encoded=True)
    return url


class ExactURLSession:
    """An ``aiohttp.ClientSession`` that sends string URLs exactly as given.

    gcloud-aio percent-encodes object names (``quote(name, safe="")``) and passes the URL as
    a string; yarl would then re-quote it and turn ``%3B``, ``%2C``, ``%27``... back into
    ``;``, ``,``, ``'`` -- a different path (``;`` even starts URL parameters for some
    servers, the emulator among them).  Marking the strings as already encoded keeps every
    object name byte for byte.  Everything else is delegated to the real session.
    """

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        return self._session.request(method, exact_url(url), **kwargs)

    def get(self, url: Any, **kwargs: Any) -> Any:
        return self._session.get(exact_url(url), **kwargs)

    def post(self, url: Any, **kwargs: Any) -> Any:
        return self._session.post(exact_url(url), **kwargs)

    def put(self, url: Any, **kwargs: Any) -> Any:
        return self._session.put(exact_url(url), **kwargs)

    def patch(self, url: Any, **kwargs: Any) -> Any:
        return self._session.patch(exact_url(url), **kwargs)

    def delete(self, url: Any, **kwargs: Any) -> Any:
        return self._session.delete(exact_url(url), **kwargs)

    def head(self, url: Any, **kwargs: Any) -> Any:
        return self._session.head(exact_url(url), **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
