"""Table specs: JSONPath columns, JSON text cells and the compiled row builder agree."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator

import pytest
from jsonpath_ng.parser import JsonPathParser

from sqlgh.rows import row_builder
from sqlgh.tables.spec import AccessPath, Column, Table, to_sql


def test_json_text_tells_true_from_one() -> None:
    # Python has True == 1 == 1.0; the memo of flat objects' text must not mix them up.
    assert [to_sql({"a": v}) for v in (True, 1, 1.0, True, False, 0)] == [
        '{"a":true}',
        '{"a":1}',
        '{"a":1.0}',
        '{"a":true}',
        '{"a":false}',
        '{"a":0}',
    ]


def test_json_text_of_flat_objects_follows_every_value_and_type() -> None:
    # The memo is looked up by the first value; any other difference must still show.
    seen = [
        {"login": "octocat", "id": 1, "site_admin": False},
        {"login": "octocat", "id": 1, "site_admin": 0},
        {"login": "octocat", "id": 1.0, "site_admin": False},
        {"login": "octocat", "id": 2, "site_admin": False},
        {"login": "octocat", "id": 1, "site_admin": False, "type": "User"},
        {"login": "octocat", "id": 1, "site_admin": False},
    ]
    assert [to_sql(v) for v in seen] == [
        '{"login":"octocat","id":1,"site_admin":false}',
        '{"login":"octocat","id":1,"site_admin":0}',
        '{"login":"octocat","id":1.0,"site_admin":false}',
        '{"login":"octocat","id":2,"site_admin":false}',
        '{"login":"octocat","id":1,"site_admin":false,"type":"User"}',
        '{"login":"octocat","id":1,"site_admin":false}',
    ]
    assert to_sql({}) == "{}"
    assert to_sql({"a": [1], "b": True}) == '{"a":[1],"b":true}'
    assert to_sql({"login": "octocat", "more": {"x": 1}}) == '{"login":"octocat","more":{"x":1}}'


def test_json_text_of_nested_values_and_scalars() -> None:
    assert to_sql({"a": {"b": [1, None]}}) == '{"a":{"b":[1,null]}}'
    assert to_sql([{"x": 1}]) == '[{"x":1}]'
    assert to_sql("text") == "text"
    assert to_sql(None) is None


TABLE = Table(
    name="t",
    doc="",
    columns=(
        Column("owner"),
        Column("id", "$.id", "INTEGER"),
        Column("login", "$.uploader.login"),
        Column("deep", "$.a.b.c"),
        Column("uploader", "$.uploader", json=True),
        Column("count", "$.items.`len`", "INTEGER"),
    ),
    paths=(AccessPath("all", ("owner",), lambda api, key: iter(()), "1", cost=1, rows=1),),
    needs="owner",
)

OBJECTS = [
    {"id": 1, "uploader": {"login": "octocat"}, "a": {"b": {"c": 3}}, "items": [1, 2]},
    {"id": 2, "uploader": None, "a": {"b": "not an object"}, "items": []},
    {"id": 3, "uploader": ["odd"], "a": 5},
    {},
]


@pytest.mark.parametrize("obj", OBJECTS)
def test_row_builder_matches_each_column_getter(obj: dict) -> None:
    ctx = {"owner": "acme"}
    row = row_builder(TABLE, None).build(ctx, obj)
    assert row[:-1] == [column.get(ctx, obj) for column in TABLE.columns]
    assert row[-1] == obj.get("id")  # Column(-1), the rowid, from the rowid column


def test_row_builder_leaves_unused_columns_empty() -> None:
    row = row_builder(TABLE, {1, 2}).build({"owner": "acme"}, OBJECTS[0])
    assert row[:-1] == [None, 1, "octocat", None, None, None]
    assert row_builder(TABLE, {1, 2}) is row_builder(TABLE, {2, 1})  # compiled once


def test_row_builder_is_direct_only_when_no_cell_waits_for_a_request() -> None:
    # A direct row is handed to SQLite as it is; a LATER cell needs Cursor.Column.
    loaded = Column("blob", load=lambda api, ctx, obj: b"")
    with_download = dataclasses.replace(TABLE, name="t2", columns=(*TABLE.columns, loaded))
    assert row_builder(TABLE, None).direct
    assert row_builder(with_download, {1}).direct
    assert not row_builder(with_download, None).direct
    no_rowid_column = dataclasses.replace(TABLE, name="t3", rowid=None)
    assert not row_builder(no_rowid_column, {1}).direct  # the rowid is a row number


# Run in a fresh interpreter: counts the JSONPaths parsed while sqlgh and its tables load.
COUNT_PARSES_AT_IMPORT = """
from jsonpath_ng.parser import JsonPathParser
parsed = []
parse = JsonPathParser.parse
JsonPathParser.parse = lambda self, text, *args: parsed.append(text) or parse(self, text, *args)
import sqlgh, sqlgh.cli, sqlgh.tables
print(len(parsed), sorted(set(parsed))[:3])
"""


def test_import_parses_no_jsonpath() -> None:
    # Parsing every column's path at import cost `import sqlgh` about 100 ms.
    done = subprocess.run(
        [sys.executable, "-c", COUNT_PARSES_AT_IMPORT], capture_output=True, text=True, check=True
    )
    assert done.stdout.split(" ", 1)[0] == "0", done.stdout


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The JSONPath texts jsonpath-ng parses during the test."""
    seen: list[str] = []
    parse = JsonPathParser.parse

    def counting(self: JsonPathParser, text: str, *args: object) -> object:
        seen.append(text)
        return parse(self, text, *args)

    monkeypatch.setattr(JsonPathParser, "parse", counting)
    yield seen


def test_a_column_path_is_parsed_once_when_first_used(parses: list[str]) -> None:
    # Paths no other test uses: jsonpath-ng's parse of a path is shared by every column.
    plain = Column("login", "$.parse_once.login")
    general = Column("count", "$.parse_once_items.`len`", "INTEGER")
    columns = (Column("owner"), Column("id", "$.parse_once_id"), plain, general)
    table = dataclasses.replace(TABLE, name="parse_once", columns=columns)
    assert parses == []  # making the spec parses nothing
    obj = {"parse_once": {"login": "octocat"}, "parse_once_items": [1, 2, 3], "parse_once_id": 7}
    assert plain.get({}, obj) == "octocat"
    assert general.get({}, obj) == 3
    assert sorted(parses) == ["$.parse_once.login", "$.parse_once_items.`len`"]
    # A row builder reads the rowid column's path too, even when the query does not.
    assert row_builder(table, {2, 3}).build({}, obj) == [None, None, "octocat", 3, 7]
    assert row_builder(table, None).build({"owner": "acme"}, obj) == ["acme", 7, "octocat", 3, 7]
    again = Column("login_again", "$.parse_once.login")
    assert (plain.plain_keys, again.get({}, obj)) == (("parse_once", "login"), "octocat")
    assert sorted(parses) == ["$.parse_once.login", "$.parse_once_id", "$.parse_once_items.`len`"]
