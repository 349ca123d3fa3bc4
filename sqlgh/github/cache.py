"""The conditional-request cache: requests-cache over one SQLite file per token identity.

Every GET is revalidated (``If-None-Match`` with the stored ETag), so data is always
current; GitHub answers 304 for unchanged data and does not count it against the rate
limit. Only GET responses of 200 that carry a validator are stored; downloads (streamed
bytes) and writes bypass the cache. The token itself is never stored or used in a name:
the file is named after a hash of it, and requests-cache leaves ``Authorization`` out of
the stored requests.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs
import requests
import requests_cache

CACHE_DIR_ENV = "SQLGH_CACHE_DIR"


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


def open_backend(path: str | os.PathLike[str]) -> requests_cache.SQLiteCache:
    """The shared SQLite backend at ``path`` (parent directories are made, mode 0700)."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return requests_cache.SQLiteCache(str(target), wal=True, fast_save=True)


def cached_session(backend: requests_cache.SQLiteCache) -> requests_cache.CachedSession:
    """A session that stores GET 200s with validators and revalidates every one of them."""
    return requests_cache.CachedSession(
        backend=backend,
        expire_after=requests_cache.EXPIRE_IMMEDIATELY,
        cache_control=False,
        always_revalidate=True,
        allowable_methods=("GET",),
        allowable_codes=(200,),
    )


def clear(backend: requests_cache.SQLiteCache) -> int:
    """Empty the cache; return how many responses it held."""
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
