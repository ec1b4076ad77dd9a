"""``cloud compute ls|start|stop`` and ``cloud functions ls|invoke`` on moto and the GCP fake."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest

from cloud.cli.main import run

from .backends import aws
from .fakes.gcp import PROJECT, GoogleFake


@pytest.fixture
def moto(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The provider options of a command on the session's moto server."""
    url = str(request.getfixturevalue("moto_server").url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACLITEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cli-secret-not-real")
    return ["--provider", "aws", "--endpoint-url", url, "--region", aws.REGION]


def test_compute_ls_start_stop(
    request: pytest.FixtureRequest, moto: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    harness = aws.compute(request)
    (instance,) = anyio.run(harness.create_instances, 1, {"cli": "yes"})
    assert run(["compute", "ls", *moto, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = next(r for r in records if r["id"] == instance)
    assert mine["state"] == "running" and mine["tags"]["cli"] == "yes" and mine["provider"] == "aws"
    assert run(["compute", "stop", instance, *moto, "--wait", "--timeout", "30"]) == 0
    assert f"{instance}\tstopped" in capsys.readouterr().out
    assert run(["compute", "start", instance, *moto, "--wait"]) == 0
    assert f"{instance}\trunning" in capsys.readouterr().out
    assert run(["compute", "ls", *moto, "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_compute_errors_are_one_line(moto: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compute", "start", "i-0123456789abcdef0", *moto]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cloud: not found:") and len(err.strip().splitlines()) == 1
    assert run(["compute", "stop", "not-an-id", *moto]) == 2  # a usage error, before any request
    assert run(["compute"]) == 2  # no command: the group's help


def test_functions_ls_and_invoke(
    request: pytest.FixtureRequest, moto: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    harness = aws.serverless(request)
    (name,) = anyio.run(harness.create_functions, ["cli-echo"], {"cli": "yes"})
    assert run(["functions", "ls", *moto]) == 0
    assert any(line.startswith(f"{name}\tactive") for line in capfd.readouterr().out.splitlines())
    assert run(["functions", "invoke", name, *moto, "--payload", '{"ants": 3}']) == 0
    assert json.loads(capfd.readouterr().out) == {"ants": 3}
    assert run(["functions", "invoke", name, *moto, "--payload", "{}", "--async"]) == 0
    assert f"{name}\tqueued" in capfd.readouterr().out
    anyio.run(harness.fail_next, name)
    assert run(["functions", "invoke", name, *moto, "--payload", "{}"]) == 1
    assert "function 'cli-echo' failed (Unhandled)" in capfd.readouterr().err


def test_gcp_through_application_default_credentials(
    google_fake: tuple[GoogleFake, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, key_file = google_fake
    fake.add_instance("europe-west1-b", "cli-vm", {"cli": "gcp"})
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", key_file)
    gcp = ["--provider", "gcp", "--endpoint-url", fake.server.url, "--project", PROJECT]
    assert run(["compute", "ls", *gcp]) == 0
    assert "europe-west1-b/cli-vm\trunning\tcli-vm\teurope-west1\tcli=gcp" in capsys.readouterr().out


def test_help_imports_no_provider() -> None:
    code = (
        "import sys; from cloud.cli.main import run; "
        "assert run(['compute', 'ls', '--help']) == 0; assert run(['functions', 'invoke', '--help']) == 0; "
        "loaded = [m for m in ('aiobotocore', 'botocore', 'httpx', 'azure.core', 'gcloud') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
