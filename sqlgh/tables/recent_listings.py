"""Whole listings a connection read lately, for lookups in its later statements.

A shell user's next query, or a script's next line, often asks for one release (by id or
tag) or one repository (by name) that the statement before listed. GitHub says how long
its answers may be used without asking again: ``Cache-Control: private, max-age=60,
s-maxage=60`` with a token (a release list as api.github.com answered it, recorded in
gist.github.com/pengwynn/6815412), ``public, max-age=60, s-maxage=60`` without one
(mddanishyusuf/dailyhack#71); the emulator sends the same (``sqlgh/emulator/headers.py``).
A private cache may serve such an answer for 60 seconds without revalidating it (RFC 9111,
4.2). So a listing read to its last page answers those lookups with no request for at
most ``MAX_AGE`` seconds, counted from the moment its first page was asked for, and only
while this connection has sent no write since then (``Client.write_epoch``): any write
drops every listing, whatever it changed. Only what a listing holds is served: a release
or repository it does not hold is asked of GitHub (it may be newer than the listing).

At most ``KEPT_ROWS`` rows are kept (a release counted with its embedded assets), the
oldest listing going first; a longer listing is not kept. ``connect(reuse_listings=False)``
turns this off: every lookup asks GitHub (revalidated: 304s when nothing changed).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# GitHub's max-age (see above), in seconds.
MAX_AGE = 60.0
# The most rows the kept listings hold together: about 5 MB of decoded releases and assets,
# as a statement's replay cache (sqlgh.fetches.REPLAY_ROWS).
KEPT_ROWS = 1_000

ListingName = tuple[str, ...]  # ("releases", owner, repo) or ("repositories", owner)
Stamp = tuple[float, int]  # when a listing started: the clock and the client's write epoch


def reuse_listings(options: Mapping[str, Any]) -> bool:
    """The ``reuse_listings`` option (default true); ValueError for a value other than
    true or false (1 or 0)."""
    value = options.get("reuse_listings", True)
    if value not in (True, False) or type(value) not in (bool, int):
        raise ValueError(
            f"option reuse_listings must be true or false, not {value!r} (false: every "
            "lookup by id, tag or name asks GitHub)"
        )
    return bool(value)


def held_rows(objects: Iterable[Mapping[str, Any]]) -> int:
    """Rows the objects hold: one each, and a release's embedded assets."""
    rows = 0
    for obj in objects:
        rows += 1
        embedded = obj.get("assets")
        if type(embedded) is list:
            rows += len(embedded)
    return rows


@dataclass
class _Kept:
    expires: float
    epoch: int
    rows: int
    index: dict[Any, list[dict[str, Any]]]  # lookup key -> the objects it finds


class RecentListings:
    """The whole listings a connection read in the last ``MAX_AGE`` seconds, while it sent
    no write; see the module."""

    def __init__(
        self, write_epoch: Callable[[], int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._write_epoch = write_epoch
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: OrderedDict[ListingName, _Kept] = OrderedDict()
        self._rows = 0

    def stamp(self) -> Stamp:
        """Taken before a listing's first request: what its freshness is judged by."""
        return self._clock(), self._write_epoch()

    def keep(
        self, name: ListingName, stamp: Stamp, rows: int, index: dict[Any, list[dict[str, Any]]]
    ) -> None:
        """Keep a whole listing's lookup ``index`` (its ``rows`` counted as ``held_rows``),
        unless it is too long or a write was sent since it started."""
        started, epoch = stamp
        if rows > KEPT_ROWS or epoch != self._write_epoch():
            return
        with self._lock:
            old = self._kept.pop(name, None)
            self._rows += rows - (old.rows if old is not None else 0)
            self._kept[name] = _Kept(started + MAX_AGE, epoch, rows, index)
            while self._rows > KEPT_ROWS:
                _, dropped = self._kept.popitem(last=False)
                self._rows -= dropped.rows

    def find(self, name: ListingName, key: Any) -> list[dict[str, Any]] | None:
        """The objects the listing ``name`` holds under ``key``, while it is fresh; None
        when no fresh listing holds any."""
        with self._lock:
            kept = self._kept.get(name)
            if kept is None:
                return None
            if kept.epoch != self._write_epoch():
                self._kept.clear()  # a write since: every listing goes
                self._rows = 0
                return None
            if self._clock() >= kept.expires:
                del self._kept[name]
                self._rows -= kept.rows
                return None
            return kept.index.get(key)
