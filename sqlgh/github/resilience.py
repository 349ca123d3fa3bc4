"""The loop around every request: pace, send, wait out rate limits, retry transient faults.

``Resilience.run(method, attempt)`` calls ``attempt()`` (one HTTP exchange, and for JSON
GETs the decoding of its body) until it succeeds, a fault is not worth retrying, or the
attempts run out; then it raises the last error, explained (timeouts name their option,
401/403 say which permission the token needs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlgh.github.auth import explain_access
from sqlgh.github.deadline import Deadline
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.ratelimit import RateLimiter, kind_of
from sqlgh.github.retry import RetryPolicy, explain_transport, is_stall, is_transient, may_retry

T = TypeVar("T")
Rewind = Callable[[], bool]


def rewinder(body: Any) -> Rewind:
    """A function that puts a request body back to its start; False when it cannot.

    A rate-limited request was refused unprocessed, so even a POST may be sent again,
    provided its body can be sent again.
    """
    if body is None or isinstance(body, bytes | bytearray | str | dict):
        return lambda: True
    seek, tell = getattr(body, "seek", None), getattr(body, "tell", None)
    if seek is None or tell is None:
        return lambda: False
    try:
        start = tell()
    except OSError:
        return lambda: False

    def rewind() -> bool:
        seek(start)
        return True

    return rewind


@dataclass
class Resilience:
    """Retry policy, rate limiter, the statement's deadline and what error messages need
    (timeouts, token source). ``sleep`` waits between attempts (``Deadline.sleep``: no wait
    that would end past the deadline)."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    timeout: tuple[float, float] = (10.0, 30.0)
    token_source: str | None = None
    sleep: Callable[[float], None] = time.sleep
    deadline: Deadline = field(default_factory=Deadline)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Note the rate-limit budget an answer reports."""
        self.limiter.observe(headers)

    def run(
        self,
        method: str,
        attempt: Callable[[], T],
        rewind: Rewind | None = None,
        *,
        counted: bool = True,
    ) -> T:
        """Call ``attempt`` until it succeeds or its error is final; raise that explained.

        ``counted=False``: GitHub does not count the request against the rate limit (GET
        /rate_limit), so a spent budget does not hold it back."""
        retryable = may_retry(method)
        failures = waits = stalls = 0
        while True:
            if counted:
                self.limiter.pace()
            try:
                result = attempt()
            except GitHubError as exc:
                if waits < self.policy.attempts and self.limiter.wait_for(exc):
                    waits += 1
                    if rewind is None or rewind():
                        continue
                if retryable and is_transient(exc) and failures + 1 < self.policy.attempts:
                    self.sleep(self.policy.delay(failures))
                    failures += 1
                    continue
                if kind_of(exc) is not None:
                    raise
                raise explain_access(exc, self.token_source) from exc
            except TransportError as exc:
                if not exc.transient:  # a DeadlineError among others
                    raise
                stalls = stalls + 1 if is_stall(exc) else 0
                if (
                    retryable
                    and failures + 1 < self.policy.attempts
                    and stalls < self.policy.stall_attempts
                ):
                    self.sleep(self.policy.delay(failures))
                    failures += 1
                    continue
                raise self.explained(exc, failures + 1) from exc.cause
            self.limiter.succeeded()
            return result

    def explained(self, exc: TransportError, attempts: int) -> TransportError:
        """``exc`` in plain words, with how many attempts were made."""
        detail = explain_transport(exc, self.timeout)
        if attempts > 1:
            detail += f"; gave up after {attempts} attempts"
        return TransportError(exc.method, exc.path, exc.cause, detail)
