"""Asset bytes: downloads verified against the size and digest GitHub reports."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from sqlgh.errors import InputError, RemoteError
from sqlgh.github.transfer import download
from sqlgh.tables.spec import Api

ASSET = "/repos/{owner}/{repo}/releases/assets/{asset_id}"


def verify(asset: Mapping[str, Any], written: int, sha256_hex: str) -> None:
    """Raise RemoteError when the bytes do not match the asset's size or digest."""
    name = asset.get("name")
    size = asset.get("size")
    if isinstance(size, int) and written != size:
        raise RemoteError(f"download of {name!r} is incomplete: {written} of {size} bytes arrived")
    digest = asset.get("digest")
    expected = digest.removeprefix("sha256:").lower() if isinstance(digest, str) else None
    if digest and digest.startswith("sha256:") and expected != sha256_hex:
        raise RemoteError(f"download of {name!r} does not match its digest {digest}")


def read_content(api: Api, owner: str, repo: str, asset: Mapping[str, Any]) -> bytes:
    """Download an asset into memory (the ``data`` column) and verify it."""
    url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset["id"])
    buffer = io.BytesIO()
    written, sha256_hex = download(api.client, url, buffer, name=str(asset.get("name", "")))
    verify(asset, written, sha256_hex)
    return buffer.getvalue()


def download_to_file(api: Api, owner: str, repo: str, asset_id: int, destination: str) -> str:
    """Stream an asset to disk without holding it in memory; return the file written.

    ``destination`` is a directory (existing, or ending in a separator) to keep the asset's
    name, or a file path. Bytes go to a temporary file beside the target, are verified,
    and only then renamed into place, so a failed download never leaves a partial file.
    """
    url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)
    asset = api.client.get_json_or_none(url)
    if asset is None:
        raise RemoteError(f"no asset {asset_id} in {owner}/{repo}")
    target = _target_path(destination, asset.get("name"), asset_id)
    directory = os.path.dirname(target) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".sqlgh-", suffix=".part", dir=directory)
    try:
        with os.fdopen(handle, "wb") as sink:
            written, sha256_hex = download(api.client, url, sink, name=str(asset.get("name", "")))
        verify(asset, written, sha256_hex)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return target


def _target_path(destination: str, name: Any, asset_id: int) -> str:
    """The file to write: ``destination``, or the asset's ``name`` in that directory."""
    if not destination:
        raise InputError("download: the destination is empty; give a directory or a file path")
    if not destination.endswith(("/", os.sep)) and not os.path.isdir(destination):
        target = destination
    elif not isinstance(name, str) or not name:
        raise RemoteError(
            f"download: GitHub gave asset {asset_id} no usable name ({name!r}); give a "
            "file path as the destination instead of a directory"
        )
    elif os.path.basename(name) != name or name in (".", ".."):
        raise RemoteError(f"download: GitHub gave an unsafe asset name {name!r}")
    else:
        target = os.path.join(destination, name)
    if os.path.isdir(target):
        raise InputError(
            f"download: {target!r} is a directory; give a file path as the destination, "
            "or a directory that holds no directory of the asset's name"
        )
    return target
