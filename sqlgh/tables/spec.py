"""Declarative table specs: columns mapped to API fields by JSONPath, plus access paths.

A table is data, not code: a list of ``Column``s (name, JSONPath, SQL type) and a list of
``AccessPath``s (which key columns a GitHub endpoint needs, and a function that fetches).
``sqlgh.vtab`` turns any spec into an SQLite virtual table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from sqlgh.github.client import Client
from sqlgh.tables.memo import Memo, StatementFacts

if TYPE_CHECKING:
    from jsonpath_ng import JSONPath

# A row before it becomes a tuple: (context, object). The context carries the key columns
# the request was made with (owner, repo, release_id) that GitHub's JSON does not repeat.
Record = tuple[Mapping[str, Any], Mapping[str, Any]]
# What an access path yields: objects that share one context, typically a page of a list.
# Rows are walked a page at a time, so no per-row tuple is made or kept.
Batch = tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]
Getter = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
Validator = Callable[[str, str, Any], Any]
Loader = Callable[["Api", Mapping[str, Any], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Column:
    """One SQL column.

    ``path`` is a JSONPath into the API object (``$.uploader.login``); a column without a
    path is a key column filled from the request context. ``json`` columns hold objects
    or arrays as JSON text. ``validate`` checks a value the query gives for a key column.
    ``load`` computes a cell on demand (a download); the value is kept for the rest of the
    row, in case SQLite asks again, unless it is longer than ``keep_up_to``: SQLite has its
    own copy, and a second use in the row loads it again.
    The path is parsed when a query first reads the column, not when the spec is made:
    parsing every column at import would cost ``import sqlgh`` about 100 ms.
    """

    name: str
    path: str | None = None
    sql_type: str = "TEXT"
    hidden: bool = False
    json: bool = False
    validate: Validator | None = None
    load: Loader | None = None
    keep_up_to: int | None = None
    doc: str = ""

    @cached_property
    def plain_keys(self) -> tuple[str, ...] | None:
        """``$.a.b`` -> ("a", "b"); None for a key column or a path that needs jsonpath-ng."""
        return None if self.path is None else _plain_keys(self.path)

    @cached_property
    def get(self) -> Getter:
        """The cell's value from (context, object)."""
        return _compile(self.name, self.path, self.plain_keys, self.json)

    @property
    def declaration(self) -> str:
        """The column as it appears in CREATE TABLE."""
        return f'"{self.name}" {self.sql_type}{" HIDDEN" if self.hidden else ""}'


class Deferred:
    """A context value an access path could not give for free: found (once, perhaps with
    a request) only if the query reads its column."""

    __slots__ = ("_find", "_found", "_value")

    def __init__(self, find: Callable[[], Any]) -> None:
        self._find = find
        self._found = False
        self._value: Any = None

    def value(self) -> Any:
        """The value, found on the first call."""
        if not self._found:
            self._value = self._find()
            self._found = True
        return self._value

    def known(self) -> Any:
        """The value if it was found already, else None (no request)."""
        return self._value


@dataclass
class StatementNotes:
    """What a statement's earlier rows left for its later rows to check against.

    One per statement (``sqlgh.statement_state``), reached as ``Api.notes``: the next
    statement starts with empty ones.
    """

    # Files readfile() could not read (path -> why): an INSERT whose data is NULL names them.
    unread_files: dict[str, str] = field(default_factory=dict)
    # Files download() wrote (normalized path -> what it wrote there), so that two assets
    # landing on one path are caught.
    written_files: dict[str, Any] = field(default_factory=dict)
    # Names a dry run's UPDATE rows would give assets, by release ((owner, repo) in lower
    # case, release id) and asset id: later rows are checked against them as GitHub would
    # check the real renames.
    planned_names: dict[tuple[str, str, int], dict[int, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Api:
    """What an access path or writer may use: the client, the memo and the options, and
    the running statement's facts and notes.

    A statement's own ``Api`` (``sqlgh.statement_state``) carries its ``statement`` facts
    and ``notes``; the connection's (``Session.api``) carries empty ones that no statement
    reads or writes.
    """

    client: Client
    memo: Memo
    options: Mapping[str, Any] = field(default_factory=dict)
    # What the statement a fetch serves learned of releases: each cursor gives its own
    # statement's (``sqlgh.statements``).
    statement: StatementFacts = field(default_factory=StatementFacts)
    notes: StatementNotes = field(default_factory=StatementNotes)


# A fetch yields batches lazily; one that returns a list has finished (the statement
# cache keeps it at once, even if SQLite reads only its first row).
Fetch = Callable[[Api, Mapping[str, Any]], Iterable[Batch]]


@dataclass(frozen=True)
class AccessPath:
    """A way to fetch rows: the key columns it needs (equality or IN) and what it costs.

    ``requests`` is the cost in words, for the docs; ``cost`` and ``rows`` are the
    planner's estimates. A ``unique`` path returns at most one row per key tuple. An
    ``ahead`` path lists: when its keys come from another table's rows (a join), the keys
    of the next rows are fetched before SQLite asks for them (``sqlgh.fetches``). A path
    ``within`` another (by name) finds its rows in the wider path's rows, which a statement
    then fetches once for all the keys that share them.
    """

    name: str
    keys: tuple[str, ...]
    fetch: Fetch
    requests: str
    cost: float
    rows: float
    unique: bool = False
    ahead: bool = False
    within: str | None = None


@dataclass(frozen=True)
class Table:
    """A virtual table: its columns, its access paths and what it needs in WHERE."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    paths: tuple[AccessPath, ...]
    needs: str
    rowid: str | None = "id"
    writer: Any = None
    row_noun: str = "row"  # what a row is, in write summaries ("deleted 3 assets")

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        for path in self.paths:
            unknown = set(path.keys) - set(names)
            if unknown:
                raise ValueError(f"{self.name}.{path.name}: unknown key columns {unknown}")

    @property
    def schema(self) -> str:
        """The CREATE TABLE statement SQLite is given."""
        body = ", ".join(c.declaration for c in self.columns)
        return f"CREATE TABLE {self.name}({body})"

    def column_index(self, name: str) -> int:
        """Position of a column by name."""
        for i, column in enumerate(self.columns):
            if column.name == name:
                return i
        raise KeyError(name)

    def path_named(self, name: str) -> AccessPath:
        """An access path by name."""
        for path in self.paths:
            if path.name == name:
                return path
        raise KeyError(name)

    def missing_keys_message(self) -> str:
        """What the user sees when a query gives no usable access path."""
        return f"{self.name} needs {self.needs} in WHERE or a join"


def _compile(
    name: str, path: str | None, keys: tuple[str, ...] | None, as_json: bool
) -> Getter:
    if path is None:

        def from_context(ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
            return ctx.get(name)

        return from_context
    if keys is not None and len(keys) == 1 and not as_json:
        (key,) = keys

        def top_level(ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
            return obj.get(key)

        return top_level
    if keys is not None:

        def nested(ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
            value: Any = obj
            for key in keys:
                if not isinstance(value, dict):
                    return None
                value = value.get(key)
            return to_sql(value) if as_json else value

        return nested
    expression = parsed(path)

    def general(ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
        found = expression.find(obj)
        value = found[0].value if found else None
        return to_sql(value) if as_json else value

    return general


@cache
def parsed(path: str) -> JSONPath:
    """``path`` parsed by jsonpath-ng, once per distinct path (each parse builds a parser)."""
    from jsonpath_ng.ext import parse  # here, not at the top: its import costs ~10 ms

    return parse(path)


def _plain_keys(path: str) -> tuple[str, ...] | None:
    """``$.a.b`` -> ("a", "b"); None when the path needs jsonpath-ng at run time."""
    from jsonpath_ng import Child, Fields, Root

    node = parsed(path)
    keys: list[str] = []
    while isinstance(node, Child):
        right = node.right
        if not isinstance(right, Fields) or len(right.fields) != 1 or right.fields[0] == "*":
            return None
        keys.append(right.fields[0])
        node = node.left
    if not isinstance(node, Root):
        return None
    return tuple(reversed(keys))


# One encoder for every cell: json.dumps with options builds a new encoder per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
_SCALARS = (str, int, float, bool, type(None))
_NUMBERS = (int, float)  # bool is an int
# A flat object's JSON text by its first value: (the object, its text, the keys whose
# values are numbers or booleans, with their types).
_FLAT_TEXT: dict[Any, tuple[dict[str, Any], str, tuple[tuple[str, type], ...]]] = {}
_FLAT_TEXT_LIMIT = 1024
_EMPTY = object()


def to_sql(value: Any) -> Any:
    """A JSON value as SQLite stores it: objects and arrays become JSON text."""
    if isinstance(value, dict):
        return object_text(value)
    if isinstance(value, list):
        return _COMPACT_JSON.encode(value)
    return value


def object_text(value: dict[str, Any]) -> str:
    """JSON text of an object; flat ones (every asset's ``uploader``) are encoded once.

    The memo is found by the object's first value (a login, say) and used only if the
    stored object is equal to this one, with the same type wherever a value is a number
    or boolean (Python has True == 1 and 1 == 1.0; JSON does not). Equal objects whose
    keys come in another order share one text: the same JSON object.
    """
    first = next(iter(value.values()), _EMPTY)
    if first is _EMPTY:
        return "{}"
    try:
        entry = _FLAT_TEXT.get(first)
    except TypeError:  # an object or array first: not flat
        return _COMPACT_JSON.encode(value)
    if entry is not None and entry[0] == value:
        for key, kind in entry[2]:
            if type(value[key]) is not kind:
                break
        else:
            return entry[1]
    text = _COMPACT_JSON.encode(value)
    if all(type(v) in _SCALARS for v in value.values()):
        if len(_FLAT_TEXT) >= _FLAT_TEXT_LIMIT:
            _FLAT_TEXT.clear()
        typed = tuple((k, type(v)) for k, v in value.items() if isinstance(v, _NUMBERS))
        _FLAT_TEXT[first] = (dict(value), text, typed)
    return text
