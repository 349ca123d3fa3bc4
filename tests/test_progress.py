"""The progress hook: multi-page scans, uploads and downloads report to the factory."""

from __future__ import annotations

import io
from typing import Any

from sqlgh.emulator import Emulator
from sqlgh.github.progress import no_progress
from sqlgh.progress import progress_for, terminal_progress
from tests.conftest import connect_to


class Recorder:
    """A progress factory that remembers every bar it made."""

    def __init__(self) -> None:
        self.bars: list[dict[str, Any]] = []

    def __call__(self, *, total: int | None = None, desc: str = "", unit: str = "") -> Any:
        bar = {"total": total, "desc": desc, "unit": unit, "done": 0, "closed": False}
        self.bars.append(bar)

        class Bar:
            def update(self, n: int = 1) -> None:
                bar["done"] += n

            def close(self) -> None:
                bar["closed"] = True

        return Bar()


def test_scans_uploads_and_downloads_report_progress(emulator: Emulator) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    release = emulator.add_release("acme", "tool", "v1")["id"]
    for i in range(24):
        emulator.add_release("acme", "tool", f"v0.{i}")
    recorder = Recorder()
    db = connect_to(emulator, per_page=10, progress=recorder)

    count = db.execute(
        "SELECT count(*) FROM releases WHERE owner = 'acme' AND repo = 'tool'"
    ).fetchall()
    assert count == [(25,)]
    assert recorder.bars == [
        {
            "total": 3,
            "desc": "/repos/acme/tool/releases",
            "unit": "page",
            "done": 3,
            "closed": True,
        }
    ]

    recorder.bars.clear()
    payload = b"p" * 300_000
    db.execute(
        f"INSERT INTO release_assets(owner, repo, release_id, name, data) "
        f"VALUES ('acme', 'tool', {release}, 'big.bin', ?)",
        (payload,),
    )
    upload = recorder.bars[-1]
    assert upload == {
        "total": 300_000,
        "desc": "upload big.bin",
        "unit": "B",
        "done": 300_000,
        "closed": True,
    }

    recorder.bars.clear()
    new_id = db.last_insert_rowid()
    (data,) = db.execute(
        f"SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = {new_id}"
    ).fetchone()
    assert data == payload
    download = [b for b in recorder.bars if b["desc"] == "download big.bin"]
    assert download == [
        {"total": 300_000, "desc": "download big.bin", "unit": "B", "done": 300_000, "closed": True}
    ]


def test_single_page_scans_draw_nothing(emulator: Emulator) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    recorder = Recorder()
    db = connect_to(emulator, progress=recorder)
    db.execute("SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
    assert recorder.bars == []


def test_bars_only_on_a_terminal() -> None:
    assert progress_for(io.StringIO()) is no_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_for(Terminal()) is terminal_progress
    bar = terminal_progress(total=2, desc="scan", unit="page")
    bar.update(2)
    bar.close()
