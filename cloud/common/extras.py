"""Clear errors when a provider's optional extra is not installed."""

from __future__ import annotations

from .exceptions import MissingDependencyError

__all__ = ["require_extra"]


def require_extra(extra: str, *modules: str) -> None:
    """Import ``modules`` or raise :class:`MissingDependencyError` naming the extra.

    Called at the top of each provider package (``cloud.aws``...), so importing a provider
    without its SDK fails at once with ``pip install 'codomyrmex-cloud[<extra>]'``.
    """
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingDependencyError(
                f"the {extra!r} provider needs {module!r}, which is not installed: "
                f"pip install 'codomyrmex-cloud[{extra}]'",
                extra=extra,
            ) from exc
