"""``release_assets.tag_name``: pushed down to the by-tag release lookup, free from release
lists, and joinable."""

from __future__ import annotations

import apsw
import pytest
from conftest import connect_to
from helpers import Acme, paths

from sqlgh import vtab
from sqlgh.errors import InputError

BY_TAG = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?"

TAG_JOIN = (
    "SELECT r.tag_name, count(a.id) FROM releases r LEFT JOIN release_assets a "
    "ON a.owner = r.owner AND a.repo = r.repo AND a.tag_name = r.tag_name "
    "WHERE r.owner = 'acme' AND r.repo = 'tool' GROUP BY r.tag_name ORDER BY r.tag_name"
)


def test_a_tag_costs_what_the_by_tag_release_lookup_costs(acme: Acme, db: apsw.Connection) -> None:
    rows = sorted(name for (name,) in db.execute(BY_TAG, ("v1.1.0",)))
    assert rows == ["broken.bin", "notes.txt", "tool-1.1.0.tar.gz"]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases/tags/v1.1.0"]


def test_a_tag_no_release_has_gives_no_rows(acme: Acme) -> None:
    anonymous = connect_to(acme.emu, token=None)  # no drafts to look for without a token
    assert anonymous.execute(BY_TAG, ("v9.9.9",)).fetchall() == []
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases/tags/v9.9.9"]


def test_a_draft_is_found_by_its_tag_with_a_token(acme: Acme, db: apsw.Connection) -> None:
    draft = acme.emu.add_release("acme", "tool", "v3.0.0", draft=True)
    acme.emu.add_asset("acme", "tool", draft["id"], "draft.bin", content=b"d")
    rows = db.execute(
        "SELECT name, release_id, tag_name FROM release_assets "
        "WHERE owner = 'acme' AND repo = 'tool' AND tag_name = 'v3.0.0'"
    ).fetchall()
    assert rows == [("draft.bin", draft["id"], "v3.0.0")]


def test_tag_name_is_read_from_the_release_list_for_free(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        "SELECT tag_name, count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
        "GROUP BY tag_name ORDER BY tag_name"
    ).fetchall()
    assert rows == [("v1.0.0", 1), ("v1.1.0", 3)]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]


def test_tag_name_of_a_release_read_by_id_costs_one_get(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT DISTINCT tag_name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
    assert db.execute(sql + "AND release_id = ?", (acme.new,)).fetchall() == [("v1.1.0",)]
    # by release_id, the release read for its assets gives the tag too
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]
    fresh = connect_to(acme.emu)  # knows no release of the asset yet
    acme.emu.clear_log()
    assert fresh.execute(sql + "AND id = ?", (acme.tar["id"],)).fetchall() == [("v1.1.0",)]
    assert paths(acme.emu) == [
        f"GET /repos/acme/tool/releases/assets/{acme.tar['id']}",
        "GET /repos/acme/tool/releases/tags/v1.1.0",
    ]


def test_a_draft_asset_read_by_id_has_its_release_and_tag(acme: Acme, db: apsw.Connection) -> None:
    draft = acme.emu.add_release("acme", "tool", "v3.0.0", draft=True)
    asset = acme.emu.add_asset("acme", "tool", draft["id"], "draft.bin", content=b"d")
    acme.emu.clear_log()
    where = f"WHERE owner = 'acme' AND repo = 'tool' AND id = {asset['id']}"
    # before: release_id and tag_name NULL (the by-tag lookup of the draft's 'untagged-'
    # web tag 404s), so `AND tag_name = 'v3.0.0'` lost the row
    sql = f"SELECT name, release_id, tag_name FROM release_assets {where}"
    assert db.execute(sql).fetchall() == [("draft.bin", draft["id"], "v3.0.0")]
    sql = f"SELECT name FROM release_assets {where} AND tag_name = 'v3.0.0'"
    assert db.execute(sql).fetchall() == [("draft.bin",)]
    anonymous = connect_to(acme.emu, token=None)  # sees no draft, and no list is paged
    acme.emu.clear_log()
    assert anonymous.execute(sql).fetchall() == []
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/assets/{asset['id']}"]


def test_a_join_on_tag_name_from_releases_needs_no_request_per_release(
    acme: Acme, db: apsw.Connection
) -> None:
    rows = db.execute(TAG_JOIN).fetchall()
    assert rows == [("v1.0.0", 1), ("v1.1.0", 3), ("v2.0.0-rc.1", 0)]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]


@pytest.mark.parametrize("join", ["JOIN", "CROSS JOIN"])
def test_a_join_on_tag_name_from_a_local_table(
    acme: Acme, db: apsw.Connection, join: str
) -> None:
    db.execute("CREATE TEMP TABLE wanted(tag TEXT); INSERT INTO wanted VALUES ('v1.0.0')")
    rows = db.execute(
        f"SELECT a.name FROM wanted w {join} release_assets a "
        "ON a.owner = 'acme' AND a.repo = 'tool' AND a.tag_name = w.tag"
    ).fetchall()
    assert rows == [("tool-1.0.0.zip",)]
    # SQLite may scan the repository once (one request) or look the tag up per row
    expected = {
        "JOIN": ["GET /repos/acme/tool/releases"],
        "CROSS JOIN": ["GET /repos/acme/tool/releases/tags/v1.0.0"],
    }
    assert paths(acme.emu) == expected[join]


def test_a_bad_tag_is_refused_naming_the_column(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(InputError, match=r"release_assets\.tag_name"):
        db.execute(BY_TAG, ("v1..0",)).fetchall()
    assert paths(acme.emu) == []


def test_a_draft_looked_up_in_a_join_leaves_the_outer_listing_known(
    acme: Acme, db: apsw.Connection
) -> None:
    # The outer list, read whole, answers the draft's tag too (before: a GET by tag, 404,
    # and the list again), and the rows of the other tags stay known.
    acme.emu.add_release("acme", "tool", "v3.0.0", draft=True, created_at="2024-07-01T00:00:00Z")
    acme.emu.clear_log()
    rows = db.execute(TAG_JOIN).fetchall()
    assert rows == [("v1.0.0", 1), ("v1.1.0", 3), ("v2.0.0-rc.1", 0), ("v3.0.0", 0)]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]


def test_a_tag_name_left_unread_keeps_rows_handed_over_whole(
    acme: Acme, db: apsw.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # By id, tag_name (and release_id) wait for a request; a query that does not name them
    # must still hand SQLite each row as it is, not through Cursor.Column cell by cell (the
    # hot path). (By release_id, the release read for the rows gives the tag for free.)
    cells = []
    column = vtab.Cursor.Column

    def counted(self: vtab.Cursor, number: int) -> object:
        cells.append(number)
        return column(self, number)

    monkeypatch.setattr(vtab.Cursor, "Column", counted)
    by_release = f"WHERE owner = 'acme' AND repo = 'tool' AND release_id = {acme.new}"
    assert len(db.execute(f"SELECT *, tag_name FROM release_assets {by_release}").fetchall()) == 3
    assert cells == []
    where = f"WHERE owner = 'acme' AND repo = 'tool' AND id = {acme.tar['id']}"
    assert len(db.execute(f"SELECT name, size FROM release_assets {where}").fetchall()) == 1
    assert cells == []
    assert {t for (t,) in db.execute(f"SELECT tag_name FROM release_assets {where}")} == {
        "v1.1.0"
    }
    assert cells  # the tag is computed on demand, through Column
