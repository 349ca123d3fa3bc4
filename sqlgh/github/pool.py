"""A pool of ``requests.Session`` objects: one per request in flight.

``requests.Session`` is not documented as safe for concurrent use (its cookie jar and
redirect handling share state), so concurrent reads each borrow a session of their own.
The pool's size is the bound on requests in flight; a sequential workload keeps reusing
the same session (LIFO), so its keep-alive connection is reused too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests


class SessionPool:
    """At most ``size`` sessions, made on demand by ``factory``, lent one at a time."""

    def __init__(self, size: int, factory: Callable[[], requests.Session]) -> None:
        self.size = max(1, int(size))
        self._factory = factory
        self._idle: queue.LifoQueue[requests.Session] = queue.LifoQueue()
        self._made: list[requests.Session] = []
        self._lock = threading.Lock()

    def add(self, session: requests.Session) -> requests.Session:
        """Put an existing session in the pool (it counts against ``size``)."""
        with self._lock:
            self._made.append(session)
        self._idle.put(session)
        return session

    @contextmanager
    def session(self) -> Iterator[requests.Session]:
        """Borrow a session for one request; waits while ``size`` are lent out."""
        session = self._take()
        try:
            yield session
        finally:
            self._idle.put(session)

    @property
    def sessions(self) -> list[requests.Session]:
        """Every session made so far."""
        with self._lock:
            return list(self._made)

    def close(self) -> None:
        """Close every session's connections."""
        for session in self.sessions:
            session.close()

    def _take(self) -> requests.Session:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = len(self._made) < self.size
            if make:
                session = self._factory()
                self._made.append(session)
        if make:
            return session
        return self._idle.get()
