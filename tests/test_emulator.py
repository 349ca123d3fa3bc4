"""The emulator over real HTTP: routes, pagination, JSON shapes."""

from __future__ import annotations

import requests

from sqlgh.emulator import Emulator

AUTH = {"Authorization": "Bearer test-token"}


def _seed(emu: Emulator) -> dict:
    emu.add_org("acme")
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1.0.0", created_at="2024-01-01T00:00:00Z")
    emu.add_asset("acme", "tool", release["id"], "tool.tar.gz", content=b"hello")
    return release


def test_repo_and_releases_case_insensitive(emulator: Emulator) -> None:
    release = _seed(emulator)
    repo = requests.get(f"{emulator.api_url}/repos/ACME/Tool").json()
    assert repo["full_name"] == "acme/tool"
    listed = requests.get(f"{emulator.api_url}/repos/Acme/TOOL/releases").json()
    assert [r["id"] for r in listed] == [release["id"]]
    assert listed[0]["assets"][0]["name"] == "tool.tar.gz"
    assert emulator.unknown == []
