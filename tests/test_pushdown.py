"""Pushdown: pagination, IN lists, joins, LIMIT, filters SQLite applies, OR branches and
the missing-keys error. Every test counts the requests the emulator received."""

from __future__ import annotations

import threading
import time

import apsw
import pytest
from conftest import connect_to
from helpers import Acme, paths, seed_acme

from sqlgh import vtab
from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.errors import MissingKeysError, RemoteError
from sqlgh.tables import release_assets

ASSETS = "SELECT {cols} FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"


def add_assets(emu: Emulator, release_id: int, count: int) -> None:
    for n in range(count):
        emu.add_asset("acme", "tool", release_id, f"file-{n:03}.bin", content=b"x" * n)
    emu.clear_log()


@pytest.fixture
def big(acme: Acme) -> int:
    """The id of a release v3.0.0 of acme/tool with 250 assets (file-000.bin ...)."""
    release = acme.emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
    add_assets(acme.emu, release["id"], 250)
    return release["id"]


@pytest.fixture
def filters(monkeypatch) -> list[tuple]:
    """The arguments of every vtab ``Filter`` call."""
    calls: list[tuple] = []
    original = vtab.Cursor.Filter

    def spy(self, indexnum, indexname, constraintargs):
        calls.append(constraintargs)
        return original(self, indexnum, indexname, constraintargs)

    monkeypatch.setattr(vtab.Cursor, "Filter", spy)
    return calls


# pagination -----------------------------------------------------------------------------


def test_250_assets_are_the_release_and_one_check(
    acme: Acme, big: int, db: apsw.Connection
) -> None:
    rows = db.execute(ASSETS.format(cols="name") + " AND release_id = ?", (big,))
    assert [n for (n,) in rows] == [f"file-{n:03}.bin" for n in range(250)]
    # The release embeds all 250; page 3 of its asset list holds the last 50 and no page
    # follows, so the embedded array serves (before: pages 1, 2 and 3 of the list).
    assert paths(acme.emu) == [
        f"GET /repos/acme/tool/releases/{big}",
        f"GET /repos/acme/tool/releases/{big}/assets",
    ]
    assert acme.emu.log[1].query == {"per_page": ["100"], "page": ["3"]}
    assert acme.emu.unknown == []


def test_a_cut_array_is_paged_concurrently_from_the_check() -> None:
    with Emulator(embedded_assets_cap=100) as emu:
        seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 250)
        rows = connect_to(emu).execute(
            ASSETS.format(cols="name") + " AND release_id = ?", (release["id"],)
        )
        assert [n for (n,) in rows] == [f"file-{n:03}.bin" for n in range(250)]
        # The release, then page 1 (the check: a next page follows), then pages 2 and 3
        # at once, as the check's page names the last.
        pages = [r.query.get("page") for r in emu.log]
        assert emu.log[0].path == f"/repos/acme/tool/releases/{release['id']}"
        assert pages[1] is None and sorted(pages[2:]) == [["2"], ["3"]]


def test_limit_on_a_long_release_reads_the_release_and_its_check(
    acme: Acme, big: int, db: apsw.Connection
) -> None:
    # The trade-off of reading the release: its whole body, where paging read one page.
    sql = ASSETS.format(cols="name") + " AND release_id = ? LIMIT 5"
    assert len(db.execute(sql, (big,)).fetchall()) == 5
    assert len(acme.emu.log) == 2


def test_limit_stops_paging_a_cut_array_after_its_first_page() -> None:
    with Emulator(embedded_assets_cap=100) as emu:
        seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 250)
        sql = ASSETS.format(cols="name") + " AND release_id = ? LIMIT 5"
        assert len(connect_to(emu).execute(sql, (release["id"],)).fetchall()) == 5
        assert len(emu.log) == 2  # the release and page 1 (the check)


def test_repo_scan_checks_a_long_embedded_asset_array_with_one_request(
    acme: Acme, big: int, db: apsw.Connection
) -> None:
    rows = db.execute(ASSETS.format(cols="release_id, name")).fetchall()
    assert len(rows) == 250 + 4
    assert sorted(n for r, n in rows if r == big) == [f"file-{n:03}.bin" for n in range(250)]
    # The release list embeds all 250. Page 3 of the release's asset list holds the last
    # 50 and no page follows, so the embedded array serves: no other page is fetched.
    assert paths(acme.emu) == [
        "GET /repos/acme/tool/releases",
        f"GET /repos/acme/tool/releases/{big}/assets",
    ]
    assert acme.emu.log[1].query == {"per_page": ["100"], "page": ["3"]}


@pytest.mark.parametrize("count", [100, 101, 200, 299])
def test_a_whole_embedded_array_of_any_length_is_checked_with_one_page(
    acme: Acme, db: apsw.Connection, count: int
) -> None:
    release = acme.emu.add_release("acme", "tool", "v3.0.0")
    add_assets(acme.emu, release["id"], count)
    rows = db.execute(ASSETS.format(cols="name, release_id")).fetchall()
    assert sorted(n for n, r in rows if r == release["id"]) == [
        f"file-{n:03}.bin" for n in range(count)
    ]
    assert len(acme.emu.log) == 1 + 1


def test_repo_scan_with_capped_embedded_assets_misses_nothing() -> None:
    with Emulator(embedded_assets_cap=100) as emu:
        acme = seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 150)
        db = connect_to(emu)
        names = {n for (n,) in db.execute(ASSETS.format(cols="name"))}
        assert {f"file-{n:03}.bin" for n in range(150)} <= names
        assert len(names) == 150 + 4
        assert {"tool-1.0.0.zip", acme.tar["name"]} <= names
        # The list, then the 2 pages of the big release: the check of its 100 embedded
        # assets was page 1, which has a next page; paging went on from it.
        assert len(emu.log) == 3
        assert [r.query.get("page") for r in emu.log] == [None, None, ["2"]]


def test_an_array_cut_short_elsewhere_costs_one_request_more() -> None:
    with Emulator(embedded_assets_cap=120) as emu:
        seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 250)
        rows = connect_to(emu).execute(ASSETS.format(cols="name, release_id")).fetchall()
        assert sorted(n for n, r in rows if r == release["id"]) == [
            f"file-{n:03}.bin" for n in range(250)
        ]
        # The list, the check (page 2 has a next page), then pages 1-3.
        assert len(emu.log) == 1 + 1 + 3


def test_the_check_reads_100_a_page_whatever_per_page_is() -> None:
    with Emulator(embedded_assets_cap=100) as emu:
        seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 150)
        db = connect_to(emu, per_page=50)
        rows = db.execute(ASSETS.format(cols="name, release_id")).fetchall()
        assert sorted(n for n, r in rows if r == release["id"]) == [
            f"file-{n:03}.bin" for n in range(150)
        ]
        asset_requests = [r for r in emu.log if f"/releases/{release['id']}/assets" in r.path]
        # A cut at 100 shows on page 1 of 100 whatever the connection's page size: that
        # page is the check, and paging goes on from it.
        assert [(r.query["per_page"], r.query.get("page")) for r in asset_requests] == [
            (["100"], None),
            (["100"], ["2"]),
        ]


def test_a_release_gone_before_its_check_is_named(
    acme: Acme, big: int, db: apsw.Connection
) -> None:
    acme.emu.add_fault(Fault(method="GET", path=f"/releases/{big}/assets", status=404))
    with pytest.raises(RemoteError, match=f"release {big} of acme/tool does not exist"):
        db.execute(ASSETS.format(cols="name")).fetchall()


# IN lists -------------------------------------------------------------------------------


def test_in_on_release_id_reaches_one_filter(acme: Acme, db: apsw.Connection, filters) -> None:
    sql = ASSETS.format(cols="name") + " AND release_id IN (?, ?) ORDER BY name"
    rows = db.execute(sql, (acme.old, acme.new)).fetchall()
    assert [n for (n,) in rows] == [
        "broken.bin",
        "notes.txt",
        "tool-1.0.0.zip",
        "tool-1.1.0.tar.gz",
    ]
    assert len(filters) == 1 and {acme.old, acme.new} in filters[0]
    assert sorted(paths(acme.emu)) == sorted(
        f"GET /repos/acme/tool/releases/{r}" for r in (acme.old, acme.new)
    )


def test_in_on_id_is_one_get_per_value(acme: Acme, db: apsw.Connection, filters) -> None:
    ids = (acme.tar["id"], acme.notes["id"], acme.old_asset["id"])
    sql = ASSETS.format(cols="name") + " AND id IN (?, ?, ?) ORDER BY name"
    rows = db.execute(sql, ids).fetchall()
    assert rows == [("notes.txt",), ("tool-1.0.0.zip",), ("tool-1.1.0.tar.gz",)]
    assert len(filters) == 1
    assert sorted(paths(acme.emu)) == sorted(
        f"GET /repos/acme/tool/releases/assets/{i}" for i in ids
    )


# joins ----------------------------------------------------------------------------------


THREE_TABLE_JOIN = (
    "SELECT r.name, l.tag_name, a.name FROM repositories r "
    "JOIN releases l ON l.owner = r.owner AND l.repo = r.name "
    "JOIN release_assets a ON a.owner = l.owner AND a.repo = l.repo AND a.release_id = l.id "
    "WHERE r.owner = 'acme' ORDER BY a.name"
)


def test_a_scalar_subquery_by_id_per_outer_row_gets_the_asset_once(
    acme: Acme, db: apsw.Connection
) -> None:
    sql = (
        "SELECT (SELECT a.name FROM release_assets a"
        " WHERE a.owner = k.o AND a.repo = 'tool' AND a.id = ?)"
        " FROM (SELECT 'acme' AS o UNION ALL SELECT 'acme' UNION ALL SELECT 'acme') k"
    )
    assert db.execute(sql, (acme.tar["id"],)).fetchall() == [("tool-1.1.0.tar.gz",)] * 3
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/assets/{acme.tar['id']}"]


def test_three_table_join_lists_once_per_parent(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(THREE_TABLE_JOIN).fetchall()
    assert rows == [
        ("tool", "v1.1.0", "broken.bin"),
        ("tool", "v1.1.0", "notes.txt"),
        ("tool", "v1.0.0", "tool-1.0.0.zip"),
        ("tool", "v1.1.0", "tool-1.1.0.tar.gz"),
    ]
    releases_of = {"fork-of-x", "secret", "tool"}
    releases = [p for p in paths(acme.emu) if p.endswith("/releases")]
    assert sorted(releases) == sorted(f"GET /repos/acme/{r}/releases" for r in releases_of)
    # Each release's embedded asset array (fewer than 100) is its whole asset list: the
    # statement that listed the release needs no request for its assets.
    assert [p for p in paths(acme.emu) if p.endswith("/assets")] == []
    assert len(acme.emu.log) == 1 + 3
    assert acme.emu.unknown == []


def test_join_checks_a_long_embedded_array_once(acme: Acme, big: int, db: apsw.Connection) -> None:
    names = [name for _, tag, name in db.execute(THREE_TABLE_JOIN) if tag == "v3.0.0"]
    assert names == [f"file-{n:03}.bin" for n in range(250)]
    asset_requests = [r for r in acme.emu.log if f"/releases/{big}/assets" in r.path]
    assert [r.query.get("page") for r in asset_requests] == [["3"]]  # the check only
    assert len(acme.emu.log) == 1 + 3 + 1


def test_join_pages_a_long_embedded_array_that_is_cut_short() -> None:
    with Emulator(embedded_assets_cap=100) as emu:
        seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 150)
        rows = connect_to(emu).execute(THREE_TABLE_JOIN).fetchall()
        assert [n for _, tag, n in rows if tag == "v3.0.0"] == [
            f"file-{n:03}.bin" for n in range(150)
        ]
        asset_requests = [r for r in emu.log if f"/releases/{release['id']}/assets" in r.path]
        assert len(asset_requests) == 2  # the check was page 1; then page 2


JOIN_BY_IDS = (
    "SELECT a.name FROM releases r CROSS JOIN release_assets a"
    " ON a.owner = r.owner AND a.repo = r.repo AND a.release_id = r.id"
    " WHERE r.owner = 'acme' AND r.repo = 'tool' AND a.id IN ({ids}) ORDER BY a.name"
)


def test_a_long_embedded_array_is_checked_once_for_many_asset_ids(
    acme: Acme, big: int, db: apsw.Connection
) -> None:
    ids = [a for (a,) in db.execute(ASSETS.format(cols="id") + " AND release_id = ?", (big,))]
    acme.emu.clear_log()
    wanted = [ids[0], ids[120], ids[249]]
    rows = db.execute(JOIN_BY_IDS.format(ids="?, ?, ?"), wanted).fetchall()
    assert rows == [("file-000.bin",), ("file-120.bin",), ("file-249.bin",)]
    asset_requests = [r for r in acme.emu.log if f"/releases/{big}/assets" in r.path]
    assert [r.query.get("page") for r in asset_requests] == [["3"]]  # one check serves all


def test_a_refuted_embedded_array_is_not_checked_again() -> None:
    with Emulator(embedded_assets_cap=120) as emu:
        seed_acme(emu)
        release = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")
        add_assets(emu, release["id"], 250)
        db = connect_to(emu, max_concurrency=1)  # no page fetched ahead
        listed = db.execute(ASSETS.format(cols="id") + " AND release_id = ?", (release["id"],))
        ids = [a for (a,) in listed]
        emu.clear_log()
        rows = db.execute(JOIN_BY_IDS.format(ids="?, ?"), [ids[10], ids[140]]).fetchall()
        assert rows == [("file-010.bin",), ("file-140.bin",)]
        asset_requests = [r for r in emu.log if f"/releases/{release['id']}/assets" in r.path]
        # The first id: the check (page 2 of the 120, with a next page), then page 1. The
        # second id: page 1 as already read, then page 2, with no second check.
        assert [r.query.get("page") for r in asset_requests] == [["2"], None, ["2"]]


def test_a_plain_join_on_asset_ids_finds_their_release(acme: Acme, big: int) -> None:
    db = connect_to(acme.emu)
    ids = [a for (a,) in db.execute(ASSETS.format(cols="id") + " AND release_id = ?", (big,))]
    fresh = connect_to(acme.emu)  # knows no release yet
    acme.emu.clear_log()
    sql = JOIN_BY_IDS.replace("CROSS JOIN", "JOIN").format(ids="?, ?")
    assert fresh.execute(sql, [ids[3], ids[200]]).fetchall() == [
        ("file-003.bin",),
        ("file-200.bin",),
    ]
    # SQLite reads release_assets first, by id: the asset's release is then found by the
    # tag in its download URL (one request for both assets), so the join on release_id holds.
    plan = fresh.execute(f"EXPLAIN QUERY PLAN {sql}", [ids[3], ids[200]]).fetchall()
    assert plan[0][3].startswith("SCAN a ")
    assert sorted(paths(acme.emu)) == [
        f"GET /repos/acme/tool/releases/{big}",
        f"GET /repos/acme/tool/releases/assets/{ids[3]}",
        f"GET /repos/acme/tool/releases/assets/{ids[200]}",
        "GET /repos/acme/tool/releases/tags/v3.0.0",
    ]


def test_a_check_that_ends_after_its_statement_serves_no_later_statement(monkeypatch) -> None:
    listed_page = release_assets.list_page
    check_answered, check_done = threading.Event(), threading.Event()

    def slow_check(*args, **kwargs):
        page = listed_page(*args, **kwargs)
        check_answered.set()
        time.sleep(0.3)  # its verdict comes after its statement has ended
        check_done.set()
        return page

    monkeypatch.setattr(release_assets, "list_page", slow_check)
    with Emulator() as emu:
        seed_acme(emu)
        big = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")["id"]
        add_assets(emu, big, 150)
        newest = emu.add_release("acme", "tool", "v4.0.0", created_at="2024-07-01T00:00:00Z")
        emu.add_asset("acme", "tool", newest["id"], "only.bin", content=b"o")
        db = connect_to(emu)
        # Statement 1 stops at its first row, while the big release's check (read ahead
        # on a read thread) is still on its way.
        assert db.execute(ASSETS.format(cols="name") + " LIMIT 1").fetchall() == [("only.bin",)]
        assert check_answered.wait(5)
        gone = emu.list_assets("acme", "tool", big)[-1]["id"]
        connect_to(emu).execute(
            "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?", (gone,)
        )
        # Statement 2 asks for the big release's assets once that check has ended.
        db.create_scalar_function("after_check", lambda v: (check_done.wait(5), v)[1])
        emu.clear_log()
        sql = ASSETS.format(cols="id") + " AND release_id = after_check(?)"
        ids = [i for (i,) in db.execute(sql, (big,))]
        assert len(ids) == 149
        assert gone not in ids
        assert [r.query.get("page") for r in emu.log] == [None, ["2"]]  # its own listing


# statements run while another is being read ----------------------------------------------

RELEASES_WITH_ASSET_COUNTS = (
    "SELECT r.id, (SELECT count(*) FROM release_assets a"
    " WHERE a.owner = r.owner AND a.repo = r.repo AND a.release_id = r.id)"
    " FROM releases r WHERE r.owner = 'acme' AND r.repo = 'tool'"
)


def test_a_statement_run_per_row_leaves_the_outer_join_its_embedded_assets(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute("CREATE TEMP TABLE local(id, n)")
    for row in db.cursor().execute(RELEASES_WITH_ASSET_COUNTS):
        db.execute("INSERT INTO local VALUES (?, ?)", row)
    assert db.execute("SELECT id, n FROM local ORDER BY id").fetchall() == [
        (acme.old, 1),
        (acme.new, 3),
        (acme.new + 1, 0),
    ]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]


NAMES_OF_RELEASE = (
    "(SELECT group_concat(a.name) FROM release_assets a"
    " WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = j.value)"
)


@pytest.mark.parametrize(
    ("cell", "first"),
    [
        # The subquery's cursor is opened for the first row, before the DELETE.
        (NAMES_OF_RELEASE, "tool-1.0.0.zip"),
        # SQLite opens it only when the CASE first needs it: on the second row, after the
        # DELETE ran.
        (f"CASE WHEN j.value <> :new THEN NULL ELSE {NAMES_OF_RELEASE} END", None),
    ],
)
def test_a_statement_run_in_between_hands_the_outer_one_none_of_its_listings(
    acme: Acme, db: apsw.Connection, cell: str, first: str | None
) -> None:
    outer = db.cursor().execute(
        f"SELECT j.value, {cell} FROM json_each(:ids) j",
        {"ids": f"[{acme.old}, {acme.new}]", "new": acme.new},
    )
    assert next(outer) == (acme.old, first)
    # This DELETE lists the repository's releases, then deletes one of their assets.
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND name = 'notes.txt'"
    )
    assert acme.emu.get_asset(acme.notes["id"]) is None
    ((release, names),) = list(outer)
    assert release == acme.new
    assert sorted(names.split(",")) == ["broken.bin", "tool-1.1.0.tar.gz"]


def test_a_statement_run_in_between_hands_the_outer_one_none_of_its_rows(
    acme: Acme, db: apsw.Connection
) -> None:
    notes = acme.notes["id"]
    outer = db.cursor().execute(
        "SELECT j.value, (SELECT a.name FROM release_assets a"
        " WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.id = j.value)"
        " FROM json_each(?) j",
        (f"[{acme.tar['id']}, {notes}]",),
    )
    assert next(outer) == (acme.tar["id"], "tool-1.1.0.tar.gz")
    # This DELETE reads the asset by id (its name is tested), then deletes it.
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
        " AND name = 'notes.txt'",
        (notes,),
    )
    assert acme.emu.get_asset(notes) is None
    assert list(outer) == [(notes, None)]


def test_a_tag_probed_per_outer_row_is_fetched_once_per_statement(
    acme: Acme, db: apsw.Connection
) -> None:
    rows = db.execute(
        "SELECT j.value, (SELECT r.id FROM releases r WHERE r.owner = 'acme'"
        " AND r.repo = 'tool' AND r.tag_name = j.value) FROM json_each(?) j",
        ('["v1.1.0", "v1.1.0", "v1.1.0"]',),
    ).fetchall()
    assert rows == [("v1.1.0", acme.new)] * 3
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases/tags/v1.1.0"]


def test_embedded_assets_are_reused_within_one_statement_only(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
    release_id = acme.new
    acme.emu.clear_log()
    sql = (
        "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = ?"
    )
    db.execute(sql, (release_id,)).fetchall()
    assert len(acme.emu.log) == 1  # a new statement asks GitHub again


def test_join_that_supplies_keys_works(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        "SELECT a.name FROM (SELECT 'acme' AS o, 'tool' AS r) k "
        "JOIN release_assets a ON a.owner = k.o AND a.repo = k.r WHERE a.name LIKE '%.zip'"
    ).fetchall()
    assert rows == [("tool-1.0.0.zip",)]
    assert len(acme.emu.log) == 1


# filters left to SQLite, OR, missing keys -------------------------------------------------


def test_a_cursor_filtered_again_starts_afresh(acme: Acme, db: apsw.Connection) -> None:
    # SQLite filters the subquery's cursor once per release; a scan that stopped inside a
    # page (LIMIT 1) must not hand its leftover rows to the next one.
    rows = db.execute(
        "SELECT r.tag_name, (SELECT a.name || ' of ' || a.release_id FROM release_assets a "
        "WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = r.id "
        "LIMIT 1) FROM releases r WHERE r.owner = 'acme' AND r.repo = 'tool' ORDER BY r.id"
    ).fetchall()
    assert rows == [
        ("v1.0.0", f"tool-1.0.0.zip of {acme.old}"),
        ("v1.1.0", f"tool-1.1.0.tar.gz of {acme.new}"),
        ("v2.0.0-rc.1", None),
    ]


def test_exists_per_outer_row_sees_only_its_own_release(acme: Acme, db: apsw.Connection) -> None:
    rc = db.execute(
        "SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?",
        ("v2.0.0-rc.1",),
    ).fetchone()[0]
    db.execute("CREATE TEMP TABLE wanted(release_id INTEGER, has_assets INTEGER)")
    db.execute("INSERT INTO wanted(release_id) VALUES (?), (?), (?)", (acme.new, rc, acme.old))
    db.execute(
        "UPDATE wanted SET has_assets = EXISTS (SELECT 1 FROM release_assets a WHERE "
        "a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = wanted.release_id)"
    )
    assert db.execute("SELECT release_id, has_assets FROM wanted").fetchall() == [
        (acme.new, 1),
        (rc, 0),
        (acme.old, 1),
    ]


def test_like_filter_gives_right_rows(acme: Acme, db: apsw.Connection) -> None:
    sql = ASSETS.format(cols="name") + " AND release_id = ? AND name LIKE 'tool-%'"
    assert db.execute(sql, (acme.new,)).fetchall() == [("tool-1.1.0.tar.gz",)]
    assert len(acme.emu.log) == 1


def test_size_filter_gives_right_rows(acme: Acme, db: apsw.Connection) -> None:
    sql = ASSETS.format(cols="name") + " AND size > 3 ORDER BY name"
    assert db.execute(sql).fetchall() == [("notes.txt",), ("tool-1.1.0.tar.gz",)]
    assert len(acme.emu.log) == 1


def test_or_branches_with_keys_work(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        "SELECT name FROM release_assets WHERE (owner = 'acme' AND repo = 'tool' AND id = ?) "
        "OR (owner = 'mona' AND repo = 'dots' AND id = 1) "
        "OR (owner = 'acme' AND repo = 'tool' AND release_id = ?) ORDER BY name",
        (acme.tar["id"], acme.old),
    ).fetchall()
    assert rows == [("tool-1.0.0.zip",), ("tool-1.1.0.tar.gz",)]
    assert len(acme.emu.log) == 3


@pytest.mark.parametrize(
    "where",
    ["", "WHERE repo = 'tool'", "WHERE name = 'notes.txt'", "WHERE owner = 'acme' OR 1"],
)
def test_missing_keys_error_names_the_table_and_columns(
    acme: Acme, db: apsw.Connection, where: str
) -> None:
    with pytest.raises(MissingKeysError) as failure:
        db.execute(f"SELECT * FROM release_assets {where}").fetchall()
    assert str(failure.value) == (
        "release_assets needs owner (with repo, and release_id or id, to be cheap) in WHERE or "
        "a join"
    )
    assert acme.emu.log == []


def test_missing_keys_of_other_tables(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(MissingKeysError, match=r"^releases needs owner \(with repo"):
        db.execute("SELECT * FROM releases WHERE repo = 'tool'").fetchall()
    with pytest.raises(MissingKeysError, match=r"^repositories needs owner"):
        db.execute("SELECT * FROM repositories").fetchall()
    assert acme.emu.log == []
