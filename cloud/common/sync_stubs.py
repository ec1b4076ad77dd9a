"""Generate the ``.pyi`` stubs that type the sync facades: ``python -m cloud.common.sync_stubs``.

Each facade module (``cloud/<provider>/sync.py``) gets a stub beside it in which every
generated blocking method carries its async twin's signature, with the awaited return
type and async iterators/paginators turned into their blocking counterparts.  A test
regenerates the stubs and fails when a committed stub is stale.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

from .registry import providers
from .sync import SyncClient

__all__ = ["FACADE_MODULES", "render_stub", "main"]

FACADE_MODULES = [
    module
    for module in (p.sync_client.partition(":")[0] for p in providers() if p.sync_client)
    if module.startswith("cloud.")
]
"""The facade module of every provider of this package in :mod:`cloud.common.registry` (not
one registered at run time from elsewhere, e.g. a test's: its stubs are not ours to write)."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_RETURN_REWRITES = [
    (re.compile(r"^AsyncPaginator\[(.*)\]$"), r"SyncPaginator[\1]"),
    (re.compile(r"^AsyncIterator\[(.*)\]$"), r"Iterator[\1]"),
    (re.compile(r"^AsyncGenerator\[(.*), None\]$"), r"Iterator[\1]"),
    (re.compile(r"^ObjectReader$"), "SyncObjectReader"),
    (re.compile(r"^ObjectWriter$"), "SyncObjectWriter"),
]
# The blocking forms the rewrites above name, and where they come from.
_SYNC_FORMS = {name: f"from cloud.common.objects import {name}" for name in ("SyncObjectReader", "SyncObjectWriter")}


def _module_imports(module_name: str) -> dict[str, str]:
    """Map each top-level name of a module to the import line that provides it."""
    module = sys.modules[module_name]
    source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
    tree = ast.parse(source)
    package = module_name if hasattr(module, "__path__") else module_name.rpartition(".")[0]
    lines: dict[str, str] = {}
    body = list(tree.body)
    for node in tree.body:  # names imported for type checking only count too
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            body += node.body
    for node in body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                local = alias.asname or alias.name
                as_part = f" as {alias.asname}" if alias.asname else ""
                lines[local] = f"from {base} import {alias.name}{as_part}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                lines[local] = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            lines[node.name] = f"from {module_name} import {node.name}"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    lines[target.id] = f"from {module_name} import {target.id}"
    return lines


def _annotation_text(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    raise TypeError(f"annotations must be strings (use 'from __future__ import annotations'): {annotation!r}")


def _render_signature(func: Any, *, returns: str | None, imports: set[str], module: str) -> str:
    signature = inspect.signature(func)
    names = _module_imports(module)
    parts: list[str] = []
    star_done = False
    for param in signature.parameters.values():
        text = param.name
        if param.kind is param.VAR_POSITIONAL:
            text = "*" + text
            star_done = True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        elif param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if param.annotation is not param.empty:
            ann = _annotation_text(param.annotation)
            _collect(ann, names, imports)
            text += f": {ann}"
        if param.default is not param.empty:
            text += " = ..."
        parts.append(text)
    ret = returns if returns is not None else "None"
    _collect(ret, names, imports)
    return f"({', '.join(parts)}) -> {ret}"


def _collect(annotation: str, names: dict[str, str], imports: set[str]) -> None:
    for match in _IDENT.findall(annotation):
        head = match.split(".")[0]
        if head in vars(builtins) or head in ("None", "SyncPaginator", "Iterator"):
            continue
        if head in _SYNC_FORMS:
            imports.add(_SYNC_FORMS[head])
            continue
        if head not in names:
            raise LookupError(f"cannot find where {head!r} comes from")
        imports.add(names[head])


def _sync_return(func: Any) -> str:
    raw = inspect.signature(func).return_annotation
    text = "None" if raw is inspect.Signature.empty else _annotation_text(raw)
    for pattern, repl in _RETURN_REWRITES:
        if pattern.match(text):
            return pattern.sub(repl, text)
    return text


def render_stub(module_name: str) -> str:
    """Return the stub text for one facade module."""
    module = importlib.import_module(module_name)
    imports: set[str] = {
        "from collections.abc import Iterator",
        "from cloud.common.sync import SyncClient, SyncPaginator",
    }
    body: list[str] = []
    facades = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, SyncClient) and obj.__module__ == module_name
    ]
    for cls in sorted(facades, key=lambda c: c.__name__):
        target = cls._async_class
        imports.add(_module_imports(module_name)[target.__name__])
        body.append(f"class {cls.__name__}(SyncClient[{target.__name__}]):")
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        if doc:
            body.append(f'    """{doc}"""')
        init = target.__init__
        body.append(
            f"    def __init__{_render_signature(init, returns='None', imports=imports, module=init.__module__)}: ..."
        )
        for name in sorted(n for n in cls.__dict__ if not n.startswith("_")):
            member = cls.__dict__[name]
            if isinstance(member, property):
                static = inspect.getattr_static(target, name)
                fget = static.fget
                ret = _annotation_text(inspect.signature(fget).return_annotation)
                _collect(ret, _module_imports(fget.__module__), imports)
                body.append("    @property")
                body.append(f"    def {name}(self) -> {ret}: ...")
                continue
            func = inspect.getattr_static(target, name)
            if isinstance(func, (staticmethod, classmethod)):
                continue
            body.append(
                f"    def {name}{_render_signature(func, returns=_sync_return(func), imports=imports, module=func.__module__)}: ..."
            )
        body.append("")
    header = [
        "# Generated by `python -m cloud.common.sync_stubs`; do not edit by hand.",
        "from __future__ import annotations",
        "",
        *sorted(imports),
        "",
    ]
    all_line = f"__all__ = [{', '.join(repr(c.__name__) for c in sorted(facades, key=lambda c: c.__name__))}]"
    return "\n".join([*header, all_line, "", *body]).rstrip() + "\n"


def stub_path(module_name: str) -> Path:
    """Where a facade module's stub lives."""
    module = importlib.import_module(module_name)
    return Path(inspect.getfile(module)).with_suffix(".pyi")


def main(argv: list[str] | None = None) -> int:
    """Write (or, with ``--check``, verify) the stubs of every importable facade module."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a stub is stale")
    args = parser.parse_args(argv)
    stale = []
    for name in FACADE_MODULES:
        try:
            text = render_stub(name)
        except ImportError as exc:
            if args.check:
                stale.append(f"{name} (cannot import: {exc})")
            else:
                print(f"skipped {name}: {exc}")
            continue
        path = stub_path(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale stubs (run python -m cloud.common.sync_stubs):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
