"""Retrying what is safe to retry: idempotent requests that met a server or network fault.

GET, HEAD, DELETE and PATCH (sqlgh sends the same body every time) are retried on a 5xx,
a timeout, a dropped connection, or a JSON body that arrived cut short or as an HTML page,
with exponential backoff and full jitter, a bounded number of times. A stall (a socket
timeout, or a transfer under the minimum rate: ``watchdog.py``) is tried at most twice in
a row: each costs up to half a minute, and a server that stalled twice rarely answers a
third time. POST is never retried here: an upload that failed may have left a half-made
asset, so ``tables/asset_writes.py`` cleans up first and retries itself. urllib3's own
retries are switched off for the same reason (its ``Retry`` would resend a POST on some
connection errors).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.option_hint import how_to_set
from sqlgh.github.watchdog import TransferStopped

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PATCH", "PUT"})
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
# read=False re-raises read errors as they are (a ReadTimeout stays a ReadTimeout).
NEVER_RETRY = Retry(total=0, connect=0, read=False, redirect=0, status=0, other=0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently idempotent requests are retried.

    ``retries`` extra attempts (so at most ``retries + 1`` in all), of which at most
    ``stall_attempts`` in a row may stall; the n-th wait is drawn uniformly from
    ``[0, min(max_backoff, backoff * 2**n)]`` ("full jitter").
    """

    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    stall_attempts: int = 2

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


READ_TIMEOUTS = (requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError)


def is_stall(exc: TransportError) -> bool:
    """Whether the fault is a stall: nothing arrived for read_timeout, nothing of the
    request was taken for connect_timeout, or the watchdog found the transfer under the
    minimum rate."""
    return find_cause(exc.cause, (*READ_TIMEOUTS, TimeoutError, TransferStopped)) is not None


def find_cause(exc: BaseException | None, kinds: Any) -> BaseException | None:
    """``exc``, or the first exception of ``kinds`` it wraps: requests and urllib3 keep the
    original in ``__cause__``, ``__context__``, their arguments or ``reason``."""
    seen: set[int] = set()
    todo = [exc] if exc is not None else []
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kinds):
            return item
        wrapped = (item.__cause__, item.__context__, getattr(item, "reason", None), *item.args)
        todo += [w for w in wrapped if isinstance(w, BaseException)]
    return None


def explain_transport(exc: TransportError, timeout: tuple[float, float]) -> str:
    """A plain sentence for a network fault; names the option to change for timeouts."""
    if exc.detail:
        return exc.detail
    cause = exc.cause
    if isinstance(cause, requests.ConnectTimeout):
        return (
            f"could not connect within {timeout[0]:g} s (the connect_timeout option; to wait "
            f"longer: {how_to_set('connect_timeout', timeout[0] * 2)})"
        )
    stopped = find_cause(cause, TransferStopped)
    if stopped is not None:
        return str(stopped)
    if find_cause(cause, READ_TIMEOUTS) is not None:
        return (
            f"GitHub sent nothing for {timeout[1]:g} s (the read_timeout option; to wait "
            f"longer: {how_to_set('read_timeout', timeout[1] * 2)})"
        )
    if find_cause(cause, TimeoutError) is not None:  # urllib3 sends under the connect timeout
        return (
            f"the server took nothing of the request for {timeout[0]:g} s (each wait to send "
            "is bounded by the connect_timeout option; to wait longer: "
            f"{how_to_set('connect_timeout', timeout[0] * 2)})"
        )
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
