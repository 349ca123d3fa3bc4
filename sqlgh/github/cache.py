"""The conditional-request cache: requests-cache over one SQLite file per token identity.

Every GET is revalidated (``If-None-Match`` with the stored ETag), so data is always
current; GitHub answers 304 for unchanged data and does not count it against the rate
limit. A 304 naming another version than the stored one (its ETag, or Last-Modified,
differs) is not answered with the stored body: the GET is sent again without validators.
Only GET responses of 200 that carry a validator are stored; downloads (streamed bytes)
and writes bypass the cache. The token itself is never stored or used in a name: the file
is named after a hash of it, and the serializer leaves credential headers
(``Authorization`` and the others requests-cache names, in any case) out of the stored
requests.

What keeps the cache cheap (see docs/performance.md, "First-run cache costs"):

- sqlgh's session sends a GET read whole itself (``CachedSession.send``), for the one
  policy it sets: requests-cache's ``send`` works the policy out again for every request
  (``CacheActions.from_request`` and ``update_from_response`` each parse headers into
  ``CacheDirectives`` through a helper that calls ``inspect.signature``), which measured
  about 30 ms of CPU in a 50-page first run (the 5,000-asset release by ``release_id``)
  for settings sqlgh had all switched off. requests-cache still keys, stores, serializes
  and models the responses, and its own ``send`` takes everything else (writes, streamed
  downloads, its per-request options);
- lookups run on an SQLite connection of their own with a compiled statement, beside the
  writer's transactions instead of behind them (see cache_reads.py), and look for a
  redirect alias only when the file holds any;
- responses are stored on a writer thread of their own, so a request hands its page on at
  once instead of waiting for serialization and SQLite (a lookup of a key whose store is
  still on its way waits for it; ``delete``, ``clear`` and ``close`` wait for them all).
  The writer lingers up to ``LINGER`` seconds for more responses and stores them all in
  one transaction: pages arrive one by one, and on a fast link it otherwise committed
  every page or two (22-38 transactions for 50 pages, 4-5 now). While it is held up
  (another process's write lock), at most ``MAX_QUEUED_BYTES`` of bodies wait for it;
  later responses go unstored. It writes the request
  thread's snapshot itself (requests-cache's ``save_response`` would copy it once more),
  and leaves requests-cache's ``redact_response``, which rewrites every URL and header of
  it, to a response whose URL names a credential parameter (the serializer drops
  credential headers);
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

The file stays small (see cache_prune.py): every lookup that finds an entry and every
store is a use, noted in memory and written in batches; entries unused for ``cache_max_age``
days are pruned and the file is capped at ``cache_max_size`` MB, least recently used first,
on the writer thread when a connection opens and when it closes.

A cache that cannot be used never fails a query (see cache_guard.py): a file that cannot be
opened means running uncached, a damaged one is moved aside and started anew, and a failure
mid-session (a lookup or a store) turns the cache off for the rest of the connection. The
wait for another process's write lock is bounded (``lock_timeout``); requests-cache would
retry it forever.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
import requests
import requests_cache
import zstandard
from requests.hooks import dispatch_hook
from requests_cache.backends.base import BaseCache
from requests_cache.backends.sqlite import SQLiteDict
from requests_cache.cache_keys import redact_response
from requests_cache.models import CachedResponse, OriginalResponse
from requests_cache.policy import CacheActions, CacheDirectives
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from requests_cache.serializers import CattrStage, SerializerPipeline, Stage

from sqlgh.github import cache_guard, cache_prune
from sqlgh.github.cache_prune import Retention, UsageLog
from sqlgh.github.cache_reads import Reader
from sqlgh.github.pool import EnvironmentOnce

CACHE_DIR_ENV = "SQLGH_CACHE_DIR"
# Seconds to wait for another process's write lock on the cache file before going uncached.
LOCK_TIMEOUT = 5.0
log = logging.getLogger(__name__)
T = TypeVar("T")


class _SharedPipeline(SerializerPipeline):
    """A serializer every backend can share: it holds no per-backend state."""

    def copy(self) -> SerializerPipeline:
        """The pipeline itself (requests-cache copies it per table, rebuilding converters)."""
        return self


ZSTD_LEVEL = 1
# How long the writer waits for more responses to store in one transaction (seconds), and
# how many, or how many bytes of bodies, make it start at once (the queued bodies are held
# in memory: a release list with embedded assets can be a megabyte).
LINGER = 0.05
BATCH = 32
BATCH_BYTES = 2_000_000
# Bodies queued while the writer is held up (another process's write lock, up to
# ``lock_timeout``): past this many bytes a response is not stored (it costs a 200 instead
# of a 304 next time) rather than held in memory.
MAX_QUEUED_BYTES = 4 * BATCH_BYTES
# One compressor per writer thread: making one costs about as much as compressing a page.
_PACKERS = threading.local()
# How a stored body is unpacked, by the field it is stored under (zlib: earlier builds).
_UNPACK = {"_content_zstd": zstandard.decompress, "_content_zlib": zlib.decompress}


def _compress_body(fields: dict[str, Any]) -> dict[str, Any]:
    body = fields.pop("_content", None)
    if body:
        # The content's checksum makes a damaged body a miss rather than wrong data. A
        # compressor is not safe to share between threads: one per thread.
        packer = getattr(_PACKERS, "packer", None)
        if packer is None:
            packer = _PACKERS.packer = zstandard.ZstdCompressor(
                level=ZSTD_LEVEL, write_checksum=True
            )
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


# requests-cache's two tables, and how a lookup reads them.
RESPONSES, REDIRECTS = "responses", "redirects"
SELECT_RESPONSE = f"SELECT value FROM {RESPONSES} WHERE key = ?"
SELECT_ALIAS = f"SELECT value FROM {REDIRECTS} WHERE key = ?"

# Headers that carry credentials: never stored, in the request or in any redirect's, in
# any case (requests-cache's redaction matches its own spelling only): cookies, the
# headers requests-cache 1.3 redacts (its AUTH_HEADERS), and whatever it ignores.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-auth-token",
        "x-api-token",
        "x-access-token",
        *(name.lower() for name in DEFAULT_IGNORED_PARAMS),
    }
)


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


def _redacted(snapshot: CachedResponse, ignored: Any) -> CachedResponse:
    """The snapshot as requests-cache's ``redact_response`` leaves it, where that matters:
    it rewrites every URL and header dict it stores (a sixth of a store's CPU time), but
    credential headers are dropped by the serializer (``_without_credentials``), so only a
    URL that names a credential parameter (``access_token=``; sqlgh never sends one) goes
    through it."""
    urls = f"{snapshot.url}\n{snapshot.request.url}"
    if any(name in urls for name in ignored or ()):
        return redact_response(snapshot, ignored)
    return snapshot


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


class CacheTable(SQLiteDict):
    """requests-cache's SQLite table, which waits for the write lock no longer than the
    connection's busy timeout, and reads a damaged entry as a miss."""

    def init_db(self) -> None:
        """Create the table if missing; on failure, close the connection at once (a damaged
        file is moved aside next, and SQLite removes a WAL by name when it closes)."""
        try:
            super().init_db()
        except BaseException:
            self.close()
            raise

    @contextmanager
    def _acquire_sqlite_lock(self) -> Iterator[None]:
        # requests-cache retries BEGIN IMMEDIATE forever, and swallows a failed write.
        with self._lock:
            assert self._connection is not None  # opened by connection()
            self._connection.execute("BEGIN IMMEDIATE")  # waits up to the busy timeout
            self._active_transaction = True
            try:
                yield
                self._connection.commit()
            except BaseException:
                with suppress(sqlite3.Error):
                    self._connection.rollback()
                raise
            finally:
                self._active_transaction = False

    def write_rows(self, rows: list[tuple[str, Any, int | None]]) -> None:
        """Write serialized values, ``(key, value, expires)`` each, in one transaction, as
        requests-cache's ``__setitem__`` writes one (and commits)."""
        statement = (
            f"INSERT OR REPLACE INTO {self.table_name} (key, value, expires) VALUES (?, ?, ?)"
        )
        cache_prune.write_many(self, statement, rows)

    def deserialize(self, key: str, value: Any) -> Any:
        """The stored response, or None (a miss) when its bytes are damaged: unpickling
        garbage also raises EOFError, OverflowError or MemoryError, which requests-cache
        lets through."""
        try:
            return super().deserialize(key, value)
        except Exception:
            return None


@dataclass(frozen=True)
class _Queued:
    """A response waiting for the writer thread: its key, its snapshot, and the keys of the
    redirects that led to it."""

    key: str
    snapshot: CachedResponse
    aliases: list[str]


class ResponseCache(requests_cache.SQLiteCache):
    """requests-cache's SQLite backend, stored compressed on a writer thread, that keeps an
    entry as it is on a 304, and turns itself off when its file fails (``failure``)."""

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        lock_timeout: float = LOCK_TIMEOUT,
        opened: os.stat_result | None = None,
        retention: Retention | None = None,
    ) -> None:
        BaseCache.__init__(self, cache_name=str(db_path))
        self.path = Path(db_path)
        self.lock_timeout = lock_timeout
        self.opened = opened or os.stat(db_path)  # the file, for moving it aside if damaged
        self.retention = retention or Retention()
        self.failure: Exception | None = None
        self._guard = threading.Lock()
        # Wakes the writer lingering for more responses (see _store_queued); _hurry: how
        # many threads wait for stores to land.
        self._more = threading.Condition(self._guard)
        self._hurry = 0
        self._writer: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[None]] = {}
        # Responses waiting for the writer, and the writer task that will store them all.
        self._queued: list[_Queued] = []
        self._queued_bytes = 0
        self._drain: Future[None] | None = None
        self._closed = False
        self._usage = UsageLog()
        settings = {"wal": True, "fast_save": True, "timeout": lock_timeout}
        self.responses = CacheTable(
            db_path, table_name=RESPONSES, serializer=SERIALIZER, **settings
        )
        try:
            self.redirects = CacheTable(
                db_path,
                table_name=REDIRECTS,
                lock=self.responses._lock,
                serializer=None,
                **settings,
            )
        except BaseException:
            self.responses.close()
            raise
        try:
            cache_prune.create_tables(self.responses)
            self._reader = Reader(Path(self.responses.db_path), lock_timeout)
        except BaseException:
            self.responses.close()
            self.redirects.close()
            raise
        try:
            # Whether a lookup that misses must look for a redirect alias (see _look_up).
            found = self._reader.one(f"SELECT EXISTS (SELECT 1 FROM {REDIRECTS})")
            self._aliases = bool(found and found[0])
            if cache_prune.due(self.responses, self.retention):
                self._submit(self._upkeep, False)  # no VACUUM: queries may be reading
        except BaseException:
            self._reader.close()
            self.responses.close()
            self.redirects.close()
            raise

    def save_response(
        self,
        response: requests.Response,
        cache_key: str | None = None,
        expires: datetime | None = None,
    ) -> None:
        """Queue a response for storing, unless it is a stored one GitHub just revalidated
        (same body and ETag: only Date and the rate-limit headers changed), the file
        failed, or ``MAX_QUEUED_BYTES`` of bodies already wait for a writer held up."""
        if getattr(response, "revalidated", False) or self.failure is not None:
            return
        key = cache_key or self.create_key(response.request)
        snapshot = CachedResponse.from_response(response, expires=expires)
        # Redirect aliases, as requests-cache's own save_response keeps them.
        aliases = [self.create_key(earlier.request) for earlier in response.history]
        if aliases:
            self._aliases = True
        size = len(snapshot.content or b"")
        with self._guard:
            if self._queued and self._queued_bytes + size > MAX_QUEUED_BYTES:
                log.debug("sqlgh: the cache's writer is held up; a response goes unstored")
                return
            stored = self._drain
            if stored is None:
                # a read thread finishing after close(): not worth reopening
                stored = self._drain = self._submit_locked(self._store_queued)
                if stored is None:
                    return
            self._queued.append(_Queued(key, snapshot, aliases))
            self._queued_bytes += size
            self._pending[key] = stored
            if self._batch_full():
                self._more.notify_all()
        stored.add_done_callback(partial(self._stored, key))
        self._used(key)

    def get_response(self, key: str, default: Any = None) -> CachedResponse | None:
        """The stored response of ``key``, once a store of it still on its way has landed;
        ``default`` (a miss: the request goes to GitHub) when the file fails. A response
        found is a use of it (see cache_prune.py)."""
        pending = self._pending.get(key)
        if pending is not None:
            self._wait_for([pending])
        found = self._guarded(partial(self._look_up, key), None)
        if not isinstance(found, CachedResponse):
            return default
        self._used(key)
        return found

    def _look_up(self, key: str) -> CachedResponse | None:
        """What requests-cache's ``get_response`` finds, on a read connection (see
        cache_reads.py): the response stored under ``key``, else under the key that a
        redirect alias ``key`` names. The aliases are looked at only when the file holds
        some: sqlgh follows redirects itself, one request each, so it stores none."""
        row = self._reader.one(SELECT_RESPONSE, (key,))
        if row is None and self._aliases:
            alias = self._reader.one(SELECT_ALIAS, (key,))
            if alias is not None:
                key = alias[0]
                row = self._reader.one(SELECT_RESPONSE, (key,))
        return None if row is None else self.responses.deserialize(key, row[0])

    def flush(self) -> None:
        """Wait until every queued response is stored."""
        with self._guard:
            pending = list(self._pending.values())
        self._wait_for(pending)

    def _wait_for(self, stores: list[Future[None]]) -> None:
        """Wait for ``stores`` to land, waking the writer if it lingers."""
        with self._more:
            self._hurry += 1
            self._more.notify_all()
        try:
            wait(stores)
        finally:
            with self._more:
                self._hurry -= 1

    def delete(self, *keys: str, **kwargs: Any) -> None:
        """Delete responses (after the stores queued before); nothing once closed."""
        self.flush()
        self._while_open(partial(super().delete, *keys, **kwargs), None)

    def clear(self) -> None:
        """Empty the cache (after the stores queued before). requests-cache's own fallback,
        deleting the file alone, is skipped: it would leave the old WAL to be replayed."""
        self.flush()
        self._while_open(partial(BaseCache.clear, self), None)

    def count(self, expired: bool = True) -> int:
        """How many responses are stored (0 once the file failed or the cache closed)."""
        return self._while_open(partial(super().count, expired), 0)

    def _while_open(self, operation: Callable[[], T], default: T) -> T:
        """``operation()`` as ``_guarded`` runs it, or ``default`` once closed:
        requests-cache would open its SQLite connections again (for a read thread that
        forgets a response after the connection closed) and leave them open, or create an
        empty file where the cache was removed."""
        return default if self._closed else self._guarded(operation, default)

    def close(self) -> None:
        """Store what is queued, stop the writer thread, close the SQLite connections; then
        move the file aside if it turned out damaged."""
        with self._guard:
            writer, self._writer = self._writer, None
            closing, self._closed = not self._closed, True
            self._more.notify_all()
        if writer is not None:
            writer.shutdown(wait=True)
        self._reader.close()  # before a VACUUM in the upkeep
        if closing:  # each session of the pool closes its backend: the first one counts
            self._upkeep(True, only_when_due=True)
        super().close()
        failure = self.failure
        if failure is not None and cache_guard.is_damage(failure):
            moved = cache_guard.set_aside(self.path, self.opened)
            if moved is not None:
                cache_guard.say_moved(
                    self.path, moved, failure, "the next connection starts a new one"
                )

    def _guarded(self, operation: Callable[[], T], default: T) -> T:
        """``operation()``, or ``default`` once the file failed, now or before."""
        if self.failure is None:
            try:
                return operation()
            except sqlite3.Error as exc:
                self._fail(exc)
        return default

    def _fail(self, exc: Exception) -> None:
        """Turn the cache off for the rest of the connection, saying so once. The SQLite
        connections stay open until ``close``: closing them under a reading thread would let
        requests-cache open a new one."""
        with self._guard:
            if self.failure is not None:
                return
            self.failure = exc
        cache_guard.warn_failed(self.path, exc, self.lock_timeout)

    def _submit(self, task: Callable[..., None], *args: Any) -> None:
        """Run ``task`` on the writer thread, after what is queued (not once closed)."""
        with self._guard:
            self._submit_locked(task, *args)

    def _submit_locked(self, task: Callable[..., None], *args: Any) -> Future[None] | None:
        if self._closed:
            return None
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlgh-cache")
        return self._writer.submit(task, *args)

    def _used(self, key: str) -> None:
        """Note a use of ``key``; a full batch of uses is written on the writer thread."""
        if self._usage.add(key):
            self._submit(self._write_usage)

    def _write_usage(self) -> None:
        keys = self._usage.take()
        self._guarded(
            partial(cache_prune.record, self.responses, keys, self.retention.clock()), None
        )

    def _upkeep(self, vacuum: bool, only_when_due: bool = False) -> None:
        """Write the uses noted, then prune (see cache_prune.py); ``vacuum``: the file may
        be rewritten (no query reads). Never fails: a failing file turns the cache off."""
        self._write_usage()

        def prune() -> None:
            if not only_when_due or cache_prune.due(self.responses, self.retention):
                aliases = self.redirects.table_name
                cache_prune.prune(self.responses, aliases, self.retention, vacuum=vacuum)

        try:
            self._guarded(prune, None)
        except Exception:  # as for a store: upkeep must not fail a query or a close
            log.warning("sqlgh: could not prune the cache", exc_info=True)

    def _store_queued(self) -> None:
        """Store every response queued so far: one transaction for them all, then their
        redirect aliases (another table, on its own SQLite connection). The writer first
        lingers up to ``LINGER`` seconds for more, unless ``BATCH`` responses or
        ``BATCH_BYTES`` of bodies are queued, a thread waits for them, or the cache
        closes: pages arrive one by one, and a transaction for each one or two cost more
        than storing them."""
        with self._more:
            self._more.wait_for(lambda: self._hurry or self._closed or self._batch_full(), LINGER)
            queued, self._queued = self._queued, []
            self._queued_bytes = 0
            self._drain = None  # a response queued from now on needs another task
        rows = []
        for item in queued:
            try:
                # What requests-cache's save_response does, less a copy of the snapshot,
                # which is the writer's own.
                redacted = _redacted(item.snapshot, self._settings.ignored_parameters)
                serialized = self.responses.serialize(redacted)
            except Exception:  # a response that cannot be stored must not fail the query
                log.warning("sqlgh: could not store a response in the cache", exc_info=True)
                continue
            rows.append((item.key, serialized, redacted.expires_unix))
        aliases = [(alias, item.key, None) for item in queued for alias in item.aliases]
        try:
            self._guarded(partial(self.responses.write_rows, rows), None)
            if aliases:
                self._guarded(partial(self.redirects.write_rows, aliases), None)
        except Exception:
            log.warning("sqlgh: could not store a response in the cache", exc_info=True)

    def _batch_full(self) -> bool:
        return len(self._queued) >= BATCH or self._queued_bytes >= BATCH_BYTES

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


def open_backend(
    path: str | os.PathLike[str],
    lock_timeout: float = LOCK_TIMEOUT,
    retention: Retention | None = None,
) -> ResponseCache | None:
    """The shared SQLite backend at ``path``, readable by its owner alone (see
    ``make_private``); None, after a line on stderr, when the file cannot be used (sqlgh
    then runs uncached). A damaged file of sqlgh's own is moved aside and started anew.
    ``lock_timeout``: seconds to wait for another process's write lock; ``retention``:
    how long unused entries are kept and the cap on the file (see cache_prune.py)."""
    target = Path(path).expanduser()
    if not target.suffix:  # requests-cache adds one: guard the file it will really open
        target = target.with_name(target.name + ".sqlite")
    moved: Path | None = None
    while True:
        opened: os.stat_result | None = None
        try:
            opened = make_private(target)
            forget_credentials(target, lock_timeout)
            return ResponseCache(
                target, lock_timeout=lock_timeout, opened=opened, retention=retention
            )
        except (OSError, sqlite3.Error, cache_guard.CacheRefused) as exc:
            damaged = opened is not None and cache_guard.is_damage(exc)
            if damaged and moved is None and cache_guard.is_sqlgh_file(target):
                moved = cache_guard.set_aside(target, opened)
                if moved is not None:
                    cache_guard.say_moved(target, moved, exc, "started a new one")
                    continue
            cache_guard.warn_unusable(target, exc, lock_timeout)
            return None


# PRAGMA user_version of a cache file known to hold no credentials.
CREDENTIAL_FREE = 2
# How a credential header looked in a stored entry (a pickled request; sqlgh sends only
# ``Authorization: Bearer ...``, and bodies are stored compressed).
_CREDENTIAL_MARK = b"Bearer "


def forget_credentials(target: Path, lock_timeout: float = LOCK_TIMEOUT) -> int:
    """Delete the entries of a cache file that hold a credential, then rewrite the file so
    no free page keeps the bytes; return how many went. Versions before 0.2 stored the
    requests of a redirect's history with their ``Authorization`` header. Done once per
    file: ``PRAGMA user_version`` records it."""
    with closing(sqlite3.connect(target, timeout=lock_timeout, isolation_level=None)) as db:
        if db.execute("PRAGMA user_version").fetchone()[0] >= CREDENTIAL_FREE:
            return 0
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if any(c[1] == "value" for c in db.execute(f'PRAGMA table_info("{name}")'))
        ]
        removed = 0
        for name in tables:
            removed += db.execute(
                f'DELETE FROM "{name}" WHERE instr(value, ?) > 0', (_CREDENTIAL_MARK,)
            ).rowcount
        if removed:
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute(f"PRAGMA user_version = {CREDENTIAL_FREE}")
    return removed


def make_private(target: Path) -> os.stat_result:
    """Create the cache file with mode 0600 (SQLite gives its -wal and -shm files the
    same mode) and a missing directory with mode 0700; an existing file, and sqlgh's own
    default directory, are narrowed to those modes. A directory the user chose that
    exists (``/tmp``, say) is left as it is. A file of another user is refused
    (``cache_guard.CacheRefused``). Returns the file's status."""
    directory = target.parent
    if not directory.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # two first runs may race
    elif directory.resolve() == default_cache_dir().resolve():
        directory.chmod(0o700)
    descriptor = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        opened = os.fstat(descriptor)
        cache_guard.check_owner(target, opened)
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    return opened


class CachedSession(EnvironmentOnce, requests_cache.CachedSession):
    """requests-cache's session, reading the environment once per host, with a short path
    for the policy ``cached_session`` sets: every GET read whole is revalidated."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send ``request``: a GET read whole through ``_revalidated``; anything else (a
        write, a streamed download, requests-cache's per-request options, which arrive as
        a ``Cache-Control`` header, or the cache disabled) through requests-cache's own."""
        if (
            request.method != "GET"
            or kwargs.get("stream")
            or "Cache-Control" in request.headers
            or self.settings.disabled
        ):
            return super().send(request, **kwargs)
        return self._revalidated(request, **kwargs)

    def _revalidated(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """What requests-cache's ``send`` does under sqlgh's policy (stored responses expire
        at once, are revalidated when they have a validator, and only 200s with one are
        stored; no Cache-Control), without working that policy out from the headers anew
        for every request: the stored response, as requests-cache would find it, Vary
        included; the request sent with its validators; a 304 answered with the stored
        response, marked ``revalidated``; a 200 with a validator stored."""
        backend = self.cache
        actions = CacheActions(
            cache_key=backend.create_key(request, **kwargs),
            directives=_NO_DIRECTIVES,
            expire_after=self.settings.expire_after,
            request=request,
            settings=self.settings,
        )
        stored = backend.get_response(actions.cache_key)
        mismatched = stored is not None and not actions._validate_vary(
            stored, backend.create_key, **kwargs
        )
        vary_key = getattr(actions, "vary_cache_key", None)  # requests-cache 1.3 on
        if mismatched and vary_key:
            # requests-cache's second lookup, under a key with the Vary headers' values (a
            # Vary naming Authorization, GitHub's with a token, fails without one: the
            # stored response is then revalidated, and replaced, as it is)
            actions.cache_key = vary_key
            stored = backend.get_response(vary_key) or stored
        if stored is not None:
            request.headers.update(_validators(stored.headers))
        response = requests.Session.send(self, request, **kwargs)
        if stored is not None and response.status_code == 304 and not _selects(response, stored):
            # A 304 naming another version than the one stored selects no stored response
            # (RFC 9111, section 4.3.4): ask once more, unconditionally.
            response.close()
            for name in _validators(stored.headers):
                del request.headers[name]
            stored = None
            response = requests.Session.send(self, request, **kwargs)
        if stored is not None and response.status_code == 304:
            response = actions.update_revalidated_response(response, stored)
        else:
            storable = response.status_code in self.settings.allowable_codes
            actions.skip_write = not (storable and _validators(response.headers))
            if not actions.skip_write:
                backend.save_response(response, actions.cache_key, actions.expires)
            response = OriginalResponse.wrap_response(response, actions)
        return dispatch_hook("response", request.hooks, response, **kwargs)


# No Cache-Control in sqlgh's requests: no directives (read only by a 304's update).
_NO_DIRECTIVES = CacheDirectives()


def _selects(answer: requests.Response, stored: CachedResponse) -> bool:
    """Whether a 304 is about the stored response: the validators both carry agree
    (ETags by the weak comparison of RFC 9110, section 8.8.3.2). A 304 without one is."""
    etag, stored_etag = answer.headers.get("ETag"), stored.headers.get("ETag")
    if etag and stored_etag:
        return etag.removeprefix("W/") == stored_etag.removeprefix("W/")
    modified, stored_modified = answer.headers.get("Last-Modified"), stored.headers.get(
        "Last-Modified"
    )
    return not (modified and stored_modified) or modified == stored_modified


def _validators(headers: Any) -> dict[str, str]:
    """The conditional-request headers a response's ``ETag`` and ``Last-Modified`` make."""
    found = {}
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    if etag:
        found["If-None-Match"] = etag
    if modified:
        found["If-Modified-Since"] = modified
    return found


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
    count = backend.count()
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
