"""``asset_sha256(owner, repo, id)``: an asset's sha256, computed while its bytes stream by.

For assets GitHub gave no digest (uploaded before 2025): the bytes are hashed as they
arrive and dropped, never held whole in memory nor written to disk, so an asset of any
size costs a few MiB. The download is checked against the asset's size (and its digest,
when it has one), as every sqlgh download is.
"""

from __future__ import annotations

import os
from typing import Any

from sqlgh.errors import RemoteError
from sqlgh.github.transfer import download
from sqlgh.tables.asset_content import verify
from sqlgh.tables.endpoints import ASSET
from sqlgh.tables.spec import Api


class _Discard:
    """A download sink that keeps nothing: it counts, and rewinds when a download starts
    over (``transfer.download`` hashes the bytes itself)."""

    def __init__(self) -> None:
        self._position = 0

    def write(self, chunk: Any) -> int:
        self._position += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET or offset != 0:
            raise OSError("a hashed download can only start over")
        self._position = 0
        return 0

    def tell(self) -> int:
        return self._position

    def truncate(self, size: int | None = None) -> int:
        return self._position if size is None else size


def asset_sha256(api: Api, owner: str, repo: str, asset_id: int) -> str | None:
    """The hex sha256 of the asset's bytes, streamed; None when there is no such asset."""
    url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)
    asset = api.client.get_json_or_none(url)
    if asset is None:
        return None
    written, sha256_hex = download(api.client, url, _Discard(), name=str(asset.get("name", "")))
    try:
        verify(asset, written, sha256_hex)
    except RemoteError as exc:
        raise RemoteError(f"asset_sha256: {exc}") from None
    return sha256_hex
