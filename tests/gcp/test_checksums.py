"""CRC32C/MD5 integrity: computed locally, compared with what GCS reports, on real requests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from cloud.gcp import GCSClient
from cloud.gcp.checksums import Checksums, parse_goog_hash, verify
from cloud.gcp.errors import ChecksumMismatchError
from tests.emulators import Emulator
from tests.gcp.conftest import CHUNK
from tests.gcp.paging_proxy import PagingProxy, UploadFault


def test_checksums_match_known_vectors() -> None:
    sums = Checksums(b"123456789")
    assert sums.crc32c == "4waSgw=="  # CRC32C check value 0xE3069283
    assert sums.md5 == "JfnnlDI7RTiF9RgfG2JNCw=="
    assert sums.goog_hash() == "crc32c=4waSgw==,md5=JfnnlDI7RTiF9RgfG2JNCw=="
    split = Checksums()
    for piece in (b"1234", bytearray(b"56"), memoryview(b"789")):
        split.update(piece)
    assert (split.crc32c, split.md5, split.size) == (sums.crc32c, sums.md5, 9)


def test_parse_goog_hash_handles_one_or_two_headers() -> None:
    assert parse_goog_hash(["crc32c=AAAAAA==,md5=1B2M2Y8AsgTpgAmY7PhCfg=="]) == {
        "crc32c": "AAAAAA==",
        "md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
    }
    assert parse_goog_hash(["crc32c=n03x6A==", "md5=Ojk9c3dhfxgoKVVHYwFbHQ=="]) == {
        "crc32c": "n03x6A==",
        "md5": "Ojk9c3dhfxgoKVVHYwFbHQ==",
    }


def test_verify_raises_on_either_mismatch() -> None:
    sums = Checksums(b"abc")
    verify({"crc32c": sums.crc32c, "md5": sums.md5}, sums, what="x")
    verify({}, sums, what="x")  # nothing reported: nothing to compare
    with pytest.raises(ChecksumMismatchError, match="CRC32C"):
        verify({"crc32c": "AAAAAA=="}, sums, what="x")
    with pytest.raises(ChecksumMismatchError, match="MD5"):
        verify({"md5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, sums, what="x")


def test_crc32c_decides_and_md5_is_only_the_fallback() -> None:
    sums = Checksums(b"abc")
    wrong_md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="
    verify({"crc32c": sums.crc32c, "md5": wrong_md5}, sums, what="x")  # CRC32C agrees: enough
    crc_only = Checksums(b"abc", md5=False)
    assert crc_only.md5 is None and crc_only.goog_hash() == f"crc32c={sums.crc32c}"
    verify({"md5": wrong_md5}, crc_only, what="x")  # nothing comparable
    # Pick the one hash worth computing for what the server reported.
    assert Checksums.for_expected({"crc32c": "x", "md5": "y"}).md5 is None
    assert Checksums.for_expected({"crc32c": "", "md5": "y"}).crc32c is None
    neither = Checksums.for_expected({})
    neither.update(b"abc")
    assert (neither.crc32c, neither.md5, neither.size) == (None, None, 3)
    md5_only = Checksums.for_expected({"md5": sums.md5})
    md5_only.update(b"abc")
    verify({"crc32c": "", "md5": sums.md5}, md5_only, what="x")
    with pytest.raises(ChecksumMismatchError, match="MD5"):
        verify({"md5": wrong_md5}, md5_only, what="x")


async def test_wrong_md5_beside_a_right_crc32c_is_not_computed(
    gcs: GCSClient, bucket: str, gcs_emulator: Emulator, tmp_path: Path
) -> None:
    """CRC32C is the check whenever GCS reports one; the MD5 is not even computed."""
    payload = os.urandom(100_000)
    await gcs.put_bytes(bucket, "crc-decides", payload)
    await _patch_object(gcs_emulator, bucket, "crc-decides", {"md5Hash": Checksums(b"other").md5})
    target = tmp_path / "out.bin"
    assert await gcs.download_file(bucket, "crc-decides", target)
    assert target.read_bytes() == payload
    assert await gcs.get_bytes(bucket, "crc-decides") == payload


async def _patch_object(emulator: Emulator, bucket: str, name: str, fields: dict[str, str | None]) -> None:
    """Make the server report other checksums for an object (the emulator stores what a
    PATCH says), as if the stored bytes had been corrupted."""
    url = f"{emulator.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
    async with aiohttp.ClientSession() as session, session.patch(url, json=fields) as response:
        assert response.status == 200, await response.text()


@pytest.mark.parametrize("size", [200_000, 3 * CHUNK + 5])  # one block; several blocks
@pytest.mark.parametrize("field", ["crc32c", "md5Hash"])
async def test_download_mismatch_raises_and_leaves_no_file(
    gcs: GCSClient, bucket: str, gcs_emulator: Emulator, tmp_path: Path, field: str, size: int
) -> None:
    payload = os.urandom(size)
    await gcs.put_bytes(bucket, "victim", payload)
    wrong = Checksums(b"something else")
    # MD5 is checked only when GCS reports no CRC32C: the md5Hash case blanks the CRC32C.
    fields = {"crc32c": wrong.crc32c} if field == "crc32c" else {"crc32c": "", "md5Hash": wrong.md5}
    await _patch_object(gcs_emulator, bucket, "victim", fields)

    fresh = tmp_path / "fresh.bin"
    with pytest.raises(ChecksumMismatchError):
        await gcs.download_file(bucket, "victim", fresh)
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"precious")
    with pytest.raises(ChecksumMismatchError):
        await gcs.download_file(bucket, "victim", kept)
    assert sorted(os.listdir(tmp_path)) == ["kept.bin"]  # no file, no temp file
    assert kept.read_bytes() == b"precious"

    with pytest.raises(ChecksumMismatchError):
        await gcs.get_bytes(bucket, "victim")
    with pytest.raises(ChecksumMismatchError):
        async for _ in gcs.open_read(bucket, "victim", chunk_size=64 * 1024):
            pass
    # A ranged read is not a whole-object read: no hash applies to it.
    assert await gcs.get_bytes(bucket, "victim", start=10, end=20) == payload[10:20]
    assert gcs.stats.errors["ChecksumMismatchError"] >= 4


async def test_corrupted_upload_is_detected_and_deleted(
    gcs: GCSClient, bucket: str, proxy: PagingProxy, tmp_path: Path
) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(os.urandom(2 * CHUNK + 99))
    proxy.inject(UploadFault(action="corrupt"))  # one byte of the streamed PUT flips on the wire
    with pytest.raises(ChecksumMismatchError) as caught:
        await gcs.upload_file(source, bucket, "upload.bin")
    assert proxy.log.faults_fired == 1
    assert caught.value.provider == "gcp" and caught.value.operation == "upload_file"
    assert await gcs.object_exists(bucket, "upload.bin") is False


async def test_single_request_upload_sends_checksums_gcs_verifies(
    gcs: GCSClient, bucket: str, gcs_emulator: Emulator
) -> None:
    data = b"small object"
    meta = await gcs.put_bytes(bucket, "small", data)
    assert meta.size == len(data)
    url = f"{gcs_emulator.url}/storage/v1/b/{bucket}/o/small"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        stored = json.loads(await response.read())
    sums = Checksums(data)
    assert (stored["crc32c"], stored["md5Hash"]) == (sums.crc32c, sums.md5)
