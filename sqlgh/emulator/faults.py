"""Fault switches: make chosen requests fail the ways GitHub and networks do."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "status",  # answer `status` (default 500) with a JSON error body
    "drop",  # close the connection mid-body (lists, downloads) or mid-upload
    "lost",  # carry the request out, then close the connection before any answer
    "truncated",  # a well-framed response whose JSON body is cut in half
    "overlong",  # declares a Content-Length of 1 TiB, sends the body, closes (a bad proxy)
    "non_json",  # an HTML page instead of JSON (status default 200)
    "slow",  # sleep `delay` seconds, then answer normally
    "trickle",  # read the request body and send the answer (status line on) a byte at a time
    "trickle_body",  # send the status line and headers at once, then the body a byte at a time
    "upload_502_starter",  # the upload leaves a `starter` asset of size 0, answers 502
    "primary_rate_limit",  # 403, x-ratelimit-remaining 0, reset in `retry_after` s (60)
    "secondary_rate_limit",  # 403 (or `status`) "secondary rate limit", retry-after if set
    "sso_required",  # 403 (or `status`) of an org enforcing SAML SSO, with X-GitHub-SSO
    "ip_allow_list",  # 403 of an organization whose IP allow list leaves the caller out
    "rewrite",  # the answer with `find` replaced by `replace` in its headers and body (a liar)
    "redirect",  # `status` (default 307) with `Location: location`, the request not acted on
    "headers",  # answer normally; `headers` (sent with any kind) replace those so named
    "rewrite_json",  # do the request, then answer `rewrite(the JSON answer)` instead
    "meanwhile",  # run `call()` (another client acting meanwhile), then answer normally
    "wrong_range",  # storage: a Range from N answered 206 with as many bytes from 0 instead
    "changed_object",  # storage: the object was replaced (other bytes, ETag, Last-Modified)
)


@dataclass
class Fault:
    """One switch. It matches requests by ``method``, ``path`` (a regex searched in the
    raw path) and ``origin`` ("api", "uploads", "storage" or "web"); None matches any.
    It lets the first ``after`` matching requests through, then fires ``times`` times (a
    negative number: forever), then disarms. ``headers``, with any kind, are sent in place
    of the answer's headers of the same names (a broken proxy, or a hostile server).
    ``meanwhile`` holds the request while ``call`` runs on the request's thread: another
    client's requests, made in between deterministically (they are served as usual).
    ``delay``: the seconds of ``slow``, and between two bytes of ``trickle`` and
    ``trickle_body`` (default 0.5)."""

    kind: str = "status"
    method: str | None = None
    path: str | None = None
    origin: str | None = None
    status: int | None = None
    times: int = 1
    delay: float = 0.0
    retry_after: int | None = None
    after: int = 0
    find: str = ""
    replace: str = ""
    location: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    rewrite: Callable[[Any], Any] | None = None
    call: Callable[[], object] | None = None
    fired: int = field(default=0, init=False)
    passed: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind == "rewrite_json" and self.rewrite is None:
            raise ValueError("a rewrite_json fault needs rewrite, a function of the answer")
        if self.kind == "upload_502_starter":  # only uploads can leave a starter asset
            self.origin, self.method = "uploads", "POST"
        self._pattern = re.compile(self.path) if self.path is not None else None

    def matches(self, origin: str, method: str, path: str) -> bool:
        """Whether this fault applies to a request (ignoring how often it has fired)."""
        return (
            (self.origin is None or self.origin == origin)
            and (self.method is None or self.method.upper() == method)
            and (self._pattern is None or self._pattern.search(path) is not None)
        )


class Faults:
    """The armed faults, first added first."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Arm ``fault`` (one with ``times == 0`` never fires)."""
        if fault.times == 0:
            return
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, origin: str, method: str, path: str) -> Fault | None:
        """The first armed fault for this request, counted as fired once."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(origin, method, path):
                    if fault.passed < fault.after:
                        fault.passed += 1
                        continue
                    fault.fired += 1
                    if fault.times >= 0 and fault.fired >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None
