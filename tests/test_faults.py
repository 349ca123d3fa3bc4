"""The fault suite: sqlgh against a GitHub that misbehaves, over real HTTP (the emulator).

For every fault: the right result or a clear error, no duplicate and no orphaned asset,
and nothing sent twice that should not be (POSTs are counted in the emulator's log).
"""

from __future__ import annotations

import re
import socket
import time

import pytest
import requests
from conftest import TOKEN, connect_to
from urllib3.util.retry import Retry

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.errors import SqlghError
from sqlgh.github.adapter import GitHubAdapter
from sqlgh.github.client import Client
from sqlgh.github.retry import IDEMPOTENT

RELEASE = r"/releases/\d+$"  # a release's assets are read with the release (embedded)
FAST = {"retry_backoff": 0, "secondary_rate_limit_wait": 0.05}


def seed(emu: Emulator, assets: int = 3, *, private: bool = False) -> int:
    """acme/tool with release v1 holding ``assets`` small assets; return the release id."""
    emu.add_repo("acme", "tool", private=private)
    release = emu.add_release("acme", "tool", "v1")
    for n in range(assets):
        emu.add_asset("acme", "tool", release["id"], f"a{n}.txt", content=b"x" * (n + 1))
    return int(release["id"])


def names(db: sqlgh.Connection, release_id: int) -> list[str]:
    rows = db.execute(
        "SELECT name FROM release_assets WHERE owner='acme' AND repo='tool' AND release_id=?",
        (release_id,),
    )
    return [name for (name,) in rows]


def requests_to(emu: Emulator, method: str, pattern: str = "") -> list:
    return [r for r in emu.log if r.method == method and re.search(pattern, r.path)]


# --- reads: retried, and the result is whole ----------------------------------------------
@pytest.mark.parametrize("kind", ["status", "drop", "truncated", "non_json", "overlong"])
def test_a_read_recovers_from_transient_faults(emulator: Emulator, kind: str) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault(kind, method="GET", path=RELEASE, times=2))
    db = connect_to(emulator, **FAST)
    assert names(db, release_id) == ["a0.txt", "a1.txt", "a2.txt"]
    assert len(requests_to(emulator, "GET", RELEASE)) == 3
    assert emulator.unknown == []


@pytest.mark.parametrize("kind", ["status", "drop", "truncated", "non_json", "overlong"])
def test_a_list_page_mid_paging_recovers_from_transient_faults(
    emulator: Emulator, kind: str
) -> None:
    emulator.embedded_assets_cap = 100  # the release's 250 assets are then paged
    release_id = seed(emulator, assets=250)
    # page 1 (the check of the embedded array) passes; the next page faults twice
    emulator.add_fault(Fault(kind, method="GET", path=r"/assets$", after=1, times=2))
    db = connect_to(emulator, **FAST)
    assert names(db, release_id) == [f"a{n}.txt" for n in range(250)]
    assert len(requests_to(emulator, "GET", r"/assets$")) == 5  # 3 pages + 2 retries
    assert emulator.unknown == []


def test_5xx_burst_longer_than_retries_fails_clearly(emulator: Emulator) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault("status", status=503, method="GET", path=RELEASE, times=-1))
    db = connect_to(emulator, retries=2, **FAST)
    with pytest.raises(SqlghError, match=r"release_assets: .*503"):
        names(db, release_id)
    assert len(requests_to(emulator, "GET", RELEASE)) == 3


def test_dropped_connection_on_a_list_page_is_retried(emulator: Emulator) -> None:
    emulator.embedded_assets_cap = 100  # the release's 250 assets are then paged
    release_id = seed(emulator, assets=250)
    emulator.add_fault(Fault("drop", method="GET", path=r"/assets$", times=1))
    db = connect_to(emulator, **FAST)
    emulator.clear_log()
    assert len(names(db, release_id)) == 250  # the first page's drop is retried
    assert len(requests_to(emulator, "GET", "/assets$")) == 4  # 3 pages + 1 retry


def test_slow_server_beyond_read_timeout_fails_quickly(emulator: Emulator) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault("slow", method="GET", path=RELEASE, delay=3, times=-1))
    db = connect_to(emulator, read_timeout=0.2, retries=1, **FAST)
    started = time.monotonic()
    shown = (
        r"sent nothing for 0.2 s \(the read_timeout option; to wait longer: "
        r"sqlgh -o read_timeout=0.4 in the shell, sqlgh.connect\(read_timeout=0.4\) in Python\)"
    )
    with pytest.raises(SqlghError, match=shown):
        names(db, release_id)
    assert time.monotonic() - started < 2


def test_unreachable_server_says_so(emulator: Emulator) -> None:
    db = sqlgh.connect(api_url="http://127.0.0.1:9", token="", retries=1, retry_backoff=0)
    with pytest.raises(SqlghError, match=r"could not complete GET .*gave up after 2 attempts"):
        db.execute("SELECT * FROM releases WHERE owner='a' AND repo='b'").fetchall()


# --- downloads ---------------------------------------------------------------------------
def test_download_resumes_after_a_drop_mid_body(emulator: Emulator, tmp_path) -> None:
    release_id = seed(emulator, assets=0)
    content = bytes(range(256)) * 4096 * 5  # 5 MiB: whole 1 MiB chunks arrive before the drop
    asset = emulator.add_asset("acme", "tool", release_id, "big.bin", content=content)
    emulator.add_fault(Fault("drop", origin="storage", times=1))
    db = connect_to(emulator, **FAST)
    (path,) = db.execute(
        "SELECT download('acme', 'tool', ?, ?)", (asset["id"], str(tmp_path) + "/")
    ).fetchone()
    with open(path, "rb") as handle:
        assert handle.read() == content
    storage = [r for r in emulator.log if r.origin == "storage"]
    assert len(storage) == 2
    assert storage[1].headers.get("range", "").startswith("bytes=")
    assert storage[1].headers["range"] != "bytes=0-"
    assert all("authorization" not in r.headers for r in storage)  # token never to storage
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]  # no partial file left


def test_download_that_keeps_failing_leaves_no_file(emulator: Emulator, tmp_path) -> None:
    release_id = seed(emulator, assets=0)
    asset = emulator.add_asset("acme", "tool", release_id, "big.bin", content=b"z" * 100_000)
    emulator.add_fault(Fault("drop", origin="storage", times=-1))
    db = connect_to(emulator, retries=1, **FAST)
    with pytest.raises(SqlghError, match="dropped"):
        db.execute("SELECT download('acme', 'tool', ?, ?)", (asset["id"], str(tmp_path) + "/"))
    assert list(tmp_path.iterdir()) == []


# --- rate limits ---------------------------------------------------------------------------
def test_primary_rate_limit_waits_for_the_reset(emulator: Emulator, capsys) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault("primary_rate_limit", method="GET", path=RELEASE, retry_after=1))
    db = connect_to(emulator, **FAST)
    started = time.monotonic()
    assert len(names(db, release_id)) == 3
    assert 0.5 < time.monotonic() - started < 3.5
    err = capsys.readouterr().err
    assert err.count("rate limit is reached; waiting") == 1


def test_primary_rate_limit_beyond_max_wait_fails_with_reset_time(
    emulator: Emulator,
) -> None:
    release_id = seed(emulator)
    emulator.set_rate_limit(remaining=0, reset=int(time.time()) + 3600)
    db = connect_to(emulator, max_rate_limit_wait=5, **FAST)
    started = time.monotonic()
    with pytest.raises(SqlghError) as raised:
        names(db, release_id)
    assert time.monotonic() - started < 1
    expected = time.strftime("%H:%M", time.localtime(time.time() + 3600))
    assert f"resets at {expected}" in str(raised.value)
    assert "not finished" in str(raised.value)
    assert len(requests_to(emulator, "GET", RELEASE)) == 1


def test_primary_rate_limit_mid_list_says_how_many_pages_were_left(
    emulator: Emulator,
) -> None:
    emulator.embedded_assets_cap = 100  # the release's 250 assets are then paged
    release_id = seed(emulator, assets=250)  # 3 pages of 100
    # Pages 2 and 3 are GitHub's /repositories/{id}/... next links; page 2 hits the limit.
    emulator.add_fault(
        Fault("primary_rate_limit", method="GET", path=r"^/repositories/", retry_after=3600)
    )
    db = connect_to(emulator, max_rate_limit_wait=5, max_concurrency=1, **FAST)
    with pytest.raises(SqlghError) as raised:
        names(db, release_id)
    assert "still needed 2 of its 3 pages" in str(raised.value)
    assert "not finished" in str(raised.value)


def test_secondary_rate_limit_backs_off_and_says_so_once(emulator: Emulator, capsys) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault("secondary_rate_limit", method="GET", path=RELEASE, times=3))
    db = connect_to(emulator, **FAST)
    started = time.monotonic()
    assert len(names(db, release_id)) == 3
    assert time.monotonic() - started >= 0.05 + 0.1 + 0.2  # at least the minimum, doubled
    assert capsys.readouterr().err.count("secondary rate limit") == 1


def test_secondary_rate_limit_honours_retry_after(emulator: Emulator) -> None:
    release_id = seed(emulator)
    emulator.add_fault(
        Fault("secondary_rate_limit", status=429, method="GET", path=RELEASE, retry_after=1)
    )
    db = connect_to(emulator, **FAST)
    started = time.monotonic()
    assert len(names(db, release_id)) == 3
    assert time.monotonic() - started >= 1


def test_low_budget_spreads_the_remaining_requests(capsys) -> None:
    with Emulator(rate_limit=100) as emu:
        seed(emu)
        emu.set_rate_limit(remaining=4, reset=int(time.time()) + 2)
        db = connect_to(emu, rate_limit_reserve=0.5, **FAST)
        started = time.monotonic()
        for _ in range(3):
            db.execute("SELECT id FROM releases WHERE owner='acme' AND repo='tool'").fetchall()
        assert time.monotonic() - started > 0.3
    assert capsys.readouterr().err.count("spacing requests") == 1


# --- uploads: cleaned up, retried, never duplicated ------------------------------------------
def insert(db: sqlgh.Connection, release_id: int, name: str, data: bytes) -> int:
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, ?, ?)",
        (release_id, name, data),
    )
    return db.last_insert_rowid()


@pytest.mark.parametrize("kind", ["upload_502_starter", "drop"])
def test_failed_upload_is_cleaned_up_and_retried(emulator: Emulator, kind: str) -> None:
    release_id = seed(emulator, assets=0)
    emulator.add_fault(Fault(kind, method="POST", origin="uploads", times=1))
    db = connect_to(emulator, **FAST)
    asset_id = insert(db, release_id, "app.zip", b"PK" * 1000)
    listed = emulator.list_assets("acme", "tool", release_id)
    assert [(a["id"], a["name"], a["state"]) for a in listed] == [(asset_id, "app.zip", "uploaded")]
    assert emulator.asset_content(asset_id) == b"PK" * 1000
    assert len(requests_to(emulator, "POST")) == 2
    assert len(requests_to(emulator, "DELETE")) == 1  # the starter asset


def test_upload_failing_every_time_leaves_nothing(emulator: Emulator) -> None:
    release_id = seed(emulator, assets=0)
    emulator.add_fault(Fault("upload_502_starter", method="POST", times=-1))
    db = connect_to(emulator, upload_attempts=2, **FAST)
    with pytest.raises(SqlghError, match=r"failed 2 times.*nothing half-uploaded"):
        insert(db, release_id, "app.zip", b"data")
    assert emulator.list_assets("acme", "tool", release_id) == []
    assert len(requests_to(emulator, "POST")) == 2


def test_upload_hit_by_secondary_limit_is_resent_whole(emulator: Emulator, tmp_path) -> None:
    release_id = seed(emulator, assets=0)
    source = tmp_path / "tool.tar.gz"
    source.write_bytes(b"t" * 200_000)
    emulator.add_fault(Fault("secondary_rate_limit", method="POST", origin="uploads"))
    db = connect_to(emulator, **FAST)
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme','tool',?,?)",
        (release_id, str(source)),
    )
    (asset,) = emulator.list_assets("acme", "tool", release_id)
    assert (asset["state"], asset["size"]) == ("uploaded", 200_000)
    assert len(requests_to(emulator, "POST")) == 2  # refused unprocessed, then sent once


def test_patch_and_delete_are_retried_on_5xx(emulator: Emulator) -> None:
    release_id = seed(emulator, assets=2)
    ids = [a["id"] for a in emulator.list_assets("acme", "tool", release_id)]
    emulator.add_fault(Fault("status", status=502, method="PATCH"))
    emulator.add_fault(Fault("status", status=503, method="DELETE"))
    db = connect_to(emulator, **FAST)
    db.execute(
        "UPDATE release_assets SET label='L' WHERE owner='acme' AND repo='tool' AND id=?",
        (ids[0],),
    )
    db.execute("DELETE FROM release_assets WHERE owner='acme' AND repo='tool' AND id=?", (ids[1],))
    assert [(a["id"], a["label"]) for a in emulator.list_assets("acme", "tool", release_id)] == [
        (ids[0], "L")
    ]
    assert len(requests_to(emulator, "PATCH")) == 2
    assert len(requests_to(emulator, "DELETE")) == 2


def test_urllib3_never_retries_on_its_own() -> None:
    client = Client("http://127.0.0.1:9", "t")
    for adapter in client.session.adapters.values():
        assert isinstance(adapter, GitHubAdapter)
        assert adapter.max_retries.total == 0  # type: ignore[attr-defined]
    assert "POST" not in IDEMPOTENT
    # a session of the user's keeps its own adapters, with their retries switched off
    own = requests.Session()
    mounted = own.get_adapter("https://api.github.com")
    mounted.max_retries = Retry(total=5)  # type: ignore[attr-defined]
    Client("http://127.0.0.1:9", "t", session=own)
    assert own.get_adapter("https://api.github.com") is mounted
    assert mounted.max_retries.total == 0  # type: ignore[attr-defined]


# --- authentication ---------------------------------------------------------------------
def test_refused_token_is_named_not_shown(emulator: Emulator) -> None:
    seed(emulator)
    secret = "ghp_not_a_real_token_123"
    db = connect_to(emulator, token=secret)
    with pytest.raises(SqlghError) as raised:
        db.execute("SELECT * FROM releases WHERE owner='acme' AND repo='tool'").fetchall()
    text = str(raised.value)
    assert "refused the token from connect(token=...)" in text
    assert secret not in text
    assert len(requests_to(emulator, "GET")) == 1  # a 401 is not retried


def test_private_repository_without_token_says_what_is_needed(emulator: Emulator) -> None:
    release_id = seed(emulator, private=True)
    db = connect_to(emulator, token="")
    with pytest.raises(SqlghError, match="private: set GH_TOKEN"):
        # typed alone: an error (as a bound parameter, a warning: tests/test_missing_keys.py)
        db.execute(
            "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
            f"AND release_id = {release_id}"
        ).fetchall()
    assert connect_to(emulator) and names(connect_to(emulator), release_id)


def test_read_only_token_writing_is_told_it_needs_contents_write() -> None:
    tokens = {TOKEN: {"login": "octocat", "write": True}, "ro": {"login": "reader"}}
    with Emulator(tokens=tokens) as emu:
        release_id = seed(emu, assets=1)
        (asset,) = emu.list_assets("acme", "tool", release_id)
        db = connect_to(emu, token="ro")
        with pytest.raises(SqlghError, match='needs the "Contents: write" permission'):
            db.execute(
                "UPDATE release_assets SET label='x' WHERE owner='acme' AND repo='tool' AND id=?",
                (asset["id"],),
            )


def test_sso_403_says_to_authorize_the_token_and_where(emulator: Emulator) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault("sso_required", path="/releases/"))
    with pytest.raises(SqlghError) as caught:
        names(connect_to(emulator), release_id)
    text = str(caught.value)
    assert "release_assets: the organization enforces SAML single sign-on" in text
    assert "/orgs/acme/sso?authorization_request=AZ42" in text  # where to authorize it
    assert "permission" not in text and TOKEN not in text


def test_sso_404_is_explained_not_taken_for_a_missing_asset(emulator: Emulator) -> None:
    release_id = seed(emulator)
    (asset,) = emulator.list_assets("acme", "tool", release_id)[:1]
    emulator.add_fault(Fault("sso_required", path="/releases/", status=404, times=-1))
    db = connect_to(emulator)
    by_id = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
    with pytest.raises(SqlghError, match="release_assets: the organization enforces SAML"):
        db.execute(by_id, (asset["id"],)).fetchall()
    with pytest.raises(SqlghError, match="release_assets: the organization enforces SAML"):
        names(db, release_id)


def test_ip_allow_list_403_is_not_blamed_on_the_token(emulator: Emulator) -> None:
    release_id = seed(emulator)
    emulator.add_fault(Fault("ip_allow_list", path="/releases/"))
    with pytest.raises(
        SqlghError,
        match="release_assets: the organization accepts requests "
        "only from addresses on its IP allow list",
    ) as caught:
        names(connect_to(emulator), release_id)
    assert "permission" not in str(caught.value)


def test_bearer_token_to_api_and_uploads_only(emulator: Emulator) -> None:
    release_id = seed(emulator, assets=1)
    db = connect_to(emulator, **FAST)
    insert(db, release_id, "n.txt", b"n")
    db.execute(
        "SELECT length(data) FROM release_assets WHERE owner='acme' AND repo='tool' "
        "AND release_id=?",
        (release_id,),
    ).fetchall()
    for record in emulator.log:
        expected = None if record.origin == "storage" else f"Bearer {TOKEN}"
        assert record.headers.get("authorization") == expected, record


def test_token_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ValueError, match="refusing to send a token over plain http"):
        Client("http://github.example.com/api/v3", "secret")
    with pytest.raises(ValueError, match="plain http"):
        sqlgh.connect(api_url="http://10.1.2.3", token="secret")
    Client("http://127.0.0.1:1", "secret")  # loopback is fine (the emulator)



def test_unreachable_api_names_the_host_and_port() -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = sqlgh.connect(api_url=f"http://127.0.0.1:{port}", token="", cache=False, retries=0)
    with pytest.raises(SqlghError, match=rf"could not connect to 127\.0\.0\.1:{port} \("):
        db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
