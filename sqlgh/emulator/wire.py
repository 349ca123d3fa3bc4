"""Requests and responses as the emulator's routes see them, apart from the socket."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlgh.emulator.faults import Fault
from sqlgh.emulator.models import dumps

JSON = "application/json; charset=utf-8"


class BodyReader:
    """The request body: at most Content-Length bytes of the connection.

    With ``trickle`` set, it reads one byte every ``trickle`` seconds (a stalled server),
    and after ``TRICKLE_MAX`` bytes reads no more, as though the client had stopped."""

    TRICKLE_MAX = 64

    def __init__(self, rfile: BinaryIO, length: int | None) -> None:
        self._rfile = rfile
        self.length = length
        self.received = 0
        self.trickle = 0.0

    @property
    def remaining(self) -> int:
        return 0 if self.length is None else self.length - self.received

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left if negative); b"" at the end."""
        want = self.remaining if size < 0 else min(size, self.remaining)
        if want <= 0:
            return b""
        if self.trickle:
            if self.received >= self.TRICKLE_MAX:
                return b""
            time.sleep(self.trickle)
            want = 1
        data = self._rfile.read(want)
        self.received += len(data)
        return data

    def drain(self, limit: int) -> bool:
        """Read and drop the rest if it is at most ``limit`` bytes; True when all is read."""
        if self.remaining > limit:
            return False
        while self.remaining > 0:
            if not self.read(1 << 16):
                return False
        return True


@dataclass
class Request:
    """One request. ``path`` is raw (as received, no query); ``segments`` are the
    percent-decoded segments below the origin's prefix."""

    origin: str
    method: str
    path: str
    segments: list[str]
    query: dict[str, list[str]]
    query_string: str
    headers: dict[str, str]
    client: str
    body: BodyReader
    fault: Fault | None = None

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """What to send. A ``stream`` of ``length`` bytes replaces ``body`` when set; when
    ``file`` names where the stream's bytes lie on disk, they are sent from there.

    ``drop`` sends the headers and half the body, then closes the connection; ``abort``
    sends nothing and closes it; ``close`` closes it after a complete response.
    ``declared`` is a Content-Length to send instead of the true one (a fault).
    ``trickle`` sends one byte every so many seconds: from the status line on, or from
    the body on when ``trickle_head`` is False (faults).
    """

    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterable[bytes] | None = None
    length: int | None = None
    declared: int | None = None
    file: tuple[str, int] | None = None  # (path, offset) of a stream the kernel can send
    drop: bool = False
    abort: bool = False
    close: bool = False
    unknown: bool = False  # no route has this shape: recorded in Emulator.unknown
    trickle: float = 0.0
    trickle_head: bool = True

    @property
    def size(self) -> int:
        return len(self.body) if self.stream is None else (self.length or 0)


def json_response(status: int, value: object, headers: list | None = None) -> Response:
    """A JSON response of ``value``."""
    return Response(status, dumps(value), headers=headers or [])


class HTTPError(Exception):
    """Raised by a route to answer with a JSON error."""

    def __init__(self, status: int, body: dict, headers: list | None = None) -> None:
        super().__init__(status, body.get("message"))
        self.response = json_response(status, body, headers)
