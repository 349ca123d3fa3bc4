"""The transport adapter every sqlgh session mounts.

Three things differ from requests' own ``HTTPAdapter``:

- it never retries: every retry is decided above it (``retry.py``, ``resilience.py``),
  since urllib3's ``Retry`` would resend a POST on some connection errors;
- a response that is not streamed is read in one piece. requests reads a body in 10 KiB
  pieces, each through several layers of urllib3 and ``http.client``; for a page of
  release assets (about 145 KB) one read takes 15% less CPU, and for a release list
  carrying thousands of embedded assets (7 MB) a quarter of it (docs/performance.md).
  ``http.client`` makes room for the whole declared length before it reads a byte, so
  one read is used only for a declared ``Content-Length`` of at most ``ONE_READ_MAX``;
  other bodies are read in ``PIECE`` pieces. A redirect's body is left to requests, which
  reads it and forgives it being cut short;
- its connections' sockets are ``watchdog.MeteredSocket``s, held to a minimum transfer
  rate and the statement's deadline (``watchdog.Limits``). The pool managers it makes
  (direct and through an HTTP proxy) create them; a SOCKS proxy's are left as they are.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from sqlgh.github.retry import NEVER_RETRY
from sqlgh.github.watchdog import Limits, MeteredSocket

ONE_READ_MAX = 64 << 20
PIECE = 1 << 20


class GitHubAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that never retries, reads a body that is not streamed at once, and
    holds its connections to ``limits``."""

    def __init__(self, limits: Limits | None = None, **options: Any) -> None:
        self.limits = limits or Limits()  # before init_poolmanager, which the base calls
        super().__init__(max_retries=NEVER_RETRY, **options)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """requests' pool manager, making metered connections."""
        super().init_poolmanager(*args, **kwargs)
        _meter(self.poolmanager, self.limits)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """requests' proxy manager, making metered connections (not through SOCKS)."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _meter(manager, self.limits)
        return manager

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **options: Any
    ) -> requests.Response:
        """Send as ``HTTPAdapter.send`` does; unless streaming, read the body now."""
        response = super().send(request, stream=stream, **options)
        if not stream and not response.is_redirect:
            # iter_content raises what Response.content would (ChunkedEncodingError for a
            # cut body, and so on); None as the size is one read of the whole body. _content
            # is where requests keeps a body it has read (Response.content returns it).
            length = response.headers.get("Content-Length", "")
            whole = length.isdigit() and int(length) <= ONE_READ_MAX
            response._content = b"".join(response.iter_content(None if whole else PIECE))
        return response


def mount(session: requests.Session, limits: Limits | None = None) -> None:
    """Mount a ``GitHubAdapter`` on a session sqlgh made, for http and https."""
    for prefix in ("https://", "http://"):
        session.mount(prefix, GitHubAdapter(limits))


class _Metered:
    """Mixed into urllib3's connections: once connected, the socket is metered."""

    sock: Any

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        self._limits = limits
        super().__init__(*args, **kwargs)

    def connect(self) -> None:
        """Connect (and for https, shake hands) as urllib3 does, then meter the socket."""
        super().connect()  # type: ignore[misc]
        self.sock = MeteredSocket(self.sock, self._limits)


class _MeteredHTTPConnection(_Metered, HTTPConnection):
    pass


class _MeteredHTTPSConnection(_Metered, HTTPSConnection):
    pass


class _MeteredHTTPPool(HTTPConnectionPool):
    ConnectionCls = _MeteredHTTPConnection


class _MeteredHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _MeteredHTTPSConnection


_PLAIN_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


def _meter(manager: PoolManager, limits: Limits) -> None:
    """Make ``manager`` create metered connections, given ``limits`` (urllib3 passes a
    pool's extra keyword arguments on to each connection it makes)."""
    if manager.pool_classes_by_scheme == _PLAIN_POOLS:
        manager.pool_classes_by_scheme = {
            "http": partial(_MeteredHTTPPool, limits=limits),  # type: ignore[dict-item]
            "https": partial(_MeteredHTTPSPool, limits=limits),  # type: ignore[dict-item]
        }
