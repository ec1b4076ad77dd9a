"""The ``cloud`` command line (``pip install 'codomyrmex-cloud[cli]'``): see :mod:`cloud.cli.main`.

Nothing is imported here, so ``import cloud`` and ``import cloud.cli`` stay light.
"""

from __future__ import annotations

__all__: list[str] = []
