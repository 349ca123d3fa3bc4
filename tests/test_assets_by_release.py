"""``release_assets`` by ``release_id``: the release itself (GET /releases/{id}) with its
embedded asset array, checked once when it is long, paged when it is cut short. Every test
counts the requests the emulator received."""

from __future__ import annotations

import contextlib
import dataclasses
import io

import apsw
import pytest
from conftest import connect_to
from helpers import Acme, names, paths, seed_acme

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import RemoteError
from sqlgh.tables import release_assets
from sqlgh.tables.memo import StatementFacts

ASSETS = "SELECT {cols} FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
BY_RELEASE = ASSETS + " AND release_id = ?"


def _release_with(emu: Emulator, count: int, **options: object) -> int:
    """A new release v3.0.0 of acme/tool with ``count`` assets file-000.bin ...; the log
    cleared."""
    release = emu.add_release("acme", "tool", "v3.0.0", **options)  # type: ignore[arg-type]
    for n in range(count):
        emu.add_asset("acme", "tool", release["id"], f"file-{n:03}.bin", content=b"x")
    emu.clear_log()
    return int(release["id"])


def _files(count: int) -> list[str]:
    return [f"file-{n:03}.bin" for n in range(count)]


def test_a_release_under_100_assets_is_one_request_and_its_tag_is_free(
    acme: Acme, db: apsw.Connection
) -> None:
    sql = BY_RELEASE.format(cols="tag_name, name") + " ORDER BY name"
    rows = db.execute(sql, (acme.new,)).fetchall()
    assert rows == [
        ("v1.1.0", "broken.bin"),
        ("v1.1.0", "notes.txt"),
        ("v1.1.0", "tool-1.1.0.tar.gz"),
    ]
    # before: the asset list, then the release for its tag
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]


def test_exactly_100_assets_are_checked_with_page_one(acme: Acme, db: apsw.Connection) -> None:
    release = _release_with(acme.emu, 100)
    rows = db.execute(BY_RELEASE.format(cols="name"), (release,)).fetchall()
    assert [n for (n,) in rows] == _files(100)
    assert paths(acme.emu) == [
        f"GET /repos/acme/tool/releases/{release}",
        f"GET /repos/acme/tool/releases/{release}/assets",
    ]
    assert acme.emu.log[1].query == {"per_page": ["100"]}


def test_an_array_cut_short_elsewhere_is_paged_from_page_one() -> None:
    with Emulator(embedded_assets_cap=120) as emu:
        seed_acme(emu)
        release = _release_with(emu, 250)
        rows = connect_to(emu).execute(BY_RELEASE.format(cols="name"), (release,)).fetchall()
        assert [n for (n,) in rows] == _files(250)
        # The release, the check (page 2 has a next page), then pages 1-3.
        assert emu.log[0].path == f"/repos/acme/tool/releases/{release}"
        assert emu.log[1].query == {"per_page": ["100"], "page": ["2"]}
        assert sorted(str(r.query.get("page")) for r in emu.log[2:]) == [
            "None",
            "['2']",
            "['3']",
        ]


def test_the_array_comes_in_batches_of_at_most_100(acme: Acme, db: apsw.Connection) -> None:
    release = _release_with(acme.emu, 250)
    api = dataclasses.replace(db.sqlgh.api, statement=StatementFacts())
    key = {"owner": "acme", "repo": "tool", "release_id": release}
    batches = [list(assets) for _, assets in release_assets.fetch_by_release(api, key)]
    assert [len(b) for b in batches] == [100, 100, 50]
    assert [a["name"] for b in batches for a in b] == _files(250)
    assert len(acme.emu.log) == 2  # the release and its check, not three pages


def test_a_draft_is_read_by_id_with_its_own_tag(acme: Acme, db: apsw.Connection) -> None:
    draft = _release_with(acme.emu, 2, draft=True)
    rows = db.execute(BY_RELEASE.format(cols="tag_name, name"), (draft,)).fetchall()
    assert rows == [("v3.0.0", "file-000.bin"), ("v3.0.0", "file-001.bin")]
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{draft}"]


def test_a_draft_unseen_without_push_access_is_missing(acme: Acme) -> None:
    draft = _release_with(acme.emu, 2, draft=True)
    db = connect_to(acme.emu, token="")
    with pytest.raises(RemoteError, match=f"release {draft} of acme/tool does not exist"):
        db.execute(ASSETS.format(cols="name") + f" AND release_id = {draft}").fetchall()


def test_a_missing_release_alone_is_an_error_naming_it(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(RemoteError, match="release 999999 of acme/tool does not exist"):
        db.execute(ASSETS.format(cols="name") + " AND release_id = 999999").fetchall()
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases/999999"]


def test_a_missing_release_among_many_is_one_warning(acme: Acme, db: apsw.Connection) -> None:
    sql = ASSETS.format(cols="name") + " AND release_id IN (?, 999999) ORDER BY name"
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        rows = db.execute(sql, (acme.old,)).fetchall()
    assert rows == [("tool-1.0.0.zip",)]
    assert stderr.getvalue().startswith(
        "sqlgh: warning: release_assets: no rows for release 999999 of acme/tool"
    )
    assert sorted(paths(acme.emu)) == [
        f"GET /repos/acme/tool/releases/{acme.old}",
        "GET /repos/acme/tool/releases/999999",
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT l.tag_name, a.name FROM release_assets a JOIN releases l "
        "ON l.owner = a.owner AND l.repo = a.repo AND l.id = a.release_id "
        "WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = ? ORDER BY a.name",
        "SELECT l.tag_name, a.name FROM releases l JOIN release_assets a "
        "ON a.owner = l.owner AND a.repo = l.repo AND a.release_id = l.id "
        "WHERE l.owner = 'acme' AND l.repo = 'tool' AND l.id = ? ORDER BY a.name",
        # CROSS JOIN keeps SQLite's order: the assets are read first, then the release
        "SELECT l.tag_name, a.name FROM release_assets a CROSS JOIN releases l "
        "ON l.owner = a.owner AND l.repo = a.repo AND l.id = a.release_id "
        "WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = ? ORDER BY a.name",
    ],
    ids=["assets-first", "release-first", "assets-outer"],
)
def test_a_join_with_releases_on_the_id_costs_no_extra_request(
    acme: Acme, db: apsw.Connection, sql: str
) -> None:
    release = _release_with(acme.emu, 150)
    rows = db.execute(sql, (release,)).fetchall()
    assert rows == [("v3.0.0", name) for name in _files(150)]
    # The release (once, whichever table reads it) and the check of its 150 assets.
    assert paths(acme.emu) == [
        f"GET /repos/acme/tool/releases/{release}",
        f"GET /repos/acme/tool/releases/{release}/assets",
    ]


def test_ids_of_one_release_share_its_one_read(acme: Acme, db: apsw.Connection) -> None:
    ids = (acme.tar["id"], acme.notes["id"])
    sql = BY_RELEASE.format(cols="name") + " AND id IN (?, ?) ORDER BY name"
    assert db.execute(sql, (acme.new, *ids)).fetchall() == [("notes.txt",), ("tool-1.1.0.tar.gz",)]
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]


def test_delete_by_release_id_deletes_each_asset_once(acme: Acme, db: apsw.Connection) -> None:
    release = _release_with(acme.emu, 5)
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = ?",
        (release,),
    )
    assert names(acme.emu, release) == []
    assert db.changes() == 5
    assert [r.method for r in acme.emu.log] == ["GET"] + ["DELETE"] * 5
    assert acme.emu.log[0].path == f"/repos/acme/tool/releases/{release}"


def test_update_by_release_id_changes_each_asset(acme: Acme, db: apsw.Connection) -> None:
    release = _release_with(acme.emu, 3)
    db.execute(
        "UPDATE release_assets SET label = 'L' WHERE owner = 'acme' AND repo = 'tool' AND "
        "release_id = ?",
        (release,),
    )
    assets = acme.emu.list_assets("acme", "tool", release)
    assert [(a["name"], a["label"]) for a in assets] == [(n, "L") for n in _files(3)]
    assert [r.method for r in acme.emu.log] == ["GET"] + ["PATCH"] * 3
    # Read back in the next statement: the labels as written.
    rows = db.execute(BY_RELEASE.format(cols="label"), (release,)).fetchall()
    assert rows == [("L",)] * 3


def test_an_answer_that_is_not_the_release_falls_back_to_its_asset_list(
    acme: Acme, db: apsw.Connection
) -> None:
    # A hostile or broken answer (another release's id) is not taken for the release.
    acme.emu.add_fault(
        Fault("rewrite_json", method="GET", path=r"/releases/\d+$", rewrite=_other_id)
    )
    rows = db.execute(BY_RELEASE.format(cols="name") + " ORDER BY name", (acme.new,)).fetchall()
    assert rows == [("broken.bin",), ("notes.txt",), ("tool-1.1.0.tar.gz",)]
    assert paths(acme.emu) == [
        f"GET /repos/acme/tool/releases/{acme.new}",
        f"GET /repos/acme/tool/releases/{acme.new}/assets",
    ]


def test_an_answer_naming_another_release_lends_it_no_tag_or_upload_url(
    acme: Acme, db: apsw.Connection
) -> None:
    # Every GET of release `new` answers release `old` (its id, tag and upload URL kept).
    def old_release(release: dict) -> dict:
        return {**release, "id": acme.old, "tag_name": "v1.0.0"}

    acme.emu.add_fault(
        Fault(
            "rewrite_json", path=rf"/releases/{acme.new}$", rewrite=old_release, times=-1
        )
    )
    sql = BY_RELEASE.format(cols="tag_name, name") + " ORDER BY name"
    rows = db.execute(sql, (acme.new,)).fetchall()
    # before: ('v1.0.0', ...), the tag of the release the answer named
    assert rows == [(None, "broken.bin"), (None, "notes.txt"), (None, "tool-1.1.0.tar.gz")]
    acme.emu.clear_faults()
    db.execute(
        "INSERT INTO release_assets (owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'late.bin', x'01')",
        (acme.old,),
    )
    # before: uploaded to release `new`, whose upload URL was kept for release `old`
    assert "late.bin" in names(acme.emu, acme.old)
    assert "late.bin" not in names(acme.emu, acme.new)


def _other_id(release: dict) -> dict:
    return {**release, "id": release["id"] + 1, "assets": []}
