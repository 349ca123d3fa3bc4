"""Asset bytes: downloads verified against the size and digest GitHub reports.

The ``data`` column holds an asset in memory, once: the bytes land in one buffer of the
asset's size, which SQLite copies (APSW hands a blob over with ``SQLITE_TRANSIENT``:
``set_context_result`` in rogerbinns/apsw ``src/apsw.c``), and the query's own use of the
value (a row fetched into Python, ``writefile``'s argument) is another copy. So ``data``
is refused above ``max_content_size``; ``download()`` streams to a file in a few MiB
whatever the size.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlgh.errors import InputError, RemoteError, SqlghError
from sqlgh.github.option_hint import how_to_set
from sqlgh.github.transfer import download
from sqlgh.local_files import create_beside, refuse_to_replace
from sqlgh.tables.endpoints import ASSET
from sqlgh.tables.spec import Api

MAX_CONTENT_SIZE = 256 << 20  # the default of the max_content_size option, in bytes
# A cell of ``data`` up to this size is kept for its row, so that a query naming the column
# twice (``SELECT data, length(data)``) downloads it once; a larger one is dropped as soon
# as SQLite has its copy, and each use downloads it again.
KEPT_FOR_THE_ROW = 16 << 20


# SQLite's default SQLITE_MAX_LENGTH: the most a BLOB (``data``, readfile()) can hold.
SQLITE_MAX_BLOB = 1_000_000_000


def content_limit(options: Mapping[str, Any]) -> int:
    """The ``max_content_size`` option: the largest asset ``data`` downloads, in bytes."""
    limit = options.get("max_content_size", MAX_CONTENT_SIZE)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(
            f"option max_content_size must be a whole number of bytes >= 0, not {limit!r}"
        )
    if limit > SQLITE_MAX_BLOB:
        raise ValueError(
            f"option max_content_size: {limit} is more than SQLite holds in a BLOB "
            f"({SQLITE_MAX_BLOB:,} bytes by default); for larger assets, upload with the "
            "path column and download with download()"
        )
    return limit


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


def read_content(api: Api, owner: str, repo: str, asset: Mapping[str, Any]) -> bytearray:
    """Download an asset into memory (the ``data`` column) and verify it.

    An asset larger than ``max_content_size`` is refused before any byte is fetched (or
    as soon as more than that arrives, when GitHub gives no size).
    """
    limit = content_limit(api.options)
    size = asset.get("size")
    known = size if type(size) is int and size >= 0 else None
    if known is not None and known > limit:
        raise _too_large(owner, repo, asset, f"is {size_text(known)}, more", limit, known)
    url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset["id"])
    buffer = _Buffer(known, limit)
    try:
        written, sha256_hex = download(api.client, url, buffer, name=str(asset.get("name", "")))
    except _Overflow:
        if known is None:
            raise _too_large(owner, repo, asset, "sent more", limit, limit * 2) from None
        raise RemoteError(
            f"download of {asset.get('name')!r} sent more than its size of {known} bytes"
        ) from None
    verify(asset, written, sha256_hex)
    return buffer.value()


class _Overflow(Exception):
    """More bytes arrived than the buffer may hold."""


class _Buffer:
    """A download sink of at most ``capacity`` bytes, allocated whole when the size is
    known, so the bytes are never copied into a bigger buffer (nor out of a ``BytesIO``).

    It seeks and truncates as a file does: a download that starts over rewinds it.
    """

    def __init__(self, size: int | None, limit: int) -> None:
        self.data = bytearray(size or 0)
        self.capacity = limit if size is None else size
        self._position = self._length = 0

    def write(self, chunk: Any) -> int:
        """Copy ``chunk`` in at the position; _Overflow past the capacity."""
        end = self._position + len(chunk)
        if end > self.capacity:
            raise _Overflow
        self.data[self._position : end] = chunk  # in place, within a buffer allocated whole
        self._position = end
        self._length = max(self._length, end)
        return len(chunk)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move to ``offset`` from the start (the only way a download moves)."""
        if whence != os.SEEK_SET or not 0 <= offset <= self._length:
            raise OSError(f"cannot seek the content buffer to {offset} ({whence})")
        self._position = offset
        return offset

    def tell(self) -> int:
        """The position."""
        return self._position

    def truncate(self, size: int | None = None) -> int:
        """Drop the bytes from ``size`` (default: the position) on; the buffer keeps its
        room for them."""
        self._length = min(self._length, self._position if size is None else size)
        return self._length

    def value(self) -> bytearray:
        """The bytes written: the buffer itself, cut to their length."""
        del self.data[self._length :]
        return self.data


def download_to_file(api: Api, owner: str, repo: str, asset_id: int, destination: str) -> str:
    """Stream an asset to disk without holding it in memory; return the file written.

    ``destination`` is a directory (existing, or ending in a separator) to keep the asset's
    name, or a file path. Bytes go to a temporary file beside the target, are verified,
    and only then renamed into place, so a failed download never leaves a partial file.
    An existing target is replaced only when it is a regular file; the file written gets
    the mode any new file gets (0666 less the umask).
    """
    url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)
    asset = api.client.get_json_or_none(url)
    if asset is None:
        raise RemoteError(f"no asset {asset_id} in {owner}/{repo}")
    target = _target_path(destination, asset.get("name"), asset_id)
    refuse_to_replace(target, "download")
    directory = os.path.dirname(target) or "."
    try:
        os.makedirs(directory, exist_ok=True)
        handle, temporary = create_beside(target)
    except OSError as exc:
        raise InputError(
            f"download: cannot create a file in {directory!r} ({exc.strerror or exc}); give "
            "a destination in a directory you can write (a file's path, or a directory)"
        ) from exc
    try:
        with os.fdopen(handle, "wb") as sink:
            written, sha256_hex = download(api.client, url, sink, name=str(asset.get("name", "")))
        verify(asset, written, sha256_hex)
        refuse_to_replace(target, "download")  # again: something may have taken its place
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


def _too_large(
    owner: str, repo: str, asset: Mapping[str, Any], how: str, limit: int, needed: int
) -> SqlghError:
    name, asset_id = asset.get("name"), asset.get("id")
    return SqlghError(
        f"release_assets.data: asset {name!r} (id {asset_id}) {how} than the data column "
        f"holds in memory (max_content_size, {size_text(limit)}); stream it to a file with "
        f"download('{owner}', '{repo}', {asset_id}, 'directory/'), or raise the "
        f"max_content_size option ({how_to_set('max_content_size', needed)})"
    )


def size_text(size: int) -> str:
    """``524288000 bytes = 500.0 MiB``; small sizes in bytes alone."""
    return f"{size} bytes" + (f" = {size / (1 << 20):.1f} MiB" if size >= 1 << 20 else "")
