"""A hook for progress bars on long work: multi-page scans, uploads and downloads.

The client calls ``client.progress(total=..., desc=..., unit=...)`` and gets back an
object with ``update(n)`` and ``close()``. The default draws nothing; the ``sqlgh``
command plugs in tqdm when standard error is a terminal (``sqlgh.progress``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, urlsplit


class Progress(Protocol):
    """What the client needs of a progress bar."""

    def update(self, n: int = 1) -> Any:
        """Advance by ``n`` units."""

    def close(self) -> Any:
        """Finish (and clear) the bar."""


ProgressFactory = Callable[..., Progress]


class NoProgress:
    """A progress bar that draws nothing."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def no_progress(*, total: int | None = None, desc: str = "", unit: str = "") -> Progress:
    """The default factory: no progress bar."""
    return NoProgress()


def last_page(links: dict[str, dict[str, str]]) -> int | None:
    """The page count a ``Link: <...page=N>; rel="last"`` header announces, if any."""
    url = links.get("last", {}).get("url")
    if not url:
        return None
    pages = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(pages[-1]) if pages else None
    except ValueError:
        return None


class ReadingProgress:
    """A request body that advances a progress bar as the HTTP library reads it.

    ``__len__`` lets requests send a ``Content-Length`` rather than chunked encoding.
    """

    def __init__(self, body: BinaryIO, size: int, bar: Progress) -> None:
        self._body = body
        self._size = size
        self._bar = bar
        self._position = 0
        self._furthest = 0

    def read(self, n: int = -1) -> bytes:
        """Read like the wrapped file; the bar shows the furthest byte read so far.

        A body read again after a rewind (a retry, or a library that reads it once to
        hash it) does not count twice.
        """
        chunk = self._body.read(n)
        self._position += len(chunk)
        if self._position > self._furthest:
            self._bar.update(self._position - self._furthest)
            self._furthest = self._position
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move like the wrapped file (a retried upload rewinds its body)."""
        self._position = self._body.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        """The wrapped file's position."""
        return self._body.tell()

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(1 << 16):
            yield chunk
