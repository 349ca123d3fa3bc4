"""What one statement learned, planned or was allowed is never seen by the next one: each
top-level statement has a ``StatementState`` of its own, made when it starts and dropped
when it ends, however it ends (done, failed, interrupted)."""

from __future__ import annotations

import _thread
import dataclasses

import pytest
import requests
from helpers import Acme

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.errors import SqlghError
from sqlgh.statement_state import StatementState
from sqlgh.tables.spec import StatementNotes
from tests.conftest import TOKEN, connect_to

AUTH = {"Authorization": f"Bearer {TOKEN}"}
RENAME = (
    "UPDATE release_assets SET name = {name} WHERE owner = 'acme' AND repo = 'tool' "
    "AND {where}"
)


def _probe(db: sqlgh.Connection) -> list[StatementState]:
    """Register probe(): it notes the state of the statement that calls it."""
    seen: list[StatementState] = []

    def probe() -> int:
        seen.append(db.sqlgh.statement)
        return 1

    db.create_scalar_function("probe", probe, 0)
    return seen


def _end_second_row(emu: Emulator, release_id: int, how: str) -> None:
    """Make a dry-run rename's second row end its statement as ``how`` says: "done" (no
    fault), "failed" (GitHub answers 500 to the row's read of the release's assets) or
    "interrupted" (Ctrl-C, as SIGINT reaches the main thread, while GitHub holds it)."""
    assets = f"/releases/{release_id}/assets"  # each row's; the scan reads the release
    if how == "failed":
        emu.add_fault(Fault("status", method="GET", path=assets, after=1, times=-1))
    elif how == "interrupted":
        emu.add_fault(
            Fault("meanwhile", method="GET", path=assets, after=1, call=_thread.interrupt_main)
        )


@pytest.mark.parametrize("how", ["done", "failed", "interrupted"])
def test_every_field_of_the_next_statements_state_starts_fresh(acme: Acme, how: str) -> None:
    db = connect_to(acme.emu)
    seen = _probe(db)
    session = db.sqlgh
    session.dry_run = True
    # what the shell hands a statement it counted: this one takes it
    session.confirmed = {("asset", acme.tar["id"]): None}
    # a dry-run rename of two rows: the first plans its name and is visited by rowid
    # (readfile() of a missing file notes it), the second ends the statement as `how` says
    update = RENAME.format(
        name="'renamed-' || id || coalesce(readfile('/no/such/file'), '')",
        where=f"release_id = {acme.new} AND state = 'uploaded' AND probe()",
    )
    _end_second_row(acme.emu, acme.new, how)
    if how == "done":
        db.execute(update)
    else:
        with pytest.raises((SqlghError, KeyboardInterrupt)):
            db.execute(update)
    first = seen[-1]
    assert first.confirmed == {("asset", acme.tar["id"]): None}
    assert first.rows_by_rowid and first.api.notes.planned_names
    assert first.api.notes.unread_files
    assert session.confirmed is None  # taken by that statement, not left for the next
    db.execute("SELECT probe()").fetchall()
    after = seen[-1]
    assert after is not first
    assert after.fetches is not first.fetches
    assert after.api.statement is not first.api.statement  # the facts of releases
    fresh = StatementState.start(session.api)
    for field in dataclasses.fields(StatementState):
        if field.name not in ("fetches", "sql"):
            assert getattr(after, field.name) == getattr(fresh, field.name), field.name
    assert after.api.notes == StatementNotes()
    assert after.sql == "SELECT probe()"


def test_a_dry_run_rename_planned_by_a_failed_statement_does_not_hold_a_name(
    acme: Acme,
) -> None:
    db = connect_to(acme.emu)
    _end_second_row(acme.emu, acme.new, "failed")
    db.sqlgh.dry_run = True
    both = f"release_id = {acme.new} AND state = 'uploaded'"
    with pytest.raises(SqlghError):
        db.execute(RENAME.format(name="'taken.txt'", where=both))
    acme.emu.clear_faults()
    # the failed statement planned taken.txt for its first row: the next may plan it again
    db.execute(RENAME.format(name="'taken.txt'", where=f"id = {acme.notes['id']}"))
    assert [r.method for r in acme.emu.log if r.method in ("PATCH", "POST", "DELETE")] == []


def test_the_shells_count_holds_for_the_statement_that_takes_it_only(acme: Acme) -> None:
    db = connect_to(acme.emu)
    # counted for another asset; the next statement to start (a SELECT without a cursor
    # on any sqlgh table) takes it, and it ends with that statement
    db.sqlgh.confirmed = {("asset", acme.old_asset["id"]): None}
    db.execute("SELECT 1").fetchall()
    # before: the count outlived the SELECT (a statement without a cursor left it
    # running), and this DELETE was refused: "appeared after the statement was counted"
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (acme.notes["id"],),
    )
    assert "notes.txt" not in {a["name"] for a in acme.emu.list_assets("acme", "tool", acme.new)}


def test_an_interrupted_write_leaves_no_applied_writes_to_the_next_statement(
    emulator: Emulator,
) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    draft = emulator.add_release("acme", "tool", "v1", draft=True)["id"]
    # Ctrl-C while GitHub holds the second upload (as SIGINT reaches the main thread)
    emulator.add_fault(
        Fault("meanwhile", method="POST", origin="uploads", after=1, call=_thread.interrupt_main)
    )
    db = connect_to(emulator)
    rows = ", ".join(f"('acme', 'tool', {draft}, '{name}', 'x')" for name in "abc")
    insert = "INSERT INTO release_assets(owner, repo, release_id, name, data) VALUES "
    with pytest.raises(KeyboardInterrupt):
        db.execute(insert + rows)
    assert "a" in {a["name"] for a in emulator.list_assets("acme", "tool", draft)}
    # the next statement's failure says what it did, not what the interrupted one did
    with pytest.raises(SqlghError) as failed:
        db.execute(insert + "('acme', 'tool', 999999, 'd', 'x')")
    assert "Nothing was changed on GitHub by this statement" in str(failed.value)
    assert "uploaded 'a'" not in str(failed.value)


def test_a_writes_release_lookups_are_its_own_statements(acme: Acme) -> None:
    """A dry-run rename finds the asset's release by the tag in its download URL; the
    next statement must ask again, not reuse the release id the last one found."""
    db = connect_to(acme.emu)
    db.sqlgh.dry_run = True
    db.execute(RENAME.format(name="'fine.txt'", where=f"id = {acme.tar['id']}"))
    # meanwhile, someone deletes release v1.1.0 and publishes v1.1.0 again
    api = f"{acme.emu.api_url}/repos/acme/tool/releases"
    assert requests.delete(f"{api}/{acme.new}", headers=AUTH, timeout=10).status_code == 204
    again = acme.emu.add_release("acme", "tool", "v1.1.0")["id"]
    moved = acme.emu.add_asset("acme", "tool", again, "a.bin", content=b"a")
    acme.emu.add_asset("acme", "tool", again, "taken.txt", content=b"t")
    # before: checked against the deleted release the first statement found (a 404,
    # or no conflict), not the release the tag names now, where the name is taken
    with pytest.raises(SqlghError, match="that name is taken in its release"):
        db.execute(RENAME.format(name="'taken.txt'", where=f"id = {moved['id']}"))
