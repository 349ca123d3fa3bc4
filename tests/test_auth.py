"""Token discovery (environment, gh), GH_HOST, and GitHub Enterprise Server end to end."""

from __future__ import annotations

import os
import stat

import pytest
from conftest import TOKEN, connect_to

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.github.auth import (
    api_url_from_environment,
    find_token,
    token_variables,
    where_tokens_come_from,
)

TOKEN_ENV = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """No token variables, no GH_HOST/GITHUB_API_URL, and a PATH without gh."""
    for name in (*TOKEN_ENV, "GH_HOST", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    return monkeypatch


def fake_gh(directory, body: str) -> str:
    """Write an executable ``gh`` shell script into ``directory``; return the directory."""
    directory.mkdir(exist_ok=True)
    script = directory / "gh"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(directory)


def test_api_url_follows_gh_host(clean_env: pytest.MonkeyPatch) -> None:
    assert api_url_from_environment({}) == "https://api.github.com"
    assert api_url_from_environment({"GH_HOST": "github.com"}) == "https://api.github.com"
    assert api_url_from_environment({"GH_HOST": "ghe.acme.io"}) == "https://ghe.acme.io/api/v3"
    both = {"GH_HOST": "ghe.acme.io", "GITHUB_API_URL": "https://x.example/api/v3"}
    assert api_url_from_environment(both) == "https://x.example/api/v3"


def test_token_variables_by_host() -> None:
    assert token_variables("https://api.github.com") == ("GH_TOKEN", "GITHUB_TOKEN")
    assert token_variables("http://127.0.0.1:8080") == ("GH_TOKEN", "GITHUB_TOKEN")
    ghes = token_variables("https://ghe.acme.io/api/v3")
    assert ghes == ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
    env = {"GH_TOKEN": "dotcom", "GITHUB_ENTERPRISE_TOKEN": "ent"}
    assert find_token("https://ghe.acme.io/api/v3", env, use_gh=False).value == "ent"
    assert find_token("https://api.github.com", env, use_gh=False).value == "dotcom"
    found = find_token("https://api.github.com", {"GITHUB_TOKEN": " t "}, use_gh=False)
    assert (found.value, found.source) == ("t", "GITHUB_TOKEN")
    assert "t" not in repr(found).replace("Token", "").replace("GITHUB_TOKEN", "")
    assert "gh auth token" in where_tokens_come_from()


def test_token_from_environment_reaches_the_emulator(
    clean_env: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    clean_env.setenv("GITHUB_TOKEN", TOKEN)
    emulator.add_repo("acme", "tool", private=True)
    db = sqlgh.connect(api_url=emulator.api_url)
    db.execute("SELECT * FROM releases WHERE owner='acme' AND repo='tool'").fetchall()
    assert emulator.log[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_token_from_gh_auth_token(clean_env: pytest.MonkeyPatch, emulator, tmp_path) -> None:
    host = emulator.api_url.split("//")[1]
    bin_dir = fake_gh(
        tmp_path / "bin",
        f'[ "$*" = "auth token --hostname {host}" ] && echo {TOKEN} && exit 0\nexit 1',
    )
    clean_env.setenv("PATH", bin_dir + os.pathsep + os.environ["PATH"])
    db = sqlgh.connect(api_url=emulator.api_url)
    assert db.sqlgh.client.has_token
    emulator.add_repo("acme", "tool", private=True)
    db.execute("SELECT * FROM releases WHERE owner='acme' AND repo='tool'").fetchall()
    assert emulator.log[-1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "body", ["exit 1", "echo 'not logged in' >&2; exit 4", "exec /bin/sleep 30"]
)
def test_failing_or_missing_gh_means_anonymous(
    clean_env: pytest.MonkeyPatch, tmp_path, body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sqlgh.github.auth.GH_TIMEOUT", 0.5)
    assert find_token("https://api.github.com") is None  # no gh on PATH at all
    clean_env.setenv("PATH", fake_gh(tmp_path / "bin", body))
    assert find_token("https://api.github.com") is None


def test_explicit_token_wins_and_empty_means_anonymous(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("GH_TOKEN", "from-env")
    assert not sqlgh.connect(api_url="http://127.0.0.1:9", token="").sqlgh.client.has_token
    assert sqlgh.connect(api_url="http://127.0.0.1:9").sqlgh.client.has_token


def test_ghes_reads_uploads_and_downloads(tmp_path) -> None:
    with Emulator(ghes=True) as emu:
        emu.add_repo("acme", "tool")
        release = emu.add_release("acme", "tool", "v1")
        db = connect_to(emu)
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, name, data) "
            "VALUES ('acme', 'tool', ?, 'notes.txt', x'4869')",
            (release["id"],),
        )
        rows = db.execute(
            "SELECT name, data FROM release_assets WHERE owner='acme' AND repo='tool'"
        ).fetchall()
        assert rows == [("notes.txt", b"Hi")]
        (post,) = [r for r in emu.log if r.method == "POST"]
        assert post.path.startswith("/api/uploads/repos/acme/tool/releases/")
        assert all(r.path.startswith("/api/") for r in emu.log if r.origin != "storage")
        assert emu.unknown == []


def test_a_host_named_like_127_is_not_loopback() -> None:
    environ = {"GH_TOKEN": "dotcom-token", "GH_ENTERPRISE_TOKEN": "ghes-token"}
    found = find_token("https://127.attacker.example/api/v3", environ)
    assert found is not None and found.value == "ghes-token"
