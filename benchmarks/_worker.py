"""``python -m benchmarks._worker SPEC_JSON``: run one measured workload in this fresh process."""

from __future__ import annotations

import sys

from benchmarks.harness import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
