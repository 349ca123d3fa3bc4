"""When the cache file cannot be used: say so once, then start a new file or go uncached.

The cache only saves rate limit, so it never fails a query. A damaged file of sqlgh's own
(one SQLite cannot read) is moved aside to ``<name>.damaged``, with its ``-wal``, ``-shm``
and ``-journal`` companions, and a new one is started; moving keeps what was there, and a
later damage replaces the earlier copy instead of piling them up. sqlgh's own: named as
sqlgh names cache files, or an SQLite database (a cache at a path the user chose), or the
file a connection was using when it found the damage. Garbage at another name is left as
it is. Anything else (no permission, a file of another user, a directory in the way, a lock
held too long, a full disk) means running without the cache. Each problem is one line on
stderr, once per process and file.

A file of another user is never used, even by root: the cache is pickled, so whoever can
write it could run code as the user who reads it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from pathlib import Path

from sqlgh.github.option_hint import how_to_set

# SQLite's files next to a database: its WAL, the WAL's shared-memory index, the rollback
# journal. Moved with it: SQLite would replay an old WAL into a new file of the same name.
COMPANIONS = ("-wal", "-shm", "-journal")
DAMAGED = ".damaged"
SQLITE_HEADER = b"SQLite format 3\x00"
WHERE_ELSE = (
    "choose another place (SQLGH_CACHE_DIR, or the cache_path option) or turn it off "
    f"({how_to_set('cache', False)})"
)

_warned: set[tuple[str, str]] = set()
_warned_guard = threading.Lock()


class CacheRefused(Exception):
    """A cache file sqlgh will not use (the message says why)."""


def check_owner(target: Path, opened: os.stat_result) -> None:
    """Refuse the cache file ``opened`` (or an existing companion of it) when another user
    owns it."""
    me = os.geteuid()
    owners = [(target, opened.st_uid)]
    for suffix in COMPANIONS:
        companion = Path(f"{target}{suffix}")
        try:
            owners.append((companion, companion.lstat().st_uid))
        except FileNotFoundError:
            continue
    for path, owner in owners:
        if owner != me:
            raise CacheRefused(
                f"{path.name} belongs to another user (uid {owner}), who could read or change "
                "what sqlgh stores"
            )


def is_damage(exc: BaseException) -> bool:
    """Whether SQLite found the file damaged or not a database at all.

    Python raises plain ``sqlite3.DatabaseError`` for SQLITE_CORRUPT and SQLITE_NOTADB;
    busy, read-only, I/O and full-disk errors are its subclass ``OperationalError``.
    """
    return type(exc) is sqlite3.DatabaseError


def is_locked(exc: BaseException) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (SQLITE_BUSY)."""
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


def is_sqlgh_file(target: Path) -> bool:
    """Whether a damaged ``target`` is sqlgh's to replace: named as sqlgh names cache files,
    or an SQLite database (a cache file sqlgh made at a path the user chose)."""
    if target.name.startswith("http-") and target.suffix == ".sqlite":
        return True
    try:
        with target.open("rb") as file:
            return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def set_aside(target: Path, opened: os.stat_result) -> Path | None:
    """Move the damaged file ``target`` and its companions to ``<name>.damaged...``; None
    when ``target`` is no longer the file that was opened (another process replaced it)
    or cannot be moved. Call it only once no connection of this process has it open."""
    try:
        now = target.stat()
    except OSError:
        return None
    if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
        return None
    moved = target.with_name(target.name + DAMAGED)
    try:
        os.replace(target, moved)
        for suffix in COMPANIONS:
            if os.path.lexists(f"{target}{suffix}"):
                os.replace(f"{target}{suffix}", f"{moved}{suffix}")
    except OSError:
        return None
    return moved


def reason(exc: BaseException, target: Path) -> str:
    """What went wrong, in a few words (naming a file only when it is not ``target``)."""
    if isinstance(exc, OSError) and exc.strerror:
        elsewhere = exc.filename and os.fspath(exc.filename) != str(target)
        return exc.strerror + (f": {exc.filename}" if elsewhere else "")
    return str(exc) or type(exc).__name__


def warn_unusable(target: Path, exc: BaseException, lock_timeout: float) -> None:
    """Say once that the cache at ``target`` could not be opened and queries run uncached."""
    if is_locked(exc):
        warn_once(
            target,
            "locked",
            f"the cache file {target} is locked by another process; waited {lock_timeout:g} s "
            f"(the cache_lock_timeout option; {how_to_set('cache_lock_timeout', 30)}), "
            "running without the cache",
        )
    elif is_damage(exc):
        warn_once(
            target,
            "foreign",
            f"{target} is not a cache file sqlgh can read ({reason(exc, target)}); running "
            f"without the cache: remove it, or {WHERE_ELSE}",
        )
    else:
        warn_once(
            target,
            "unusable",
            f"cannot use the cache file {target} ({reason(exc, target)}); running without the "
            f"cache: fix it, or {WHERE_ELSE}",
        )


def warn_failed(target: Path, exc: BaseException, lock_timeout: float) -> None:
    """Say once that the cache at ``target`` failed mid-session: the connection goes on
    without it."""
    problem = (
        f"stayed locked by another process for {lock_timeout:g} s (the cache_lock_timeout "
        f"option; {how_to_set('cache_lock_timeout', 30)})"
        if is_locked(exc)
        else f"failed ({reason(exc, target)})"
    )
    later = "; it is moved aside when the connection closes" if is_damage(exc) else ""
    warn_once(
        target,
        "failed",
        f"the cache file {target} {problem}; running without the cache for the rest of this "
        f"connection{later}",
    )


def say_moved(target: Path, moved: Path, exc: BaseException, then: str) -> None:
    """Say that a damaged cache file was moved aside, and what ``then`` happens (each time,
    not once: files changed)."""
    why = reason(exc, target)
    say(f"the cache file {target} was damaged ({why}); moved it to {moved}; {then}")


def warn_once(target: Path, kind: str, text: str) -> None:
    """``text`` on stderr, unless this process already warned about ``kind`` for ``target``."""
    key = (str(target), kind)
    with _warned_guard:
        if key in _warned:
            return
        _warned.add(key)
    say(text)


def say(text: str) -> None:
    """One line on stderr, as sqlgh's other notices."""
    print(f"sqlgh: {text}", file=sys.stderr, flush=True)
