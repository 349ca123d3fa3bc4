"""sqlite3's dot-command habits that APSW's shell lacks or spells differently.

A mixin for ``apsw.shell.Shell``: ``.once FILE``, ``.import FILE NEWTABLE`` creating the
table from the file's first row, ``.parameter set :name VALUE`` binding ``:name`` with
sqlite3's quoting, and a count of the errors a script went on after (``.bail off``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import apsw

PARAMETER_PREFIXES = ":$@"


class SqliteHabits:
    """``.once``, ``.import`` into a new table, sqlite3's ``.parameter set``, failures."""

    failures = 0  # commands that failed (a script with .bail off goes on after them)
    _once: bool = False
    _import_skip: int = 0

    # .once -----------------------------------------------------------------------------
    def command_once(self, cmd: list[str]) -> None:
        """once FILENAME: Send the output of the next SQL or command to FILENAME

        As sqlite3's .once: once the next statement or dot-command has run, output goes
        to standard output again.
        """
        if len(cmd) != 1 or cmd[0].startswith("-") or cmd[0].startswith("|"):
            raise self.Error("Usage: .once FILENAME")  # type: ignore[attr-defined]
        try:
            self.command_output(cmd)  # type: ignore[attr-defined]
        except OSError as exc:  # output stays where it went
            raise self.Error(  # type: ignore[attr-defined]
                f".once: cannot write {cmd[0]} ({exc.strerror or exc}); give the path of a "
                "file in a directory you can write"
            ) from None
        self._once = True

    def process_complete_line(self, command: str) -> None:
        """Run one command, counting it in ``failures`` if it fails; after the one a
        ``.once`` was for, output goes back where it went."""
        once = self._once
        try:
            super().process_complete_line(command)  # type: ignore[misc]
        except Exception:
            self.failures += 1
            raise
        finally:
            if once and self._once and command.strip():
                self._once = False
                self.command_output(["stdout"])  # type: ignore[attr-defined]

    # .import ---------------------------------------------------------------------------
    def command_import(self, cmd: list[str]) -> None:
        """import ?--csv? ?--skip N? FILE TABLE: Imports separated data from FILE into TABLE

        As sqlite3's .import: when TABLE does not exist it is created, its columns named by
        the file's first row, all of type TEXT, and the other rows are its data. Otherwise
        every row is data. --csv reads the file as CSV whatever the mode; --skip N leaves
        out the first N rows. Values are read with the current separator (.mode csv, .mode
        tabs or .separator).
        """
        words = list(cmd)
        csv_mode, skip = False, 0
        while words and words[0].startswith("--"):
            option = words.pop(0)
            if option == "--csv":
                csv_mode = True
            elif option == "--skip" and words and words[0].isdigit():
                skip = int(words.pop(0))
            else:
                usage = f".import: unknown option {option}; use --csv or --skip N"
                raise self.Error(usage)  # type: ignore[attr-defined]
        if len(words) != 2:
            usage = "Usage: .import ?--csv? ?--skip N? FILE TABLE"
            raise self.Error(usage)  # type: ignore[attr-defined]
        filename, table = words
        saved = self.separator  # type: ignore[has-type]
        if csv_mode:
            self.separator = ","
        created = False
        try:
            if not self._table_exists(table):
                header = next(self._rows(filename, skip), None)
                if not header:
                    empty = f".import: {filename} has no row to name the columns of {table} by"
                    raise self.Error(empty)  # type: ignore[attr-defined]
                self._create_from_header(filename, table, header)
                created = True
                skip += 1
            self._import_skip = skip
            super().command_import([filename, table])  # type: ignore[misc]
        except BaseException:
            # APSW rolls its rows back; the table made from the header goes too, so that
            # the import run again reads the header as one, not as a row of data.
            if created:
                quoted = self._fmt_sql_identifier(table)  # type: ignore[attr-defined]
                self.db.execute(f"DROP TABLE {quoted}")  # type: ignore[attr-defined]
            raise
        finally:
            self._import_skip = 0
            self.separator = saved

    def _table_exists(self, table: str) -> bool:
        db: apsw.Connection = self.db  # type: ignore[attr-defined]
        quoted = self._fmt_sql_identifier(table)  # type: ignore[attr-defined]
        return bool(db.execute(f"pragma table_info({quoted})").fetchall())

    def _create_from_header(self, filename: str, table: str, header: list[str]) -> None:
        columns, renamed = column_names(header)
        if renamed:
            shown = ",\n".join(f'"{old}" to "{new}"' for old, new in renamed)
            message = f"Columns renamed during .import {filename} due to duplicates:\n{shown}\n"
            self.write_error(message)  # type: ignore[attr-defined]
        name = self._fmt_sql_identifier  # type: ignore[attr-defined]
        definition = ", ".join(f"{name(column)} TEXT" for column in columns)
        self.db.execute(f"CREATE TABLE {name(table)}({definition})")  # type: ignore[attr-defined]

    def _rows(self, filename: str, skip: int) -> Iterator[list[str]]:
        rows = super()._csvin_wrapper(filename, self._import_dialect())  # type: ignore[misc]
        return itertools.islice(without_bom(rows), skip, None)

    def _import_dialect(self) -> dict[str, Any]:
        # as apsw.shell.Shell.command_import chooses it
        if self.separator == ",":
            return {"dialect": "excel"}
        if self.separator == "\t":
            return {"dialect": "excel-tab"}
        return {
            "quoting": 3,  # csv.QUOTE_NONE
            "delimiter": self.separator,
            "doublequote": False,
            "quotechar": "\x00",
        }

    def _csvin_wrapper(self, filename: str, dialect: dict[str, Any]) -> Iterator[list[str]]:
        rows = super()._csvin_wrapper(filename, dialect)  # type: ignore[misc]
        return itertools.islice(without_bom(rows), self._import_skip, None)

    # .parameter ------------------------------------------------------------------------
    def command_parameter(self, cmd: list[str]) -> None:
        """parameter CMD ...: Maintain named bindings you can use in your queries

        Specify a subcommand:

           list            -- shows current bindings
           clear           -- deletes all bindings
           unset NAME      -- deletes named binding
           set NAME VALUE  -- sets binding to VALUE

        As in sqlite3, NAME may carry its prefix (:owner, $owner or @owner bind the same
        parameter), and VALUE, once the quotes around it are removed, is an SQL literal or
        expression if it is one, else text: `.parameter set :owner 'acme'` binds the text
        acme, `.parameter set :n 3` the integer 3, `.parameter set :n "'3'"` the text 3.
        """
        if len(cmd) >= 2 and cmd[0] in ("set", "unset"):
            cmd = [cmd[0], cmd[1].lstrip(PARAMETER_PREFIXES), *cmd[2:]]
        if len(cmd) == 3 and cmd[0] == "set":
            self.bindings[cmd[1]] = self._parameter_value(cmd[2])  # type: ignore[attr-defined]
            return
        super().command_parameter(cmd)  # type: ignore[misc]

    def _parameter_value(self, text: str) -> Any:
        text = unquoted(text.strip())
        db: apsw.Connection = self.db  # type: ignore[attr-defined]
        # A value is one expression that only reads: "1); DROP TABLE t; SELECT (2" must not
        # run its other statements (sqlite3 prepares only its first); it is bound as text.
        previous, db.authorizer = db.authorizer, _only_reading
        try:
            rows = db.execute(f"SELECT ({text})").fetchall()
        except apsw.Error:
            return text  # sqlite3 binds what is not a value as text
        finally:
            db.authorizer = previous
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else text


def without_bom(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """``rows`` with the UTF-8 byte-order mark a spreadsheet writes first left out, as
    sqlite3 does ("If this is the first field being parsed and it begins with the UTF-8
    BOM (0xEF BB BF) then skip the BOM": csv_read_one_field in SQLite's shell.c.in)."""
    first = next(rows, None)
    if first is None:
        return
    if first and first[0].startswith("\ufeff"):
        first = [first[0][1:], *first[1:]]
    yield first
    yield from rows


def column_names(header: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The columns a header row names, as sqlite3 makes them (zAutoColumn in SQLite's
    shell.c.in): an empty name is ``?``, and names that repeat (in any case) end with
    ``_`` and their column's number, as wide as the count of columns (``a_1``, ``a_3``).
    Also the (name, new name) pairs renamed, for the notice sqlite3 prints."""
    names = [name or "?" for name in header]
    counts = Counter(name.lower() for name in names)
    width = len(str(len(names)))
    columns, renamed = [], []
    for number, name in enumerate(names, 1):
        if counts[name.lower()] > 1:
            new = f"{name}_{number:0{width}d}"
            renamed.append((name, new))
            name = new
        columns.append(name)
    return columns, renamed


_READING = frozenset({apsw.SQLITE_SELECT, apsw.SQLITE_READ, apsw.SQLITE_FUNCTION})


def _only_reading(action: int, *names: Any) -> int:
    """An authorizer that allows what an expression does (read, call functions), no more."""
    return apsw.SQLITE_OK if action in _READING else apsw.SQLITE_DENY


def unquoted(argument: str) -> str:
    """A dot-command argument without the quotes around it, as sqlite3 reads one."""
    if len(argument) >= 2 and argument[0] in "'\"" and argument[-1] == argument[0]:
        return argument[1:-1]
    return argument
