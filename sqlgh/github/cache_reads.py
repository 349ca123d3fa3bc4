"""Lookups in the cache file on SQLite connections of their own, beside the writer.

requests-cache reads through the one connection its writer uses: a lookup first takes that
connection's lock, which the writer holds through a whole transaction, and SQL text with
the key inlined is compiled anew for every lookup. Sharing one connection between threads
is also what requests-cache's own comment in ``SQLiteDict.__getitem__`` warns about ("bad
parameter or other API misuse" with placeholders), and a one-off segfault was seen there.

Here each lookup borrows a read connection that no other thread uses meanwhile, and runs a
statement with a placeholder, compiled once per connection. The file is in WAL mode, so a
reader sees the last commit while the writer is in the middle of the next. There are as
many connections as lookups ever ran at once (the session pool bounds them). They open
the file as it exists (``mode=rw``: never creating an empty one), and the first opens at
once, so a file removed while a connection runs (the directory deleted, say) stays
readable through it: a later connection that cannot open waits for one in use instead.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any


class Readers:
    """Read connections to one SQLite file, each used by one thread at a time."""

    def __init__(self, path: Path, timeout: float) -> None:
        self._uri = Path(os.path.abspath(path)).as_uri() + "?mode=rw"
        self._timeout = timeout
        self._idle: list[sqlite3.Connection] = []
        self._ready = threading.Condition()
        self._closed = False
        self._idle.append(self._open())

    def one(self, statement: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of ``statement`` (None: no row, or the readers were closed)."""
        connection = self._take()
        if connection is None:
            return None
        try:
            return connection.execute(statement, args).fetchone()
        finally:
            self._give_back(connection)

    def close(self) -> None:
        """Close the idle connections; one in use closes when its lookup ends."""
        with self._ready:
            self._closed = True
            idle, self._idle = self._idle, []
            self._ready.notify_all()
        for connection in idle:
            connection.close()

    def _open(self) -> sqlite3.Connection:
        # check_same_thread=False: a connection moves between threads, never shared at once.
        return sqlite3.connect(
            self._uri,
            uri=True,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
        )

    def _take(self) -> sqlite3.Connection | None:
        with self._ready:
            if self._closed:
                return None
            if self._idle:
                return self._idle.pop()
        try:
            return self._open()
        except sqlite3.Error:
            # the file is gone or cannot be opened again: the connections open still read it
            with self._ready:
                while not self._idle and not self._closed:
                    self._ready.wait()
                return None if self._closed else self._idle.pop()

    def _give_back(self, connection: sqlite3.Connection) -> None:
        with self._ready:
            if not self._closed:
                self._idle.append(connection)
                self._ready.notify()
                return
        connection.close()
