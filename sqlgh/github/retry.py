"""Retrying what is safe to retry: idempotent requests that met a server or network fault.

GET, HEAD, DELETE and PATCH (sqlgh sends the same body every time) are retried on a 5xx,
a timeout, a dropped connection, or a JSON body that arrived cut short or as an HTML page,
with exponential backoff and full jitter, a bounded number of times. POST is never retried
here: an upload that failed may have left a half-made asset, so ``tables/asset_writes.py``
cleans up first and retries itself. urllib3's own retries are switched off for the same
reason (its ``Retry`` would resend a POST on some connection errors).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sqlgh.github.errors import GitHubError, TransportError

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PATCH", "PUT"})
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
# read=False re-raises read errors as they are (a ReadTimeout stays a ReadTimeout).
NEVER_RETRY = Retry(total=0, connect=0, read=False, redirect=0, status=0, other=0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently idempotent requests are retried.

    ``retries`` extra attempts (so at most ``retries + 1`` in all); the n-th wait is drawn
    uniformly from ``[0, min(max_backoff, backoff * 2**n)]`` ("full jitter").
    """

    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0

    @property
    def attempts(self) -> int:
        """The most attempts one request gets."""
        return max(0, int(self.retries)) + 1

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        return random.uniform(0, ceiling) if ceiling > 0 else 0.0


def may_retry(method: str) -> bool:
    """Whether a request with this method may be sent again after a fault."""
    return method.upper() in IDEMPOTENT


def is_transient(exc: BaseException) -> bool:
    """A fault worth another attempt: 5xx, or the network (timeouts, drops, bad bodies)."""
    if isinstance(exc, GitHubError):
        return exc.status in RETRYABLE_STATUS
    return isinstance(exc, TransportError)


def explain_transport(exc: TransportError, timeout: tuple[float, float]) -> str:
    """A plain sentence for a network fault; names the option to change for timeouts."""
    if exc.detail:
        return exc.detail
    cause = exc.cause
    if isinstance(cause, requests.ConnectTimeout):
        return f"could not connect within {timeout[0]:g} s (the connect_timeout option)"
    if isinstance(cause, requests.ReadTimeout):
        return f"GitHub sent nothing for {timeout[1]:g} s (the read_timeout option)"
    unreachable = _unreachable(cause)
    if unreachable:
        return unreachable
    if isinstance(cause, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return "the connection was dropped before the answer was complete"
    if isinstance(cause, ValueError):
        return f"the answer was not the JSON expected ({cause})"
    return str(exc)


def _unreachable(cause: BaseException) -> str | None:
    """ "could not connect to HOST:PORT (why)" when no connection was made at all."""
    reason = getattr(cause.args[0], "reason", None) if cause.args else None
    if not isinstance(reason, urllib3.exceptions.NewConnectionError):
        return None
    connection = getattr(reason, "conn", None)
    where = f"{getattr(connection, 'host', '?')}:{getattr(connection, 'port', '?')}"
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return f"could not connect to {where} (the host name does not resolve)"
    return f"could not connect to {where} ({reason.__cause__ or 'refused'})"


def disable_transport_retries(session: requests.Session) -> None:
    """Switch off urllib3's retries in a session's adapters (a session given by the user;
    sqlgh's own sessions mount ``adapter.GitHubAdapter``): every retry is decided above."""
    for prefix in ("https://", "http://"):
        adapter = session.adapters.get(prefix)
        if isinstance(adapter, HTTPAdapter):
            adapter.max_retries = NEVER_RETRY
        else:
            session.mount(prefix, HTTPAdapter(max_retries=NEVER_RETRY))
