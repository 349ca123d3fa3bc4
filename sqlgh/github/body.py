"""Reading a streamed response body into reused buffers, hashing it on a second thread.

A download of hundreds of megabytes is bound by CPU on loopback: copying out of the
socket, into the file, and SHA-256. Reading straight into a few reused buffers (rather
than a new ``bytes`` per chunk from ``iter_content``) saves allocating and faulting in
memory for every chunk; hashing on a second thread overlaps the digest with the reading
and writing, since both release the GIL.
"""

from __future__ import annotations

import http.client
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import requests

CHUNK = 1 << 20

ReadInto = Callable[[memoryview], int]


class HashBehind:
    """Lends ``DEPTH`` reusable buffers and hashes each one handed back, on its own thread.

    ``buffer()`` waits for a free buffer; ``hash(view)`` queues a view of one to be hashed,
    after which its buffer is free again. ``close()`` waits until every queued view is
    hashed, so the digest is complete once it returns.
    """

    DEPTH = 4

    def __init__(self, digest: Any, size: int = CHUNK) -> None:
        self.digest = digest
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(self.DEPTH):
            self._free.put(bytearray(size))
        self._queued: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (view := self._queued.get()) is not None:
            self.digest.update(view)
            self._free.put(view.obj)

    def buffer(self) -> memoryview:
        """A whole free buffer, once the hashing thread is done with one."""
        return memoryview(self._free.get())

    def give_back(self, buffer: memoryview) -> None:
        """Return a buffer that holds nothing to hash."""
        self._free.put(buffer.obj)

    def hash(self, view: memoryview) -> None:
        """Queue ``view`` (part of a lent buffer) to be hashed; its buffer is then free."""
        self._queued.put(view)

    def close(self) -> None:
        """Wait until every queued view is hashed."""
        if self._thread is not None:
            self._queued.put(None)
            self._thread.join()
            self._thread = None


def chunks(response: requests.Response, buffers: HashBehind) -> Iterator[memoryview]:
    """Yield the body in views of buffers lent by ``buffers``, each until the next is read.

    A broken or timed-out connection, or one closed before ``Content-Length`` bytes came,
    raises ``requests.ConnectionError``, as ``iter_content`` would.
    """
    readinto, expected = _reader(response)
    received = 0
    while True:
        buffer = buffers.buffer()
        try:
            count = readinto(buffer)
        except BaseException:
            buffers.give_back(buffer)
            raise
        if not count:
            buffers.give_back(buffer)
            break
        received += count
        yield buffer[:count]
    if expected is not None and received < expected:
        raise requests.ConnectionError(
            f"the connection closed after {received} of {expected} bytes of the body"
        )
    response.raw.release_conn()  # the whole body is read: the connection can serve again


def _raw_body(response: requests.Response) -> http.client.HTTPResponse | None:
    """http.client's response under urllib3's, when its bytes are the content as sent."""
    raw = getattr(response.raw, "_fp", None)
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if isinstance(raw, http.client.HTTPResponse) and encoding == "identity":
        return raw
    return None


def _reader(response: requests.Response) -> tuple[ReadInto, int | None]:
    """A ``readinto`` for the body that raises requests' exceptions for network faults,
    and the length to expect when it reads the raw body (urllib3 checks it otherwise)."""
    raw = _raw_body(response)
    if raw is None:  # content-encoded: let requests decode it
        return Decoded(response.iter_content(CHUNK)).readinto, None
    length = response.headers.get("Content-Length", "")

    def readinto(buffer: memoryview) -> int:
        try:
            return raw.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            raise requests.ConnectionError(exc) from exc

    return readinto, int(length) if length.isdigit() else None


class Decoded:
    """``readinto`` over an iterator of byte strings (requests' decoded chunks)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._rest = memoryview(b"")

    def readinto(self, buffer: memoryview) -> int:
        """Copy up to ``len(buffer)`` bytes into ``buffer``; 0 at the end."""
        while not self._rest:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._rest = memoryview(piece)
        count = min(len(buffer), len(self._rest))
        buffer[:count] = self._rest[:count]
        self._rest = self._rest[count:]
        return count
