"""The wait for an upload's answer grows with the upload (issue 14 review, item 13):
GitHub answers once it has taken in the whole body, which for a large asset can take far
longer than read_timeout. A successful upload must not be judged failed for it."""

from __future__ import annotations

import time

import pytest
from conftest import connect_to
from helpers import seed_one_asset

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import WriteError
from sqlgh.github.transfer import upload_answer_wait

INSERT = (
    "INSERT INTO release_assets(owner, repo, release_id, name, data) "
    "VALUES ('acme', 'tool', ?, ?, ?)"
)
QUICK = {"retry_backoff": 0, "upload_attempts": 1, "cache": False}


def test_the_wait_grows_by_four_minutes_per_gib() -> None:
    assert upload_answer_wait(30, 0) == 30
    assert upload_answer_wait(30, 2 << 30) == 30 + 480  # GitHub's largest asset, 2 GiB
    assert upload_answer_wait(0.1, 2 << 20) == pytest.approx(0.1 + 0.46875)


def test_a_large_upload_answered_after_read_timeout_is_not_judged_failed(
    emulator: Emulator, capsys
) -> None:
    """2 MiB with read_timeout 0.1 s: the answer may take 0.57 s; it takes 0.3 s. It was
    cut at 0.1 s, and the upload judged failed, cleaned up or sent again."""
    release = seed_one_asset(emulator)
    emulator.add_fault(Fault("slow", origin="uploads", method="POST", delay=0.3))
    db = connect_to(emulator, read_timeout=0.1, **QUICK)
    emulator.clear_log()
    data = bytes(range(256)) * (8 << 10)  # 2 MiB
    db.execute(INSERT, (release["id"], "big.bin", data))
    sent = [(r.origin, r.method) for r in emulator.log]
    assert sent[-1] == ("uploads", "POST") and sent.count(("uploads", "POST")) == 1, sent
    [asset] = [a for a in emulator.list_assets("acme", "tool", release["id"])
               if a["name"] == "big.bin"]  # fmt: skip
    assert (asset["size"], asset["state"]) == (len(data), "uploaded")
    assert capsys.readouterr().err == ""


def test_a_small_upload_left_unanswered_still_fails_after_read_timeout(
    emulator: Emulator,
) -> None:
    release = seed_one_asset(emulator)
    emulator.add_fault(Fault("slow", origin="uploads", method="POST", delay=3))
    db = connect_to(emulator, read_timeout=0.2, **QUICK)
    started = time.monotonic()
    with pytest.raises(WriteError) as failure:
        db.execute(INSERT, (release["id"], "small.txt", b"ten bytes!"))
    assert time.monotonic() - started < 2.5
    assert (
        "GitHub sent no answer for 0.2 s after the 10 bytes of the upload (the wait for an "
        "upload's answer is read_timeout plus 4 min per GiB uploaded; to wait longer, raise "
        "read_timeout: sqlgh -o read_timeout=300 in the shell, "
        "sqlgh.connect(read_timeout=300) in Python)"
    ) in str(failure.value)
