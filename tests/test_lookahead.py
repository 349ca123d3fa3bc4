"""sqlgh.lookahead: the rows of a running INSERT, found by running its source again."""

from __future__ import annotations

import weakref

import apsw
import pytest

from sqlgh.lookahead import MANY, rows_ahead
from sqlgh.tables.release_assets import TABLE

INSERT = "INSERT INTO release_assets(owner, repo, release_id, path) "


@pytest.fixture
def connection() -> apsw.Connection:
    return apsw.Connection(":memory:")


def ahead(connection: apsw.Connection, sql: str, bindings: object = None) -> list | None:
    return rows_ahead(connection, sql, (weakref.ref(connection), sql, bindings), TABLE)


def test_values_select_and_with_sources(connection: apsw.Connection) -> None:
    values = ahead(connection, INSERT + "VALUES ('a', 'b', 1, 'x'), ('a', 'b', 2, 'y');")
    assert values == [
        {"owner": "a", "repo": "b", "release_id": 1, "path": "x"},
        {"owner": "a", "repo": "b", "release_id": 2, "path": "y"},
    ]
    selected = ahead(
        connection,
        "WITH f(p) AS (SELECT value FROM json_each(:files)) "
        'INSERT OR REPLACE INTO main."release_assets" (owner, repo, release_id, path) '
        "SELECT 'a', 'b', :id, p FROM f",
        {"files": '["x", "y", "z"]', "id": 7},
    )
    assert [(r["release_id"], r["path"]) for r in selected or []] == [(7, "x"), (7, "y"), (7, "z")]
    positional = ahead(
        connection, INSERT + "SELECT 'a', 'b', ?, value FROM json_each(?)", (3, "[1]")
    )
    assert positional == [{"owner": "a", "repo": "b", "release_id": 3, "path": 1}]


def test_what_is_not_looked_ahead(connection: apsw.Connection) -> None:
    rows = "VALUES ('a', 'b', 1, 'x'), ('a', 'b', 2, 'y')"
    assert ahead(connection, INSERT + rows + " RETURNING rowid") is None
    assert ahead(connection, INSERT + "SELECT 'a', 'b', 1, writefile('/tmp/x', 'x')") is None
    assert (
        ahead(connection, "INSERT INTO releases(owner, repo, tag_name) " + rows[:22] + ")") is None
    )
    sql = INSERT + "VALUES (?, ?, ?, ?)"
    given = weakref.ref(connection)
    assert rows_ahead(connection, sql, (given, sql, MANY), TABLE) is None
    # positional bindings given to a script of several statements: whose are they?
    script = "SELECT ?; " + sql
    assert rows_ahead(connection, sql, (given, script, (1, 2, 3, 4, 5)), TABLE) is None
    assert ahead(connection, INSERT + "SELECT * FROM no_such_table") is None


def test_a_single_row_file_is_not_read_twice(connection: apsw.Connection) -> None:
    calls: list[object] = []

    def readfile(path: object) -> bytes:
        calls.append(path)
        return b"x"

    connection.create_scalar_function("readfile", readfile, 1)
    sql = "INSERT INTO release_assets(owner, repo, release_id, name, data) VALUES "
    assert ahead(connection, sql + "('a', 'b', 1, 'n', readfile('f'))") is None
    assert calls == []
    two = ahead(connection, sql + "('a', 'b', 1, 'n', readfile('f')), ('a', 'b', 1, 'm', 'y')")
    assert two is not None and len(two) == 2 and calls == ["f"]


def test_comments_in_the_column_list_are_not_column_names(connection: apsw.Connection) -> None:
    # Before: "-- the repo\n release_id" was taken for a column, and a valid INSERT was
    # refused ("INSERT cannot set -- the repo release_id") before its first upload.
    sql = (
        "INSERT INTO release_assets(owner, repo, -- the repo, by name\n"
        " release_id, /* bytes: a, b */ path) VALUES ('a', 'b', 1, 'x'), ('a', 'b', 2, 'y')"
    )
    assert ahead(connection, sql) == [
        {"owner": "a", "repo": "b", "release_id": 1, "path": "x"},
        {"owner": "a", "repo": "b", "release_id": 2, "path": "y"},
    ]
    # a list not read as SQLite reads it gives no look-ahead, never a wrong one
    odd = INSERT.replace("path)", "[path])").replace("release_id", '"release id"')
    assert ahead(connection, odd + "VALUES ('a', 'b', 1, 'x'), ('a', 'b', 2, 'y')") is None
