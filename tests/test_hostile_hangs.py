"""Nothing hangs (issue 14, part 4): a minimum transfer rate and a statement deadline.

A server that sends (or reads) one byte every half second never trips ``read_timeout``:
every read gets its byte in time. ``low_speed_limit`` / ``low_speed_time`` stop it, in the
response headers, a JSON body, a streamed download and an upload alike; a link that is
merely slow lives. ``statement_timeout`` bounds a whole statement. Windows are made small
here so that each test takes a second or two.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
from conftest import connect_to

import sqlgh
from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import SqlghError, WriteError
from sqlgh.github.configure import make_client
from sqlgh.github.watchdog import Limits, MeteredSocket, TransferStopped

RELEASE = r"/releases/\d+$"  # a release's assets are read with the release (embedded)
# Stop a transfer under 200 bytes/s over 0.4 s; one retry, no backoff.
QUICK = {"low_speed_limit": 200, "low_speed_time": 0.4, "retries": 1, "retry_backoff": 0}
TOO_SLOW = "less than low_speed_limit (200 bytes/s) for low_speed_time (0.4 s)"
LIST = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = ?"


def seed(emu: Emulator, content: bytes = b"x" * 3000) -> tuple[int, int]:
    """acme/tool, release v1 with one asset; return (release id, asset id)."""
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")
    asset = emu.add_asset("acme", "tool", release["id"], "a.bin", content=content)
    return int(release["id"]), int(asset["id"])


def timed(run) -> tuple[BaseException | None, float]:
    """Run ``run()``; return the SqlghError it raised (or None) and the seconds it took."""
    started = time.monotonic()
    try:
        run()
    except SqlghError as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.mark.parametrize("kind", ["trickle", "trickle_body"])
def test_a_trickling_api_answer_is_stopped(emulator: Emulator, kind: str) -> None:
    # trickle: the status line and headers come a byte at a time (http.client reads them
    # byte by byte); trickle_body: the headers at once, then the JSON body.
    release_id, _ = seed(emulator)
    emulator.add_fault(Fault(kind, method="GET", path=RELEASE, times=-1))
    db = connect_to(emulator, **QUICK)
    error, seconds = timed(lambda: db.execute(LIST, (release_id,)).fetchall())
    assert error is not None and error.args[0].startswith("release_assets: could not complete GET")
    assert TOO_SLOW in str(error) and "gave up after 2 attempts" in str(error)
    assert seconds < 3


def test_a_trickling_download_is_stopped(emulator: Emulator, tmp_path) -> None:
    _, asset_id = seed(emulator)
    emulator.add_fault(Fault("trickle_body", origin="storage", times=-1))
    db = connect_to(emulator, **{**QUICK, "retries": 4})  # a stall is still tried twice only
    sql = "SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
    error, seconds = timed(lambda: db.execute(sql, (asset_id,)).fetchall())
    assert error is not None and TOO_SLOW in str(error)
    assert "gave up after 2 attempts" in str(error) and seconds < 3
    download = "SELECT download('acme', 'tool', ?, ?)"
    error, seconds = timed(lambda: db.execute(download, (asset_id, str(tmp_path) + "/")))
    assert error is not None and error.args[0].startswith("download: could not complete GET")
    assert TOO_SLOW in str(error) and seconds < 3
    assert list(tmp_path.iterdir()) == []


def test_an_upload_the_server_stops_taking_is_stopped(emulator: Emulator, tmp_path) -> None:
    # The server reads a byte at a time: the socket buffers fill, and no send moves a byte
    # any more. Each wait to send is bounded by connect_timeout (urllib3 sends under it).
    release_id, _ = seed(emulator)
    source = tmp_path / "big.bin"
    source.write_bytes(b"u" * (4 << 20))  # more than the socket buffers hold
    emulator.add_fault(Fault("trickle", origin="uploads", method="POST", delay=0.05))
    db = connect_to(emulator, upload_attempts=1, connect_timeout=0.5, **QUICK)
    insert = (
        "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme', 'tool', ?, ?)"
    )
    error, seconds = timed(lambda: db.execute(insert, (release_id, str(source))))
    assert isinstance(error, WriteError) and "could not complete POST" in str(error)
    assert "the server took nothing of the request for 0.5 s" in str(error)
    assert "connect_timeout option" in str(error) and seconds < 3
    assert [a["name"] for a in emulator.list_assets("acme", "tool", release_id)] == ["a.bin"]


def test_a_send_a_slow_reader_takes_is_stopped() -> None:
    # A reader that takes 4 KiB every 50 ms (about 80 kB/s) from a sender held to 1 MB/s:
    # each send moves a little, so no timeout fires; the rate is what stops it.
    with socket.create_server(("127.0.0.1", 0)) as server:
        sender = socket.create_connection(server.getsockname())
        reader, _ = server.accept()
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)  # small buffers: the
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # sender waits soon
    sender.settimeout(5)
    metered = MeteredSocket(sender, Limits(low_speed_limit=1_000_000, low_speed_time=0.3))

    def drain() -> None:
        with contextlib.suppress(OSError):
            while reader.recv(4096):
                time.sleep(0.05)

    threading.Thread(target=drain, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(TransferStopped, match=r"less than low_speed_limit \(1000000 bytes/s\)"):
        metered.sendall(b"x" * (64 << 20))
    assert 0.3 <= time.monotonic() - started < 2
    assert metered.moved > 0
    metered.close()
    reader.close()


def test_a_slow_link_that_moves_data_lives(emulator: Emulator) -> None:
    # About 900 bytes/s (a byte per millisecond), well over the 200 bytes/s limit, for a
    # second and more: several windows of 0.4 s.
    content = bytes(range(256)) * 4
    _, asset_id = seed(emulator, content)
    emulator.add_fault(Fault("trickle_body", origin="storage", delay=0.001))
    db = connect_to(emulator, **QUICK)
    sql = "SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
    started = time.monotonic()
    assert db.execute(sql, (asset_id,)).fetchone() == (content,)
    assert time.monotonic() - started > 2 * QUICK["low_speed_time"]


def test_a_silent_server_costs_two_read_timeouts_not_five(emulator: Emulator) -> None:
    release_id, _ = seed(emulator)
    emulator.add_fault(Fault("slow", method="GET", path=RELEASE, delay=2, times=-1))
    db = connect_to(emulator, read_timeout=0.3, retry_backoff=0)  # retries: the default 4
    error, seconds = timed(lambda: db.execute(LIST, (release_id,)).fetchall())
    shown = "sqlgh.connect(read_timeout=0.6) in Python); gave up after 2 attempts"
    assert error is not None and shown in str(error)
    assert seconds < 1.5


def test_quick_faults_keep_all_their_retries(emulator: Emulator) -> None:
    release_id, _ = seed(emulator)
    emulator.add_fault(Fault("status", status=502, method="GET", path=RELEASE, times=4))
    db = connect_to(emulator, retry_backoff=0)
    assert db.execute(LIST, (release_id,)).fetchall() == [("a.bin",)]


def test_defaults_a_person_at_a_shell_accepts() -> None:
    client = make_client("https://api.github.com", "", {})
    assert client.timeout == (10.0, 30.0)
    assert (client.limits.low_speed_limit, client.limits.low_speed_time) == (1000.0, 30.0)
    assert client.resilience.policy.stall_attempts == 2
    assert client.resilience.deadline.seconds == 0  # no statement_timeout unless asked


# --- statement_timeout ------------------------------------------------------------------
def test_statement_timeout_cuts_a_read_and_sends_nothing_more(emulator: Emulator) -> None:
    emulator.embedded_assets_cap = 100  # the release's 250 assets are then paged
    release_id, _ = seed(emulator)
    for n in range(249):
        emulator.add_asset("acme", "tool", release_id, f"more{n}.bin", content=b"m")
    emulator.add_fault(
        Fault("slow", method="GET", path=r"/assets$", delay=3, after=1, times=-1)
    )
    db = connect_to(emulator, max_concurrency=1, statement_timeout=0.5, retry_backoff=0)
    error, seconds = timed(lambda: db.execute(LIST, (release_id,)).fetchall())
    assert error is not None and "ran past statement_timeout (0.5 s)" in str(error)
    assert "statement_timeout option" in str(error)
    assert seconds < 1.5
    pages = [r for r in db.sqlgh.client.log if "/assets" in r.path]
    assert len(pages) == 2  # the first page, and the second, cut; no retry, no third page
    # the next statement has its own time
    assert db.execute("SELECT count(*) FROM releases WHERE owner = 'acme' AND repo = 'tool'")


def test_statement_timeout_lets_a_begun_write_finish_and_starts_no_other(
    emulator: Emulator,
) -> None:
    release_id, _ = seed(emulator)
    ids = [
        emulator.add_asset("acme", "tool", release_id, f"d{n}.bin", content=b"d")["id"]
        for n in range(3)
    ]
    emulator.add_fault(Fault("slow", method="DELETE", delay=0.6, times=-1))
    db = connect_to(emulator, statement_timeout=0.3, retry_backoff=0)
    delete = (
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id IN (?, ?, ?)"
    )
    error, _ = timed(lambda: db.execute(delete, ids))
    assert error is not None and "ran past statement_timeout (0.3 s)" in str(error)
    assert "Already applied on GitHub by this statement (not undone): deleted asset" in str(error)
    assert "The remaining rows were not attempted" in str(error)
    assert len([r for r in emulator.log if r.method == "DELETE"]) == 1
    left = {a["name"] for a in emulator.list_assets("acme", "tool", release_id)}
    assert len(left) == 3  # a.bin and two of the three


def test_statement_timeout_does_not_wait_past_itself(emulator: Emulator) -> None:
    release_id, _ = seed(emulator)
    emulator.add_fault(
        Fault("secondary_rate_limit", status=429, path=RELEASE, retry_after=30, times=1)
    )
    db = connect_to(emulator, statement_timeout=2)
    error, seconds = timed(lambda: db.execute(LIST, (release_id,)).fetchall())
    assert error is not None and "would run past statement_timeout (2 s) waiting 30.0 s" in str(
        error
    )
    assert seconds < 1


def test_options_are_checked() -> None:
    for name in ("low_speed_limit", "low_speed_time", "statement_timeout"):
        with pytest.raises(ValueError, match=name):
            sqlgh.connect(api_url="http://127.0.0.1:9", token="", **{name: -1})
