"""The demo from the command line (``--demo``, ``--demo-state FILE``) and from Python
(``sqlgh.connect(demo=True)``, ``sqlgh.demo()``), and sqlgh's exported error classes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import apsw
import pytest

import sqlgh
from sqlgh.demo_mode import running_demo, start_demo
from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import seed_demo
from tests.cli_helpers import ROOT
from tests.cli_helpers import sqlgh as run_sqlgh
from tests.conftest import connect_to

UPLOAD = (
    "INSERT INTO release_assets(owner, repo, release_id, path) "
    "SELECT owner, repo, id, '{path}' FROM releases "
    "WHERE owner = 'acme' AND repo = 'rocket' ORDER BY id DESC LIMIT 1"
)
FIND = (
    "SELECT name, size FROM release_assets "
    "WHERE owner = 'acme' AND repo = 'rocket' AND name = 'kept.txt'"
)


def test_demo_state_keeps_writes_between_runs(tmp_path: Path) -> None:
    source = tmp_path / "kept.txt"
    source.write_bytes(b"kept bytes")
    state = tmp_path / "state.json"
    first = run_sqlgh("--demo-state", str(state), "-c", UPLOAD.format(path=source))
    assert first.returncode == 0, first.stderr
    assert f"its data is kept in {state}" in first.stderr
    content = FIND.replace("name, size", "CAST(data AS TEXT)")
    second = run_sqlgh("--demo-state", str(state), "--format", "csv", "-c", FIND, "-c", content)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[:2] == ["name,size", "kept.txt,10"]
    assert "kept bytes" in second.stdout
    fresh = run_sqlgh("--demo", "--format", "csv", "-c", FIND)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout == ""  # plain --demo starts from the demo data
    assert "it starts fresh" in fresh.stderr


def test_demo_state_keeps_ids_deletions_and_generated_assets(tmp_path: Path) -> None:
    with Emulator() as emu:
        seed_demo(emu)
        release = emu.add_release("acme", "rocket", "v9.9.9")
        gone = emu.add_asset("acme", "rocket", release["id"], "gone.bin", content=b"x")
        big = emu.add_asset("acme", "rocket", release["id"], "big.bin", size=300_000)
        db = sqlgh.connect(
            api_url=emu.api_url, token="test-token", uploads_url=emu.uploads_url, cache=False
        )
        db.execute(
            "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'rocket' AND id = ?",
            (gone["id"],),
        )
        db.close()
        emu.save_state(str(tmp_path / "state.json"))
        big = json.loads(json.dumps(big).replace(emu.api_url, "API"))
    with Emulator() as emu:
        emu.load_state(str(tmp_path / "state.json"))
        assert emu.get_asset(gone["id"]) is None
        restored = json.loads(json.dumps(emu.get_asset(big["id"])).replace(emu.api_url, "API"))
        assert restored == big  # the same JSON (but the port), digest of the same bytes
        later = emu.add_asset("acme", "rocket", release["id"], "later.bin", content=b"y")
        assert later["id"] > gone["id"]  # an id is never given twice
        saved = json.loads((tmp_path / "state.json").read_text())
        assert {"generated": 300_000} in [a["blob"] for a in saved["assets"]]


def test_demo_state_that_cannot_be_read_or_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    for content in ("{}", "[]"):  # "[]": before, an AttributeError's traceback
        bad.write_text(content)
        result = run_sqlgh("--demo-state", str(bad), "-c", "SELECT 1")
        assert result.returncode == 2
        assert "cannot load the emulator's data from it" in result.stderr
        assert "Traceback" not in result.stderr
    nowhere = tmp_path / "missing" / "state.json"
    result = run_sqlgh("--demo-state", str(nowhere), "-c", "SELECT 1")
    assert result.returncode == 2
    assert "is not a directory sqlgh can write the file in" in result.stderr
    assert not nowhere.parent.exists()


def test_connect_demo_gives_a_private_emulator(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SQLGH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    first = sqlgh.connect(demo=True)
    second = sqlgh.connect(demo=True)
    count = "SELECT count(*) FROM repositories WHERE owner = 'acme'"
    assert first.execute(count).fetchone() == (12,)
    api = first.sqlgh.client.api_url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", api)
    assert api != second.sqlgh.client.api_url
    first.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'rocket' "
        "AND name LIKE '%windows%'"
    )
    windows = (
        "SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'rocket' "
        "AND name LIKE '%windows%'"
    )
    assert first.execute(windows).fetchone() == (0,)
    assert second.execute(windows).fetchone()[0] > 0  # its own emulator, untouched
    first.close()
    second.close()
    with pytest.raises(Exception):  # noqa: B017 - the emulator stopped with the connection
        sqlgh.connect(api_url=api, token="t", retries=0, cache=False).execute(count).fetchall()
    for folder in ("cache", "xdg", "home"):
        assert not (tmp_path / folder).exists()


def test_demo_context_manager_closes_its_connection() -> None:
    with sqlgh.demo() as db:
        assert isinstance(db, sqlgh.Connection)
        assert db.execute("SELECT count(*) FROM repositories WHERE owner = 'globex'").fetchone()
    with pytest.raises(apsw.ConnectionClosedError):
        db.execute("SELECT 1")


def test_connect_demo_refuses_a_token_or_url() -> None:
    with pytest.raises(TypeError, match="leave out token and api_url"):
        sqlgh.connect(demo=True, token="abc")


def test_errors_are_exported_and_caught_as_apsw_errors() -> None:
    with sqlgh.demo() as db:
        with pytest.raises(apsw.Error) as caught:
            db.execute("SELECT * FROM release_assets WHERE owner = 'acme' AND repo = 'nope'")
        assert isinstance(caught.value, sqlgh.RemoteError)
        assert isinstance(caught.value, sqlgh.SqlghError)
        cause = caught.value.__cause__
        while cause is not None and not isinstance(cause, sqlgh.GitHubError):
            cause = cause.__cause__
        assert isinstance(cause, sqlgh.GitHubError) and cause.status == 404
        with pytest.raises(sqlgh.SqlghError, match="release_assets"):
            db.execute("SELECT * FROM release_assets").fetchall()
    for name in sqlgh.__all__:
        assert hasattr(sqlgh, name), name
    for error in (sqlgh.InputError, sqlgh.MissingKeysError, sqlgh.WriteError, sqlgh.FileChanged):
        assert issubclass(error, sqlgh.SqlghError) and issubclass(error, apsw.Error)


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", ["README.md", "docs/python.md"])
def test_python_examples_run(page: str, emulator: Emulator, monkeypatch, capsys) -> None:
    # The sqlgh.connect() examples read cli/cli: here, from the emulator.
    emulator.add_org("cli")
    emulator.add_repo("cli", "cli")
    release = emulator.add_release("cli", "cli", "v2.0.0")
    emulator.add_asset("cli", "cli", release["id"], "gh_2.0.0_linux_amd64.tar.gz", size=10)
    monkeypatch.setenv("GITHUB_API_URL", emulator.api_url)
    monkeypatch.setenv("GH_TOKEN", "test-token")
    blocks = python_blocks(page)
    assert blocks
    for block in blocks:
        exec(compile(block, page, "exec"), {})
    printed = capsys.readouterr().out
    assert "gh_2.0.0_linux_amd64.tar.gz 10" in printed
    assert "(12,)" in printed  # the demo's acme has 12 repositories
    if page == "docs/python.md":
        assert "does not exist" in printed and printed.rstrip().endswith("404")


def test_demo_state_keeps_immutable_releases_and_their_tags(tmp_path: Path) -> None:
    saved = tmp_path / "state.json"
    where = "owner = 'acme' AND repo = 'tool'"
    with Emulator() as first:
        first.add_org("acme")
        first.add_repo("acme", "tool", immutable_releases=True)
        draft = first.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
        first.add_asset("acme", "tool", draft, "a.bin", content=b"a")
        db = connect_to(first)
        db.execute(f"UPDATE releases SET draft = 0 WHERE {where} AND id = {draft}")
        db.execute(f"DELETE FROM releases WHERE {where} AND id = {draft}")
        first.save_state(str(saved))
    with Emulator() as second:
        second.load_state(str(saved))
        db = connect_to(second)
        with pytest.raises(apsw.Error, match="immutable"):
            db.execute(
                "INSERT INTO releases(owner, repo, tag_name) VALUES ('acme', 'tool', 'v1.0.0')"
            )


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        "null",
        '{"format": 1, "accounts": [{"login": 5}]}',
        '{"format": 1, "accounts": [], "repos": [{"owner": null}]}',
    ],
)
def test_demo_state_of_the_wrong_shape_is_refused_with_a_message(
    tmp_path: Path, content: str
) -> None:
    bad = tmp_path / "state.json"
    bad.write_text(content)
    with pytest.raises(ValueError, match="cannot load the emulator's data from it"):
        start_demo(str(bad))
    assert bad.read_text() == content  # kept as it was, for the user to look at


def test_two_runs_on_one_demo_state_file_lose_neither_run_s_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    with running_demo(str(state)) as first:
        first.add_repo("acme", "first-run")
    with running_demo(str(state)) as mine, running_demo(str(state)) as other:
        mine.add_repo("acme", "mine")
        other.add_repo("acme", "other")
        # ``other`` ends first (saves), then ``mine``, which started before that save.
    saved = {repo["name"] for repo in json.loads(state.read_text())["repos"]}
    assert {"first-run", "other"} <= saved and "mine" not in saved
    kept = tmp_path / f"state.json.{os.getpid()}"
    mine_saved = {repo["name"] for repo in json.loads(kept.read_text())["repos"]}
    assert {"first-run", "mine"} <= mine_saved and "other" not in mine_saved
    assert (
        f"--demo-state {state}: another sqlgh run saved it while this one ran; it is kept, "
        f"and this run's data was saved to {kept}"
    ) in capsys.readouterr().err
