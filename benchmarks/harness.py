"""Measurement, the worker subprocess protocol, statistics and Markdown tables.

Worker side: a workload is a function ``fn(params, meter)`` (sync or async) in a
``benchmarks.case_*`` module.  It does its own setup, then wraps the measured part in
``with meter.phase("upload"):``; each phase records

* wall time (``time.perf_counter``),
* CPU seconds of the whole process, user + system, every thread included
  (``resource.getrusage(RUSAGE_SELF)`` deltas),
* peak RSS growth: the peak resident set during the phase minus the resident set at its
  start.  On Linux the peak is ``VmHWM``, reset at the start of each phase through
  ``/proc/self/clear_refs``; ``ru_maxrss`` cannot be used directly because a child
  started by ``subprocess`` inherits its parent's ``ru_maxrss`` at ``exec`` (measured: a
  child of a 500 MiB parent reports 510 MiB).  Elsewhere ``ru_maxrss`` deltas are used.

Orchestrator side: :func:`spawn` runs one workload in a fresh ``python -m
benchmarks._worker`` process and parses its last output line; :func:`interleave` runs the
variants A B A B ...; :class:`Stats` gives medians.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "
MiB = 1024 * 1024
KiB = 1024


# --------------------------------------------------------------------------------------
# worker side


def _proc_status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Meter:
    """Collects the measured phases of one workload run (see the module docstring).

    With ``BENCH_PROFILE=DIR`` in the environment (``run.py --profile DIR``) every phase
    is also profiled with pyinstrument and the report written to ``DIR`` (timings of a
    profiled run are not representative)."""

    def __init__(self, label: str = "workload") -> None:
        self.phases: dict[str, dict[str, float]] = {}
        self.extra: dict[str, Any] = {}
        self.label = label

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Measure the block as phase ``name``."""
        profile_dir = os.environ.get("BENCH_PROFILE")
        if profile_dir:
            with self._profiled(name, profile_dir), self._measured(name):
                yield
        else:
            with self._measured(name):
                yield

    @contextlib.contextmanager
    def _profiled(self, name: str, directory: str) -> Iterator[None]:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="enabled")
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()
            os.makedirs(directory, exist_ok=True)
            path = Path(directory) / f"{self.label}-{name}-{os.getpid()}.txt"
            path.write_text(profiler.output_text(unicode=True, show_all=False))

    @contextlib.contextmanager
    def _measured(self, name: str) -> Iterator[None]:
        gc.collect()
        use_hwm = _reset_peak_rss() and _proc_status_kib("VmHWM") is not None
        if use_hwm:
            rss0 = (_proc_status_kib("VmRSS") or 0) * KiB
        else:
            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KiB
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        yield
        t1 = time.perf_counter()
        cpu1 = _cpu_seconds()
        if use_hwm:
            peak = (_proc_status_kib("VmHWM") or 0) * KiB
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KiB
        self.phases[name] = {"wall": t1 - t0, "cpu": cpu1 - cpu0, "rss": float(max(0, peak - rss0))}


def worker_main(argv: Sequence[str]) -> int:
    """Entry point of ``python -m benchmarks._worker SPEC_JSON``."""
    import asyncio
    import importlib
    import inspect
    import traceback

    spec = json.loads(argv[0])
    params = spec["params"]
    label = "-".join(
        str(x)
        for x in (spec["module"], spec["workload"], params.get("variant"), params.get("kind"), params.get("mode"))
        if x
    )
    meter = Meter(label.replace("/", "_"))
    try:
        module = importlib.import_module(f"benchmarks.{spec['module']}")
        fn = getattr(module, spec["workload"])
        if inspect.iscoroutinefunction(fn):
            asyncio.run(fn(spec["params"], meter))
        else:
            fn(spec["params"], meter)
    except BaseException as exc:
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}".strip()
        print(RESULT_PREFIX + json.dumps({"ok": False, "error": message[:500]}), flush=True)
        return 1
    print(RESULT_PREFIX + json.dumps({"ok": True, "phases": meter.phases, "extra": meter.extra}), flush=True)
    return 0


# --------------------------------------------------------------------------------------
# orchestrator side


@dataclass
class RunResult:
    """What one worker run reported."""

    ok: bool
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def metric(self, phase: str, metric: str) -> float | None:
        """One measurement, summing phases joined with ``+`` (``"upload+download"``)."""
        if not self.ok:
            return None
        names = phase.split("+")
        if any(n not in self.phases for n in names):
            return None
        values = [self.phases[n][metric] for n in names]
        return max(values) if metric == "rss" else sum(values)


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: ours, plus dummy cloud credentials and no proxies."""
    env = dict(os.environ)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(key, None)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    pythonpath = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + pythonpath if pythonpath else "")
    if extra:
        env.update(extra)
    return env


def spawn(
    module: str,
    workload: str,
    params: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900.0,
    log: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``benchmarks.<module>.<workload>(params, meter)`` in a fresh interpreter."""
    spec = json.dumps({"module": module, "workload": workload, "params": params})
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks._worker", spec],
            cwd=ROOT,
            env=worker_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return RunResult(ok=False, error=f"timed out after {timeout:.0f} s")
    payload = None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            payload = json.loads(line[len(RESULT_PREFIX) :])
            break
    if payload is None:
        tail = (proc.stderr or proc.stdout)[-800:]
        return RunResult(ok=False, error=f"worker exited {proc.returncode} without a result: {tail}")
    if not payload.get("ok"):
        if log is not None:
            log(f"    {module}.{workload} failed: {payload.get('error')}\n" + _indent(proc.stderr[-2000:]))
        return RunResult(ok=False, error=payload.get("error"))
    return RunResult(ok=True, phases=payload["phases"], extra=payload.get("extra", {}))


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def interleave(
    variants: Sequence[str],
    runs: int,
    run_one: Callable[[str, int], RunResult],
    log: Callable[[str], None],
    label: str = "",
) -> dict[str, list[RunResult]]:
    """Run each variant ``runs`` times, interleaved A B A B ..., and collect the results."""
    results: dict[str, list[RunResult]] = {v: [] for v in variants}
    for r in range(runs):
        for v in variants:
            t0 = time.perf_counter()
            result = run_one(v, r)
            results[v].append(result)
            status = "ok" if result.ok else f"FAILED ({result.error})"
            log(f"  {label} run {r + 1}/{runs} {v}: {status} [{time.perf_counter() - t0:.1f} s]")
    return results


# --------------------------------------------------------------------------------------
# statistics


def median(values: Sequence[float | None]) -> float | None:
    """Median of the values that exist (``None`` when there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def med(results: Sequence[RunResult], phase: str, metric: str) -> float | None:
    """Median of one metric over the successful runs."""
    return median([r.metric(phase, metric) for r in results])


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` when both exist and ``b`` is positive."""
    if a is None or b is None or b <= 0:
        return None
    return a / b


def first_error(results: Sequence[RunResult]) -> str | None:
    """The first error among failed runs."""
    for r in results:
        if not r.ok:
            return r.error
    return None


# --------------------------------------------------------------------------------------
# formatting


def reference_rows(
    results: Mapping[str, Sequence[RunResult]],
    like: str | None,
    measures: Sequence[tuple[str, str, str, bool]],
    why: str,
) -> list[list[str]]:
    """ "For reference" target rows comparing ours with ``like``, a baseline set up to do what
    ours does: one row per ``(label, phase, metric, higher_is_better)`` (throughput is the
    inverse ratio of wall times); none when ``like`` did not run."""
    like_res = results.get(like, []) if like else []
    if not like or not any(r.ok for r in like_res):
        return []
    ours_res = results.get("ours", [])
    rows = []
    for label, phase, metric, higher_is_better in measures:
        ours, theirs = med(ours_res, phase, metric), med(like_res, phase, metric)
        value = ratio(theirs, ours) if higher_is_better else ratio(ours, theirs)
        rows.append([f"for reference: {label} / {like} ({why})", fmt_ratio(value), "—"])
    return rows


def fmt_s(value: float | None, digits: int = 2) -> str:
    """Seconds."""
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_ms(value: float | None) -> str:
    """Seconds shown as milliseconds."""
    return "—" if value is None else f"{value * 1000:.1f}"


def fmt_us(value: float | None) -> str:
    """Seconds shown as microseconds."""
    return "—" if value is None else f"{value * 1e6:.1f}"


def fmt_mib(value: float | None) -> str:
    """Bytes shown as MiB."""
    return "—" if value is None else f"{value / MiB:.1f}"


def fmt_ratio(value: float | None) -> str:
    """A ratio such as ``1.03x``."""
    return "—" if value is None else f"{value:.2f}x"


def fmt_rate(nbytes: float, seconds: float | None) -> str:
    """Throughput in MiB/s."""
    return "—" if not seconds else f"{nbytes / MiB / seconds:.0f}"


@dataclass
class Verdict:
    """A target check: ``met`` is ``None`` when it could not be evaluated."""

    target: str
    met: bool | None
    detail: str = ""

    def cell(self, enforce: bool) -> str:
        """The table cell: met / NOT MET / n/a (and 'not enforced' in quick mode)."""
        text = "n/a" if self.met is None else ("met" if self.met else "**not met**")
        if not enforce and self.met is not None:
            text += " (quick, not enforced)"
        return text + (f" — {self.detail}" if self.detail else "")


def check(target: str, value: float | None, limit: float, detail: str = "") -> Verdict:
    """``value <= limit`` (``None`` when the value is missing)."""
    if value is None:
        return Verdict(target, None, detail or "not measured")
    return Verdict(target, value <= limit, detail)


@dataclass
class Section:
    """One part of RESULTS.md: a heading, text, and tables."""

    title: str
    intro: str = ""
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdicts: list[tuple[str, Verdict]] = field(default_factory=list)

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        """Add a table."""
        self.tables.append((headers, rows))

    def verdict(self, label: str, verdict: Verdict) -> Verdict:
        """Record a target check (for the summary) and return it."""
        self.verdicts.append((label, verdict))
        return verdict

    def markdown(self) -> str:
        """Render as Markdown."""
        out = [f"## {self.title}", ""]
        if self.intro:
            out += [self.intro.strip(), ""]
        for headers, rows in self.tables:
            out.append("| " + " | ".join(headers) + " |")
            out.append("|" + "|".join("---" for _ in headers) + "|")
            for row in rows:
                out.append("| " + " | ".join(row) + " |")
            out.append("")
        for note in self.notes:
            out += [note.strip(), ""]
        return "\n".join(out)


def guarded(title: str, log: Callable[[str], None], fn: Callable[..., Section], *args: Any) -> Section:
    """Run one provider's part of a case; an error (an emulator that cannot start, say)
    becomes a section saying so instead of losing the other providers' results."""
    try:
        return fn(*args)
    except Exception as exc:
        import traceback

        log(f"  {title} failed:\n" + traceback.format_exc())
        return Section(title, intro=f"Failed: `{type(exc).__name__}: {str(exc)[:300]}`")


@dataclass
class Context:
    """What every case gets from the orchestrator."""

    quick: bool
    tmp: Path
    emulators: Any
    log: Callable[[str], None]
    runs_override: int | None = None
    providers: Sequence[str] | None = None
    variants: Sequence[str] | None = None

    def want_provider(self, provider: str) -> bool:
        """Whether ``--providers`` selects this storage provider."""
        return self.providers is None or provider in self.providers

    def want_variant(self, variant: str) -> bool:
        """Whether ``--variants`` selects this variant (the baseline of a ratio is always kept)."""
        return self.variants is None or variant in self.variants

    @property
    def enforce(self) -> bool:
        """Targets are judged only in full runs."""
        return not self.quick

    def runs(self, full: int, quick: int = 1) -> int:
        """How many interleaved runs a case does."""
        if self.runs_override is not None:
            return self.runs_override
        return quick if self.quick else full
