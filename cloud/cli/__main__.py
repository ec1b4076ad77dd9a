"""``python -m cloud.cli``: the same as the ``cloud`` console script."""

from __future__ import annotations

from cloud.cli.main import main

if __name__ == "__main__":
    main()
