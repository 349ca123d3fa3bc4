"""One generic APSW virtual-table module, driven by a table spec.

Planning: the usable equality and IN constraints on key columns pick the access path
(the one that consumes the most keys, then the cheapest). A plan without the keys a
table needs is given a prohibitive cost rather than refused, so OR branches and joins
that do supply the keys still get planned; it raises only if SQLite ever runs it.
Rows are produced lazily, so ``LIMIT`` stops paginating. Each cursor fetches through its
statement's ``sqlgh.fetches.StatementFetches``, which also reads ahead across joins.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import apsw

from sqlgh.errors import InputError, MissingKeysError, RemoteError, SqlghError
from sqlgh.fetches import Rows
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.lookahead import rows_ahead
from sqlgh.rows import LATER, RowBuilder, checked, parse_used, row_builder
from sqlgh.session import Session
from sqlgh.tables import keys as key_checks
from sqlgh.tables.spec import AccessPath, Batch, Deferred, Record, Table, Validator
from sqlgh.write_report import Write

NO_PLAN = -1
NO_PLAN_COST = 1e300
WHOLE_ROW = -1  # colUsed marker: an UPDATE needs every column
UNREAD: Mapping[str, Any] = MappingProxyType({})  # a row an UPDATE need not GET
ROWIDS = range(-(2**63), 2**63)  # what SQLite holds as a rowid: a 64-bit signed integer
# Cursor.Eof as C callables (APSW looks Eof up on every call): no Python frame per row.
_NOT_AT_END = False.__bool__
_AT_END = True.__bool__
_END_OF_BATCH: Any = object()
_NO_OBJECTS: Iterator[Any] = iter(())  # stays exhausted
CASELESS = (key_checks.owner_name, key_checks.repo_name)  # checks of case-insensitive keys


def plan_index(table: Table, ii: apsw.IndexInfo) -> None:
    """Fill in ``ii`` for the best access path the usable constraints allow."""
    available: dict[str, int] = {}
    for i in range(ii.nConstraint):
        is_equality = ii.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_EQ
        if is_equality and ii.get_aConstraint_usable(i):
            column = ii.get_aConstraint_iColumn(i)
            if 0 <= column < len(table.columns):
                available.setdefault(table.columns[column].name, i)
    candidates = [
        (index, path)
        for index, path in enumerate(table.paths)
        if all(key in available for key in path.keys)
    ]
    used = sorted(ii.colUsed)
    whole_row = any(c >= len(table.columns) for c in used)
    col_used = str(WHOLE_ROW) if whole_row else ",".join(str(c) for c in used)
    constrained = {
        table.columns[c].name
        for i in range(ii.nConstraint)
        if 0 <= (c := ii.get_aConstraint_iColumn(i)) < len(table.columns)
    }
    if not candidates:
        ii.idxNum = NO_PLAN
        ii.estimatedCost = NO_PLAN_COST
        ii.estimatedRows = 2**31
        return
    index, path = min(candidates, key=lambda c: (-len(c[1].keys), c[1].cost))
    has_in = False
    alone = True  # every key typed as one value: `repo = 'x'`, not an IN list or a join
    for position, key in enumerate(path.keys, start=1):
        constraint = available[key]
        ii.set_aConstraintUsage_argvIndex(constraint, position)
        ii.set_aConstraintUsage_omit(constraint, True)
        if ii.get_aConstraintUsage_in(constraint):
            ii.set_aConstraintUsage_in(constraint, True)
            has_in = True
        # SQLite tells the value while planning only for a literal; a join's, a
        # subquery's (or a bound parameter's) is known only when Filter runs.
        alone = alone and not has_in and ii.get_aConstraint_rhs(constraint) is not None
    # Equalities on other columns, which SQLite still tests itself: Filter gets their
    # values too, to tell which rows a join will use (sqlgh.fetches guesses keys off those).
    position, tested = len(path.keys), []
    for i in range(ii.nConstraint):
        column = ii.get_aConstraint_iColumn(i)
        if (
            ii.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_EQ
            and ii.get_aConstraint_usable(i)
            and 0 <= column < len(table.columns)
            and table.columns[column].name not in path.keys
            and table.columns[column].load is None
            and not ii.get_aConstraintUsage_in(i)
        ):
            position += 1
            ii.set_aConstraintUsage_argvIndex(i, position)
            tested.append(str(column))
    ii.idxNum = index
    # Filter learns the used columns, whether WHERE tests columns beyond the keys, the
    # columns of the equalities above, and whether the keys were typed alone.
    filtered = int(bool(constrained - set(path.keys)))
    ii.idxStr = f"{col_used};{filtered};{','.join(tested)};{int(alone)}"
    ii.estimatedCost = path.cost * 1000.0
    ii.estimatedRows = int(path.rows)
    if path.unique and not has_in:
        ii.idxFlags = apsw.SQLITE_INDEX_SCAN_UNIQUE


def remote_error(table: Table, exc: Exception) -> SqlghError:
    """Name the table in an error from GitHub or from the network."""
    if isinstance(exc, SqlghError) and str(exc).startswith(f"{table.name}"):
        return exc
    cls = type(exc) if isinstance(exc, SqlghError) else RemoteError
    return cls(f"{table.name}: {exc}")


class Module:
    """The APSW module for one table spec; connections share one Session."""

    def __init__(self, table: Table, session: Session) -> None:
        self.table = table
        self.session = session

    def Connect(
        self,
        connection: apsw.Connection,
        modulename: str,
        databasename: str,
        tablename: str,
        *args: str,
    ) -> tuple[str, VirtualTable]:
        if self.table.writer is not None:
            connection.vtab_config(apsw.SQLITE_VTAB_CONSTRAINT_SUPPORT, 1)
        return self.table.schema, VirtualTable(self.table, self.session, connection)

    Create = Connect


class VirtualTable:
    """An SQLite virtual table over one table spec; writes go to the spec's writer."""

    def __init__(self, table: Table, session: Session, connection: apsw.Connection) -> None:
        self.table = table
        self.session = session
        self.connection = connection
        self.names = [c.name for c in table.columns]

    def BestIndexObject(self, ii: apsw.IndexInfo) -> bool:
        plan_index(self.table, ii)
        return True

    def Open(self) -> Cursor:
        return Cursor(self)

    def Disconnect(self) -> None:
        pass

    Destroy = Disconnect

    def UpdateInsertRow(self, rowid: int | None, fields: tuple[Any, ...]) -> int:
        writer = self._writer()
        if rowid is not None:
            raise InputError(f"{self.table.name}: INSERT cannot set the rowid; GitHub assigns ids")
        # The mapping gives "SQLITE_REPLACE"; writers take the bare mode ("REPLACE").
        mode = apsw.mapping_conflict_resolution_modes[self.connection.vtab_on_conflict()]
        mode = mode.removeprefix("SQLITE_")
        values = dict(zip(self.names, fields, strict=True))
        statement = self.session.statement
        if self.table.name not in statement.looked_ahead:
            statement.looked_ahead.add(self.table.name)
            self._look_ahead(writer, mode)  # reads only: a dry run checks as a real run
        if self.session.dry_run:
            self._preview(writer, "preview_insert", values, mode)
            return 0  # nothing was uploaded: no id
        new_id, done = self._apply(lambda: writer.insert(statement.api, values, mode))
        self._record(done or "kept", values, new_id)
        return new_id

    def _look_ahead(self, writer: Any, mode: str) -> None:
        """At a statement's first INSERT row: let the writer check all its rows at once,
        when they can be known (``sqlgh.lookahead``), before the first is written."""
        check = getattr(writer, "check_ahead", None)
        if check is None:
            return
        session, statement = self.session, self.session.statement
        rows = rows_ahead(self.connection, statement.sql, session.given, self.table)
        if rows is not None and len(rows) > 1:
            self._apply(lambda: (None, check(statement.api, rows, mode)))

    def UpdateChangeRow(self, rowid: int, newrowid: int, fields: tuple[Any, ...]) -> None:
        writer = self._writer()
        row = self._visited(rowid)
        if newrowid != rowid:
            raise self._cannot_change(self.table.rowid or "rowid", writer.EDITABLE)
        editable = writer.EDITABLE
        # SQLite hands untouched columns over as no_change, so any other value was SET.
        # Only a key column may be SET to the value it has (owner = 'ACME' for 'acme'):
        # the row's other values may not even have been fetched (a keyed UPDATE).
        keys = {key for path in self.table.paths for key in path.keys}
        changes: dict[str, Any] = {}
        for column, value in zip(self.table.columns, fields, strict=True):
            if value is apsw.no_change:
                continue
            if column.name in editable:
                changes[column.name] = value
            elif column.name not in keys or not _same(row.get(column.name), value):
                raise self._cannot_change(column.name, editable)
        if self.session.dry_run:
            self._preview(writer, "preview_update", row, changes)
            return
        self._check_confirmed(rowid, row, "update")
        api = self.session.statement.api
        _, done = self._apply(lambda: (None, writer.update(api, row, changes)))
        if done:
            self._record(done, row, rowid)

    def _cannot_change(self, column: str, editable: tuple[str, ...]) -> InputError:
        hint = self.table.writer.CHANGE_HINT
        return InputError(
            f"{self.table.name}.{column} cannot be changed; UPDATE can change "
            f"{', '.join(editable)} {hint}"
        )

    def UpdateDeleteRow(self, rowid: int) -> None:
        writer = self._writer()
        row = self._visited(rowid)
        if self.session.dry_run:
            self._preview(writer, "preview_delete", row)
            return
        self._check_confirmed(rowid, row, "delete")
        api = self.session.statement.api
        _, done = self._apply(lambda: (None, writer.delete(api, row)))
        self._record(done, row, rowid)

    def _check_confirmed(self, rowid: int, row: Mapping[str, Any], verb: str) -> None:
        """Stop before writing a row the shell's dry-run count did not include: it appeared
        on GitHub between that count (and the user's answer) and this run; or before
        deleting a release that holds more assets now than were counted."""
        confirmed = self.session.statement.confirmed
        noun = self.table.row_noun
        if confirmed is None:
            return
        name = row.get("name") if noun == "asset" else row.get("tag_name")
        shown = f"{noun} {rowid}" + (f" ({name!r})" if isinstance(name, str) else "")
        if (noun, rowid) not in confirmed:
            counted = f"{len(confirmed)} {noun}{'' if len(confirmed) == 1 else 's'}"
            why = f"appeared after the statement was counted ({counted})"
        else:
            along = self._written(f"{verb}d", row, rowid).assets
            before = confirmed[noun, rowid]
            if along is None or before is None or along <= before:
                return
            why = f"holds {along} assets now, not the {before} counted"

        def refuse() -> tuple[None, str]:
            raise InputError(
                f"{self.table.name}: {shown} {why}, so it was not {verb}d; run the statement "
                "again to see what it would do now"
            )

        self._apply(refuse)

    def _preview(self, writer: Any, method: str, *arguments: Any) -> None:
        """A dry run's row: what it would send, recorded and shown; nothing is sent."""
        plan = getattr(writer, method, None)
        if plan is None:
            raise InputError(
                f"{self.table.name}: a dry run cannot preview writes to {self.table.name} yet "
                "(only to release_assets and releases); run the statement without --dry-run / "
                ".dryrun off"
            )
        try:
            write = plan(self.session.statement.api, *arguments)
        except (GitHubError, TransportError, SqlghError) as exc:
            raise remote_error(self.table, exc) from exc
        if self.session.writes is not None:
            self.session.writes.append(write)
        if self.session.on_preview is not None:
            self.session.on_preview(write)

    def _record(self, done: str, row: Mapping[str, Any], asset_id: int) -> None:
        """Note a row written to GitHub, for the shell's summary (its verb: done's first
        word, "uploaded", "replaced", "updated", "deleted", or "kept")."""
        if self.session.writes is not None:
            self.session.writes.append(self._written(done.split(" ", 1)[0], row, asset_id))

    def _written(self, verb: str, row: Mapping[str, Any], asset_id: int) -> Write:
        """The ``Write`` of a row, with what it takes along where the writer tells."""
        release_id, name = row.get("release_id"), row.get("name")
        write = Write(
            verb,
            str(row.get("owner")),
            str(row.get("repo")),
            release_id if isinstance(release_id, int) else None,
            asset_id,
            name if isinstance(name, str) else None,
            noun=self.table.row_noun,
        )
        # what the write took along (a release's assets), where the writer tells
        taken_along = getattr(self.table.writer, "taken_along", None)
        return taken_along(write, row) if taken_along else write

    def _writer(self) -> Any:
        if self.table.writer is None:
            raise SqlghError(
                f"{self.table.name} is read-only; INSERT, UPDATE and DELETE work on "
                "release_assets and releases"
            )
        return self.table.writer

    def _visited(self, rowid: int) -> dict[str, Any]:
        record = self.session.statement.rows_by_rowid.get((self.table.name, rowid))
        if record is None:
            raise SqlghError(f"{self.table.name}: row {rowid} was not read by this statement")
        ctx, obj = record
        known = {k: v.known() if type(v) is Deferred else v for k, v in ctx.items()}
        return {
            c.name: known[c.name] if c.name in known else c.get(ctx, obj)
            for c in self.table.columns
            if c.load is None
        }

    def _apply(self, write: Any) -> Any:
        """Run one row's write; on failure, say what the statement already did on GitHub.

        Past statement_timeout the row is not begun; once begun, it is let finish (its
        clean-up and undo steps included), whatever the time."""
        deadline = self.session.client.resilience.deadline
        try:
            deadline.check()
            with deadline.held():
                result, done = write()
        except KeyboardInterrupt:
            # No error message will carry the statement's note: say it before leaving.
            self.session.transaction_writes.append("a write that was interrupted")
            applied = self.session.statement.applied
            print(interrupted_note(self.table.name, applied), file=sys.stderr)
            raise
        except (GitHubError, TransportError, SqlghError) as exc:
            error = remote_error(self.table, exc)
            applied = self.session.statement.applied
            # changed: False (this row changed nothing), True, or None (unknown); a
            # writer reports a write of unknown outcome as such, never as a bare error.
            if applied:
                note = (
                    f" Already applied on GitHub by this statement (not undone): "
                    f"{'; '.join(applied)}. The remaining rows were not attempted."
                )
            elif getattr(exc, "changed", False) is False:
                note = " Nothing was changed on GitHub by this statement."
            else:
                note = " The remaining rows were not attempted."
            if getattr(exc, "changed", False) is not False:  # True, or None: unknown
                self.session.transaction_writes.append("a write that failed part-way")
            raise type(error)(f"{error}.{note}") from exc
        if done:
            self.session.statement.applied.append(done)
            self.session.transaction_writes.append(done)
        return result, done


def interrupted_note(table: str, applied: Sequence[str]) -> str:
    """What a statement interrupted (Ctrl-C) while writing a row of ``table`` did on GitHub."""
    done = (
        f"Already applied on GitHub by this statement (not undone): {'; '.join(applied)}"
        if applied
        else "Nothing was applied on GitHub by this statement before that row"
    )
    return (
        f"sqlgh: interrupted while writing a row of {table}. {done}. The row being written "
        "may or may not have been applied, and the remaining rows were not attempted: read "
        f"{table} again before running the statement again."
    )


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What ``Filter`` makes of an index number and string, worked out once per cursor
    (SQLite filters an inner cursor again for every outer row)."""

    path: AccessPath
    key_columns: frozenset[int]
    checks: tuple[Validator | None, ...]  # of the key values, in the path's key order
    rows: RowBuilder
    tested: tuple[int, ...]  # columns of the equalities SQLite still tests (plan_index)
    unread: bool  # a keyed UPDATE that tests nothing but the keys: no GET before the PATCH
    guess: bool  # the keys of the next Filter calls may be fetched ahead (sqlgh.fetches)
    alone: bool  # keys typed as single literals: a missing one is an error, not a warning
    again: bool  # a unique lookup read: the same key asked again gets the same row back


@dataclasses.dataclass(frozen=True)
class _Served:
    """What a cursor needs to be on a unique lookup's row again, and the Filter arguments
    (with their types: 1.0 is no id) that gave it. The rest of the cursor's state (its
    built row, its plan) stays as that Filter left it until another Filter."""

    indexnum: int
    indexname: str | None
    args: tuple[Any, ...]
    types: tuple[type, ...]
    ctx: Mapping[str, Any]
    obj: Mapping[str, Any] | None
    batch: Sequence[Mapping[str, Any]]
    column: Any  # the row's own __getitem__ when Column is shadowed by it
    eof: Any  # _AT_END or _NOT_AT_END


_NO_FILTER: tuple[None, tuple[Any, ...], tuple[type, ...]] = (None, (), ())


class Cursor:
    """Walks the records one access path yields, pulling pages only as SQLite asks."""

    def __init__(self, vtable: VirtualTable) -> None:
        self.table = vtable.table
        self.session = vtable.session
        self.getters = [
            c.get if c.load is None else _bind_loader(self.table, c, self.session)
            for c in self.table.columns
        ]
        self.key_columns: frozenset[int] = frozenset()
        self.rowid_index = self.table.column_index(self.table.rowid) if self.table.rowid else None
        # Rows are walked a batch (a page) at a time: _ctx and _obj are the current row.
        self._batches: Iterator[Batch] = iter(())
        self._batch: Sequence[Mapping[str, Any]] = ()
        self._objects: Iterator[Mapping[str, Any]] = iter(())
        self._ctx: Mapping[str, Any] = {}
        self._obj: Mapping[str, Any] | None = None
        self._path: AccessPath | None = None
        self._rows = row_builder(self.table, None)
        self._build = self._rows.build
        self._row: list[Any] = []
        self._direct = False
        self._deferred = False  # the current batch's context holds a Deferred value
        self._tested: list[tuple[int, Any]] = []  # (column, value) SQLite tests beyond keys
        self._row_number = 0
        self._plans: dict[tuple[int, str | None], _Plan] = {}
        # The last Filter's plan, arguments (with their types: 1.0 is no id) and checked
        # key tuples: an inner lookup is often filtered again with the same keys.
        self._last_filter: tuple[_Plan | None, tuple[Any, ...], tuple[type, ...]] = _NO_FILTER
        self._last_keys: list[dict[str, Any]] = []
        self._again: _Served | None = None  # the last Filter's row, when a unique lookup's
        # The fetches of the statement that opened this cursor (a cursor outlives later
        # statements run while it is being read: those have their own).
        self._fetches = vtable.session.statements.state_for_new_cursor().fetches
        self._fetches.opened(self)

    def Filter(self, indexnum: int, indexname: str | None, constraintargs: tuple[Any, ...]) -> None:
        again = self._again
        if (
            again is not None
            and constraintargs == again.args
            and indexnum == again.indexnum
            and indexname == again.indexname
            and tuple(map(type, constraintargs)) == again.types
        ):
            # A unique key asked again: its row (or none) again. (SQLite's Next, or
            # this cursor's last Filter, left only what _end_scan drops to restore.)
            self._batches = self._objects = _NO_OBJECTS
            self._ctx, self._obj, self._batch = again.ctx, again.obj, again.batch
            if again.column is not None:
                self.Column = again.column  # type: ignore[method-assign]
            self.Eof = again.eof  # type: ignore[method-assign]
            self.Next = self._end_scan  # type: ignore[method-assign]  # the key's one row
            return
        self._again = None
        plan = self._plans.get((indexnum, indexname)) or self._plan(indexnum, indexname)
        path = self._path = plan.path
        if self.session.dry_run and self.table.writer is not None:
            self.session.keys_used.add(path.keys)
        self.key_columns = plan.key_columns
        types = tuple(map(type, constraintargs))
        last_plan, last_args, last_types = self._last_filter
        if last_plan is plan and last_types == types and last_args == constraintargs:
            keys = self._last_keys
        else:
            keys = self._last_keys = self._key_tuples(plan, constraintargs)
            # (an IN list's values come as a set, which may change: never reused)
            self._last_filter = (plan, constraintargs, types) if set not in types else _NO_FILTER
        values = constraintargs[len(path.keys) :]
        self._tested = list(zip(plan.tested, values, strict=True))
        self._rows = plan.rows
        self._build = plan.rows.build
        self._row_number = 0
        # SQLite filters a cursor again for each outer row of a nested loop: nothing of
        # the previous scan (a page it stopped in) may carry over.
        self._end_scan()
        self._direct = False
        if plan.unread:
            self._batches = iter([(key, (UNREAD,)) for key in keys])
        else:
            self._direct = plan.rows.direct
            self._batches = self._fetches.scan(self, path, keys, plan.guess, not plan.alone)
        self.Eof = _NOT_AT_END  # type: ignore[method-assign]
        self._advance()
        if plan.again and self._last_filter[0] is plan:
            self._again = self._served(indexnum, indexname, constraintargs)

    def _served(self, indexnum: int, indexname: str | None, args: tuple[Any, ...]) -> _Served:
        """The scan's state on its first row (or at its end): a unique lookup's whole
        answer, served again without a fetch when the next Filter asks the same key."""
        return _Served(
            indexnum,
            indexname,
            args,
            tuple(map(type, args)),
            self._ctx,
            self._obj,
            self._batch,
            self.__dict__.get("Column"),
            _AT_END if self._obj is None else _NOT_AT_END,
        )

    def _plan(self, indexnum: int, indexname: str | None) -> _Plan:
        if indexnum == NO_PLAN:
            raise MissingKeysError(self.table.missing_keys_message())
        path = self.table.paths[indexnum]
        columns = [self.table.column_index(key) for key in path.keys]
        col_used, filtered, tested, alone = (indexname or ";;;").split(";")
        # An UPDATE's target is the cursor SQLite asks for every column.
        update_target = col_used == str(WHOLE_ROW)
        plan = self._plans[(indexnum, indexname)] = _Plan(
            path=path,
            key_columns=frozenset(columns),
            checks=tuple(self.table.columns[c].validate for c in columns),
            rows=row_builder(self.table, parse_used(col_used, str(WHOLE_ROW))),
            tested=tuple(int(c) for c in tested.split(",") if c),
            unread=path.unique and update_target and filtered != "1" and bool(self.table.writer),
            guess=path.ahead and not path.unique and not update_target,
            again=path.unique and not update_target,
            alone=alone == "1",
        )
        return plan

    def Eof(self) -> bool:
        # Shadowed from Filter on by _NOT_AT_END / _AT_END, C callables: SQLite asks per row.
        return self._obj is None

    def Rowid(self) -> int:
        if self.rowid_index is None:
            return self._row_number
        ctx, obj = self._ctx, self._obj
        assert obj is not None
        if obj is UNREAD:
            rowid = int(ctx[self.table.columns[self.rowid_index].name])
        else:
            rowid = self.getters[self.rowid_index](ctx, obj)
            if type(rowid) is not int or rowid not in ROWIDS:
                raise self._no_rowid(rowid)
        if self.table.writer is not None:
            self.session.statement.rows_by_rowid[(self.table.name, rowid)] = (ctx, obj)
        return rowid

    def _no_rowid(self, value: Any) -> RemoteError:
        column = self.table.rowid
        return RemoteError(
            f"{self.table.name}.{column}: the API answered a row whose {column} is {value!r}, "
            "not a GitHub id (a whole number below 2**63 that SQLite can hold as a rowid); "
            "check that the API URL is GitHub's, and query again later"
        )

    def Column(self, number: int) -> Any:
        # Shadowed, row by row, by the row's own __getitem__ when no cell is deferred.
        value = self._row[number]
        return self._cell(number) if value is LATER else value

    def _cell(self, number: int) -> Any:
        """A cell computed on demand: a download, the rowid, or a row not yet read."""
        if number == -1:
            return self.Rowid()
        ctx, obj = self._ctx, self._obj
        if obj is UNREAD:
            ctx, obj = self._materialize(ctx)
        value = self.getters[number](ctx, obj)
        if type(value) is Deferred:
            try:
                value = value.value()
            except (GitHubError, TransportError, SqlghError) as exc:
                raise remote_error(self.table, exc) from exc
        value = checked(self.table, number, value, obj)
        keep_up_to = self.table.columns[number].keep_up_to
        if keep_up_to is None or len(value) <= keep_up_to:
            self._row[number] = value  # once per row
        return value

    def ColumnNoChange(self, number: int) -> Any:
        # An UPDATE reads unchanged columns this way: key columns are free, the rest
        # (including downloads) are never fetched just to be written back unchanged.
        if number in self.key_columns:
            ctx, obj = self._ctx, self._obj
            name = self.table.columns[number].name
            return ctx[name] if name in ctx else self.getters[number](ctx, obj)
        return apsw.no_change

    def Close(self) -> None:
        self._end_scan()
        self._fetches.closed(self)

    def rows_ahead(self, count: int) -> Rows | None:
        """The current row's context and object, and those of the ``count`` rows after it
        in the same batch that pass WHERE's equalities on this table (``sqlgh.fetches``
        reads keys off them); None on no row read."""
        obj, ctx = self._obj, self._ctx
        if obj is None or obj is UNREAD:
            return None
        at = len(self._batch) - self._objects.__length_hint__()  # type: ignore[attr-defined]
        following = self._batch[at : at + count]
        if self._tested:  # only rows SQLite will keep (a NULL equals nothing)
            getters = self.getters
            following = [
                row
                for row in following
                if all(v is not None and getters[c](ctx, row) == v for c, v in self._tested)
            ]
        return ctx, obj, following

    def _end_scan(self) -> None:
        """Drop the scan in progress: its pages, its current row, its C shortcuts."""
        self._batches = self._objects = iter(())
        self._batch = ()
        self._obj = None
        self._ctx = {}
        self.__dict__.pop("Column", None)
        self.__dict__.pop("Next", None)
        self.Eof = _AT_END  # type: ignore[method-assign]

    def _key_tuples(self, plan: _Plan, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Every combination of the key values, each checked; NULL equals nothing in SQL,
        so a NULL key value (a LEFT JOIN's missing row, say) gives no rows, no request."""
        names = plan.path.keys
        if not any(type(value) in (set, frozenset) for value in args):  # one key tuple
            key: dict[str, Any] = {}
            for name, value, check in zip(names, args, plan.checks, strict=False):
                if value is None:
                    return []
                key[name] = check(self.table.name, name, value) if check else value
            return [key]
        choices = []
        for key, value, check in zip(names, args, plan.checks, strict=False):
            values = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else [value]
            choices.append(
                [check(self.table.name, key, v) if check else v for v in values if v is not None]
            )
        # GitHub's names are case-insensitive and rows carry its spelling: an IN list
        # naming one repository twice ('tool', 'TOOL') must not give its rows twice.
        caseless = [check in CASELESS for check in plan.checks]
        combos: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for combo in itertools.product(*choices):
            folded = tuple(
                v.lower() if fold and isinstance(v, str) else v
                for v, fold in zip(combo, caseless, strict=False)
            )
            combos.setdefault(folded, combo)
        return [dict(zip(names, combo, strict=True)) for combo in combos.values()]

    def _advance(self) -> None:
        obj = next(self._objects, _END_OF_BATCH)
        if obj is _END_OF_BATCH:
            obj = self._next_batch()
            if obj is _END_OF_BATCH:
                self._end_scan()
                return
        self._obj = obj
        if self._direct:
            # APSW looks Column up on every call: a C callable spares a Python frame. (A
            # direct row has its rowid in a column, so no row number is kept.)
            self.Column = self._build(self._ctx, obj).__getitem__  # type: ignore[method-assign]
            return
        self._row_number += 1
        if obj is UNREAD:
            self._row = self._rows.pending()
        elif self._deferred:
            self._row = [LATER if type(c) is Deferred else c for c in self._build(self._ctx, obj)]
        else:
            self._row = self._build(self._ctx, obj)

    Next = _advance

    def _next_batch(self) -> Any:
        """The first object of the next batch that has one; _END_OF_BATCH at the end."""
        try:
            for ctx, objects in self._batches:
                self._objects = iter(objects)
                obj = next(self._objects, _END_OF_BATCH)
                if obj is not _END_OF_BATCH:
                    self._batch = objects
                    self._ctx = ctx
                    self._deferred = any(
                        type(ctx.get(name)) is Deferred for name in self._rows.from_context
                    )
                    if self._deferred and self._direct:  # its cells are computed on demand
                        self._direct = False
                        self.__dict__.pop("Column", None)
                    return obj
        except (GitHubError, TransportError, SqlghError) as exc:
            self._end_scan()
            raise remote_error(self.table, exc) from exc
        return _END_OF_BATCH

    def _materialize(self, key: Mapping[str, Any]) -> Record:
        """Fetch a row an UPDATE skipped reading, now that a value of it is needed."""
        path = self._path
        assert path is not None
        fetched = path.fetch(self._fetches.api, key)
        rows = ((ctx, obj) for ctx, objects in fetched for obj in objects)
        try:
            record = next(rows, None)
        except (GitHubError, TransportError, SqlghError) as exc:
            raise remote_error(self.table, exc) from exc
        if record is None:
            shown = ", ".join(f"{k} = {v!r}" for k, v in key.items())
            raise RemoteError(f"{self.table.name}: no row with {shown}")
        self._ctx, self._obj = record
        return record


def _bind_loader(table: Table, column: Any, session: Session) -> Any:
    load = column.load

    def loaded(ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
        try:
            return load(session.api, ctx, obj)
        except (GitHubError, TransportError, SqlghError) as exc:
            raise remote_error(table, exc) from exc

    return loaded


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, str) and isinstance(new, str):
        return old.lower() == new.lower()  # owner and repo names are case-insensitive
    return old == new


def register(connection: apsw.Connection, session: Session, tables: tuple[Table, ...]) -> None:
    """Register every table as an eponymous virtual table on the connection."""
    session.attach(connection)
    for table in tables:
        connection.create_module(
            table.name,
            Module(table, session),
            use_bestindex_object=True,
            use_no_change=True,
            eponymous_only=True,
        )
