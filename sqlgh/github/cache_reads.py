"""Lookups in the cache file on an SQLite connection of their own, beside the writer's.

requests-cache reads through the one connection its writer uses: a lookup first takes that
connection's lock, which the writer holds through a whole transaction, then compiles SQL
text with the key inlined, anew for every lookup, and runs it on a connection other
threads may be using at the same moment (requests-cache's own comment in
``SQLiteDict.__getitem__`` tells of "bad parameter or other API misuse" with placeholders;
a one-off segfault was seen there).

Here lookups have a connection of their own, used by one thread at a time (a lookup takes
microseconds: the lock is not worth a connection per thread, each of which would read the
schema anew), running statements with a placeholder, compiled once. The file is in WAL
mode, so a lookup sees the last commit while the writer is in the middle of the next. The
connection opens with the backend, on the file as it is (``mode=rw``: never creating an
empty one), so a file removed while a connection runs (its directory deleted, say) stays
readable.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any


class Reader:
    """A read connection to one SQLite file, shared by threads one lookup at a time."""

    def __init__(self, path: Path, timeout: float) -> None:
        uri = Path(os.path.abspath(path)).as_uri() + "?mode=rw"
        # check_same_thread=False: threads take turns under the lock, never at once.
        self._connection: sqlite3.Connection | None = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()

    def one(self, statement: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of ``statement`` (None: no row, or the reader was closed)."""
        with self._lock:
            if self._connection is None:
                return None
            with closing(self._connection.execute(statement, args)) as cursor:
                return cursor.fetchone()  # closed at once: no read transaction left open

    def close(self) -> None:
        """Close the connection (after a lookup running on it)."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
