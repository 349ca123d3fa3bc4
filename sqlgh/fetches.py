"""How one statement's fetches are planned, started, shared and released.

In one paragraph: every top-level statement has one ``StatementFetches``, shared by its
cursors. A cursor's ``Filter`` asks it for the batches of its key tuples (``scan``), and
each key is served from the statement's replay cache, else from a fetch started ahead,
else by a fetch run there and then. Fetches are started ahead, on the client's read
threads and at most ``max_concurrency`` at a time (none when it is 1), for the keys SQLite
will most likely ask next: the rest of an ``IN`` list, and, for a join or a correlated
subquery, the keys in the next rows of the cursor those keys come from. A fetch started
ahead stops at its first batch until its key is asked for; one whose key is never asked
for is cancelled if it has not started, and if it has, it narrows the window for the rest
of the statement, so guesses waste at most ``max_concurrency`` fetches. When the statement
ends, what has not started is cancelled and everything is dropped.

Planned: the cursor the keys come from (the source) is found by matching the key values
SQLite gave to the columns of each open cursor's current row, and checked again at every
``Filter``; the keys are read off the rows the source already holds (the rest of its page)
that pass the equalities SQLite tests on them (``r.archived = 0``: ``vtab.plan_index``
hands their values to the source's ``Filter`` too). Keys are guessed only for listing
paths (``AccessPath.ahead``): never for a unique lookup by id, nor for an UPDATE's target
(the cursor SQLite asks for every column). Started: ahead, a fetch runs sequentially (one
request, or two for a release whose long embedded asset array is checked); the cursor
reads the rest, with the usual parallel pages, once SQLite asks. Shared: all cursors of
the statement take fetches from the same window and replay cache, and what the statement
learned of releases and repositories (``StatementFacts``) answers lookups by id, tag and
name; in a statement that writes nothing, so do the whole lists earlier statements read in
the last 60 seconds, if the connection wrote nothing since
(``sqlgh.tables.recent_listings``). Released: a cursor holds one batch at a time; the
replay cache keeps finished fetches up to ``REPLAY_ROWS`` rows (a release counts with its
embedded assets), least recently used out first, and a larger one is fetched again when
asked again; the facts refer to their pages weakly, so they last while a cursor, a fetch
or the replay cache still holds the page.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any, Protocol

from sqlgh.errors import InputError, NotFoundError
from sqlgh.tables.memo import StatementFacts
from sqlgh.tables.recent_listings import held_rows
from sqlgh.tables.remote import not_visible
from sqlgh.tables.spec import AccessPath, Api, Batch, Fetch, Getter, Table

# The most rows the replay cache holds (a release counts with its embedded assets): about
# 5 MB of decoded assets. A finished fetch of more rows is not kept: asked again, it is
# fetched again (answered 304 by GitHub when the cache is on, which costs no rate limit).
REPLAY_ROWS = 1_000
# How many of a source's next rows are read for keys to guess, at most.
LOOKAHEAD_ROWS = 32

FetchKey = tuple[Any, ...]
Started = Future[tuple[Batch | None, Iterator[Batch]]]
Rows = tuple[Mapping[str, Any], Mapping[str, Any], Sequence[Mapping[str, Any]]]


class Reader(Protocol):
    """A cursor as the scheduler sees it: its table, its cell getters, and its rows."""

    table: Table
    getters: list[Getter]

    def rows_ahead(self, count: int) -> Rows | None:
        """The current row's context and object, and up to ``count`` rows after it in the
        same batch; None when the cursor is on no row it read."""


@dataclass
class _Link:
    """Where a reader's keys come from: for each key column, the source's columns that
    held its value at every ``Filter`` so far; the other key columns held constants."""

    source: weakref.ref[Reader]
    columns: dict[str, tuple[int, ...]]
    constants: dict[str, Any]
    guessed: deque[FetchKey] = field(default_factory=deque)  # started, in row order
    last: FetchKey = ()  # the key of the reader's last Filter


class _Shared:
    """One fetch read by any number of cursors: the batches pulled so far are kept for a
    reader that is behind, up to ``REPLAY_ROWS`` rows. Past that, a fetch with one reader
    keeps nothing (``keeping`` turns False) and takes no new readers; one that already has
    several keeps all it pulls while they read (a self-join of a long list)."""

    def __init__(self, batches: Iterator[Batch]) -> None:
        self._source = batches
        self.got: list[Batch] = []
        self.rows = 0
        self.keeping = True
        self.done = False
        self._readers = 0
        self._error: BaseException | None = None

    def read(self) -> Iterator[Batch]:
        """The fetch's batches from the first, pulling from GitHub only past the kept ones."""
        self._readers += 1
        index = 0
        while True:
            if index < len(self.got):
                batch = self.got[index]
            elif self._error is not None:
                raise self._error  # the reader ahead met it: this one must not see an end
            elif self.done:
                return
            else:
                try:
                    batch = next(self._source)
                except StopIteration:
                    self.done = True
                    return
                except BaseException as exc:
                    self._error = exc
                    raise
                self.rows += _rows(batch)
                if self.keeping and self.rows > REPLAY_ROWS and self._readers == 1:
                    self.keeping = False
                    self.got = []
                if self.keeping:
                    self.got.append(batch)
            index += 1
            yield batch


class StatementFetches:
    """The fetches of one statement, and what it learned (``facts``); see the module."""

    def __init__(self, api: Api, reuse: bool = False) -> None:
        # reuse: lookups may be served from the connection's recent listings (a statement
        # that writes nothing, with the reuse_listings option on).
        self.facts = StatementFacts(api.memo.recent if reuse else None)
        self.api = replace(api, statement=self.facts)
        # As many fetches ahead as requests may be in flight: the key SQLite asks for next
        # was, most often, started ahead and has finished (one fewer left a slot idle: at
        # 200 repositories and 50 ms, queries/inventory.sql 2.56 -> 2.23 s). 1: sequential.
        concurrency = api.client.max_concurrency
        self._width = concurrency if concurrency > 1 else 0
        self._lock = threading.Lock()  # a scan may be closed from another thread
        self._ahead: dict[FetchKey, Started] = {}
        self._wasted = 0  # fetches started ahead that SQLite never asked for
        self._replay: OrderedDict[FetchKey, tuple[list[Batch], int]] = OrderedDict()
        self._replay_rows = 0
        # Fetches being read, by key, while they hold up to REPLAY_ROWS rows: a second
        # cursor asking for the same key (a self-join) reads the same pages.
        self._sharing: OrderedDict[FetchKey, _Shared] = OrderedDict()
        self._missing: dict[str, dict[str, None]] = {}  # by table: what was not found
        self._readers: list[weakref.ref[Reader]] = []  # open cursors, first opened first
        self._links: weakref.WeakKeyDictionary[Reader, _Link] = weakref.WeakKeyDictionary()

    def opened(self, reader: Reader) -> None:
        """A cursor of the statement was opened (its rows may give other cursors keys)."""
        self._readers = [r for r in self._readers if r() is not None]
        self._readers.append(weakref.ref(reader))

    def closed(self, reader: Reader) -> None:
        """A cursor was closed: what was guessed for it is dropped."""
        link = self._links.pop(reader, None)
        if link is not None:
            self._miss(link.guessed)
        self._readers = [r for r in self._readers if r() not in (None, reader)]

    def current_row(
        self, table: str, wanted: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
    ) -> Mapping[str, Any] | None:
        """The object of the row an open cursor of ``table`` is on, when ``wanted(context,
        object)`` accepts it: what a function called on that row (``download()``) would
        otherwise GET again."""
        for ref in self._readers:
            reader = ref()
            if reader is None or reader.table.name != table:
                continue
            rows = reader.rows_ahead(0)
            if rows is not None and wanted(rows[0], rows[1]):
                return rows[1]
        return None

    def scan(
        self,
        reader: Reader,
        path: AccessPath,
        keys: list[dict[str, Any]],
        guess: bool,
        tolerant: bool = False,
    ) -> Iterator[Batch]:
        """The batches of each key tuple in turn, the next ones of the list fetched ahead.

        With ``guess`` (and one key tuple), the keys of the reader's next ``Filter`` calls
        are guessed from the rows its keys come from, and started ahead too. With
        ``tolerant`` (keys from an IN list, a join, a subquery), a key GitHub does not have
        gives no rows, and the statement warns of it when it ends (``close``).
        """
        if path.within is not None:
            return self._narrowed(reader, path, keys, tolerant)
        fetch_keys = [_fetch_key(reader.table, path, key) for key in keys]
        if len(keys) == 1 and fetch_keys[0] in self._replay and not guess:
            self._replay.move_to_end(fetch_keys[0])  # an inner lookup asked again
            return iter(self._replay[fetch_keys[0]][0])
        first = self._take(fetch_keys[0]) if keys else None
        if guess and len(keys) == 1 and self._width > 0:
            self._guess(reader, path, keys[0], fetch_keys[0])
        return self._scan(path, keys, fetch_keys, first, reader.table.name if tolerant else None)

    def _narrowed(
        self, reader: Reader, path: AccessPath, keys: list[dict[str, Any]], tolerant: bool
    ) -> Iterator[Batch]:
        """Each key's row, found in the statement's one fetch of the wider path (``within``):
        a join on a release's assets by id lists the release once, not once per row."""
        table = reader.table
        wide = table.path_named(path.within or "")
        extra = [(name, table.columns[table.column_index(name)].get) for name in path.keys]
        extra = [(name, get) for name, get in extra if name not in wide.keys]
        for key in keys:
            wide_key = {name: key[name] for name in wide.keys}
            for ctx, objects in self.scan(reader, wide, [wide_key], False, tolerant):
                kept = [o for o in objects if all(get(ctx, o) == key[n] for n, get in extra)]
                if kept:
                    yield ctx, kept
                    break  # the path is unique within the wider one: read no further

    def close(self) -> None:
        """The statement ended: cancel what was started ahead, drop what was kept, and
        warn, one line per table, of the keys that gave no rows because GitHub has no such
        thing (or does not show it to this token)."""
        for table, missing in self._missing.items():
            print(
                f"sqlgh: warning: {table}: no rows for {', '.join(missing)}: not found, "
                f"{not_visible(self.api)}",
                file=sys.stderr,
            )
        self._missing.clear()
        with self._lock:
            pending = list(self._ahead.values())
            self._ahead.clear()
            self._wasted = 0
        for future in pending:
            future.cancel()
        self._replay.clear()
        self._replay_rows = 0
        self._sharing.clear()
        self._links.clear()

    # serving keys ------------------------------------------------------------------------
    def _scan(
        self,
        path: AccessPath,
        keys: list[dict[str, Any]],
        fetch_keys: list[FetchKey],
        first: Started | None,
        tolerant_of: str | None,
    ) -> Iterator[Batch]:
        started: dict[FetchKey, Started] = {}  # not yet taken (a taken one holds its rows)
        following = 1
        try:
            for index, (key, fetch_key) in enumerate(zip(keys, fetch_keys, strict=True)):
                following = max(following, index + 1)
                while following < len(keys) and self._room() > 0:
                    future = self._start(path, keys[following], fetch_keys[following])
                    if future is not None:
                        started[fetch_keys[following]] = future
                    following += 1
                future = first if index == 0 else self._take(fetch_key)
                first = None  # a future holds its rows: keep none past their key
                started.pop(fetch_key, None)
                try:
                    yield from self._batches(path, key, fetch_key, future)
                except NotFoundError as exc:
                    if tolerant_of is None:
                        raise
                    self._missing.setdefault(tolerant_of, {})[exc.missing] = None
        finally:
            for fetch_key, future in started.items():  # an IN list cut short (LIMIT)
                self._drop(fetch_key, future)

    def _batches(
        self, path: AccessPath, key: dict[str, Any], fetch_key: FetchKey, future: Started | None
    ) -> Iterator[Batch]:
        hit = self._replay.get(fetch_key)
        if hit is not None:
            if future is not None:
                self._discard(future)
            self._replay.move_to_end(fetch_key)
            yield from hit[0]
            return
        shared = self._sharing.get(fetch_key)
        if shared is not None and shared.keeping:
            # Another cursor of the statement is reading this key (a self-join): share it.
            if future is not None:
                self._discard(future)
            self._sharing.move_to_end(fetch_key)
        else:
            batches: Iterable[Batch]
            if future is not None and not future.cancel():
                head, rest = future.result()
                batches = rest if head is None else chain((head,), rest)
            else:
                batches = path.fetch(self.api, key)
            if isinstance(batches, list):  # finished already: kept before SQLite stops reading
                self._keep(fetch_key, batches)
                yield from batches
                return
            shared = self._share(fetch_key, _Shared(iter(batches)))
        fetched = shared.read()
        for batch in fetched:
            if path.unique and batch[1]:
                # SQLite may read no further than a unique key's row (a scalar subquery per
                # outer row): finish the fetch (no request more when it was one GET) so
                # that the next Filter of this key is answered from the replay cache.
                rest = list(fetched)
                self._finished(fetch_key, shared)
                yield batch
                yield from rest
                return
            yield batch
        self._finished(fetch_key, shared)

    def _share(self, fetch_key: FetchKey, shared: _Shared) -> _Shared:
        """Offer a fetch being read to the statement's other cursors; the oldest offers go
        when those being read hold more than ``REPLAY_ROWS`` rows together."""
        self._sharing[fetch_key] = shared
        while sum(s.rows for s in self._sharing.values() if s.keeping) > REPLAY_ROWS:
            self._sharing.popitem(last=False)
        return shared

    def _finished(self, fetch_key: FetchKey, shared: _Shared) -> None:
        """A fetch was read to its end: replay it from now on, if it is small enough."""
        if self._sharing.get(fetch_key) is shared:
            del self._sharing[fetch_key]
        if shared.keeping and shared.done:
            self._keep(fetch_key, shared.got)

    def _keep(self, fetch_key: FetchKey, batches: list[Batch]) -> None:
        rows = sum(_rows(batch) for batch in batches)
        if rows > REPLAY_ROWS:
            return
        old = self._replay.pop(fetch_key, None)
        self._replay_rows += rows - (old[1] if old is not None else 0)
        self._replay[fetch_key] = (batches, rows)
        while self._replay_rows > REPLAY_ROWS:
            _, (_, dropped) = self._replay.popitem(last=False)
            self._replay_rows -= dropped

    # fetching ahead ----------------------------------------------------------------------
    def _room(self) -> int:
        return self._width - self._wasted - len(self._ahead)

    def _start(self, path: AccessPath, key: dict[str, Any], fetch_key: FetchKey) -> Started | None:
        """Start a fetch of ``key`` on the read threads, up to its first batch; None when
        it is started or kept already, or the window is full."""
        with self._lock:
            if fetch_key in self._ahead or fetch_key in self._replay or self._room() <= 0:
                return None
            future = self.api.client.submit(_first_batch, path.fetch, self.api, key)
            self._ahead[fetch_key] = future
            return future

    def _take(self, fetch_key: FetchKey) -> Started | None:
        with self._lock:
            return self._ahead.pop(fetch_key, None)

    def _drop(self, fetch_key: FetchKey, future: Started | None = None) -> None:
        """A fetch started ahead will not be asked for: cancel it, or count it wasted."""
        with self._lock:
            held = self._ahead.get(fetch_key)
            if held is None or (future is not None and held is not future):
                return
            del self._ahead[fetch_key]
        self._discard(held)

    def _discard(self, future: Started) -> None:
        if not future.cancel():
            with self._lock:
                self._wasted += 1

    def _miss(self, guessed: deque[FetchKey]) -> None:
        while guessed:
            self._drop(guessed.popleft())

    # guessing ----------------------------------------------------------------------------
    def _guess(
        self, reader: Reader, path: AccessPath, key: dict[str, Any], fetch_key: FetchKey
    ) -> None:
        link = self._links.get(reader)
        if link is not None and link.last == fetch_key:
            return  # the same key again: the source is still on its rows
        if link is not None and _follows(link, key):
            if fetch_key in link.guessed:  # the guesses before it were passed by
                while (guessed := link.guessed.popleft()) != fetch_key:
                    self._drop(guessed)
            else:
                self._miss(link.guessed)
        else:
            if link is not None:
                self._miss(link.guessed)
            link = self._discover(reader, key)
            if link is None:
                self._links.pop(reader, None)
                return
            self._links[reader] = link
        link.last = fetch_key
        self._guess_from(link, reader, path, fetch_key)

    def _discover(self, reader: Reader, key: dict[str, Any]) -> _Link | None:
        """The open cursor whose current row holds most of the key's values."""
        best: _Link | None = None
        for ref in reversed(self._readers):  # the latest opened first: the nearest loop
            source = ref()
            rows = source.rows_ahead(0) if source is not None and source is not reader else None
            if source is None or rows is None:
                continue
            ctx, obj, _ = rows
            values = [
                (index, source.getters[index](ctx, obj))
                for index, column in enumerate(source.table.columns)
                if column.load is None and not column.json
            ]
            columns: dict[str, tuple[int, ...]] = {}
            for name, wanted in key.items():
                found = tuple(index for index, value in values if _same(value, wanted))
                if found:
                    columns[name] = found
            if columns and (best is None or len(columns) > len(best.columns)):
                constants = {n: v for n, v in key.items() if n not in columns}
                best = _Link(weakref.ref(source), columns, constants)
        return best

    def _guess_from(
        self, link: _Link, reader: Reader, path: AccessPath, current: FetchKey
    ) -> None:
        source = link.source()
        rows = source.rows_ahead(LOOKAHEAD_ROWS) if source is not None else None
        if source is None or rows is None:
            return
        ctx, _, following = rows
        seen = {current, *link.guessed}
        for obj in following:
            if self._room() <= 0:
                return
            values = {n: source.getters[c[0]](ctx, obj) for n, c in link.columns.items()}
            values = {name: link.constants.get(name, values.get(name)) for name in path.keys}
            if _fetch_key(reader.table, path, values) in seen:
                continue  # seen already (a check gives a valid value back unchanged)
            key = _checked_key(reader.table, path, values)
            if key is None:
                continue
            fetch_key = _fetch_key(reader.table, path, key)
            seen.add(fetch_key)
            if self._start(path, key, fetch_key) is not None:
                link.guessed.append(fetch_key)


def _follows(link: _Link, key: Mapping[str, Any]) -> bool:
    """Whether the source's current row still gives ``key`` (narrowing the columns)."""
    source = link.source()
    rows = source.rows_ahead(0) if source is not None else None
    if source is None or rows is None:
        return False
    ctx, obj, _ = rows
    for name, columns in link.columns.items():
        kept = tuple(c for c in columns if _same(source.getters[c](ctx, obj), key[name]))
        if not kept:
            return False
        link.columns[name] = kept
    return all(_same(key[name], value) for name, value in link.constants.items())


def _same(value: Any, wanted: Any) -> bool:
    return type(value) is type(wanted) and value == wanted


def _checked_key(
    table: Table, path: AccessPath, values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The key tuple, checked as ``Filter`` checks one; None when SQLite could not ask it."""
    key: dict[str, Any] = {}
    for name in path.keys:
        value = values[name]
        validate = table.columns[table.column_index(name)].validate
        if value is None:
            return None
        if validate is not None:
            try:
                value = validate(table.name, name, value)
            except InputError:
                return None
        key[name] = value
    return key


def _fetch_key(table: Table, path: AccessPath, key: Mapping[str, Any]) -> FetchKey:
    return (table.name, path.name, *key.values())


def _rows(batch: Batch) -> int:
    """Rows of a batch, a release counted with its embedded assets (what it holds)."""
    return held_rows(batch[1])


def _first_batch(
    fetch: Fetch, api: Api, key: dict[str, Any]
) -> tuple[Batch | None, Iterator[Batch]]:
    """Run a fetch up to its first batch (on a read thread, where it runs sequentially)."""
    batches = iter(fetch(api, key))
    return next(batches, None), batches
