"""The conditional-request cache: requests-cache over one SQLite file per token identity.

Every GET is revalidated (``If-None-Match`` with the stored ETag), so data is always
current; GitHub answers 304 for unchanged data and does not count it against the rate
limit. Only GET responses of 200 that carry a validator are stored; downloads (streamed
bytes) and writes bypass the cache. The token itself is never stored or used in a name:
the file is named after a hash of it, and requests-cache leaves ``Authorization`` out of
the stored requests.

What keeps the cache cheap (see docs/performance.md):

- responses are stored on a writer thread of their own, so a request hands its page on at
  once instead of waiting for serialization and SQLite (a lookup of a key whose store is
  still on its way waits for it; ``delete``, ``clear`` and ``close`` wait for them all);
- stored bodies are compressed with Zstandard at level 1, before pickling: GitHub's JSON
  shrinks 26-32 fold, so SQLite writes a few pages where it would write hundreds and no
  WAL checkpoint runs in the middle of a scan, and pickle copies only the small compressed
  body while holding the GIL. Zstandard, with the checksum that makes a damaged body a
  miss, packs and unpacks a 7 MB release list 3.5 and 7 times as fast as zlib at its
  fastest level (docs/performance.md); entries stored with zlib by earlier versions are
  still read;
- a 304 does not rewrite the stored entry (requests-cache would store the whole body again
  because ``Date`` and the rate-limit headers changed);
- one serializer is shared by every backend (building one costs about a millisecond);
- the key is a hash of the method, the URL as sent and the ``Accept`` header (requests-cache's
  default key re-parses and normalizes the URL, which sqlgh builds the same way every time).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import platformdirs
import requests
import requests_cache
import zstandard
from requests_cache.models import CachedResponse
from requests_cache.serializers import CattrStage, SerializerPipeline, Stage

from sqlgh.github.pool import EnvironmentOnce

CACHE_DIR_ENV = "SQLGH_CACHE_DIR"
log = logging.getLogger(__name__)


class _SharedPipeline(SerializerPipeline):
    """A serializer every backend can share: it holds no per-backend state."""

    def copy(self) -> SerializerPipeline:
        """The pipeline itself (requests-cache copies it per table, rebuilding converters)."""
        return self


ZSTD_LEVEL = 1
# How a stored body is unpacked, by the field it is stored under (zlib: earlier builds).
_UNPACK = {"_content_zstd": zstandard.decompress, "_content_zlib": zlib.decompress}


def _compress_body(fields: dict[str, Any]) -> dict[str, Any]:
    body = fields.pop("_content", None)
    if body:
        # The content's checksum makes a damaged body a miss rather than wrong data. A new
        # compressor each time: one is not safe to share between writer threads.
        packer = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True)
        fields["_content_zstd"] = packer.compress(body)
    elif body is not None:
        fields["_content"] = body
    return fields


def _decompress_body(fields: dict[str, Any]) -> dict[str, Any]:
    for field, unpack in _UNPACK.items():
        packed = fields.pop(field, None)
        if packed is None:
            continue
        try:
            fields["_content"] = unpack(packed)
        except (zstandard.ZstdError, zlib.error, MemoryError) as exc:
            # requests-cache takes a ValueError for a miss. MemoryError: a damaged frame
            # header can declare a size zstandard then fails to allocate.
            raise ValueError(f"a stored body does not decompress: {exc}") from exc
    return fields


# Headers that carry credentials: never stored, in the request or in any redirect's.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _without_credentials(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop credential headers from a response's stored request and from the requests of
    its redirect history, which requests-cache stores as they were sent."""
    for response in [fields, *(fields.get("history") or ())]:
        request = response.get("request") if isinstance(response, dict) else None
        headers = request.get("headers") if isinstance(request, dict) else None
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in CREDENTIAL_HEADERS
            }
    return fields


def _unchanged(fields: dict[str, Any]) -> dict[str, Any]:
    return fields


SERIALIZER = _SharedPipeline(
    [
        CattrStage(),
        Stage(dumps=_without_credentials, loads=_unchanged),
        Stage(dumps=_compress_body, loads=_decompress_body),
        Stage(pickle),
    ],
    name="pickle+zstd-body",
    is_binary=True,
)


class ResponseCache(requests_cache.SQLiteCache):
    """requests-cache's SQLite backend, stored compressed on a writer thread, that keeps an
    entry as it is on a 304."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[None]] = {}
        self._closed = False

    def save_response(
        self,
        response: requests.Response,
        cache_key: str | None = None,
        expires: datetime | None = None,
    ) -> None:
        """Queue a response for storing, unless it is a stored one GitHub just revalidated."""
        if getattr(response, "revalidated", False):
            return  # same body and ETag: only Date and the rate-limit headers changed
        key = cache_key or self.create_key(response.request)
        snapshot = CachedResponse.from_response(response, expires=expires)
        with self._guard:
            if self._closed:  # a read thread finishing after close(): not worth reopening
                return
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlgh-cache")
            stored = self._writer.submit(self._store, snapshot, key, expires)
            self._pending[key] = stored
        stored.add_done_callback(partial(self._stored, key))

    def get_response(self, key: str, default: Any = None) -> CachedResponse | None:
        """The stored response of ``key``, once a store of it still on its way has landed."""
        pending = self._pending.get(key)
        if pending is not None:
            wait([pending])
        return super().get_response(key, default)

    def flush(self) -> None:
        """Wait until every queued response is stored."""
        with self._guard:
            pending = list(self._pending.values())
        wait(pending)

    def delete(self, *keys: str, **kwargs: Any) -> None:
        """Delete responses (after the stores queued before)."""
        self.flush()
        super().delete(*keys, **kwargs)

    def clear(self) -> None:
        """Empty the cache (after the stores queued before)."""
        self.flush()
        super().clear()

    def close(self) -> None:
        """Store what is queued, stop the writer thread, close the SQLite connections."""
        with self._guard:
            writer, self._writer = self._writer, None
            self._closed = True
        if writer is not None:
            writer.shutdown(wait=True)
        super().close()

    def _store(self, response: CachedResponse, key: str, expires: datetime | None) -> None:
        try:
            super().save_response(response, key, expires)
        except Exception:  # a cache that cannot store must not fail the query
            log.warning("sqlgh: could not store a response in the cache", exc_info=True)

    def _stored(self, key: str, stored: Future[None]) -> None:
        with self._guard:
            if self._pending.get(key) is stored:
                del self._pending[key]


def default_cache_dir() -> Path:
    """``$SQLGH_CACHE_DIR``, else the user's cache directory (e.g. ``~/.cache/sqlgh``)."""
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("sqlgh"))


def identity(token: str | None) -> str:
    """A stable, non-reversible name for a token (``anonymous`` without one)."""
    if not token:
        return "anonymous"
    return hashlib.sha256(b"sqlgh-cache\0" + token.encode()).hexdigest()[:24]


def cache_file(token: str | None, directory: str | os.PathLike[str] | None = None) -> Path:
    """The cache file of a token: ``<dir>/http-<identity>.sqlite``."""
    base = Path(directory) if directory is not None else default_cache_dir()
    return base / f"http-{identity(token)}.sqlite"


def open_backend(path: str | os.PathLike[str]) -> ResponseCache:
    """The shared SQLite backend at ``path``, readable by its owner alone (see
    ``make_private``)."""
    target = Path(path).expanduser()
    make_private(target)
    return ResponseCache(str(target), wal=True, fast_save=True, serializer=SERIALIZER)


def make_private(target: Path) -> None:
    """Create the cache file with mode 0600 (SQLite gives its -wal and -shm files the
    same mode) and a missing directory with mode 0700; an existing file, and sqlgh's own
    default directory, are narrowed to those modes. A directory the user chose that
    exists (``/tmp``, say) is left as it is."""
    directory = target.parent
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
    elif directory.resolve() == default_cache_dir().resolve():
        directory.chmod(0o700)
    descriptor = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


class CachedSession(EnvironmentOnce, requests_cache.CachedSession):
    """requests-cache's session, reading the environment once per host."""


def request_key(request: requests.PreparedRequest, match_headers: Any = None, **_: Any) -> str:
    """The cache key of a request: its method, URL as sent and ``Accept`` header, and the
    headers a stored response's ``Vary`` names (``Authorization`` never: one file per token)."""
    headers = request.headers
    names = headers.keys() if match_headers is True else match_headers or ()
    parts = [request.method or "", request.url or "", headers.get("Accept", "")]
    parts += sorted(
        f"{name.lower()}={headers.get(name, '')}"
        for name in names
        if name.lower() != "authorization"
    )
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


def cached_session(backend: requests_cache.SQLiteCache) -> requests_cache.CachedSession:
    """A session that stores GET 200s with validators and revalidates every one of them."""
    return CachedSession(
        backend=backend,
        key_fn=request_key,
        expire_after=requests_cache.EXPIRE_IMMEDIATELY,
        cache_control=False,
        always_revalidate=True,
        allowable_methods=("GET",),
        allowable_codes=(200,),
    )


def clear(backend: ResponseCache) -> int:
    """Empty the cache; return how many responses it held."""
    backend.flush()
    count = len(backend.responses)
    backend.clear()
    return count


def wire_status(response: requests.Response) -> int:
    """The status GitHub sent: 304 when a stored response was revalidated."""
    return 304 if getattr(response, "revalidated", False) else response.status_code


def remember_backend(
    response: requests.Response, backend: requests_cache.SQLiteCache | None
) -> requests.Response:
    """Note on a response which cache stored it, so ``forget`` can take it back."""
    if backend is not None:
        response.sqlgh_cache = backend  # type: ignore[attr-defined]
    return response


def forget(response: requests.Response) -> None:
    """Drop a stored response whose body turned out unusable (cut short, not JSON)."""
    backend = getattr(response, "sqlgh_cache", None)
    key = getattr(response, "cache_key", None)
    if backend is not None and key:
        backend.delete(key)
