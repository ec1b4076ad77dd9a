"""A storage provider that lives only in the test suite: ``test-mem://bucket/key``.

It shows what a new backend needs: this package (a client, its blocking facade, a bucket
lister) and the one :func:`cloud.common.registry.register` call below.  Nothing in
``cloud/`` names it, yet ``cloud.open_storage("test-mem://b")``, :mod:`cloud.transfer`,
the ``cloud`` command (through ``CLOUD_PROVIDERS=tests.registry.testmem`` in another
process) and the contract suite all reach it.  Its buckets live in one process-wide dict,
so successive commands of one process see the same objects.
"""

from __future__ import annotations

from cloud.common.registry import Provider, for_name, register

ENTRY = Provider(
    name="test-mem",
    schemes=("test-mem",),
    client="tests.registry.testmem.client:TestMemClient",
    sync_client="tests.registry.testmem.client:SyncTestMemClient",
    buckets="tests.registry.testmem.client:iter_buckets",
    label="test in-memory storage",
)

if for_name(ENTRY.name) is None:
    register(ENTRY)
