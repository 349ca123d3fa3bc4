"""How requests go out: the token as an auth object, the environment read once per host."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from conftest import TOKEN, connect_to

from sqlgh.emulator import Emulator
from sqlgh.errors import SqlghError

QUERY = "SELECT tag_name FROM releases WHERE owner = 'acme' AND repo = 'tool'"


@pytest.fixture
def acme(emulator: Emulator) -> Emulator:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    emulator.add_release("acme", "tool", "v1")
    return emulator


def test_netrc_does_not_replace_the_token(
    acme: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests lets ~/.netrc credentials replace an Authorization header given in headers=;
    sqlgh's token is an auth object, which netrc does not override."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for cache in (True, False):
        db = connect_to(acme, cache=cache, cache_path=tmp_path / "c.sqlite")
        assert db.execute(QUERY).fetchall() == [("v1",)]
        assert acme.log[-1].headers["authorization"] == f"Bearer {TOKEN}"
        db.close()
    # without a token, netrc still applies, as requests does it (the emulator refuses it)
    anonymous = connect_to(acme, token="", cache=False)
    with pytest.raises(SqlghError, match="401"):
        anonymous.execute(QUERY).fetchall()
    assert acme.log[-1].headers["authorization"].startswith("Basic ")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_proxies_from_the_environment_are_read_once_per_host(
    acme: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection takes HTTP_PROXY / NO_PROXY as they were at its first request to a host
    (requests would re-read the whole environment on every request). Anonymous: a token
    over plain http never goes through a proxy (test_hostile_github.py)."""
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for cache in (True, False):
        db = connect_to(acme, retries=0, cache=cache, token="")
        assert db.execute(QUERY).fetchall() == [("v1",)]
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
        assert db.execute(QUERY).fetchall() == [("v1",)]  # still direct
        fresh = connect_to(acme, retries=0, cache=cache, token="")
        with pytest.raises(SqlghError, match="could not complete GET"):
            fresh.execute(QUERY).fetchall()  # a new connection goes through the proxy
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        bypass = connect_to(acme, retries=0, cache=cache, token="")
        assert bypass.execute(QUERY).fetchall() == [("v1",)]
        for name in ("HTTP_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name)
