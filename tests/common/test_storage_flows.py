"""The StorageClient flows written once in the base (get_bytes, open_read, uploads) and
the primitives they hand each provider."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cloud.common.base import StorageClient
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import CloudError, ConfigurationError, NotFoundError, PermissionDeniedError
from cloud.common.models import ObjectMetadata
from cloud.common.objects import RangeStream
from cloud.common.pagination import AsyncPaginator
from cloud.common.types import ProgressCallback, StrPath

DATA = bytes(range(100))


class Primitives(StorageClient):
    """A backend of one object ``b/k`` (``DATA``) that records every primitive call."""

    provider: ClassVar[CloudProvider] = CloudProvider.LOCAL

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, ...]] = []
        self.closed = 0

    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        self._check(bucket, object_name)
        self.calls.append(("stat", object_name))
        if object_name != "k":
            raise NotFoundError("missing")
        return ObjectMetadata(object_name, bucket, len(DATA), "v1", None, None)

    async def _read_bytes(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None,
        timeout: float | None,
    ) -> bytes:
        self.calls.append(("read", offset, length, version))
        if offset < 0:
            return DATA[offset:]
        return DATA[offset:] if length is None else DATA[offset : offset + length]

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
        chunk_size: int = 1024,
        operation: str = "open",
    ) -> RangeStream:
        self.calls.append(("open_range", offset, length, chunk_size, operation))
        meta = await self.stat(bucket, object_name)

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(DATA), chunk_size):
                yield DATA[i : i + chunk_size]

        def close() -> None:
            self.closed += 1

        return RangeStream(meta, length=len(DATA), version="v1", chunks=chunks(), close=close)

    async def _put_bytes(
        self,
        bucket: str,
        object_name: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str],
        timeout: float | None,
    ) -> ObjectMetadata:
        self.calls.append(("put", data, content_type, metadata))
        return ObjectMetadata(object_name, bucket, len(data), None, content_type, None, metadata)

    async def _upload_file(
        self,
        local_path: StrPath,
        bucket: str,
        object_name: str,
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        self.calls.append(("upload_file", content_type, metadata))

    async def _upload_stream(
        self,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        self.calls.append(("upload_stream", b"".join([c async for c in chunks]), content_type, metadata))

    # -- the rest of the contract, unused here ------------------------------------------------

    async def aclose(self) -> None:
        pass

    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        raise NotImplementedError

    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        raise NotImplementedError

    async def download_file(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        raise NotImplementedError

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        return True

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        raise NotImplementedError

    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        raise NotImplementedError

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        raise NotImplementedError


class SuffixPrimitives(Primitives):
    _suffix_ranges: ClassVar[bool] = True


@pytest.mark.parametrize(
    ("start", "end", "calls"),
    [
        (None, None, [("read", 0, None, None)]),
        (10, None, [("read", 10, None, None)]),
        (10, 20, [("read", 10, 10, None)]),
        (None, 5, [("read", 0, 5, None)]),
        (-10, None, [("stat", "k"), ("read", 90, 10, "v1")]),
        (-10, -2, [("stat", "k"), ("read", 90, 8, "v1")]),
        (20, 10, [("stat", "k")]),
        (5, 5, [("stat", "k")]),
        (200, None, [("read", 200, None, None)]),
    ],
)
async def test_get_bytes_resolves_the_slice_then_reads_one_range(
    start: int | None, end: int | None, calls: list[tuple[Any, ...]]
) -> None:
    client = Primitives()
    assert await client.get_bytes("b", "k", start=start, end=end) == DATA[start:end]
    assert client.calls == calls


async def test_get_bytes_sends_a_suffix_range_where_the_provider_takes_one() -> None:
    client = SuffixPrimitives()
    assert await client.get_bytes("b", "k", start=-10) == DATA[-10:]
    assert client.calls == [("read", -10, None, None)]


async def test_an_empty_slice_of_a_missing_object_is_still_not_found() -> None:
    client = Primitives()
    with pytest.raises(NotFoundError):
        await client.get_bytes("b", "missing", start=5, end=5)


async def test_get_bytes_checks_the_name_before_any_io() -> None:
    client = Primitives()
    with pytest.raises(ConfigurationError):
        await client.get_bytes("b", "")
    assert client.calls == []


async def test_open_read_streams_the_whole_object_in_chunk_size_pieces_and_closes() -> None:
    client = Primitives()
    chunks = [c async for c in client.open_read("b", "k", chunk_size=30)]
    assert chunks == [DATA[0:30], DATA[30:60], DATA[60:90], DATA[90:]]
    assert client.calls[0] == ("open_range", 0, None, 30, "open_read")
    assert client.closed == 1


async def test_an_abandoned_open_read_closes_its_response() -> None:
    client = Primitives()
    stream = client.open_read("b", "k", chunk_size=10)
    assert await stream.__anext__() == DATA[:10]
    await stream.aclose()  # type: ignore[attr-defined]
    assert client.closed == 1


@pytest.mark.parametrize("chunk_size", [0, -1, True, 1.5, "8"])
async def test_open_read_refuses_a_bad_chunk_size_before_any_io(chunk_size: Any) -> None:
    client = Primitives()
    with pytest.raises(ConfigurationError, match="chunk_size"):
        await client.open_read("b", "k", chunk_size=chunk_size).__anext__()
    assert client.calls == []


async def test_put_bytes_checks_and_normalises_before_the_primitive() -> None:
    client = Primitives()
    meta = await client.put_bytes("b", "k", bytearray(b"hi"), metadata={"Key": "v"})
    assert client.calls == [("put", b"hi", "application/octet-stream", {"key": "v"})]
    assert meta.content_type == "application/octet-stream" and meta.metadata == {"key": "v"}
    for bad in ({"data": "text"}, {"content_type": "a\nb"}, {"metadata": {"bad key": "v"}}):
        options: dict[str, Any] = {"data": b"x", **bad}
        data = options.pop("data")
        with pytest.raises(ConfigurationError):
            await client.put_bytes("b", "k", data, **options)
    assert len(client.calls) == 1


async def test_upload_file_guesses_the_content_type_from_the_path(tmp_path: Path) -> None:
    client = Primitives()
    path = tmp_path / "page.html"
    path.write_text("<p>")
    assert await client.upload_file(path, "b", "k") is True
    assert await client.upload_file(path, "b", "k", content_type="text/plain") is True
    assert client.calls == [("upload_file", "text/html", {}), ("upload_file", "text/plain", {})]


async def test_upload_stream_defaults_to_octet_stream() -> None:
    client = Primitives()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    assert await client.upload_stream("b", "k", chunks(), metadata={"A": "1"}) is True
    assert client.calls == [("upload_stream", b"ab", "application/octet-stream", {"a": "1"})]


class DeletePrimitives(Primitives):
    """Batches of two; ``fail/*`` names fail, ``gone/*`` names are reported missing."""

    _delete_batch_size: ClassVar[int] = 2

    def __init__(self, *, bucket_exists: bool = True) -> None:
        super().__init__()
        self.bucket_exists = bucket_exists

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        self.calls.append(("bucket_exists", bucket))
        return self.bucket_exists

    async def _delete_batch(
        self, bucket: str, names: list[str], *, timeout: float | None
    ) -> tuple[list[CloudError], bool]:
        self.calls.append(("delete_batch", names))
        errors: list[CloudError] = [PermissionDeniedError(f"no: {n}") for n in names if n.startswith("fail/")]
        return errors, any(n.startswith("gone/") for n in names)


async def test_delete_objects_checks_every_name_before_deleting_anything() -> None:
    client = DeletePrimitives()
    with pytest.raises(ConfigurationError):
        await client.delete_objects("b", ["a", "b", "c", ""])
    assert client.calls == []


async def test_delete_objects_attempts_every_batch_then_raises_the_first_error() -> None:
    client = DeletePrimitives()
    with pytest.raises(PermissionDeniedError, match="fail/1"):
        await client.delete_objects("b", iter(["a", "fail/1", "b", "fail/2", "c"]))
    assert client.calls == [
        ("delete_batch", ["a", "fail/1"]),
        ("delete_batch", ["b", "fail/2"]),
        ("delete_batch", ["c"]),
    ]


async def test_delete_objects_checks_the_bucket_once_when_objects_were_missing() -> None:
    client = DeletePrimitives()
    await client.delete_objects("b", ["gone/1", "gone/2", "gone/3"])
    assert client.calls.count(("bucket_exists", "b")) == 1
    ghost = DeletePrimitives(bucket_exists=False)
    with pytest.raises(NotFoundError, match="bucket 'b'") as info:
        await ghost.delete_objects("b", ["gone/1"])
    assert info.value.operation == "delete_objects"


class OneByOne(Primitives):
    """The default ``_delete_batch``: one ``delete_object`` per name."""

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        self.calls.append(("delete", object_name))
        if object_name == "locked":
            raise PermissionDeniedError("locked")


async def test_the_default_delete_batch_deletes_one_object_at_a_time_and_collects_errors() -> None:
    client = OneByOne()
    with pytest.raises(PermissionDeniedError):
        await client.delete_objects("b", ["x", "locked", "y"])
    assert sorted(client.calls) == [("delete", "locked"), ("delete", "x"), ("delete", "y")]


class Signer(Primitives):
    async def _sign_url(
        self, bucket: str, object_name: str, method: str, expires: int, *, timeout: float | None
    ) -> str:
        self.calls.append(("sign", method, expires))
        return f"https://signed/{bucket}/{object_name}"


async def test_sign_url_checks_its_arguments_then_hands_an_upper_case_method_to_the_primitive() -> None:
    client = Signer()
    assert await client.sign_url("b", "k", method="put", expires=60) == "https://signed/b/k"
    assert client.calls == [("sign", "PUT", 60)]
    for bad in ({"method": "POST"}, {"method": 1}, {"expires": 0}, {"expires": 7 * 24 * 3600 + 1}, {"expires": True}):
        with pytest.raises(ConfigurationError):
            await client.sign_url("b", "k", **bad)
    with pytest.raises(ConfigurationError):
        await client.sign_url("b", "")
    assert client.calls == [("sign", "PUT", 60)]


async def test_a_backend_without_a_signer_cannot_sign() -> None:
    with pytest.raises(ConfigurationError, match="cannot sign"):
        await Primitives().sign_url("b", "k")
