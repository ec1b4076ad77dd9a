"""S3 multipart parts read into reused buffers (``cloud.common.file_blocks``): a part's
buffer goes back for reuse only once its request has ended, every attempt included."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.aws.parts import MultipartUpload
from cloud.common.exceptions import TransportError
from cloud.common.stats import ClientStats

pytestmark = pytest.mark.asyncio


class _Client:
    """The two things a MultipartUpload asks of its S3Client: ``_request`` and ``stats``."""

    _checksum = "md5"

    def __init__(self, released: list[memoryview], fail_first: bool) -> None:
        self.stats = ClientStats()
        self.released = released
        self.fail_first = fail_first
        self.attempts = 0

    async def _request(self, operation: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        # The runner's retry loop in miniature: the body must still be the part's.
        for _ in range(2):
            self.attempts += 1
            assert not self.released, "the part's buffer was released while its request ran"
            if self.fail_first and self.attempts == 1:
                continue  # a failed attempt, sent again
            return {"ETag": '"etag"'}
        raise TransportError("unreachable")


@pytest.mark.parametrize("fail_first", [False, True])
async def test_a_part_buffer_is_released_after_its_request_only(fail_first: bool) -> None:
    released: list[memoryview] = []
    client = _Client(released, fail_first)
    buffer = bytearray(b"x" * 100)

    async def load(item: int) -> tuple[memoryview, dict[str, str]]:
        return memoryview(buffer)[:item], {"ContentMD5": "md5"}

    upload: MultipartUpload[int] = MultipartUpload(
        client,  # type: ignore[arg-type]
        "upload_file",
        "bucket",
        "key",
        "upload-id",
        {},
        None,
        load,
        released.append,
    )
    part = await upload.send_part(1, 64)
    assert part == {"PartNumber": 1, "ETag": '"etag"'}
    assert [view.obj for view in released] == [buffer], "the buffer was not handed back exactly once"
    assert client.stats.bytes_sent == 64


async def test_a_failed_part_hands_its_buffer_back() -> None:
    released: list[memoryview] = []
    buffer = bytearray(10)

    class _Failing(_Client):
        async def _request(self, operation: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
            raise TransportError("reset")

    async def load(item: int) -> tuple[memoryview, dict[str, str]]:
        return memoryview(buffer), {}

    upload: MultipartUpload[int] = MultipartUpload(
        _Failing(released, False),  # type: ignore[arg-type]
        "upload_file",
        "bucket",
        "key",
        "upload-id",
        {},
        None,
        load,
        released.append,
    )
    with pytest.raises(TransportError):
        await upload.send_part(1, 0)
    assert [view.obj for view in released] == [buffer]
