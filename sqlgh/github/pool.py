"""A pool of ``requests.Session`` objects: one per request in flight.

``requests.Session`` is not documented as safe for concurrent use (its cookie jar and
redirect handling share state), so concurrent reads each borrow a session of their own.
The pool's size is the bound on requests in flight; a sequential workload keeps reusing
the same session (LIFO), so its keep-alive connection is reused too.

The sessions read the environment (proxies, CA bundle) once per host instead of on every
request, and the token goes in as an auth object (``BearerAuth``), which also spares
requests a look for ``~/.netrc`` on every request: together a fifth of requests' own
time per request on a fast link (see docs/performance.md).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>``. Given as ``auth=``, it also keeps requests from
    looking up ``~/.netrc`` for the host, whose credentials would replace the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the header to a request being prepared."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerAuth>"  # never the token


class EnvironmentOnce:
    """A ``requests.Session`` mixin: proxies and CA bundle from the environment are read once
    per scheme and host, not on every request (requests scans all of ``os.environ`` twice
    per request for them)."""

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """``requests.Session.merge_environment_settings``, remembered per host and arguments."""
        merge = super().merge_environment_settings  # type: ignore[misc]
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())))
        key += (stream, verify, cert)
        memo = self.__dict__.setdefault("_sqlgh_environment", {})
        try:
            settings = memo.get(key)
        except TypeError:  # an argument that cannot be a key (a list as cert)
            return merge(url, proxies, stream, verify, cert)
        if settings is None:
            settings = memo[key] = merge(url, proxies, stream, verify, cert)
        return {**settings, "proxies": dict(settings["proxies"])}


class PlainSession(EnvironmentOnce, requests.Session):
    """A ``requests.Session`` that reads the environment once per host."""


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
