"""Writes that tell the truth (issue 14, parts 6 to 9), over real HTTP against the emulator:
errors say what changed on GitHub, replaces survive a concurrent writer and Ctrl-C,
clean-up deletes only its own half-made upload, and names GitHub changes are recognised."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import apsw
import pytest
import requests
from conftest import TOKEN, connect_to
from helpers import Acme

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import SqlghError, WriteError

KEYED = "WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
INSERT = (
    "INSERT {mode} INTO release_assets(owner, repo, release_id, name, data) "
    "VALUES ('acme', 'tool', ?, ?, ?)"
)
OUTAGE = Fault("status", status=503, times=-1)  # every request from then on
EXOTIC = "a5_ð_æ_©_ŋ.txt"  # stored as a5_d_ae_._ng.txt (travis-ci/dpl#821)
STORED = "a5_d_ae_._ng.txt"
HOP = r"^/repositories/"  # where a write to a renamed repository is sent again (307)


def insert(db: apsw.Connection, release_id: int, name: str, data: bytes, mode: str = "") -> int:
    db.execute(INSERT.format(mode=mode), (release_id, name, data))
    return db.last_insert_rowid()


def assets(acme: Acme) -> dict[str, dict]:
    """The release v1.1.0's assets by name."""
    return {a["name"]: a for a in acme.emu.list_assets("acme", "tool", acme.new)}


def temporary(acme: Acme) -> list[str]:
    return sorted(name for name in assets(acme) if name.startswith("sqlgh-"))


def outage_after(fault: Fault) -> list[Fault]:
    """``fault``, then every later request answered 503."""
    return [fault, Fault("status", status=503, times=-1, after=fault.after)]


# part 6: errors tell the truth about what changed -----------------------------------------


def test_keyed_delete_whose_answer_was_lost_is_done(acme: Acme, db: apsw.Connection) -> None:
    # GitHub deleted the asset, the answer was lost; the retry's 404 means it is gone.
    acme.emu.add_fault(Fault("lost", method="DELETE"))
    db.execute(f"DELETE FROM release_assets {KEYED}", (acme.notes["id"],))
    assert db.changes() == 1
    assert acme.emu.get_asset(acme.notes["id"]) is None


def test_keyed_delete_of_a_wrong_id_deletes_nothing(acme: Acme, db: apsw.Connection) -> None:
    db.execute(f"DELETE FROM release_assets {KEYED}", (999,))  # read first: no such row
    assert db.changes() == 0
    assert [r.method for r in acme.emu.log] == ["GET"]


def lose_the_redirected_hop(acme: Acme, method: str) -> None:
    """Rename acme/tool: a write to its old path is sent again to /repositories/ID/...
    (307); that hop of ``method`` is carried out and its answer lost."""
    acme.emu.rename_repo("acme", "tool", "tool2")
    acme.emu.add_fault(Fault("lost", method=method, path=HOP))


def test_a_lost_delete_in_a_renamed_repository_is_not_reported_as_nothing_changed(
    acme: Acme, db: apsw.Connection
) -> None:
    # The retry's 404 means this statement deleted the asset.
    lose_the_redirected_hop(acme, "DELETE")
    db.execute(f"DELETE FROM release_assets {KEYED}", (acme.notes["id"],))
    assert (db.changes(), acme.emu.get_asset(acme.notes["id"])) == (1, None)


def test_a_lost_update_in_a_renamed_repository_is_judged_by_reading_it(
    acme: Acme, db: apsw.Connection
) -> None:
    lose_the_redirected_hop(acme, "PATCH")  # then every later hop answers 503
    acme.emu.add_fault(Fault("status", status=503, method="PATCH", path=HOP, times=-1))
    db.execute(f"UPDATE release_assets SET label = 'L' {KEYED}", (acme.notes["id"],))
    assert acme.emu.get_asset(acme.notes["id"])["label"] == "L"


def test_delete_answered_by_a_page_not_from_github_is_checked(
    acme: Acme, db: apsw.Connection
) -> None:
    # A 200 HTML page (a proxy's) instead of GitHub's 204: the asset is still there.
    acme.emu.add_fault(Fault("non_json", method="DELETE"))
    with pytest.raises(SqlghError, match="answered 200, not 204"):
        db.execute(f"DELETE FROM release_assets {KEYED}", (acme.notes["id"],))
    assert acme.emu.get_asset(acme.notes["id"]) is not None


def test_update_whose_answer_was_lost_is_judged_by_reading_it(
    acme: Acme, db: apsw.Connection
) -> None:
    # The PATCH landed, its answer was lost, and every retry met a 503: the asset, read
    # again, has the new label: the UPDATE is done.
    acme.emu.add_fault(Fault("lost", method="PATCH"))
    acme.emu.add_fault(Fault("status", status=503, method="PATCH", times=-1))
    db.execute(f"UPDATE release_assets SET label = 'L' {KEYED}", (acme.notes["id"],))
    assert acme.emu.get_asset(acme.notes["id"])["label"] == "L"


def test_update_refused_by_5xx_is_reported_unchanged_after_reading_it(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.add_fault(Fault("status", status=503, method="PATCH", times=-1))
    with pytest.raises(WriteError, match="answered 503") as failure:
        db.execute(f"UPDATE release_assets SET label = 'L' {KEYED}", (acme.notes["id"],))
    assert "GitHub now shows label = None, so nothing was changed" in str(failure.value)
    assert "Nothing was changed on GitHub by this statement" in str(failure.value)


@pytest.mark.parametrize(
    ("sql", "doing"),
    [
        (f"UPDATE release_assets SET label = 'L' {KEYED}", "UPDATE of asset {id} (label = 'L')"),
        (f"DELETE FROM release_assets {KEYED}", "DELETE of asset {id}"),
    ],
)
def test_write_then_outage_says_the_outcome_is_unknown(
    acme: Acme, db: apsw.Connection, sql: str, doing: str
) -> None:
    method = sql.split()[0].replace("UPDATE", "PATCH")
    reads = 1 if method == "DELETE" else 0  # a DELETE reads the asset first
    acme.emu.add_fault(Fault("lost", method=method))
    acme.emu.add_fault(Fault("status", status=503, times=-1, after=reads))
    with pytest.raises(WriteError) as failure:
        db.execute(sql, (acme.notes["id"],))
    text = str(failure.value)
    assert f"the outcome of {doing.format(id=acme.notes['id'])} is unknown" in text
    assert "Check with: SELECT id, name, label, state, size FROM release_assets WHERE " in text
    assert "Nothing was changed" not in text


def test_insert_then_outage_says_the_outcome_is_unknown(acme: Acme, db: apsw.Connection) -> None:
    # The upload landed, its answer was lost, then GitHub stopped answering.
    acme.emu.add_fault(Fault("lost", origin="uploads"))
    acme.emu.add_fault(Fault("status", status=503, origin="api", after=1, times=-1))
    with pytest.raises(WriteError) as failure:
        insert(db, acme.new, "landed.txt", b"landed")
    text = str(failure.value)
    assert "the outcome of the upload of 'landed.txt'" in text and "is unknown" in text
    assert f"release_id = {acme.new}" in text
    assert "Nothing was changed" not in text
    assert assets(acme)["landed.txt"]["state"] == "uploaded"  # it did land


@pytest.mark.parametrize("step", [0, 1])
def test_replace_then_outage_names_both_assets(
    acme: Acme, db: apsw.Connection, step: int
) -> None:
    # The rename of step 2 (old aside) or 3 (new into place) lands, its answer is lost,
    # then GitHub stops answering: the error names both assets and both possible names.
    acme.emu.add_fault(Fault("lost", method="PATCH", after=step))
    acme.emu.add_fault(Fault("status", status=503, origin="api", path="/assets/", times=-1))
    with pytest.raises(WriteError) as failure:
        insert(db, acme.new, "notes.txt", b"new notes", "OR REPLACE")
    text = str(failure.value)
    assert "is unknown" in text and "Nothing was changed" not in text
    for name, asset in assets(acme).items():
        if name.startswith("sqlgh-") or name == "notes.txt":
            assert f"{asset['id']} is named" in text and repr(name) in text


def test_leftover_of_a_failed_replace_is_listed_with_what_was_applied(
    acme: Acme, db: apsw.Connection
) -> None:
    # Two rows: the first replace is done; the second's old asset cannot be renamed and
    # its new upload cannot be deleted. The error lists the row applied and the leftover.
    other = acme.emu.add_asset("acme", "tool", acme.new, "other.txt", content=b"other")
    acme.emu.add_fault(
        Fault("status", status=500, method="PATCH", path=rf"/{other['id']}$", times=-1)
    )
    acme.emu.add_fault(Fault("status", status=500, method="DELETE", after=1, times=-1))
    with pytest.raises(WriteError) as failure:
        db.execute(
            "INSERT OR REPLACE INTO release_assets(owner, repo, release_id, name, data) "
            "VALUES ('acme', 'tool', ?1, 'notes.txt', x'01'), ('acme', 'tool', ?1, 'other.txt', "
            "x'02')",
            (acme.new,),
        )
    text = str(failure.value)
    (leftover,) = temporary(acme)
    assert f"the new upload remains as {leftover!r} (id {assets(acme)[leftover]['id']})" in text
    assert "Already applied on GitHub by this statement (not undone): replaced 'notes.txt'" in text
    assert "it is unchanged" not in text and "Nothing was changed" not in text


def test_put_back_never_advises_renaming_an_asset_that_is_gone(
    acme: Acme, db: apsw.Connection
) -> None:
    # Step 3 fails (5 attempts); before the old asset is renamed back, someone deletes it.
    old_id = acme.notes["id"]

    def delete_old() -> None:
        url = f"{acme.emu.api_url}/repos/acme/tool/releases/assets/{old_id}"
        requests.delete(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    acme.emu.add_fault(Fault("meanwhile", method="PATCH", after=6, call=delete_old))
    acme.emu.add_fault(Fault("status", status=500, method="PATCH", after=1, times=5))
    with pytest.raises(WriteError) as failure:
        insert(db, acme.new, "notes.txt", b"new notes", "OR REPLACE")
    text = str(failure.value)
    assert f"Rename asset {old_id}" not in text and f"id = {old_id}" not in text
    (kept,) = temporary(acme)
    assert f"the old asset {old_id} is gone" in text and repr(kept) in text


# part 7: a concurrent replace, and Ctrl-C ------------------------------------------------


def replace_by(emu: Emulator, release_id: int, data: bytes, failures: list[str]):
    """A function that runs another client's INSERT OR REPLACE of notes.txt."""

    def other() -> None:
        try:
            insert(connect_to(emu), release_id, "notes.txt", data, "OR REPLACE")
        except SqlghError as exc:
            failures.append(str(exc))

    return other


@pytest.mark.parametrize("step", [1, 2])
def test_concurrent_replace_loser_cleans_up_and_says_so(
    acme: Acme, db: apsw.Connection, step: int
) -> None:
    # Another client's whole replace of the name runs while this one's step 2 (rename
    # the old aside) or step 3 (rename the new into place) is on its way.
    theirs: list[str] = []
    other = replace_by(acme.emu, acme.new, b"their notes", theirs)
    acme.emu.add_fault(Fault("meanwhile", method="PATCH", after=step - 1, call=other))
    with pytest.raises(WriteError, match="another writer replaced it meanwhile") as failure:
        insert(db, acme.new, "notes.txt", b"my notes", "OR REPLACE")
    assert theirs == []
    now = assets(acme)
    assert temporary(acme) == []
    assert acme.emu.asset_content(now["notes.txt"]["id"]) == b"their notes"
    assert f"it is now asset {now['notes.txt']['id']}" in str(failure.value)
    assert f"Rename asset {acme.notes['id']}" not in str(failure.value)


def test_replaces_racing_in_threads_leave_no_orphan(acme: Acme) -> None:
    dbs = [connect_to(acme.emu), connect_to(acme.emu)]

    def writer(i: int, data: bytes, start: threading.Barrier, failures: list[str]) -> None:
        start.wait()
        try:
            insert(dbs[i], acme.new, "notes.txt", data, "OR REPLACE")
        except SqlghError as exc:
            failures.append(str(exc))

    for round_ in range(3):
        failures: list[str] = []
        start = threading.Barrier(2)
        datas = [f"{round_}:{i}".encode() for i in range(2)]
        threads = [
            threading.Thread(target=writer, args=(i, datas[i], start, failures)) for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert temporary(acme) == []
        assert acme.emu.asset_content(assets(acme)["notes.txt"]["id"]) in datas
        assert all("another writer replaced it meanwhile" in f for f in failures)


CHILD = """
import sys, sqlgh
db = sqlgh.connect(api_url=sys.argv[1], token=sys.argv[2], mutation_interval=0,
                   retry_backoff=0, cache=False, uploads_url=sys.argv[4])
try:
    db.execute("INSERT OR REPLACE INTO release_assets(owner, repo, release_id, name, data) "
               "VALUES ('acme', 'tool', ?, 'notes.txt', 'new notes')", (int(sys.argv[3]),))
    print("finished")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_during_the_rename_step_finishes_it_then_reports(acme: Acme) -> None:
    # Ctrl-C (SIGINT) reaches the writing process while GitHub holds its rename of the
    # old asset aside; the name must not be left missing.
    child: list[subprocess.Popen] = []
    acme.emu.add_fault(
        Fault("meanwhile", method="PATCH", call=lambda: os.kill(child[0].pid, signal.SIGINT))
    )
    root = str(Path(__file__).resolve().parents[1])
    child.append(
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                acme.emu.api_url,
                TOKEN,
                str(acme.new),
                acme.emu.uploads_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": root},
        )
    )
    out, err = child[0].communicate(timeout=60)
    assert out.strip() == "interrupted"
    now = assets(acme)
    assert acme.emu.asset_content(now["notes.txt"]["id"]) == b"new notes"
    (aside,) = temporary(acme)
    assert aside.startswith("sqlgh-old-") and now[aside]["id"] == acme.notes["id"]
    assert f"the old asset {acme.notes['id']} remains as {aside!r}" in err
    assert "Traceback" not in err


def test_ctrl_c_in_the_sqlgh_command_ends_without_a_traceback(acme: Acme, tmp_path) -> None:
    child: list[subprocess.Popen] = []
    acme.emu.add_fault(
        Fault("meanwhile", method="GET", call=lambda: os.kill(child[0].pid, signal.SIGINT))
    )
    sql = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
    env = {**os.environ, "GH_TOKEN": TOKEN, "SQLGH_CACHE_DIR": str(tmp_path)}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    command = [sys.executable, "-m", "sqlgh.cli", "--api-url", acme.emu.api_url, "-c", sql]
    child.append(subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env))
    _, err = child[0].communicate(timeout=60)
    assert child[0].returncode == 130
    assert "Traceback" not in err and err.strip().endswith("sqlgh: interrupted")


# part 8: clean-up deletes only what this upload made -------------------------------------


@pytest.mark.parametrize(
    ("uploader", "created_at"),
    [("mona", None), ("octocat", "2024-01-01T00:00:00Z")],
    ids=["another-account", "made-before"],
)
def test_clean_up_leaves_a_starter_that_is_not_this_uploads(
    acme: Acme, db: apsw.Connection, uploader: str, created_at: str | None
) -> None:
    # Another upload of the name is in progress (a starter, not this INSERT's), and this
    # INSERT's POST fails with a 502 before GitHub made anything.
    acme.emu.add_user("mona")
    theirs = acme.emu.add_asset(
        "acme", "tool", acme.new, "app.zip", content=b"", state="starter", uploader=uploader,
        **({"created_at": created_at} if created_at else {}),
    )
    acme.emu.add_fault(Fault("status", status=502, origin="uploads", method="POST"))
    with pytest.raises(WriteError, match=r"already has an asset named 'app\.zip'") as failure:
        insert(db, acme.new, "app.zip", b"mine")
    assert acme.emu.get_asset(theirs["id"]) is not None
    assert "not this one's" in str(failure.value) and "left as it is" in str(failure.value)
    assert "DELETE" not in [r.method for r in acme.emu.log]


# A GitHub App's token (Actions' GITHUB_TOKEN too) is refused GET /user
# (actions/create-github-app-token#258): GitHub does not tell its account.
APP_TOKEN = Fault("status", status=403, method="GET", path=r"^/user$", times=-1)


def test_an_app_tokens_account_is_learned_from_its_upload_to_judge_a_starter(
    acme: Acme, db: apsw.Connection
) -> None:
    # Once this connection has uploaded, the uploader GitHub returned is the token's
    # account: another account's starter made during this INSERT is left alone.
    acme.emu.add_fault(APP_TOKEN)
    insert(db, acme.new, "first.txt", b"one")
    acme.emu.add_user("mona")
    theirs = acme.emu.add_asset(
        "acme", "tool", acme.new, "app.zip", content=b"", state="starter", uploader="mona"
    )
    acme.emu.add_fault(Fault("status", status=502, origin="uploads", method="POST"))
    with pytest.raises(WriteError, match=r"a half-made upload by mona .*not this one's"):
        insert(db, acme.new, "app.zip", b"mine")
    assert acme.emu.get_asset(theirs["id"]) is not None


def test_a_starter_judged_by_its_time_alone_is_said_so(
    acme: Acme, db: apsw.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    acme.emu.add_fault(APP_TOKEN)
    acme.emu.add_fault(Fault("upload_502_starter"))
    asset_id = insert(db, acme.new, "app.zip", b"mine")
    assert acme.emu.asset_content(asset_id) == b"mine"
    note = capsys.readouterr().err
    assert "deleted the half-made asset 'app.zip'" in note
    assert "by its creation time alone" in note and "uploader (octocat) could not be" in note


# part 9: names GitHub changes --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["OR IGNORE", "OR REPLACE"])
def test_conflict_modes_recognise_a_name_github_changed(acme: Acme, mode: str) -> None:
    # Uploaded by another client: this connection has never seen the name stored.
    theirs = insert(connect_to(acme.emu), acme.new, EXOTIC, b"one")
    assert acme.emu.get_asset(theirs)["name"] == STORED
    db = connect_to(acme.emu)
    kept = insert(db, acme.new, EXOTIC, b"two", mode)
    now = assets(acme)
    assert temporary(acme) == [] and list(now).count(STORED) == 1
    if mode == "OR IGNORE":
        assert kept == theirs and acme.emu.asset_content(theirs) == b"one"
    else:
        assert kept == now[STORED]["id"] != theirs and acme.emu.asset_content(kept) == b"two"


def test_conflict_modes_use_the_name_an_upload_returned(acme: Acme, db: apsw.Connection) -> None:
    first = insert(db, acme.new, EXOTIC, b"one")
    acme.emu.clear_log()
    assert insert(db, acme.new, EXOTIC, b"two", "OR IGNORE") == first
    assert [r.method for r in acme.emu.log] == ["GET"]  # the list: the name was learned


def test_starter_left_by_a_502_under_a_changed_name_is_found(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.add_fault(Fault("upload_502_starter"))
    new_id = insert(db, acme.new, EXOTIC, b"one")
    now = assets(acme)
    assert [n for n in now if n.startswith("a5")] == [STORED] and now[STORED]["id"] == new_id
    assert now[STORED]["state"] == "uploaded" and temporary(acme) == []
