"""Keeping the cache file small: entries unused for a while are pruned, and the file has a
size cap (``Retention``; the options ``cache_max_age`` and ``cache_max_size``).

*Used* means looked up (every GET with a stored entry is revalidated with it, so a 304 is a
use) or stored. A 304 does not rewrite the stored entry (cache.py), and requests-cache 1.3
keeps nothing that says when an entry was last used: its ``expires`` column is the time of
the last 200 under ``EXPIRE_IMMEDIATELY``, and ``delete(older_than=...)`` compares each
response's ``created_at``, the time of its last 200 too, after unpickling every stored
response, compressed bodies included. So the keys used are collected in memory
(``UsageLog``) and written in batches, one upsert of many keys on the cache's writer
thread, to a table of sqlgh's own beside requests-cache's: ``sqlgh_usage(key, used)``, the
Unix time of each entry's last known use. An entry without a row (stored by an earlier
sqlgh) counts as used at the first prune that sees it.

``prune`` runs off the query's path: on the writer thread when a connection opens, if the
last prune is a day old or the file is over its cap, and when it closes, if the file is
over its cap or that prune did not finish. It deletes in small transactions,
oldest use first, within a time budget, and leaves the rest for the next time. The age
rule drops entries unused for ``max_age`` seconds; the size rule then drops the least
recently used until the pages in use are at most 80% of ``max_size``. Deleting leaves the
freed pages in the file, and SQLite reuses them for later stores, so the file stops
growing without being rewritten. Only a file grown past the cap, by the stores of one
session, is rewritten (``VACUUM``, when the connection closes and no read runs): that
copies the pages in use, at most 80% of the cap, through the WAL, which a checkpoint then
truncates (a plain SQLite file with 5 MB in use took 27 ms on the development host).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from requests_cache.backends.sqlite import SQLiteDict

DAY = 86_400.0
MAX_AGE = 30 * DAY
MAX_SIZE = 200_000_000  # bytes (200 MB)
PRUNE_EVERY = DAY  # the age rule runs at most this often
LOW_WATER = 0.8  # the size rule evicts down to this share of the cap
USAGE_BATCH = 1_000  # keys used that are written at once, before the connection closes
CHUNK = 200  # entries deleted per transaction (a lookup waits at most one of them)
BUDGET = 1.0  # seconds of deleting per prune; the rest waits for the next one
USAGE = "sqlgh_usage"
META = "sqlgh_meta"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How long an unused entry is kept (seconds, 0: for ever), the cap on the file (bytes,
    0: none), and the clock both are measured with (Unix time; tests move it)."""

    max_age: float = MAX_AGE
    max_size: int = MAX_SIZE
    clock: Callable[[], float] = field(default=time.time, compare=False)


@dataclass
class Pruned:
    """What one prune did: entries deleted for their age and for the cap, and whether the
    file was rewritten."""

    aged: int = 0
    evicted: int = 0
    vacuumed: bool = False


class UsageLog:
    """The keys used since they were last written (thread-safe)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Note a use of ``key``; True once, when the keys noted make a batch to write."""
        with self._lock:
            self._keys.add(key)
            return len(self._keys) == USAGE_BATCH

    def take(self) -> set[str]:
        """The keys noted so far, forgetting them."""
        with self._lock:
            keys, self._keys = self._keys, set()
        return keys


def create_tables(table: SQLiteDict) -> None:
    """Add sqlgh's usage and bookkeeping tables to the cache file, once."""
    with table.connection() as con:
        found = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
            (USAGE, META),
        ).fetchone()[0]
    if found == 2:
        return
    with table.connection(commit=True) as con:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {USAGE} (key TEXT PRIMARY KEY, used REAL NOT NULL) "
            "WITHOUT ROWID"
        )
        con.execute(f"CREATE INDEX IF NOT EXISTS {USAGE}_used ON {USAGE} (used)")
        con.execute(f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, value)")


def record(table: SQLiteDict, keys: Iterable[str], now: float) -> None:
    """Write ``now`` as the last use of ``keys``, in one transaction."""
    write_many(
        table,
        f"INSERT INTO {USAGE} (key, used) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET used = max(used, excluded.used)",
        [(key, now) for key in keys],
    )


def write_many(table: SQLiteDict, statement: str, rows: list[tuple[Any, ...]]) -> None:
    """Run ``statement`` once per row on ``table``'s connection, in one transaction (none
    when there are no rows)."""
    if rows:
        with table.connection(commit=True) as con:
            con.executemany(statement, rows)


def last_pruned(table: SQLiteDict) -> float | None:
    """When the age rule last ran to its end (Unix time), or None."""
    with table.connection() as con:
        row = con.execute(f"SELECT value FROM {META} WHERE name = 'pruned'").fetchone()
    return float(row[0]) if row else None


def due(table: SQLiteDict, retention: Retention) -> bool:
    """Whether a prune has work: the age rule not run for a day, or the file over its cap."""
    if retention.max_age:
        pruned = last_pruned(table)
        if pruned is None or retention.clock() - pruned >= PRUNE_EVERY:
            return True
    return bool(retention.max_size) and file_bytes(table) > retention.max_size


def file_bytes(table: SQLiteDict) -> int:
    """The size of the database (its WAL's pages included)."""
    with table.connection() as con:
        return _pragma(con, "page_count") * _pragma(con, "page_size")


def bytes_in_use(table: SQLiteDict) -> int:
    """The size of the database's pages that are not free."""
    with table.connection() as con:
        used = _pragma(con, "page_count") - _pragma(con, "freelist_count")
        return used * _pragma(con, "page_size")


def prune(table: SQLiteDict, aliases: str, retention: Retention, *, vacuum: bool) -> Pruned:
    """Apply the age rule (when a day old) and the size rule to the entries of ``table``
    (requests-cache's responses; ``aliases``: its redirects table, whose rows naming a
    deleted entry go too), within ``BUDGET`` seconds of deleting; rewrite a file left over
    its cap when ``vacuum``."""
    now = retention.clock()
    stop = time.monotonic() + BUDGET
    done = Pruned()
    entries = table.table_name
    with table.connection(commit=True) as con:
        # entries without a use on record count as used now; uses of deleted entries go
        con.execute(
            f"INSERT OR IGNORE INTO {USAGE} (key, used) SELECT key, ? FROM {entries}", (now,)
        )
        con.execute(f"DELETE FROM {USAGE} WHERE key NOT IN (SELECT key FROM {entries})")
    pruned = last_pruned(table)
    if retention.max_age and (pruned is None or now - pruned >= PRUNE_EVERY):
        done.aged, finished = _age_rule(table, now - retention.max_age, stop)
        if finished:  # not due again for a day
            with table.connection(commit=True) as con:
                con.execute(
                    f"INSERT OR REPLACE INTO {META} (name, value) VALUES ('pruned', ?)", (now,)
                )
    if retention.max_size:
        done.evicted = _size_rule(table, retention.max_size * LOW_WATER, stop)
    if done.aged or done.evicted:
        with table.connection(commit=True) as con:
            con.execute(f"DELETE FROM {aliases} WHERE value NOT IN (SELECT key FROM {entries})")
        log.debug("cache pruned: %d unused entries, %d over the size cap", done.aged, done.evicted)
    if vacuum and retention.max_size and file_bytes(table) > retention.max_size:
        done.vacuumed = _vacuum(table)
    return done


def _vacuum(table: SQLiteDict) -> bool:
    """Rewrite the file without its free pages, and empty the WAL the rewrite went through;
    False when it cannot run now (another process's lock, a read still running, no room for
    the copy): then at a later close."""
    try:
        table.vacuum()
    except sqlite3.OperationalError as exc:
        log.debug("cache not rewritten: %s", exc)
        return False
    with table.connection() as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


def _age_rule(table: SQLiteDict, cutoff: float, stop: float) -> tuple[int, bool]:
    """Delete the entries last used before ``cutoff`` until none is left or ``stop`` (a
    ``time.monotonic()``) passes: how many went, and whether none is left."""
    deleted = 0
    while time.monotonic() < stop:
        chunk = _delete_oldest(table, before=cutoff)
        deleted += chunk
        if chunk < CHUNK:
            return deleted, True
    return deleted, False


def _size_rule(table: SQLiteDict, low: float, stop: float) -> int:
    """Delete the least recently used entries until the pages in use take at most ``low``
    bytes or ``stop`` passes; how many went."""
    deleted = 0
    while (excess := bytes_in_use(table) - low) > 0 and time.monotonic() < stop:
        chunk = _delete_oldest(table, excess=excess)
        if not chunk:
            break
        deleted += chunk
    return deleted


def _delete_oldest(
    table: SQLiteDict, *, before: float | None = None, excess: float | None = None
) -> int:
    """Delete, in one transaction, up to ``CHUNK`` least recently used entries: those used
    before ``before``, or as many as hold ``excess`` bytes; how many went."""
    entries = table.table_name
    where, args = ("WHERE u.used < ?", (before,)) if before is not None else ("", ())
    with table.connection(commit=True) as con:
        rows = con.execute(
            f"SELECT u.key, length(e.value) FROM {USAGE} u JOIN {entries} e ON e.key = u.key "
            f"{where} ORDER BY u.used, u.key LIMIT {CHUNK}",
            args,
        ).fetchall()
        keys: list[str] = []
        held = 0
        for key, size in rows:
            if excess is not None and held >= excess:
                break
            keys.append(key)
            held += size or 0
        if keys:
            marks = ",".join("?" * len(keys))
            con.execute(f"DELETE FROM {entries} WHERE key IN ({marks})", keys)
            con.execute(f"DELETE FROM {USAGE} WHERE key IN ({marks})", keys)
    return len(keys)


def _pragma(con: sqlite3.Connection, name: str) -> int:
    return int(con.execute(f"PRAGMA {name}").fetchone()[0])
