"""A write GitHub gave no answer to in time may still be carried out after sqlgh's re-read:
its error says the outcome is unknown, never that nothing was changed (the INSERT of a
release: tests/test_release_writes.py)."""

from __future__ import annotations

import pytest

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.errors import WriteError
from tests.conftest import connect_to

CASES = [
    ("PATCH", r"/assets/\d+$", "UPDATE release_assets SET label = 'L'", "asset"),
    ("DELETE", r"/assets/\d+$", "DELETE FROM release_assets", "asset"),
    ("PATCH", r"/releases/\d+$", "UPDATE releases SET name = 'n'", "release"),
    ("DELETE", r"/releases/\d+$", "DELETE FROM releases", "release"),
]


@pytest.mark.parametrize(("method", "path", "sql", "target"), CASES)
def test_a_write_that_timed_out_is_not_said_to_have_changed_nothing(
    emulator: Emulator, method: str, path: str, sql: str, target: str
) -> None:
    # Every attempt stalls (GitHub acts after sqlgh stopped waiting); the re-read comes
    # first. Before: "GitHub now shows ..., so nothing was changed", "it is still there",
    # or a bare timeout, each with "Nothing was changed on GitHub by this statement".
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    ids = {"release": emulator.add_release("acme", "tool", "v1", draft=True)["id"]}
    ids["asset"] = emulator.add_asset("acme", "tool", ids["release"], "a.bin", content=b"x")["id"]
    emulator.add_fault(Fault("slow", method=method, path=path, delay=0.6, times=-1))
    db = connect_to(emulator, read_timeout=0.1)
    with pytest.raises(WriteError) as failure:
        db.execute(f"{sql} WHERE owner = 'acme' AND repo = 'tool' AND id = {ids[target]}")
    message = str(failure.value)
    assert f"the {method} may still be carried out" in message
    assert "nothing was changed" not in message.lower()


def test_an_upload_that_timed_out_is_not_said_to_have_left_nothing(emulator: Emulator) -> None:
    # Each attempt stalls; GitHub makes the asset after sqlgh's last look. Before: "nothing
    # half-uploaded was left behind. Nothing was changed on GitHub by this statement".
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    draft = emulator.add_release("acme", "tool", "v1", draft=True)["id"]
    emulator.add_fault(Fault("slow", method="POST", origin="uploads", delay=0.6, times=-1))
    db = connect_to(emulator, read_timeout=0.1)
    with pytest.raises(WriteError) as failure:
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, name, data) "
            f"VALUES ('acme', 'tool', {draft}, 'b.bin', 'y')"
        )
    message = str(failure.value)
    assert "the last POST may still be carried out" in message and "Check with:" in message
    assert "Nothing was changed" not in message and "nothing half-uploaded" not in message
