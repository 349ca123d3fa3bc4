"""The emulator in the corners users hit on GitHub (issue 18): empty files, rewritten
names, archived repositories, bot uploaders, headers, the storage redirect, state."""

from __future__ import annotations

from datetime import datetime
from email.utils import formatdate

import requests
from helpers import Acme, seed_acme

from sqlgh.emulator import Emulator

AUTH = {"Authorization": "Bearer test-token"}


def upload(acme: Acme, name: str, data: bytes, release_id: int | None = None) -> requests.Response:
    url = f"{acme.emu.uploads_url}/repos/acme/tool/releases/{release_id or acme.new}/assets"
    headers = {**AUTH, "Content-Type": "application/octet-stream"}
    return requests.post(url, params={"name": name}, data=data, headers=headers, timeout=10)


def test_empty_upload_is_refused_and_leaves_no_asset(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    refused = upload(acme, "empty.txt", b"")
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "resource": "ReleaseAsset",
            "code": "custom",
            "field": "size",
            "message": "size must be greater than or equal to 1",
        }
    ]
    names = [a["name"] for a in emulator.list_assets("acme", "tool", acme.new)]
    assert "empty.txt" not in names
    assert upload(acme, "empty.txt", b"").status_code == 422  # not "already_exists"


def test_patch_takes_the_documented_states_only(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    url = acme.notes["url"]
    starter = requests.patch(url, json={"state": "starter"}, headers=AUTH, timeout=10)
    assert starter.status_code == 422
    assert starter.json()["errors"] == [
        {"resource": "ReleaseAsset", "code": "invalid", "field": "state"}
    ]
    assert emulator.get_asset(acme.notes["id"])["state"] == "uploaded"
    opened = requests.patch(url, json={"state": "open"}, headers=AUTH, timeout=10)
    assert (opened.status_code, opened.json()["state"]) == (200, "open")


def test_archived_repository_refuses_writes(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    emulator.set_archived("acme", "tool")
    refused = [
        upload(acme, "new.txt", b"new"),
        requests.patch(acme.notes["url"], json={"label": "x"}, headers=AUTH, timeout=10),
        requests.delete(acme.notes["url"], headers=AUTH, timeout=10),
    ]
    for answer in refused:
        assert answer.status_code == 403
        assert answer.json()["message"] == "Repository was archived so is read-only."
    assert emulator.get_asset(acme.notes["id"])["label"] is None
    assert requests.get(acme.notes["url"], headers=AUTH, timeout=10).status_code == 200
    emulator.set_archived("acme", "tool", False)
    assert upload(acme, "new.txt", b"new").status_code == 201


def test_an_actions_upload_carries_the_bot_as_uploader(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    bot = emulator.add_bot()
    asset = emulator.add_asset(
        "acme", "tool", acme.new, "app.zip", content=b"zip", uploader="github-actions[bot]"
    )
    uploader = requests.get(asset["url"], headers=AUTH, timeout=10).json()["uploader"]
    assert uploader == bot
    assert (uploader["login"], uploader["id"], uploader["type"]) == (
        "github-actions[bot]",
        41898282,
        "Bot",
    )
    assert uploader["node_id"] == "MDM6Qm90NDE4OTgyODI="
    assert uploader["avatar_url"] == "https://avatars.githubusercontent.com/in/15368?v=4"
    assert uploader["html_url"] == f"{emulator.web_url}/apps/github-actions"
    assert uploader["url"] == f"{emulator.api_url}/users/github-actions%5Bbot%5D"
    assert uploader["followers_url"].endswith("/users/github-actions%5Bbot%5D/followers")
    repos = requests.get(uploader["repos_url"], timeout=10)
    assert (repos.status_code, repos.json()) == (200, [])


def test_demo_releases_of_globex_are_published_by_actions(demo: Emulator) -> None:
    releases = requests.get(f"{demo.api_url}/repos/globex/laser/releases", timeout=10).json()
    uploaders = {a["uploader"]["login"] for r in releases for a in r["assets"]}
    assert {r["author"]["type"] for r in releases} == {"Bot"}
    assert uploaders == {"github-actions[bot]"}


def _all(response: requests.Response, name: str) -> list[str]:
    """Every value of a header as sent (requests joins repeated headers into one)."""
    return response.raw.headers.getlist(name)


def test_reads_carry_githubs_cache_headers(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    single = requests.get(acme.notes["url"], headers=AUTH, timeout=10)
    assert single.headers["Cache-Control"] == "private, max-age=60, s-maxage=60"
    assert _all(single, "Vary") == [
        "Accept, Authorization, Cookie, X-GitHub-OTP",
        "Accept-Encoding, Accept, X-Requested-With",
    ]
    updated = emulator.get_asset(acme.notes["id"])["updated_at"]
    assert single.headers["Last-Modified"] == formatdate(
        datetime.fromisoformat(updated.replace("Z", "+00:00")).timestamp(), usegmt=True
    )
    listed = requests.get(f"{emulator.api_url}/repos/acme/tool/releases", timeout=10)
    assert listed.headers["Cache-Control"] == "public, max-age=60, s-maxage=60"
    assert _all(listed, "Vary") == ["Accept", "Accept-Encoding, Accept, X-Requested-With"]
    assert "Last-Modified" not in listed.headers


def test_if_modified_since_counts_only_without_if_none_match(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    first = requests.get(acme.notes["url"], headers=AUTH, timeout=10)
    since = {**AUTH, "If-Modified-Since": first.headers["Last-Modified"]}
    assert requests.get(acme.notes["url"], headers=since, timeout=10).status_code == 304
    other = {**since, "If-None-Match": 'W/"another"'}
    assert requests.get(acme.notes["url"], headers=other, timeout=10).status_code == 200


def test_write_answers_carry_an_etag_and_uploads_no_rate_limit(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    uploaded = upload(acme, "new.txt", b"new")
    assert uploaded.headers["ETag"].startswith('"')
    assert not [h for h in uploaded.headers if h.lower().startswith("x-ratelimit")]
    assert uploaded.headers["Cache-Control"] == "private, max-age=60, s-maxage=60"
    patched = requests.patch(acme.notes["url"], json={"label": "L"}, headers=AUTH, timeout=10)
    assert patched.headers["ETag"].startswith('"')
    assert "X-RateLimit-Remaining" in patched.headers


def test_error_bodies_name_the_operation_and_status(emulator: Emulator) -> None:
    acme = seed_acme(emulator)
    body = upload(acme, "notes.txt", b"again").json()
    assert body["documentation_url"] == (
        "https://docs.github.com/rest/releases/assets#upload-a-release-asset"
    )
    assert body["status"] == "422"
    renamed = requests.patch(
        acme.notes["url"], json={"name": acme.tar["name"]}, headers=AUTH, timeout=10
    ).json()
    assert renamed["documentation_url"].endswith("#update-a-release-asset")
    missing = requests.get(f"{emulator.api_url}/repos/acme/nothing", timeout=10).json()
    assert (missing["documentation_url"], missing["status"]) == (
        "https://docs.github.com/rest",
        "404",
    )
