"""Ctrl-C in the middle of a multi-row write: what the statement did on GitHub is said."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[1]


def test_ctrl_c_during_the_second_upload_names_the_first(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    draft = emulator.add_release("acme", "tool", "v1", draft=True)["id"]
    child: list[subprocess.Popen] = []
    emulator.add_fault(
        Fault(
            "meanwhile",
            method="POST",
            origin="uploads",
            after=1,  # the second upload: SIGINT while GitHub holds it
            call=lambda: os.kill(child[0].pid, signal.SIGINT),
        )
    )
    rows = ", ".join(f"('acme', 'tool', {draft}, '{name}', 'x')" for name in "abc")
    sql = f"INSERT INTO release_assets(owner, repo, release_id, name, data) VALUES {rows}"
    env = {
        **os.environ,
        "GH_TOKEN": TOKEN,
        "SQLGH_CACHE_DIR": str(tmp_path),
        "SQLGH_UPLOADS_URL": emulator.uploads_url,
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "sqlgh.cli", "--api-url", emulator.api_url, "-c", sql]
    child.append(subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env))
    _, err = child[0].communicate(timeout=60)
    assert child[0].returncode == 130
    first = next(a for a in emulator.list_assets("acme", "tool", draft) if a["name"] == "a")
    # Before: only "sqlgh: interrupted", though 'a' (and perhaps 'b') were on GitHub.
    assert (
        "interrupted while writing a row of release_assets. Already applied on GitHub by "
        f"this statement (not undone): uploaded 'a' (id {first['id']})"
    ) in err
    assert "may or may not have been applied" in err
    assert "c" not in {a["name"] for a in emulator.list_assets("acme", "tool", draft)}
    assert "Traceback" not in err
