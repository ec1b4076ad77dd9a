"""Sessions: tests (default), lint, typecheck, examples, bench."""

from __future__ import annotations

import os
import shutil
import tempfile

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYTHON = os.environ.get("NOX_PYTHON") or None


def _npm_ci(session: nox.Session) -> None:
    """Install Azurite (pinned in package-lock.json) into ./node_modules."""
    if shutil.which("npm") is None:
        session.error("npm is required for the Azurite emulator (install Node.js 20+)")
    if not os.path.exists("node_modules/.bin/azurite-blob"):
        session.run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", external=True)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the whole test suite against the local backend, moto, the GCS emulator, Azurite
    and the Coda fake (every emulator is started by the tests themselves)."""
    _npm_ci(session)
    session.install("-e", ".[all,test]")
    _collect_in_fresh_clone(session)
    session.run("pytest", "-q", "-ra", *session.posargs, env={"CLOUD_REQUIRE_EMULATORS": "1"})


def _collect_in_fresh_clone(session: nox.Session) -> None:
    """A user's clone has nothing beside it: clone HEAD into an empty temp folder and collect
    the whole suite there, so a test that reads a file from outside the repository fails CI."""
    with tempfile.TemporaryDirectory() as parent:
        clone = os.path.join(parent, "clone")
        session.run("git", "clone", "--quiet", "--no-hardlinks", ".", clone, external=True)
        with session.chdir(clone):
            session.run("python", "tools/coda_codegen.py", "--check")
            session.run("python", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", silent=True)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on cloud/ and examples/, and the sync stubs are fresh."""
    session.install("-e", ".[all,test]", "mypy==2.4.1")
    session.run("mypy")
    session.run("python", "-m", "cloud.common.sync_stubs", "--check")
    session.run("python", "tools/coda_codegen.py", "--check")


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every example against the local backend, the emulators and the Coda fake."""
    _npm_ci(session)
    session.install("-e", ".[all,test]")
    session.run("pytest", "-q", "tests/test_examples.py", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks; writes benchmarks/RESULTS.md (``-- --quick`` for a smoke run)."""
    _npm_ci(session)
    session.install("-e", ".[all,test]", "aioboto3", "s3fs", "obstore", "awscli")
    session.run("python", "-m", "benchmarks.run", *session.posargs)
