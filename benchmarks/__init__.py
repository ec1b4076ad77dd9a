"""Side-by-side benchmarks: codomyrmex-cloud against the raw provider libraries and peers.

Run ``python -m benchmarks.run`` (or ``nox -s bench``; ``-- --quick`` for a smoke run).
Every measured workload runs in a fresh subprocess (``benchmarks._worker``) so that its
CPU seconds and peak RSS belong to it alone; variants are interleaved (A B A B ...) and
the median of the runs is reported, always as a ratio to a baseline measured in the same
run.  The emulators (moto, gcp-storage-emulator, Azurite, the Coda fake) are started by
the harness itself through ``tests.emulators``.

Modules: :mod:`benchmarks.harness` (measurement, subprocess protocol, statistics, tables),
:mod:`benchmarks.backends` (emulators and client factories), one ``case_*`` module per
case, :mod:`benchmarks.run` (the command line and ``RESULTS.md``).
"""
