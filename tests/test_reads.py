"""Reads over real HTTP: every access path of every table, values as seeded, errors,
authentication and the API URL."""

from __future__ import annotations

import json

import apsw
import pytest
from conftest import TOKEN, connect_to
from helpers import Acme, paths, seed_acme

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.emulator.state import Conflict
from sqlgh.errors import RemoteError, SqlghError

ASSETS = "SELECT {cols} FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"


# release_assets -------------------------------------------------------------------------


def test_asset_by_id_is_one_get_with_seeded_values(acme: Acme, db: apsw.Connection) -> None:
    tar = acme.tar
    row = db.execute(
        ASSETS.format(
            cols="id, name, label, state, content_type, size, digest, download_count, "
            "created_at, updated_at, url, browser_download_url, node_id, uploader_login"
        )
        + " AND id = ?",
        (tar["id"],),
    ).fetchone()
    assert row == (
        tar["id"],
        "tool-1.1.0.tar.gz",
        "Linux",
        "uploaded",
        "application/gzip",
        len(b"tar bytes of tool 1.1.0"),
        tar["digest"],
        7,
        "2024-02-01T12:00:00Z",
        "2024-02-01T12:00:00Z",
        tar["url"],
        tar["browser_download_url"],
        tar["node_id"],
        "octocat",
    )
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/assets/{tar['id']}"]


def test_asset_by_id_finds_its_release_when_release_id_is_read(
    acme: Acme, db: apsw.Connection
) -> None:
    sql = ASSETS.format(cols="release_id, name") + " AND id IN (?, ?)"
    rows = db.execute(sql, (acme.tar["id"], acme.notes["id"])).fetchall()
    assert rows == [(acme.new, "tool-1.1.0.tar.gz"), (acme.new, "notes.txt")]
    # One GET per asset, and one of the release by the tag in the first asset's download
    # URL: it teaches the connection the release's other assets.
    assert sorted(paths(acme.emu)) == sorted(
        [
            f"GET /repos/acme/tool/releases/assets/{acme.tar['id']}",
            f"GET /repos/acme/tool/releases/assets/{acme.notes['id']}",
            "GET /repos/acme/tool/releases/tags/v1.1.0",
        ]
    )


def test_asset_by_id_of_a_draft_finds_the_draft_not_the_published_release_of_its_tag(
    acme: Acme, db: apsw.Connection
) -> None:
    # A draft beside the published release of its tag: its download URLs say
    # "untagged-...", the draft's html_url too: the release list names it (with a token).
    draft = acme.emu.add_release("acme", "tool", "v1.1.0", draft=True)
    asset = acme.emu.add_asset("acme", "tool", draft["id"], "next.zip", content=b"z")
    untagged = asset["browser_download_url"].split("/")[-2]
    assert untagged.startswith("untagged-")
    acme.emu.clear_log()
    sql = ASSETS.format(cols="release_id") + " AND id = ?"
    assert db.execute(sql, (asset["id"],)).fetchone() == (draft["id"],)
    assert [(r.path, r.status) for r in acme.emu.log] == [
        (f"/repos/acme/tool/releases/assets/{asset['id']}", 200),
        ("/repos/acme/tool/releases", 200),
    ]


def test_a_failed_lookup_of_an_assets_release_names_the_table(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.add_fault(Fault(method="GET", path="/releases/tags/", status=403))
    sql = ASSETS.format(cols="name, release_id") + " AND id = ?"
    with pytest.raises(RemoteError, match=r"^release_assets: .*releases/tags/v1\.1\.0"):
        db.execute(sql, (acme.tar["id"],)).fetchall()
    # A query that does not read release_id makes no such request.
    by_id = ASSETS.format(cols="name") + " AND id = ?"
    assert db.execute(by_id, (acme.tar["id"],)).fetchall() == [("tool-1.1.0.tar.gz",)]


def test_release_of_assets_past_an_embedded_cut_is_looked_up_once() -> None:
    with Emulator(embedded_assets_cap=100) as emu:
        seed_acme(emu)
        big = emu.add_release("acme", "tool", "v3.0.0", created_at="2024-06-01T00:00:00Z")["id"]
        for n in range(250):
            emu.add_asset("acme", "tool", big, f"file-{n:03}.bin", content=b"x")
        ids = [a["id"] for a in emu.list_assets("acme", "tool", big)]
        db = connect_to(emu)
        emu.clear_log()
        sql = ASSETS.format(cols="release_id") + " AND id IN (?, ?, ?)"
        assert db.execute(sql, (ids[150], ids[200], ids[240])).fetchall() == [(big,)] * 3
        tag_lookups = [p for p in paths(emu) if "/releases/tags/" in p]
        assert tag_lookups == ["GET /repos/acme/tool/releases/tags/v3.0.0"]
        # The connection now knows those assets' release, past the cut of its array too.
        emu.clear_log()
        assert db.execute(sql, (ids[150], ids[200], ids[240])).fetchall() == [(big,)] * 3
        assert len(emu.log) == 3


@pytest.mark.parametrize("tag", ["release/1.0", "v1.0+build.1", "v1#2", "ü/1"])
def test_release_id_by_tags_with_slashes_and_other_characters(
    acme: Acme, db: apsw.Connection, tag: str
) -> None:
    release = acme.emu.add_release("acme", "tool", tag)
    asset = acme.emu.add_asset("acme", "tool", release["id"], "f.bin", content=b"f")
    acme.emu.clear_log()
    sql = ASSETS.format(cols="release_id") + " AND id = ?"
    assert db.execute(sql, (asset["id"],)).fetchone() == (release["id"],)
    assert len(acme.emu.log) == 2


def test_release_id_by_id_in_a_repository_named_like_the_download_path(
    emulator: Emulator, db: apsw.Connection
) -> None:
    emulator.add_user("releases")
    emulator.add_repo("releases", "download")
    release = emulator.add_release("releases", "download", "v1.0")
    asset = emulator.add_asset("releases", "download", release["id"], "x.zip", content=b"x")
    sql = (
        "SELECT release_id FROM release_assets WHERE owner = 'releases' AND repo = 'download'"
        " AND id = ?"
    )
    assert db.execute(sql, (asset["id"],)).fetchone() == (release["id"],)


def test_a_release_id_found_on_demand_is_a_plain_integer_everywhere(
    acme: Acme, emulator: Emulator
) -> None:
    tar = acme.tar["id"]
    by_id = ASSETS.format(cols="{cols}") + " AND id = ?"
    db = connect_to(emulator)
    assert db.execute(by_id.format(cols="typeof(release_id)"), (tar,)).fetchone() == ("integer",)
    db = connect_to(emulator)
    db.execute("CREATE TEMP TABLE t AS " + by_id.format(cols="*"), (tar,))
    assert db.execute("SELECT release_id FROM t").fetchone() == (acme.new,)
    db = connect_to(emulator)
    db.execute(
        "UPDATE release_assets SET label = 'x', release_id = release_id"
        " WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (tar,),
    )
    assert emulator.get_asset(tar)["label"] == "x"
    db = connect_to(emulator)
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
        " AND release_id = ?",
        (acme.notes["id"], acme.new),
    )
    assert emulator.get_asset(acme.notes["id"]) is None


def test_uploader_is_json_text(acme: Acme, db: apsw.Connection) -> None:
    uploader, login = db.execute(
        ASSETS.format(cols="uploader, uploader ->> '$.login'") + " AND id = ?",
        (acme.tar["id"],),
    ).fetchone()
    assert json.loads(uploader) == acme.tar["uploader"]
    assert login == "octocat"


def test_timestamps_are_iso_text_sqlite_reads(acme: Acme, db: apsw.Connection) -> None:
    row = db.execute(
        ASSETS.format(cols="typeof(created_at), date(created_at)") + " AND id = ?",
        (acme.tar["id"],),
    ).fetchone()
    assert row == ("text", "2024-02-01")


def test_assets_by_release_is_one_get_of_the_release(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        ASSETS.format(cols="release_id, name, state") + " AND release_id = ? ORDER BY name",
        (acme.new,),
    ).fetchall()
    assert rows == [
        (acme.new, "broken.bin", "starter"),
        (acme.new, "notes.txt", "uploaded"),
        (acme.new, "tool-1.1.0.tar.gz", "uploaded"),
    ]
    log = acme.emu.log
    assert [(r.method, r.path, r.query) for r in log] == [
        ("GET", f"/repos/acme/tool/releases/{acme.new}", {})
    ]


def test_assets_by_release_and_id(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        ASSETS.format(cols="release_id, id, name") + " AND release_id = ? AND id = ?",
        (acme.new, acme.notes["id"]),
    ).fetchall()
    assert rows == [(acme.new, acme.notes["id"], "notes.txt")]
    assert len(acme.emu.log) == 1


def test_assets_by_repo_covers_every_release(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(ASSETS.format(cols="release_id, name") + " ORDER BY name").fetchall()
    assert rows == [
        (acme.new, "broken.bin"),
        (acme.new, "notes.txt"),
        (acme.old, "tool-1.0.0.zip"),
        (acme.new, "tool-1.1.0.tar.gz"),
    ]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]


def test_owner_and_repo_are_case_insensitive(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT name FROM release_assets WHERE owner = 'ACME' AND repo = 'Tool' AND id = ?"
    assert db.execute(sql, (acme.tar["id"],)).fetchall() == [("tool-1.1.0.tar.gz",)]
    sql = "SELECT full_name FROM repositories WHERE owner = 'Acme' AND name = 'TOOL'"
    assert db.execute(sql).fetchall() == [("acme/tool",)]


def test_get_by_id_that_finds_nothing_is_no_row(acme: Acme, db: apsw.Connection) -> None:
    assert db.execute(ASSETS.format(cols="name") + " AND id = 999999").fetchall() == []
    sql = "SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool' AND {}"
    assert db.execute(sql.format("id = 999999")).fetchall() == []
    assert db.execute(sql.format("tag_name = 'v9'")).fetchall() == []
    assert db.execute("SELECT * FROM repositories WHERE owner='acme' AND name='x'").fetchall() == []
    # the missing tag also searches the release list for a draft (status 200)
    assert [r.status for r in acme.emu.log] == [404, 404, 404, 200, 404]


def test_list_under_missing_repository_names_it(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT * FROM release_assets WHERE owner = 'acme' AND repo = 'nope'"
    with pytest.raises(RemoteError, match=r"repository acme/nope does not exist"):
        db.execute(sql).fetchall()


def test_list_under_missing_release_names_it(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(
        RemoteError, match=r"release_assets: release 999 of acme/tool does not exist"
    ):
        db.execute(ASSETS.format(cols="*") + " AND release_id = 999").fetchall()


def test_missing_owner_names_it(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(RemoteError, match="owner ghost"):
        db.execute("SELECT * FROM repositories WHERE owner = 'ghost'").fetchall()


def test_private_repo_without_token_is_a_clear_error(acme: Acme) -> None:
    anonymous = connect_to(acme.emu, token="")
    with pytest.raises(RemoteError) as failure:
        anonymous.execute(
            "SELECT * FROM release_assets WHERE owner = 'acme' AND repo = 'secret'"
        ).fetchall()
    message = str(failure.value)
    assert "acme/secret does not exist" in message
    assert "private" in message and "GH_TOKEN" in message


# releases and latest_releases -----------------------------------------------------------

RELEASES = "SELECT {cols} FROM releases WHERE owner = 'acme' AND repo = 'tool'"
RELEASE_COLS = "id, tag_name, name, body, draft, prerelease, author_login, assets_count"


def test_release_by_id(acme: Acme, db: apsw.Connection) -> None:
    row = db.execute(RELEASES.format(cols=RELEASE_COLS) + " AND id = ?", (acme.new,)).fetchone()
    assert row == (acme.new, "v1.1.0", "One one", "Fixes", 0, 0, "octocat", 3)
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]


def test_release_by_tag(acme: Acme, db: apsw.Connection) -> None:
    row = db.execute(RELEASES.format(cols="id, prerelease") + " AND tag_name = 'v2.0.0-rc.1'")
    assert [r[1] for r in row] == [1]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases/tags/v2.0.0-rc.1"]


def test_release_by_tag_finds_every_draft_of_the_tag(acme: Acme) -> None:
    one = acme.emu.add_release("acme", "tool", "next", draft=True)["id"]
    two = acme.emu.add_release("acme", "tool", "next", draft=True)["id"]  # GitHub allows it
    db = connect_to(acme.emu, per_page=1)  # each draft on a page of its own
    where = "owner = 'acme' AND repo = 'tool' AND tag_name"
    sql = f"SELECT id FROM releases WHERE {where} = 'next' ORDER BY id"
    assert db.execute(sql).fetchall() == [(one,), (two,)]
    # A scalar subquery reads one row of the key; the statement's next scan of it still
    # sees both drafts.
    both = db.execute(
        f"SELECT (SELECT id FROM releases WHERE {where} = 'next'),"
        f" (SELECT count(*) FROM releases WHERE {where} IN ('next', 'x'))"
    ).fetchone()
    assert both[0] in (one, two)
    assert both[1] == 2


def test_the_emulator_keeps_one_published_release_per_tag(acme: Acme) -> None:
    acme.emu.add_release("acme", "tool", "v1.1.0", draft=True)  # a draft beside it is fine
    with pytest.raises(Conflict, match=r"acme/tool has a release for tag v1\.1\.0"):
        acme.emu.add_release("acme", "tool", "v1.1.0")


def test_releases_by_repo_with_embedded_assets(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(RELEASES.format(cols="tag_name, assets_count, assets")).fetchall()
    assert [(t, n) for t, n, _ in rows] == [("v2.0.0-rc.1", 0), ("v1.1.0", 3), ("v1.0.0", 1)]
    assert [a["name"] for a in json.loads(rows[2][2])] == ["tool-1.0.0.zip"]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]


def test_latest_release_is_one_request(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT id, tag_name FROM latest_releases WHERE owner = 'acme' AND repo = 'tool'"
    assert db.execute(sql).fetchall() == [(acme.new, "v1.1.0")]
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases/latest"]


# repositories ---------------------------------------------------------------------------


def test_repositories_of_an_organization(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        "SELECT name, full_name, private, fork, archived, description, pushed_at "
        "FROM repositories WHERE owner = 'acme' ORDER BY name"
    ).fetchall()
    assert rows == [
        ("fork-of-x", "acme/fork-of-x", 0, 1, 1, None, rows[0][6]),
        ("secret", "acme/secret", 1, 0, 0, None, rows[1][6]),
        ("tool", "acme/tool", 0, 0, 0, "The tool", "2024-05-01T10:00:00Z"),
    ]
    assert paths(acme.emu) == ["GET /orgs/acme/repos"]


def test_repositories_of_a_user_fall_back_to_users(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute("SELECT owner, name FROM repositories WHERE owner = 'mona'").fetchall()
    assert rows == [("mona", "dots")]
    # GET /user (once per connection): mona is not the token's account (octocat)
    assert paths(acme.emu) == ["GET /orgs/mona/repos", "GET /user", "GET /users/mona/repos"]


def test_repository_by_owner_and_name(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT name, default_branch FROM repositories WHERE owner = 'acme' AND name = 'tool'"
    assert db.execute(sql).fetchall() == [("tool", "main")]
    assert paths(acme.emu) == ["GET /repos/acme/tool"]


# authentication and the API URL ---------------------------------------------------------


def test_no_authorization_header_without_token(acme: Acme, monkeypatch) -> None:
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    anonymous = sqlgh.connect(api_url=acme.emu.api_url)
    assert anonymous.execute(ASSETS.format(cols="count(*)")).fetchone() == (4,)
    assert acme.emu.log and all("authorization" not in r.headers for r in acme.emu.log)


@pytest.mark.parametrize(
    ("gh", "github", "sent"),
    [(TOKEN, "other", TOKEN), (None, TOKEN, TOKEN), ("", TOKEN, TOKEN)],
)
def test_token_from_gh_token_then_github_token(
    acme: Acme, monkeypatch, gh: str | None, github: str, sent: str
) -> None:
    if gh is None:
        monkeypatch.delenv("GH_TOKEN", raising=False)
    else:
        monkeypatch.setenv("GH_TOKEN", gh)
    monkeypatch.setenv("GITHUB_TOKEN", github)
    sqlgh.connect(api_url=acme.emu.api_url).execute(ASSETS.format(cols="id")).fetchall()
    assert [r.headers["authorization"] for r in acme.emu.log] == [f"Bearer {sent}"]


def test_api_url_from_environment(acme: Acme, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", acme.emu.api_url)
    sql = "SELECT name FROM repositories WHERE owner = 'acme' AND name = 'tool'"
    assert sqlgh.connect(token=TOKEN).execute(sql).fetchall() == [("tool",)]


def test_api_url_trailing_slash_is_fine(acme: Acme) -> None:
    db = sqlgh.connect(api_url=acme.emu.api_url + "/", token=TOKEN)
    assert db.execute(ASSETS.format(cols="count(*)")).fetchone() == (4,)
    assert paths(acme.emu) == ["GET /repos/acme/tool/releases"]
    assert acme.emu.unknown == []


def test_token_never_appears_in_errors(acme: Acme) -> None:
    secret = "ghp_secretsecretsecret"
    messages = []
    for token in (TOKEN, secret):  # a valid one (404s) and a bad one (401s)
        db = connect_to(acme.emu, token=token)
        for sql in (
            "SELECT * FROM release_assets WHERE owner = 'acme' AND repo = 'nope'",
            "SELECT * FROM repositories WHERE owner = 'ghost'",
            "SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool'",
        ):
            try:
                db.execute(sql).fetchall()
            except SqlghError as exc:
                messages.append(f"{exc} {exc.__cause__!r}")
    assert len(messages) == 5  # the valid token may list acme/tool's releases
    assert not [m for m in messages if TOKEN in m or secret in m]
    assert any(r.status == 401 for r in acme.emu.log)


def test_bad_token_is_reported_as_401(acme: Acme) -> None:
    db = connect_to(acme.emu, token="not-a-token")
    with pytest.raises(RemoteError, match=r"401 \(Bad credentials\)"):
        db.execute("SELECT * FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()


def test_ghes_reads_under_api_v3() -> None:
    with Emulator(ghes=True) as emu:
        acme = seed_acme(emu)
        assert emu.api_url.endswith("/api/v3")
        db = connect_to(emu)
        rows = db.execute(ASSETS.format(cols="name") + " AND id = ?", (acme.tar["id"],))
        assert rows.fetchall() == [("tool-1.1.0.tar.gz",)]
        latest = "SELECT tag_name FROM latest_releases WHERE owner = 'acme' AND repo = 'tool'"
        assert db.execute(latest).fetchall() == [("v1.1.0",)]
        assert paths(emu) == [
            f"GET /api/v3/repos/acme/tool/releases/assets/{acme.tar['id']}",
            "GET /api/v3/repos/acme/tool/releases/latest",
        ]
        assert emu.unknown == []


def test_unknown_connect_option_is_refused() -> None:
    with pytest.raises(TypeError, match=r"unknown option.*max_concurency"):
        sqlgh.connect(max_concurency=4, cache=False)


def test_tag_lookup_finds_a_draft_through_the_list(acme: Acme, db: apsw.Connection) -> None:
    draft = acme.emu.add_release("acme", "tool", "v3.0.0", draft=True)
    acme.emu.clear_log()
    rows = db.execute(
        "SELECT id, draft FROM releases WHERE owner = 'acme' AND repo = 'tool' "
        "AND tag_name IN ('v3.0.0', 'v1.0.0') ORDER BY id"
    ).fetchall()
    assert rows == [(acme.old, 0), (draft["id"], 1)]
    # v3.0.0: a 404 from the by-tag endpoint, then the release list; v1.0.0: one GET,
    # unless that list was read whole before its lookup started (the two tags are looked
    # up concurrently, so in either order), which then answers it
    logged = sorted((r.status, r.path.rsplit("/", 1)[-1]) for r in acme.emu.log)
    assert logged in (
        [(200, "releases"), (200, "v1.0.0"), (404, "v3.0.0")],
        [(200, "releases"), (404, "v3.0.0")],
    )
