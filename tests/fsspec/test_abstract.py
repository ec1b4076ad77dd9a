"""fsspec's own abstract test suite (``fsspec.tests.abstract``, shipped in the fsspec wheel)
against CloudFileSystem on every backend.

The cases are fsspec's, unchanged; we only supply the fixtures (``fs``, ``fs_path``,
``supports_empty_directories``).  Object stores have no empty directories, so, like s3fs
and gcsfs, the filesystem says it does not support them (the suite then adds dummy files).
Cases that do not pass are listed in ``XFAIL`` with the reason (strict: a case that starts
passing fails the run until it is taken off the list) and in the README.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from fsspec.tests.abstract import (
    AbstractCopyTests,
    AbstractFixtures,
    AbstractGetTests,
    AbstractOpenTests,
    AbstractPipeTests,
    AbstractPutTests,
)

from cloud.fsspec import CloudFileSystem
from tests.fsspec.conftest import CLASSES, fs_options, new_bucket

XFAIL: dict[tuple[str, str], str] = {}
"""``(backend or "*", test name) -> reason``."""


class _Fixtures(AbstractFixtures):  # type: ignore[misc]
    backend = ""

    @pytest.fixture(scope="class")
    @classmethod
    def _class_fs(
        cls, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[tuple[CloudFileSystem, str]]:
        fs = CLASSES[cls.backend](skip_instance_cache=True, **fs_options(cls.backend, request, tmp_path_factory))
        root = fs._join(new_bucket())
        fs.mkdir(root)
        yield fs, root
        try:
            fs.rm(root, recursive=True)
        finally:
            fs.close()

    @pytest.fixture
    def fs(self, _class_fs: tuple[CloudFileSystem, str]) -> CloudFileSystem:
        return _class_fs[0]

    @pytest.fixture
    def fs_path(self, _class_fs: tuple[CloudFileSystem, str]) -> str:
        # A fresh folder per test: nothing one case leaves behind reaches the next.
        return f"{_class_fs[1]}/{uuid.uuid4().hex[:12]}"

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return False

    @pytest.fixture(autouse=True)
    def _known_failures(self, request: pytest.FixtureRequest) -> None:
        name = request.node.originalname
        reason = XFAIL.get((self.backend, name)) or XFAIL.get(("*", name))
        if reason:
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


class _Suite(
    _Fixtures,
    AbstractCopyTests,  # type: ignore[misc]
    AbstractGetTests,  # type: ignore[misc]
    AbstractPutTests,  # type: ignore[misc]
    AbstractOpenTests,  # type: ignore[misc]
    AbstractPipeTests,  # type: ignore[misc]
):
    __test__ = False


# FSSPEC_ABSTRACT_BACKENDS=memory,s3 narrows a local run (the classes of the others are not
# defined, so nothing is skipped); CI runs all five.
_NAMES = {"memory": "TestMemory", "local": "TestLocal", "s3": "TestS3", "gcs": "TestGCS", "azure": "TestAzure"}
for _backend in os.environ.get("FSSPEC_ABSTRACT_BACKENDS", ",".join(_NAMES)).split(","):
    if _backend:
        globals()[_NAMES[_backend]] = type(_NAMES[_backend], (_Suite,), {"__test__": True, "backend": _backend})
