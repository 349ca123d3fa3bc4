"""Resumed downloads never splice other bytes in (issue 14, part 3).

A download cut mid-body is resumed with ``Range: bytes=N-``. The storage origin may answer
that with bytes from elsewhere (a wrong ``Content-Range``) or from a newer version of the
object (another ``ETag``). Most older assets have no digest to catch that afterwards, so
``SELECT data`` and ``download()`` must check the answer themselves and start over.
"""

from __future__ import annotations

import random

import pytest
import requests
from conftest import connect_to

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import SqlghError

# 3 MiB without a period (shifted bytes must differ): whole 1 MiB pieces arrive before a drop
CONTENT = random.Random(14).randbytes(3 << 20)
FAST = {"retry_backoff": 0}


def seed(emu: Emulator) -> int:
    """An asset without a digest (as most older assets are); return its id."""
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")
    asset = emu.add_asset("acme", "tool", release["id"], "old.bin", content=CONTENT, digest=None)
    return int(asset["id"])


def storage_log(emu: Emulator) -> list:
    return [r for r in emu.log if r.origin == "storage"]


def select_data(emu: Emulator, asset_id: int, **options: object) -> bytes:
    db = connect_to(emu, **FAST, **options)
    sql = "SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
    return db.execute(sql, (asset_id,)).fetchone()[0]


def download_file(emu: Emulator, asset_id: int, tmp_path) -> bytes:
    db = connect_to(emu, **FAST)
    sql = "SELECT download('acme', 'tool', ?, ?)"
    (path,) = db.execute(sql, (asset_id, str(tmp_path) + "/")).fetchone()
    with open(path, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("kind", ["wrong_range", "changed_object"])
def test_select_data_starts_over_when_the_resume_is_not_a_continuation(
    emulator: Emulator, kind: str
) -> None:
    asset_id = seed(emulator)
    emulator.add_fault(Fault("drop", origin="storage", times=1))
    emulator.add_fault(Fault(kind, origin="storage", times=1))
    assert select_data(emulator, asset_id) == CONTENT
    first, resumed, again = storage_log(emulator)
    assert "range" not in first.headers and "range" not in again.headers  # started over
    assert resumed.headers["range"] != "bytes=0-"


@pytest.mark.parametrize("kind", ["wrong_range", "changed_object"])
def test_download_function_starts_over_when_the_resume_is_not_a_continuation(
    emulator: Emulator, kind: str, tmp_path
) -> None:
    asset_id = seed(emulator)
    emulator.add_fault(Fault("drop", origin="storage", times=1))
    emulator.add_fault(Fault(kind, origin="storage", times=1))
    assert download_file(emulator, asset_id, tmp_path) == CONTENT
    assert len(storage_log(emulator)) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["old.bin"]  # no partial file left


def test_a_resume_names_the_version_it_continues(emulator: Emulator) -> None:
    # If-Range (RFC 9110 section 13.1.5) with the strong ETag of the first answer: a
    # server that honours it sends the whole new version instead of a mismatched part.
    asset_id = seed(emulator)
    emulator.add_fault(Fault("drop", origin="storage", times=1))
    assert select_data(emulator, asset_id) == CONTENT
    first, resumed = storage_log(emulator)
    assert "range" not in first.headers and "if-range" not in first.headers
    assert resumed.headers["range"].startswith("bytes=")
    assert resumed.headers["if-range"].startswith('"0x8D')


def test_storage_answers_ranges_with_validators(emulator: Emulator) -> None:
    # What the client relies on: a 206 names its range, and the object its version.
    asset_id = seed(emulator)
    api = f"{emulator.api_url}/repos/acme/tool/releases/assets/{asset_id}"
    headers = {"Accept": "application/octet-stream", "Authorization": "Bearer test-token"}
    location = requests.get(api, headers=headers, allow_redirects=False, timeout=10).headers[
        "Location"
    ]
    whole = requests.get(location, timeout=10)
    part = requests.get(location, headers={"Range": "bytes=10-"}, timeout=10)
    assert whole.status_code == 200 and part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 10-{len(CONTENT) - 1}/{len(CONTENT)}"
    assert part.content == CONTENT[10:]
    assert whole.headers["ETag"] == part.headers["ETag"]
    assert whole.headers["Last-Modified"] == part.headers["Last-Modified"]
    emulator.add_fault(Fault("wrong_range", origin="storage", times=1))
    wrong = requests.get(location, headers={"Range": "bytes=10-"}, timeout=10)
    assert wrong.headers["Content-Range"] == f"bytes 0-{len(CONTENT) - 11}/{len(CONTENT)}"
    assert wrong.content == CONTENT[: len(CONTENT) - 10]
    emulator.add_fault(Fault("changed_object", origin="storage", times=1))
    changed = requests.get(location, timeout=10)
    assert changed.headers["ETag"] != whole.headers["ETag"]
    assert len(changed.content) == len(CONTENT) and changed.content != CONTENT


def test_resumes_that_never_continue_give_up_with_a_clear_error(emulator: Emulator) -> None:
    asset_id = seed(emulator)
    emulator.add_fault(Fault("drop", origin="storage", times=1))
    emulator.add_fault(Fault("wrong_range", origin="storage", times=1))
    with pytest.raises(SqlghError, match=r"other bytes than the ones asked for; gave up after 2"):
        select_data(emulator, asset_id, retries=1)
