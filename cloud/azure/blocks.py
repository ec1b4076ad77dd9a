"""Azure's primitives for the transfer engine's uploads in parts: Put Block per part (each
with its own MD5, checked by the service), the blocks hashed in order into the whole blob's
MD5, Put Block List to commit, and the discard of a new blob's staged blocks on failure."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from cloud.common.bulk import run_all
from cloud.common.chunks import STREAM_BODY_FROM, stream_views
from cloud.common.integrity import OrderedDigest
from cloud.common.types import ProgressCallback

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient

    from .client import AzureBlobClient

__all__ = ["BlockUpload"]

X = TypeVar("X")
B = TypeVar("B", bytes, memoryview)


class BlockUpload(Generic[X, B]):
    """One upload in blocks, as the transfer engine drives it: Put Block per part, Put
    Block List to commit."""

    def __init__(
        self,
        client: AzureBlobClient,
        operation: str,
        blob: BlobClient,
        load: Callable[[X], Awaitable[tuple[B, bytes]]],
        release: Callable[[B], None] | None,
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
    ) -> None:
        self.client = client
        self.operation = operation
        self.blob = blob
        self.load: Callable[[X], Awaitable[tuple[B, bytes]]] = load
        self.release: Callable[[B], None] | None = release
        self.content_type = content_type
        self.metadata = metadata
        self.progress = progress
        self.prefix = uuid.uuid4().hex
        self.whole = OrderedDigest(hashlib.md5(usedforsecurity=False))
        self.staged = False

    async def send_part(self, number: int, item: X) -> str:
        """Load the block and stage it with its own MD5 (checked by the service) while it
        is hashed into the whole blob's MD5 in its turn; the block's buffer is released
        once both are done."""
        index = number - 1
        data, md5 = await self.load(item)
        try:
            block_id = f"{self.prefix}-{index:06d}"
            size = len(data)

            async def send() -> None:
                # The aio pipeline streams an async iterable body, though the hints list
                # only sync ones.
                body: Any = stream_views(data) if size >= STREAM_BODY_FROM else bytes(data)
                self.staged = True
                await self.blob.stage_block(block_id, body, length=size, transactional_content_md5=md5)

            async def stage() -> None:
                await self.client._call(self.operation, send, timeout=None)

            async def hash_whole() -> None:
                await self.whole.add(index, data, end=number)

            # The send does not wait for the blocks before this one to be hashed: the
            # ordered hash (a worker thread) overlaps the request.
            await run_all([stage, hash_whole])
        finally:
            if self.release is not None:
                self.release(data)
        self.client.stats.add_sent(size)
        if self.progress is not None:
            self.progress(size)
        return block_id

    async def commit(self, block_ids: list[str]) -> dict[str, Any]:
        """Put Block List with the whole blob's MD5 as its Content-MD5."""
        from azure.storage.blob import BlobBlock, ContentSettings  # loaded with the client

        settings = ContentSettings(content_type=self.content_type, content_md5=bytearray(self.whole.sink.digest()))

        async def commit() -> dict[str, Any]:
            return await self.blob.commit_block_list(
                [BlobBlock(block_id) for block_id in block_ids], content_settings=settings, metadata=self.metadata
            )

        return await self.client._call(self.operation, commit, timeout=None)

    async def abort(self) -> None:
        """Discard the staged blocks where the API allows: a blob that does not exist yet is
        committed empty (which drops every uncommitted block) and deleted.  An existing
        blob is left as it is (re-committing it would change it); the service drops its
        uncommitted blocks after a week."""
        if not self.staged:
            return
        from azure.core.exceptions import ResourceNotFoundError  # loaded with the client

        try:
            try:
                await self.blob.get_blob_properties()
                return
            except ResourceNotFoundError:
                pass
            # A Put Block whose request was cancelled by the failure may still land after a
            # discard: look again, a few times, until no uncommitted block is left.
            for attempt in range(1, 5):
                await self.blob.commit_block_list([])
                await self.blob.delete_blob()
                await anyio.sleep(0.1 * attempt)
                try:
                    _, uncommitted = await self.blob.get_block_list("uncommitted")
                except ResourceNotFoundError:
                    return
                if not uncommitted:
                    return
        except Exception as exc:
            self.client._runner.logger.warning(
                "could not discard the uncommitted blocks of %r: %s",
                self.blob.blob_name,
                type(exc).__name__,
                extra={"provider": "azure", "operation": self.operation},
            )
