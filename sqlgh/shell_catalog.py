"""Dot-commands that show sqlgh's tables, which ``sqlite_schema`` cannot list.

A mixin for ``apsw.shell.Shell``: ``.tables`` and ``.schema`` list sqlgh's tables beside
the database's own, ``.keys TABLE`` shows each access path, ``.help`` ends with the
tables, and ``no such table`` names the closest one.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sqlgh import catalog
from sqlgh.shell_output import MIN_WIDTH

# The database's own tables and views (as APSW's .tables lists them)
OWN_TABLES = (
    "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
    "UNION SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view')"
)
_NO_SUCH_TABLE = re.compile(r"^no such table: (?:\w+\.)?(\w+)$")


class TableCatalog:
    """``.tables``, ``.schema``, ``.keys`` and ``.help`` that know sqlgh's tables."""

    def _matching(self, names: list[str], patterns: list[str]) -> list[str]:
        like = "SELECT ?1 LIKE ?2"
        db = self.db  # type: ignore[attr-defined]
        return [n for n in names if any(db.execute(like, (n, p)).get for p in patterns)]

    def command_tables(self, cmd: list[str]) -> None:
        """tables ?PATTERN?: Lists names of tables matching LIKE pattern

        sqlgh's tables (release_assets, releases, download_assets, ...) and the
        database's own tables and views. SQLite keeps sqlgh's tables out of
        sqlite_schema, so only this command, .schema and .keys list them.
        """
        own = [row[0] for row in self.db.execute(OWN_TABLES)]  # type: ignore[attr-defined]
        own = [name for name in own if not name.startswith("sqlite_")]
        sqlgh_names = [table.name for table in catalog.SHOWN_TABLES]
        names = self._matching(sqlgh_names + own, cmd or ["%"])
        self.write(self.stdout, "".join(f"{name}\n" for name in sorted(set(names))))  # type: ignore[attr-defined]

    def command_schema(self, cmd: list[str]) -> None:
        """schema ?TABLE? [TABLE...]: Shows SQL for table

        If you give one or more tables then their schema is listed (including indices).
        If you don't specify any then all schemas are listed. TABLE is a like pattern so
        you can use % for wildcards. sqlgh's tables are shown as a commented CREATE TABLE
        marking their key columns and HIDDEN columns (read only when a query names them).
        """
        super().command_schema(cmd)  # type: ignore[misc]
        names = self._matching([table.name for table in catalog.SHOWN_TABLES], cmd or ["%"])
        for name in names:
            table = catalog.table_named(name)
            assert table is not None
            self.write(self.stdout, catalog.schema(table))  # type: ignore[attr-defined]

    def command_keys(self, cmd: list[str]) -> None:
        """keys TABLE: Shows how sqlgh answers a query of TABLE and what each way costs

        Each access path: the key columns WHERE (or a join) must give with = or IN, the
        requests it costs, and an example query.
        """
        table = catalog.table_named(cmd[0]) if len(cmd) == 1 else None
        if table is None:
            names = ", ".join(t.name for t in catalog.SHOWN_TABLES)
            raise self.Error(f"Usage: .keys TABLE, where TABLE is one of {names}")  # type: ignore[attr-defined]
        width = self._terminal_width(MIN_WIDTH)  # type: ignore[attr-defined]
        self.write(self.stdout, catalog.access_paths(table, width))  # type: ignore[attr-defined]

    def command_help(self, cmd: list[str]) -> None:
        """help ?COMMAND?: Shows list of commands and their usage, then sqlgh's tables

        If COMMAND is specified then shows detail about that COMMAND. ``.help all`` will
        show detailed help about all commands.
        """
        super().command_help(cmd)  # type: ignore[misc]
        if not cmd:
            self.write(self.stderr, catalog.tables_help() + "\n")  # type: ignore[attr-defined]

    def _query_details(self, sql: str, bindings: Any) -> Any:
        details = super()._query_details(sql, bindings)  # type: ignore[misc]
        missing = _NO_SUCH_TABLE.match(details.error_text or "")
        if missing is None:
            return details
        own = [row[0] for row in self.db.execute(OWN_TABLES)]  # type: ignore[attr-defined]
        hint = catalog.did_you_mean(missing.group(1), own)
        return dataclasses.replace(details, error_text=details.error_text + hint)
