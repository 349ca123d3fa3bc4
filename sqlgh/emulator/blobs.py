"""Asset bytes: held in memory, spooled to a file, or generated on demand.

Generated content lets tests and the demo have assets of hundreds of megabytes without
holding them: every generated asset of size N is the first N bytes of one endless,
deterministic stream, and its SHA-256 is resumed from a checkpoint of that stream.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import threading
from collections.abc import Iterator
from typing import Protocol

CHUNK = 1 << 16


class Blob(Protocol):
    """The bytes behind one asset."""

    size: int

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes in [start, end) in pieces of at most CHUNK bytes."""
        ...

    def sha256(self) -> str:
        """Hex SHA-256 of the whole content."""
        ...

    def discard(self) -> None:
        """Release what the blob holds (a spool file); reading afterwards is an error."""
        ...


def read_all(blob: Blob) -> bytes:
    """The whole content of ``blob``."""
    return b"".join(blob.chunks())


class MemoryBlob:
    """Small content kept as bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.size = len(self.data)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size if end is None else end
        for pos in range(start, end, CHUNK):
            yield self.data[pos : min(pos + CHUNK, end)]

    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def discard(self) -> None:
        self.data = b""


class FileBlob:
    """Content spooled to a file (uploads); the digest was taken while it was written."""

    def __init__(self, path: str, size: int, sha256_hex: str) -> None:
        self.path = path
        self.size = size
        self._sha256 = sha256_hex

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size if end is None else end
        with open(self.path, "rb") as f:
            f.seek(start)
            pos = start
            while pos < end:
                piece = f.read(min(CHUNK, end - pos))
                if not piece:
                    return
                pos += len(piece)
                yield piece

    def sha256(self) -> str:
        return self._sha256

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class _Stream:
    """The endless generated stream: one pseudo-random block repeated."""

    def __init__(self) -> None:
        self.block = random.Random(20221128).randbytes(CHUNK)
        # _checkpoints[k] is the SHA-256 state after k blocks.
        self._checkpoints = [hashlib.sha256()]
        self._lock = threading.Lock()

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        pos = start
        while pos < end:
            offset = pos % CHUNK
            piece = self.block[offset : offset + min(CHUNK - offset, end - pos)]
            pos += len(piece)
            yield piece

    def sha256(self, size: int) -> str:
        blocks, rest = divmod(size, CHUNK)
        with self._lock:
            while len(self._checkpoints) <= blocks:
                state = self._checkpoints[-1].copy()
                state.update(self.block)
                self._checkpoints.append(state)
            state = self._checkpoints[blocks].copy()
        state.update(self.block[:rest])
        return state.hexdigest()


_STREAM = _Stream()


class GeneratedBlob:
    """``size`` deterministic bytes, produced when read."""

    def __init__(self, size: int) -> None:
        self.size = size

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return _STREAM.chunks(start, self.size if end is None else end)

    def sha256(self) -> str:
        return _STREAM.sha256(self.size)

    def discard(self) -> None:
        pass
