"""ROLLBACK undoes nothing on GitHub: the ``sqlgh`` shell says so on standard error.

Run through the real ``sqlgh`` command against the emulator.
"""

from __future__ import annotations

import pytest
from cli_helpers import sqlgh

from sqlgh.emulator import Emulator

WARNING = "sqlgh: warning: ROLLBACK undid nothing on GitHub"


@pytest.fixture
def release(emulator: Emulator) -> int:
    """acme/tool with release v1 holding kept.txt; its id."""
    emulator.add_repo("acme", "tool")
    release_id = int(emulator.add_release("acme", "tool", "v1")["id"])
    emulator.add_asset("acme", "tool", release_id, "kept.txt", content=b"kept")
    return release_id


def insert(release_id: int, name: str, mode: str = "") -> str:
    return (
        f"INSERT {mode} INTO release_assets (owner, repo, release_id, name, data) "
        f"VALUES ('acme', 'tool', {release_id}, '{name}', 'bytes of {name}')"
    )


def c_options(commands: list[str]) -> list[str]:
    """``-c`` before each command."""
    return [part for command in commands for part in ("-c", command)]


def names(emulator: Emulator, release_id: int) -> list[str]:
    return sorted(a["name"] for a in emulator.list_assets("acme", "tool", release_id))


def test_rollback_after_writes_warns_and_lists_them(emulator: Emulator, release: int) -> None:
    kept = emulator.list_assets("acme", "tool", release)[0]["id"]
    delete = f"DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = {kept}"
    commands = ["BEGIN", insert(release, "new.txt"), delete, "ROLLBACK"]
    result = sqlgh(*c_options(commands), api_url=emulator.api_url, uploads_url=emulator.uploads_url)
    assert result.returncode == 0, result.stderr
    assert names(emulator, release) == ["new.txt"]  # both writes stayed done
    (new,) = emulator.list_assets("acme", "tool", release)
    assert result.stderr.count(WARNING) == 1
    assert f"stay done: uploaded 'new.txt' (id {new['id']}); deleted asset {kept}." in (
        result.stderr
    )
    assert 'docs/writing.md, "Transactions"' in result.stderr


def test_no_warning_without_a_write_to_roll_back(emulator: Emulator, release: int) -> None:
    select = (
        f"SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
        f"AND release_id = {release}"
    )
    commands = [
        *("BEGIN", insert(release, "one.txt"), "COMMIT"),  # committed: nothing to undo
        # a read, and an INSERT OR IGNORE that keeps what is there: nothing done on GitHub
        *("BEGIN", select, insert(release, "one.txt", "OR IGNORE"), "ROLLBACK"),
    ]
    result = sqlgh(*c_options(commands), api_url=emulator.api_url, uploads_url=emulator.uploads_url)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert names(emulator, release) == ["kept.txt", "one.txt"]


def test_failed_statement_outside_a_transaction_is_not_warned_twice(
    emulator: Emulator, release: int
) -> None:
    """Without BEGIN, SQLite rolls a failed statement back; its error already says what
    it did on GitHub."""
    both = f"{insert(release, 'two.txt')}; {insert(release, 'kept.txt')}"
    result = sqlgh("-c", both, api_url=emulator.api_url, uploads_url=emulator.uploads_url)
    assert result.returncode == 1
    assert "already has an asset named 'kept.txt'" in result.stderr
    assert "warning" not in result.stderr


def test_transaction_left_open_at_exit_warns(emulator: Emulator, release: int) -> None:
    commands = c_options(["BEGIN", insert(release, "late.txt")])
    result = sqlgh(*commands, api_url=emulator.api_url, uploads_url=emulator.uploads_url)
    assert result.returncode == 0, result.stderr
    assert "sqlgh: warning: the transaction left open is rolled back at exit" in result.stderr
    assert "uploaded 'late.txt'" in result.stderr
    assert names(emulator, release) == ["kept.txt", "late.txt"]
