"""A keyed UPDATE skips the GET only for its own target row (the cursor SQLite asks for
every column), and no write pretends a missing asset exists: probes in subqueries, writes
during a read, extra conditions. A DELETE always reads the asset first."""

from __future__ import annotations

import apsw
import pytest

from sqlgh.errors import SqlghError
from tests.helpers import Acme

MISSING = 2**40  # above every id the emulator hands out


@pytest.fixture
def wanted(acme: Acme, db: apsw.Connection) -> apsw.Connection:
    """A local table listing one asset that exists and one that does not."""
    db.execute("CREATE TABLE wanted(asset_id INTEGER, present INTEGER)")
    db.execute("INSERT INTO wanted(asset_id) VALUES (?), (?)", (acme.tar["id"], MISSING))
    acme.emu.clear_log()
    return db


PROBE = (
    "EXISTS (SELECT 1 FROM release_assets r "
    "WHERE r.owner = 'acme' AND r.repo = 'tool' AND r.id = wanted.asset_id)"
)


def test_probe_in_an_update_of_a_local_table_reads_github(acme: Acme, wanted) -> None:
    wanted.execute(f"UPDATE wanted SET present = {PROBE}")
    rows = wanted.execute("SELECT asset_id, present FROM wanted ORDER BY asset_id").fetchall()
    assert rows == [(acme.tar["id"], 1), (MISSING, 0)]


def test_probe_in_a_delete_from_a_local_table_reads_github(acme: Acme, wanted) -> None:
    wanted.execute(f"DELETE FROM wanted WHERE NOT {PROBE}")
    assert wanted.execute("SELECT asset_id FROM wanted").fetchall() == [(acme.tar["id"],)]


def test_a_write_run_while_a_select_is_read_does_not_change_the_select(
    acme: Acme, db: apsw.Connection
) -> None:
    ids = f"[{acme.tar['id']}, {acme.notes['id']}, {MISSING}]"
    select = (
        f"SELECT j.value, a.name FROM json_each('{ids}') j CROSS JOIN release_assets a "
        "ON a.owner = 'acme' AND a.repo = 'tool' AND a.id = j.value"
    )
    seen = []
    for asset_id, name in db.execute(select):
        seen.append(name)
        db.execute(
            "UPDATE release_assets SET label = 'seen' WHERE owner = 'acme' AND repo = 'tool' "
            "AND id = ?",
            (asset_id,),
        )
    assert seen == [acme.tar["name"], acme.notes["name"]]
    assert acme.emu.get_asset(acme.notes["id"])["label"] == "seen"


def test_keyed_update_with_another_condition_skips_a_missing_id(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute(
        "UPDATE release_assets SET label = 'X' WHERE owner = 'acme' AND repo = 'tool' "
        f"AND id IN ({acme.tar['id']}, {MISSING}) AND state = 'uploaded'"
    )
    assert db.changes() == 1
    assert acme.emu.get_asset(acme.tar["id"])["label"] == "X"


def test_keyed_delete_in_the_wrong_repository_deletes_nothing(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tol' AND id = ?",
        (acme.tar["id"],),
    )
    assert db.changes() == 0
    assert [(r.method, r.status) for r in acme.emu.log] == [("GET", 404)]
    assert acme.emu.get_asset(acme.tar["id"]) is not None


def test_keyed_delete_reads_the_asset_first(acme: Acme, db: apsw.Connection) -> None:
    acme.emu.clear_log()
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (acme.notes["id"],),
    )
    assert [(r.method, r.status) for r in acme.emu.log] == [("GET", 200), ("DELETE", 204)]


@pytest.mark.parametrize("probed", ["release_assets", "assets_view"])
def test_a_probe_of_the_target_table_in_a_keyed_delete_reads_github(
    acme: Acme, db: apsw.Connection, probed: str
) -> None:
    db.execute("CREATE TEMP VIEW assets_view AS SELECT * FROM release_assets")
    # The probe asks for an asset that does not exist: nothing may be deleted.
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
        f" AND EXISTS (SELECT 1 FROM {probed} b WHERE b.owner = 'acme'"
        " AND b.repo = 'tool' AND b.id = ?)",
        (acme.notes["id"], MISSING),
    )
    assert acme.emu.get_asset(acme.notes["id"]) is not None


@pytest.mark.parametrize("probe", ["SELECT 1", "SELECT *", "SELECT b.id"])
def test_a_probe_of_the_target_table_in_a_keyed_update_reads_github(
    acme: Acme, db: apsw.Connection, probe: str
) -> None:
    db.execute(
        "UPDATE release_assets SET label = 'probed' WHERE owner = 'acme' AND repo = 'tool'"
        f" AND id = ? AND EXISTS ({probe} FROM release_assets b WHERE b.owner = 'acme'"
        " AND b.repo = 'tool' AND b.id = ?)",
        (acme.notes["id"], MISSING),
    )
    assert acme.emu.get_asset(acme.notes["id"])["label"] != "probed"


def test_a_function_that_runs_a_statement_mid_delete_keeps_the_rows_it_read(
    acme: Acme, db: apsw.Connection
) -> None:
    def seen(name: str) -> int:
        db.execute("SELECT 1").fetchall()
        return 1

    db.create_scalar_function("seen", seen, 1)
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
        " AND release_id = ? AND name != 'broken.bin' AND seen(name)",
        (acme.new,),
    )
    assert [a["name"] for a in acme.emu.list_assets("acme", "tool", acme.new)] == ["broken.bin"]


# A statement SQLite prepares again after a schema change reports an end before its first
# cursor, then runs on.


def test_a_schema_change_hands_a_cached_statement_no_other_statements_rows(
    acme: Acme, db: apsw.Connection
) -> None:
    names = (
        "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
        " AND release_id = ? ORDER BY name"
    )
    db.execute(names, (acme.new,)).fetchall()  # now in APSW's statement cache
    outer = db.cursor().execute(
        "SELECT j.value, (SELECT group_concat(a.name) FROM release_assets a"
        " WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = j.value)"
        " FROM json_each(?) j",
        (f"[{acme.new}, {acme.old}]",),
    )
    next(outer)  # it has listed v1.1.0's assets, and stays open
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (acme.notes["id"],),
    )
    db.execute("CREATE TABLE local(x)")
    assert db.execute(names, (acme.new,)).fetchall() == [("broken.bin",), ("tool-1.1.0.tar.gz",)]


def test_a_schema_change_keeps_a_keyed_update_to_one_request(
    acme: Acme, db: apsw.Connection
) -> None:
    update = (
        "UPDATE release_assets SET label = 'x' WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
    )
    db.execute(update, (acme.notes["id"],))
    db.execute("CREATE TABLE local(x)")
    acme.emu.clear_log()
    db.execute(update, (acme.tar["id"],))
    assert [r.method for r in acme.emu.log] == ["PATCH"]


@pytest.mark.parametrize(
    "write",
    [
        "WITH x AS (SELECT 1) UPDATE release_assets SET label = 'x'"
        " WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        "/* relabel */ UPDATE main.release_assets AS a SET label = 'x'"
        " WHERE a.owner = 'acme' AND a.repo = 'tool' AND a.id IN (?)",
    ],
)
def test_an_update_is_known_by_what_sqlite_asks_not_by_its_text(
    acme: Acme, db: apsw.Connection, write: str
) -> None:
    db.execute(write, (acme.notes["id"],))
    assert [r.method for r in acme.emu.log] == ["PATCH"]
    assert acme.emu.get_asset(acme.notes["id"])["label"] == "x"


@pytest.mark.parametrize("prepared_again", [False, True])
def test_a_probe_run_by_a_function_in_a_keyed_delete_reads_github(
    acme: Acme, db: apsw.Connection, prepared_again: bool
) -> None:
    def exists(asset_id: int) -> int:
        probe = "SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
        return db.execute(probe + " AND id = ?", (asset_id,)).fetchall()[0][0]

    db.create_scalar_function("asset_exists", exists, 1)
    delete = (
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
        " AND asset_exists(?)"
    )
    if prepared_again:  # the probe in APSW's statement cache, then a schema change
        db.execute(delete, (acme.notes["id"], MISSING))
        db.execute("CREATE TABLE local(x)")
    db.execute(delete, (acme.notes["id"], MISSING))
    assert acme.emu.get_asset(acme.notes["id"]) is not None


@pytest.mark.parametrize("schema", ["temp", "snap"])
def test_a_probe_in_a_trigger_of_a_local_table_named_release_assets_reads_github(
    acme: Acme, db: apsw.Connection, schema: str
) -> None:
    # A local table named like the virtual table (a snapshot, say), with a sync trigger.
    db.execute("ATTACH ':memory:' AS snap")
    db.execute(f"CREATE TABLE {schema}.release_assets(owner, repo, id, replacement)")
    db.execute(
        f"INSERT INTO {schema}.release_assets VALUES ('acme', 'tool', ?, ?)",
        (acme.notes["id"], MISSING),
    )
    db.execute(
        f"CREATE TEMP TRIGGER sync AFTER DELETE ON {schema}.release_assets BEGIN"
        " DELETE FROM main.release_assets WHERE owner = old.owner AND repo = old.repo"
        " AND id = old.id AND EXISTS (SELECT 1 FROM main.release_assets b"
        " WHERE b.owner = old.owner AND b.repo = old.repo AND b.id = old.replacement); END"
    )
    db.execute(f"DELETE FROM {schema}.release_assets WHERE id = ?", (acme.notes["id"],))
    assert acme.emu.get_asset(acme.notes["id"]) is not None


def test_a_probe_through_in_view_reads_github(acme: Acme, db: apsw.Connection) -> None:
    db.execute("CREATE TABLE wanted(asset_id INTEGER)")
    db.execute("INSERT INTO wanted VALUES (?)", (MISSING,))
    db.execute(
        "CREATE TEMP VIEW present AS SELECT w.asset_id AS id FROM wanted w"
        " CROSS JOIN release_assets b ON b.owner = 'acme' AND b.repo = 'tool'"
        " AND b.id = w.asset_id"
    )
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
        " AND ? IN present",
        (acme.notes["id"], MISSING),
    )
    assert acme.emu.get_asset(acme.notes["id"]) is not None


def test_a_probe_stepped_by_a_function_reads_github(acme: Acme, db: apsw.Connection) -> None:
    # A statement started earlier and stepped by a function opens its cursor late, with
    # no trace event.
    outer = db.cursor().execute(
        "SELECT j.value, CASE WHEN j.value > 0 THEN (SELECT count(*) FROM release_assets b"
        " WHERE b.owner = 'acme' AND b.repo = 'tool' AND b.id = j.value) END"
        " FROM json_each(?) j",
        (f"[0, {MISSING}]",),
    )
    next(outer)
    db.create_scalar_function("replacement_exists", lambda: next(outer)[1], 0)
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
        " AND replacement_exists()",
        (acme.notes["id"],),
    )
    assert acme.emu.get_asset(acme.notes["id"]) is not None


def test_a_cursor_a_function_keeps_does_not_make_later_keyed_writes_read(
    acme: Acme, db: apsw.Connection
) -> None:
    kept = []
    db.create_scalar_function(
        "keep", lambda: kept.append(db.execute("SELECT 1 UNION ALL SELECT 2")) or 1, 0
    )
    db.execute("SELECT keep()").fetchall()
    acme.emu.clear_log()
    db.execute(
        "UPDATE release_assets SET label = 'x' WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (acme.notes["id"],),
    )
    assert [r.method for r in acme.emu.log] == ["PATCH"]


# A statement SQLite prepared again reports a second end when its run is over; a cursor
# opened late after that takes none of its state.
LATE_PROBE = (
    "SELECT j.value, CASE WHEN j.value > 0 THEN (SELECT count(*) FROM release_assets b"
    " WHERE b.owner = 'acme' AND b.repo = 'tool' AND b.id = j.value) END"
    " FROM json_each(?) j"
)
KEYED_DELETE = "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"


def test_a_keyed_delete_prepared_again_hands_its_target_to_no_later_cursor(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute(LATE_PROBE, ("[0]",)).fetchall()  # both in APSW's statement cache
    db.execute(KEYED_DELETE, (acme.old_asset["id"],))
    db.execute("CREATE TABLE local(x)")  # both are prepared again on their next run
    outer = db.cursor().execute(LATE_PROBE, (f"[0, {MISSING}]",))
    next(outer)
    db.execute(KEYED_DELETE, (acme.notes["id"],))
    assert next(outer) == (MISSING, 0)


def test_a_delete_through_a_temp_view_named_release_assets_reads_github(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute("CREATE TABLE wanted(owner, repo, id)")
    db.execute(
        "INSERT INTO wanted VALUES ('acme', 'tool', ?), ('acme', 'tool', ?)",
        (acme.notes["id"], MISSING),
    )
    # A local shadow of the wanted assets GitHub has, forgotten through a trigger.
    db.execute(
        "CREATE TEMP VIEW release_assets AS SELECT w.owner, w.repo, w.id FROM main.wanted w"
        " WHERE EXISTS (SELECT 1 FROM main.release_assets b WHERE b.owner = w.owner"
        " AND b.repo = w.repo AND b.id = w.id)"
    )
    db.execute(
        "CREATE TEMP TRIGGER forget INSTEAD OF DELETE ON release_assets BEGIN"
        " DELETE FROM main.wanted WHERE id = old.id; END"
    )
    db.execute(KEYED_DELETE, (MISSING,))  # no such row in the view: nothing to forget
    assert db.execute("SELECT count(*) FROM main.wanted").fetchall() == [(2,)]


def test_a_keyed_write_led_by_a_line_comment_is_a_statement_of_its_own(
    acme: Acme, db: apsw.Connection
) -> None:
    db.execute(KEYED_DELETE, (acme.old_asset["id"],))
    acme.emu.clear_log()
    with pytest.raises(SqlghError) as failure:
        db.execute(
            "-- rename\nUPDATE release_assets SET name = 'tool-1.1.0.tar.gz'"
            " WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
            (acme.starter["id"],),
        )
    assert "Nothing was changed on GitHub by this statement" in str(failure.value)
    assert [r.method for r in acme.emu.log] == ["PATCH"]  # no read first


def test_a_function_that_runs_a_statement_mid_delete_prepared_again_keeps_its_rows(
    acme: Acme, db: apsw.Connection
) -> None:
    db.create_scalar_function("seen", lambda name: db.execute("SELECT 1").fetchall() and 1, 1)
    delete = (
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
        " AND release_id = ? AND name != 'broken.bin' AND seen(name)"
    )
    db.execute(delete, (None,))  # in APSW's statement cache
    db.execute("CREATE TABLE local(x)")  # prepared again on its next run
    db.execute(delete, (acme.new,))
    assert [a["name"] for a in acme.emu.list_assets("acme", "tool", acme.new)] == ["broken.bin"]
