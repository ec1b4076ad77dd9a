"""Checks that an error's cause chain keeps no secret once pickled the way Dask pickles it."""

from __future__ import annotations

import copyreg
import pickle
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote

import tblib.pickling_support


@contextmanager
def tblib_pickling() -> Iterator[None]:
    """tblib's pickling support (exceptions pickle with their cause, context and traceback,
    as on Dask workers), undone afterwards so that other tests pickle as before."""
    saved = dict(copyreg.dispatch_table)
    tblib.pickling_support.install()
    try:
        yield
    finally:
        copyreg.dispatch_table.clear()
        copyreg.dispatch_table.update(saved)


def chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception it chains (cause, context)."""
    found: list[BaseException] = []
    stack: list[BaseException | None] = [error]
    while stack:
        item = stack.pop()
        if item is None or any(item is f for f in found):
            continue
        found.append(item)
        stack += [item.__cause__, item.__context__]
    return found


def forms(secrets: Iterable[str]) -> set[str]:
    """Each secret as it is, percent-encoded and decoded."""
    return {v for s in secrets for v in (s, quote(s, safe=""), unquote(s)) if v}


def assert_no_secret(error: BaseException, secrets: Iterable[str], *, cause_type: type[BaseException]) -> None:
    """``error`` keeps a ``cause_type`` cause through pickling, and neither its pickle nor the
    repr/str of any exception of its chain shows a secret."""
    assert isinstance(error.__cause__, cause_type), repr(error.__cause__)
    with tblib_pickling():
        blob = pickle.dumps(error)
        restored = pickle.loads(blob)
    assert isinstance(restored.__cause__, cause_type)  # the cause travelled with the error
    texts = [text for item in chain(error) for text in (repr(item), str(item))]
    for secret in forms(secrets):
        assert secret.encode() not in blob, f"{secret[:6]}... in the pickle"
        assert not any(secret in text for text in texts), f"{secret[:6]}... in a repr/str of the chain"
