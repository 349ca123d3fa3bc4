"""Bad key values are refused with a message naming table.column, before any request."""

from __future__ import annotations

import apsw
import pytest
from helpers import Acme

from sqlgh.errors import InputError

BAD_NAMES = [
    "acme/tool",
    "..",
    "tool?x=1",
    "tool#x",
    "acme%2Ftool",
    "to\nol",
    "tool\x00",
    "tool\x7f",
    "",
    "../../user",
    "https://github.com/acme",
]
BAD_IDS = ["123", 1.5, -1, 0, "1 OR 1=1", b"\x01"]

NAME_QUERIES = {
    ("release_assets", "owner"): "SELECT * FROM release_assets WHERE owner = ? AND repo = 'tool'",
    ("release_assets", "repo"): "SELECT * FROM release_assets WHERE owner = 'acme' AND repo = ?",
    ("releases", "repo"): "SELECT * FROM releases WHERE owner = 'acme' AND repo = ?",
    ("latest_releases", "owner"): "SELECT * FROM latest_releases WHERE owner = ? AND repo = 'x'",
    ("repositories", "owner"): "SELECT * FROM repositories WHERE owner = ?",
    ("repositories", "name"): "SELECT * FROM repositories WHERE owner = 'acme' AND name = ?",
}
ID_QUERIES = {
    ("release_assets", "id"): "SELECT * FROM release_assets WHERE owner='acme' AND repo='tool' "
    "AND id = ?",
    ("release_assets", "release_id"): "SELECT * FROM release_assets WHERE owner = 'acme' "
    "AND repo = 'tool' AND release_id = ?",
    ("releases", "id"): "SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
}


def assert_refused(acme: Acme, db: apsw.Connection, sql: str, value: object, where: str) -> None:
    """The query fails with an InputError naming ``where`` and nothing reached GitHub."""
    with pytest.raises(InputError) as failure:
        db.execute(sql, (value,)).fetchall()
    assert str(failure.value).startswith(where)
    assert acme.emu.log == []
    assert acme.emu.unknown == []


CASES = [(column, value) for column in NAME_QUERIES for value in BAD_NAMES] + [
    (column, value) for column in ID_QUERIES for value in BAD_IDS
]


@pytest.mark.parametrize(("column", "value"), CASES, ids=[f"{t}.{c}={v!r}" for (t, c), v in CASES])
def test_bad_keys_are_refused_before_any_request(
    acme: Acme, db: apsw.Connection, column: tuple[str, str], value: object
) -> None:
    sql = NAME_QUERIES.get(column) or ID_QUERIES[column]
    assert_refused(acme, db, sql, value, ".".join(column))


@pytest.mark.parametrize("column", list(NAME_QUERIES) + list(ID_QUERIES))
def test_null_key_matches_no_row_and_sends_nothing(
    acme: Acme, db: apsw.Connection, column: tuple[str, str]
) -> None:
    # NULL equals nothing in SQL: no rows, as with an ordinary table, and no request.
    sql = NAME_QUERIES.get(column) or ID_QUERIES[column]
    assert db.execute(sql, (None,)).fetchall() == []
    assert acme.emu.log == []


def test_left_join_on_a_null_key_keeps_the_outer_row(acme: Acme, db: apsw.Connection) -> None:
    db.execute("CREATE TABLE wanted(asset_id)")
    db.execute("INSERT INTO wanted VALUES (?), (NULL)", (acme.tar["id"],))
    rows = db.execute(
        "SELECT w.asset_id, a.name FROM wanted w LEFT JOIN release_assets a "
        "ON a.owner = 'acme' AND a.repo = 'tool' AND a.id = w.asset_id ORDER BY 1"
    ).fetchall()
    assert rows == [(None, None), (acme.tar["id"], acme.tar["name"])]
    assert len(acme.emu.log) == 1  # only the non-NULL id was asked for


def test_tag_with_control_characters_is_refused(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?"
    assert_refused(acme, db, sql, "v1\r\nX-Evil: 1", "releases.tag_name")


def test_tag_with_slashes_stays_one_path_segment(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?"
    assert db.execute(sql, ("release/%2F/1.0",)).fetchall() == []
    record, *drafts = acme.emu.log
    assert record.path == "/repos/acme/tool/releases/tags/release%2F%252F%2F1.0"
    assert record.status == 404
    # no published release has the tag: the list is searched for a draft
    assert [r.path for r in drafts] == ["/repos/acme/tool/releases"]


def test_tag_git_would_refuse_is_refused(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?"
    assert_refused(acme, db, sql, "../../../orgs/acme/repos?", "releases.tag_name")


def test_bad_value_in_an_in_list_is_refused(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT * FROM release_assets WHERE owner = 'acme' AND repo IN ('tool', ?)"
    assert_refused(acme, db, sql, "x/y", "release_assets.repo")


def test_bad_owner_in_insert_is_refused(acme: Acme, db: apsw.Connection) -> None:
    sql = (
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES (?, 'tool', 1, 'a.txt', x'00')"
    )
    assert_refused(acme, db, sql, "acme/../x", "release_assets.owner")


def test_bad_release_id_in_insert_is_refused(acme: Acme, db: apsw.Connection) -> None:
    sql = (
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'a.txt', x'00')"
    )
    assert_refused(acme, db, sql, "1/../2", "release_assets.release_id")


@pytest.mark.parametrize(
    ("args", "where"),
    [(("a/b", "tool", 1), "download.owner"), (("acme", "..", 1), "download.repo")]
    + [(("acme", "tool", bad), "download.id") for bad in ("1", -3, None)],
)
def test_download_function_refuses_bad_input(
    acme: Acme, db: apsw.Connection, tmp_path, args: tuple, where: str
) -> None:
    with pytest.raises(InputError) as failure:
        db.execute("SELECT download(?, ?, ?, ?)", (*args, str(tmp_path))).fetchall()
    assert str(failure.value).startswith(where)
    assert acme.emu.log == []
    assert list(tmp_path.iterdir()) == []
