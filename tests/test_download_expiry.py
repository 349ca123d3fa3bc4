"""Downloads survive the short life of GitHub's signed storage URLs (issue 18): 300 s
from the redirect. A resumed or late download asks the API for a fresh URL."""

from __future__ import annotations

from conftest import connect_to
from helpers import seed_acme

from sqlgh.emulator import Emulator, Fault
from sqlgh.emulator.storage import EXPIRES

BIG = 600_000  # large enough to be cut mid-body by a "drop"
SELECT_DATA = "SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"


def _storage_statuses(emu: Emulator) -> list[int]:
    return [r.status for r in emu.log if r.origin == "storage"]


def test_a_resumed_download_gets_a_fresh_url_after_the_first_expired(
    emulator: Emulator,
) -> None:
    acme = seed_acme(emulator)
    asset = emulator.add_asset("acme", "tool", acme.new, "big.bin", size=BIG)
    db = connect_to(emulator)
    emulator.add_fault(Fault("drop", origin="storage"))
    # Before the resume's request to the API, the first URL's 300 s pass.
    later = Fault(
        "meanwhile",
        origin="api",
        path=f"/releases/assets/{asset['id']}$",
        after=1,
        call=lambda: emulator.advance_signed_url_clock(EXPIRES + 1),
    )
    emulator.add_fault(later)
    emulator.clear_log()
    (data,) = db.execute(SELECT_DATA, (asset["id"],)).fetchone()
    assert data == emulator.asset_content(asset["id"])
    assert later.fired == 1
    assert 403 not in _storage_statuses(emulator)  # the expired URL was never used again


def test_a_url_that_expired_before_its_first_use_is_asked_for_again(
    emulator: Emulator,
) -> None:
    acme = seed_acme(emulator)
    db = connect_to(emulator)
    # The 300 s pass between the API's redirect and the request to storage.
    late = Fault(
        "meanwhile",
        origin="storage",
        call=lambda: emulator.advance_signed_url_clock(EXPIRES + 1),
    )
    emulator.add_fault(late)
    emulator.clear_log()
    (data,) = db.execute(SELECT_DATA, (acme.notes["id"],)).fetchone()
    assert data == emulator.asset_content(acme.notes["id"])
    assert _storage_statuses(emulator) == [403, 200]
