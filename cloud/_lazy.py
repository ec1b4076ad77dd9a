"""Lazy exports for the provider packages (``cloud.aws``, ``cloud.gcp``...).

``import cloud.aws`` only checks that the extra's SDK is installed (without importing it)
and binds nothing heavy; ``from cloud.aws import S3Client`` imports the client module on
first access, and the client imports its SDK on its first call.  Kept out of
:mod:`cloud.common` so that a provider package does not import that package either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from importlib.util import find_spec

__all__ = ["check_installed", "lazy_exports"]


def check_installed(extra: str, *modules: str) -> None:
    """Raise :class:`~cloud.common.exceptions.MissingDependencyError` naming ``extra`` when
    one of ``modules`` is not installed.  Finds them without importing them (a dotted name
    imports its parent packages only: pass names whose parents are light)."""
    for module in modules:
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            from cloud.common.extras import require_extra

            require_extra(extra, module)  # imports it: raises the error that names the extra


def lazy_exports(
    namespace: dict[str, object], exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package whose ``globals()`` is ``namespace``:
    each name of ``exports`` is imported from its submodule (``{"S3Client": ".client"}``)
    when first asked for, then kept in the package's namespace."""
    package = str(namespace["__name__"])

    def __getattr__(name: str) -> object:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value: object = getattr(import_module(where, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
