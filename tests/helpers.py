"""Seeding, request-counting and time-bounding helpers shared by the tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlgh.emulator import Emulator

TAR = b"tar bytes of tool 1.1.0"
NOTES = b"release notes\n"


@dataclass(frozen=True)
class Acme:
    """What ``seed_acme`` created: organization acme with repository tool."""

    emu: Emulator
    old: int  # release v1.0.0, one asset
    new: int  # release v1.1.0 (latest), three assets
    tar: dict  # tool-1.1.0.tar.gz in v1.1.0, label "Linux", uploaded by octocat
    notes: dict  # notes.txt in v1.1.0
    starter: dict  # broken.bin in v1.1.0, state starter
    old_asset: dict  # tool-1.0.0.zip in v1.0.0


def seed_acme(emu: Emulator) -> Acme:
    """Seed acme/tool (and acme/secret, private; user mona with repo dots)."""
    emu.add_org("acme")
    emu.add_repo("acme", "tool", description="The tool", pushed_at="2024-05-01T10:00:00Z")
    emu.add_repo("acme", "secret", private=True)
    emu.add_repo("acme", "fork-of-x", fork=True, archived=True)
    emu.add_user("mona")
    emu.add_repo("mona", "dots")
    old = emu.add_release("acme", "tool", "v1.0.0", name="One", created_at="2024-01-01T00:00:00Z")[
        "id"
    ]
    new = emu.add_release(
        "acme", "tool", "v1.1.0", name="One one", body="Fixes", created_at="2024-02-01T00:00:00Z"
    )["id"]
    emu.add_release(
        "acme", "tool", "v2.0.0-rc.1", prerelease=True, created_at="2024-03-01T00:00:00Z"
    )
    old_asset = emu.add_asset("acme", "tool", old, "tool-1.0.0.zip", content=b"old")
    tar = emu.add_asset(
        "acme",
        "tool",
        new,
        "tool-1.1.0.tar.gz",
        content=TAR,
        content_type="application/gzip",
        label="Linux",
        download_count=7,
        created_at="2024-02-01T12:00:00Z",
        uploader="octocat",
    )
    notes = emu.add_asset("acme", "tool", new, "notes.txt", content=NOTES)
    starter = emu.add_asset("acme", "tool", new, "broken.bin", content=b"", state="starter")
    emu.clear_log()
    return Acme(emu, old, new, tar, notes, starter, old_asset)


def seed_one_asset(emu: Emulator) -> dict:
    """Seed acme/tool with release v1 holding one asset, one.bin; return the release."""
    emu.add_org("acme")
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")
    emu.add_asset("acme", "tool", release["id"], "one.bin", content=b"1")
    return release


def paths(emu: Emulator) -> list[str]:
    """``METHOD path`` of every request so far."""
    return [f"{r.method} {r.path}" for r in emu.log]


def names(emu: Emulator, release_id: int) -> list[str]:
    """The names of a release's assets as the emulator holds them, sorted."""
    return sorted(a["name"] for a in emu.list_assets("acme", "tool", release_id))


def within(seconds: float, action: Callable[[], Any]) -> Any:
    """``action()``, failing the test instead of hanging when it takes longer."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A small HTTP server of ``handler`` on loopback, for a hostile answer the emulator
    must not give: its base URL, while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def stores_per_transaction(statements: list[str]) -> list[int]:
    """How many responses each write transaction of a traced cache connection stored."""
    counts: list[int] = []
    for statement in statements:
        if statement == "BEGIN IMMEDIATE":
            counts.append(0)
        elif statement.startswith("INSERT OR REPLACE INTO responses"):
            counts[-1] += 1
    return [count for count in counts if count]
