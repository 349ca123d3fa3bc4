"""The emulator over real HTTP: routes, pagination, auth, rate limits, ETags, writes,
downloads, the request log."""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests

from sqlgh.emulator import Emulator

AUTH = {"Authorization": "Bearer test-token"}
READ_ONLY = {"Authorization": "token reader-token"}
TOKENS = {
    "test-token": {"login": "octocat", "write": True},
    "reader-token": {"login": "reader", "write": False},
}


@pytest.fixture
def emu() -> Emulator:
    """An emulator with a writer and a read-only token, seeded with acme/tool."""
    with Emulator(tokens=TOKENS) as emu:
        emu.add_org("acme")
        emu.add_repo("acme", "tool", description="The tool")
        emu.add_repo("acme", "secret", private=True)
        old = emu.add_release("acme", "tool", "v1.0.0", created_at="2024-01-01T00:00:00Z")
        new = emu.add_release("acme", "tool", "v1.1.0", created_at="2024-02-01T00:00:00Z")
        emu.add_release(
            "acme", "tool", "v2.0.0-rc.1", prerelease=True, created_at="2024-03-01T00:00:00Z"
        )
        emu.add_release("acme", "tool", "v2.0.0", draft=True, created_at="2024-04-01T00:00:00Z")
        emu.add_asset("acme", "tool", old["id"], "tool-1.0.0.tar.gz", content=b"old bytes")
        emu.add_asset(
            "acme", "tool", new["id"], "tool-1.1.0.tar.gz", content=b"0123456789", label="Linux"
        )
        emu.add_asset("acme", "tool", new["id"], "big.bin", size=300_000)
        yield emu


def get(emu: Emulator, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
    return requests.get(emu.api_url + path, headers=headers, timeout=10, **kwargs)


def release_id(emu: Emulator, tag: str) -> int:
    return get(emu, f"/repos/acme/tool/releases/tags/{tag}").json()["id"]


# reads ----------------------------------------------------------------------------------


def test_start_is_cheap_and_stop_is_immediate() -> None:
    started = time.perf_counter()
    for _ in range(5):
        with Emulator() as emu:
            assert get(emu, "/rate_limit").status_code == 200
    assert time.perf_counter() - started < 1.0


def test_repository_case_insensitive(emu: Emulator) -> None:
    repo = get(emu, "/repos/ACME/Tool").json()
    assert repo["full_name"] == "acme/tool"
    assert repo["owner"]["type"] == "Organization"
    assert repo["description"] == "The tool"
    assert get(emu, f"/repositories/{repo['id']}").json()["name"] == "tool"
    assert get(emu, "/repos/acme/nope").status_code == 404


def test_releases_newest_first_drafts_hidden(emu: Emulator) -> None:
    tags = [r["tag_name"] for r in get(emu, "/repos/acme/tool/releases").json()]
    assert tags == ["v2.0.0-rc.1", "v1.1.0", "v1.0.0"]
    tags = [r["tag_name"] for r in get(emu, "/repos/acme/tool/releases", AUTH).json()]
    assert tags == ["v2.0.0", "v2.0.0-rc.1", "v1.1.0", "v1.0.0"]
    reader = [r["tag_name"] for r in get(emu, "/repos/acme/tool/releases", READ_ONLY).json()]
    assert "v2.0.0" not in reader


def test_release_lookups(emu: Emulator) -> None:
    latest = get(emu, "/repos/acme/tool/releases/latest").json()
    assert latest["tag_name"] == "v1.1.0"  # not the prerelease, not the draft
    assert [a["name"] for a in latest["assets"]] == ["tool-1.1.0.tar.gz", "big.bin"]
    assert get(emu, "/repos/acme/tool/releases/tags/v2.0.0", AUTH).status_code == 404  # draft
    by_id = get(emu, f"/repos/acme/tool/releases/{latest['id']}").json()
    assert by_id["id"] == latest["id"]
    assert get(emu, "/repos/acme/tool/releases/999").status_code == 404
    assert get(emu, "/repos/acme/tool/releases/abc").status_code == 404
    emu.add_repo("acme", "empty")
    assert get(emu, "/repos/acme/empty/releases/latest").status_code == 404


def test_draft_visible_only_with_write_token(emu: Emulator) -> None:
    draft = next(r for r in get(emu, "/repos/acme/tool/releases", AUTH).json() if r["draft"])
    assert draft["published_at"] is None
    assert get(emu, f"/repos/acme/tool/releases/{draft['id']}", AUTH).status_code == 200
    assert get(emu, f"/repos/acme/tool/releases/{draft['id']}", READ_ONLY).status_code == 404
    assert get(emu, f"/repos/acme/tool/releases/{draft['id']}").status_code == 404


def test_release_json_links(emu: Emulator) -> None:
    release = get(emu, "/repos/acme/tool/releases/latest").json()
    base = f"{emu.api_url}/repos/acme/tool/releases/{release['id']}"
    assert release["url"] == base
    assert release["assets_url"] == base + "/assets"
    assert release["upload_url"] == (
        f"{emu.uploads_url}/repos/acme/tool/releases/{release['id']}/assets{{?name,label}}"
    )
    assert release["html_url"].endswith("/acme/tool/releases/tag/v1.1.0")
    assert release["tarball_url"] == f"{emu.api_url}/repos/acme/tool/tarball/v1.1.0"
    asset = release["assets"][0]
    assert asset["browser_download_url"] == (
        f"{emu.api_url}/acme/tool/releases/download/v1.1.0/tool-1.1.0.tar.gz"
    )
    assert asset["label"] == "Linux"
    assert asset["uploader"]["login"] == "octocat"
    assert asset["digest"].startswith("sha256:")


def test_assets_list_and_get(emu: Emulator) -> None:
    rid = release_id(emu, "v1.1.0")
    assets = get(emu, f"/repos/acme/tool/releases/{rid}/assets").json()
    assert [a["name"] for a in assets] == ["tool-1.1.0.tar.gz", "big.bin"]
    assert [a["size"] for a in assets] == [10, 300_000]
    one = get(emu, f"/repos/acme/tool/releases/assets/{assets[1]['id']}").json()
    assert one == assets[1]
    assert get(emu, f"/repos/acme/other/releases/assets/{one['id']}").status_code == 404


def test_embedded_assets_cap() -> None:
    with Emulator(embedded_assets_cap=2) as emu:
        emu.add_repo("o", "r")
        rid = emu.add_release("o", "r", "v1")["id"]
        for n in range(5):
            emu.add_asset("o", "r", rid, f"f{n}", content=b"x")
        assert len(get(emu, "/repos/o/r/releases/latest").json()["assets"]) == 2
        assert len(get(emu, f"/repos/o/r/releases/{rid}/assets").json()) == 5


def test_org_and_user_repos(emu: Emulator) -> None:
    emu.add_repo("octocat", "mine", private=True)
    emu.add_repo("octocat", "public-one")
    assert [r["name"] for r in get(emu, "/orgs/ACME/repos").json()] == ["tool"]
    names = [r["name"] for r in get(emu, "/orgs/acme/repos", AUTH).json()]
    assert sorted(names) == ["secret", "tool"]
    private = get(emu, "/orgs/acme/repos", AUTH, params={"type": "private"}).json()
    assert [r["name"] for r in private] == ["secret"]
    assert get(emu, "/orgs/octocat/repos").status_code == 404  # a user, not an org
    assert get(emu, "/orgs/nobody/repos").status_code == 404
    assert [r["name"] for r in get(emu, "/users/octocat/repos").json()] == ["public-one"]
    assert [r["name"] for r in get(emu, "/users/acme/repos").json()] == ["tool"]  # orgs too
    assert get(emu, "/users/nobody/repos").status_code == 404
    mine = [r["name"] for r in get(emu, "/user/repos", AUTH).json()]
    assert mine == ["mine", "public-one"]
    assert get(emu, "/user/repos").json()["message"] == "Requires authentication"
    me = get(emu, "/user", AUTH).json()
    assert (me["login"], me["type"]) == ("octocat", "User")
    assert get(emu, "/user").status_code == 401


def test_repo_sorting(emulator: Emulator) -> None:
    emulator.add_org("o")
    emulator.add_repo("o", "b", created_at="2020-01-01T00:00:00Z")
    emulator.add_repo("o", "a", created_at="2021-01-01T00:00:00Z")
    emulator.add_repo("o", "c", created_at="2019-01-01T00:00:00Z")

    def names(**params: str) -> list[str]:
        return [r["name"] for r in get(emulator, "/orgs/o/repos", params=params).json()]

    assert names() == ["a", "b", "c"]  # created, newest first
    assert names(sort="full_name") == ["a", "b", "c"]
    assert names(sort="created", direction="asc") == ["c", "b", "a"]


# pagination -----------------------------------------------------------------------------


def test_pagination_and_links(emulator: Emulator) -> None:
    repo = emulator.add_repo("octocat", "many")
    rid = emulator.add_release("octocat", "many", "v1")["id"]
    for n in range(250):
        emulator.add_asset("octocat", "many", rid, f"file-{n:03}.bin", content=b"x")
    first = get(emulator, f"/repos/octocat/many/releases/{rid}/assets")
    assert len(first.json()) == 30  # default per_page
    links = first.links
    base = f"{emulator.api_url}/repositories/{repo['id']}/releases/{rid}/assets"
    assert links["next"]["url"] == f"{base}?page=2"
    assert links["last"]["url"] == f"{base}?page=9"
    assert "prev" not in links and "first" not in links

    names, url = [], f"{emulator.api_url}/repos/octocat/many/releases/{rid}/assets?per_page=100"
    while url:
        page = requests.get(url, timeout=10)
        names += [a["name"] for a in page.json()]
        url = page.links.get("next", {}).get("url")
    assert names == [f"file-{n:03}.bin" for n in range(250)]

    middle = get(emulator, f"/repos/octocat/many/releases/{rid}/assets?per_page=100&page=2")
    assert middle.headers["Link"] == (
        f'<{base}?per_page=100&page=1>; rel="prev", <{base}?per_page=100&page=3>; rel="next", '
        f'<{base}?per_page=100&page=3>; rel="last", <{base}?per_page=100&page=1>; rel="first"'
    )
    clamped = get(emulator, f"/repos/octocat/many/releases/{rid}/assets?per_page=500")
    assert len(clamped.json()) == 100
    beyond = get(emulator, f"/repos/octocat/many/releases/{rid}/assets?per_page=100&page=7")
    assert beyond.json() == []


def test_no_link_when_one_page(emu: Emulator) -> None:
    assert "Link" not in get(emu, "/repos/acme/tool/releases").headers


def test_release_and_repo_list_links(emulator: Emulator) -> None:
    emulator.add_org("big")
    repos = [emulator.add_repo("big", f"r{n}") for n in range(3)]
    for n in range(3):
        emulator.add_release("big", "r0", f"v{n}")
    releases = get(emulator, "/repos/big/r0/releases?per_page=2")
    assert releases.links["next"]["url"] == (
        f"{emulator.api_url}/repositories/{repos[0]['id']}/releases?per_page=2&page=2"
    )
    assert len(requests.get(releases.links["next"]["url"], timeout=10).json()) == 1
    org = get(emulator, "/orgs/big/repos?per_page=2")
    org_id = repos[0]["owner"]["id"]
    assert org.links["next"]["url"] == (
        f"{emulator.api_url}/organizations/{org_id}/repos?per_page=2&page=2"
    )
    assert len(requests.get(org.links["next"]["url"], timeout=10).json()) == 1
    emulator.add_repo("solo", "x")
    emulator.add_repo("solo", "y")
    user = get(emulator, "/users/solo/repos?per_page=1")
    user_id = get(emulator, "/repos/solo/x").json()["owner"]["id"]
    assert user.links["next"]["url"] == f"{emulator.api_url}/user/{user_id}/repos?per_page=1&page=2"
    assert requests.get(user.links["next"]["url"], timeout=10).json()[0]["name"] == "y"


# auth -----------------------------------------------------------------------------------


def test_auth_rules(emu: Emulator) -> None:
    assert get(emu, "/repos/acme/secret").status_code == 404
    assert get(emu, "/repos/acme/secret", AUTH).status_code == 200
    assert get(emu, "/repos/acme/secret", {"Authorization": "token test-token"}).ok
    bad = get(emu, "/repos/acme/tool", {"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json()["message"] == "Bad credentials"
    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.1.0"))[0]
    url = asset["url"]
    anonymous = requests.patch(url, json={"label": "x"}, timeout=10)
    assert (anonymous.status_code, anonymous.json()["message"]) == (401, "Requires authentication")
    reader = requests.delete(url, headers=READ_ONLY, timeout=10)
    assert reader.status_code == 403
    assert reader.json()["message"] == "Resource not accessible by personal access token"
    assert emu.get_asset(asset["id"]) is not None


def test_error_body_shape(emu: Emulator) -> None:
    body = get(emu, "/repos/acme/nope").json()
    assert body["message"] == "Not Found"
    assert body["status"] == "404"
    assert body["documentation_url"].startswith("https://docs.github.com/")


# rate limits and ETags ------------------------------------------------------------------


def test_rate_limit_headers_per_identity(emu: Emulator) -> None:
    first = get(emu, "/repos/acme/tool", AUTH)
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert first.headers["x-ratelimit-remaining"] == "4999"
    assert first.headers["x-ratelimit-used"] == "1"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(first.headers["x-ratelimit-reset"]) > time.time()
    second = get(emu, "/repos/acme/tool", AUTH)
    assert second.headers["x-ratelimit-remaining"] == "4998"
    anonymous = get(emu, "/repos/acme/tool")
    assert anonymous.headers["x-ratelimit-limit"] == "60"
    assert anonymous.headers["x-ratelimit-remaining"] == "59"
    overview = get(emu, "/rate_limit", AUTH).json()
    assert overview["resources"]["core"]["remaining"] == 4998  # /rate_limit is free
    assert overview["rate"] == overview["resources"]["core"]
    assert get(emu, "/rate_limit", AUTH).headers["x-ratelimit-remaining"] == "4998"


def test_rate_limit_exhaustion_and_reset(emu: Emulator) -> None:
    reset = int(time.time()) + 3  # room for the requests below on a loaded machine
    emu.set_rate_limit(remaining=1, reset=reset)
    assert get(emu, "/repos/acme/tool", AUTH).headers["x-ratelimit-remaining"] == "0"
    refused = get(emu, "/repos/acme/tool", AUTH)
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("API rate limit exceeded for user ID ")
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-reset"] == str(reset)
    assert get(emu, "/repos/acme/tool").status_code == 200  # new identities get 1 too
    anonymous = get(emu, "/repos/acme/tool")
    assert anonymous.status_code == 403
    assert anonymous.json()["message"].startswith("API rate limit exceeded for 127.0.0.1.")
    assert get(emu, "/rate_limit", AUTH).status_code == 200
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    again = get(emu, "/repos/acme/tool", AUTH)
    assert again.status_code == 200
    assert again.headers["x-ratelimit-remaining"] == "4999"


def test_rate_limit_override_ends_with_its_window(emu: Emulator) -> None:
    emu.set_rate_limit(remaining=0, reset=int(time.time()) - 1)
    assert get(emu, "/repos/acme/tool", AUTH).status_code == 200  # a new window began
    emu.set_rate_limit(remaining=0)
    assert get(emu, "/repos/acme/tool", AUTH).status_code == 403


def test_unauthenticated_limit_of_60() -> None:
    with Emulator(unauthenticated_rate_limit=3) as emu:
        statuses = [get(emu, "/rate_limit").status_code for _ in range(5)]
        assert statuses == [200] * 5
        statuses = [get(emu, "/users/octocat/repos").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 403]


def test_etag_and_304_do_not_count(emu: Emulator) -> None:
    first = get(emu, "/repos/acme/tool/releases", AUTH)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = get(emu, "/repos/acme/tool/releases", {**AUTH, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    emu.add_release("acme", "tool", "v3.0.0")
    changed = get(emu, "/repos/acme/tool/releases", {**AUTH, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_keep_alive_and_content_length(emu: Emulator) -> None:
    host = urlsplit(emu.api_url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=5)
    for _ in range(3):
        connection.request("GET", "/repos/acme/tool")
        response = connection.getresponse()
        body = response.read()
        assert int(response.headers["Content-Length"]) == len(body)
        assert response.headers.get("Connection") != "close"
    connection.close()


# writes ---------------------------------------------------------------------------------


def upload(
    emu: Emulator, tag: str, name: str, data: bytes, headers: dict | None = None, **params: str
) -> requests.Response:
    release = get(emu, f"/repos/acme/tool/releases/tags/{tag}").json()
    url = release["upload_url"].split("{")[0]
    headers = {**AUTH, "Content-Type": "application/octet-stream", **(headers or {})}
    return requests.post(url, params={"name": name, **params}, data=data, headers=headers)


def test_upload_then_conflict(emu: Emulator) -> None:
    created = upload(
        emu, "v1.0.0", "notes.txt", b"hello", {"Content-Type": "text/plain"}, label="Notes"
    )
    assert created.status_code == 201
    asset = created.json()
    assert (asset["name"], asset["size"], asset["label"]) == ("notes.txt", 5, "Notes")
    assert (asset["state"], asset["content_type"]) == ("uploaded", "text/plain")
    assert asset["digest"] == (
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    assert emu.asset_content(asset["id"]) == b"hello"
    conflict = upload(emu, "v1.0.0", "notes.txt", b"again")
    assert conflict.status_code == 422
    assert conflict.json()["message"] == "Validation Failed"
    assert conflict.json()["errors"] == [
        {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
    ]
    record = emu.log[-1]
    assert (record.origin, record.method, record.status, record.body_size) == (
        "uploads",
        "POST",
        422,
        5,
    )


def test_upload_renames_special_characters(emu: Emulator) -> None:
    created = upload(emu, "v1.0.0", "My App (1.0) ~beta.exe", b"x")
    assert created.json()["name"] == "My.App.1.0.beta.exe"
    assert upload(emu, "v1.0.0", "My App (1.0) ~beta.exe", b"x").status_code == 422


def test_upload_requirements(emu: Emulator) -> None:
    assert upload(emu, "v1.0.0", "a", b"x", {"Content-Type": ""}).status_code == 400
    missing_name = upload(emu, "v1.0.0", "", b"x")
    assert missing_name.status_code == 422
    rid = release_id(emu, "v1.0.0")
    anonymous = requests.post(
        f"{emu.uploads_url}/repos/acme/tool/releases/{rid}/assets?name=a",
        data=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert anonymous.status_code == 401
    reader = requests.post(
        f"{emu.uploads_url}/repos/acme/tool/releases/{rid}/assets?name=a",
        data=b"x",
        headers={"Content-Type": "text/plain", **READ_ONLY},
    )
    assert reader.status_code == 403
    no_length = http.client.HTTPConnection(*urlsplit(emu.uploads_url).netloc.split(":"))
    no_length.putrequest("POST", f"/repos/acme/tool/releases/{rid}/assets?name=a")
    no_length.putheader("Authorization", "Bearer test-token")
    no_length.putheader("Content-Type", "text/plain")
    no_length.endheaders()
    response = no_length.getresponse()
    assert response.status == 400
    assert b"Bad Content-Length" in response.read()
    assert [a["name"] for a in emu.list_assets("acme", "tool", rid)] == ["tool-1.0.0.tar.gz"]


def test_large_upload_streams_to_disk(emu: Emulator) -> None:
    size = 20 << 20

    def chunks():
        block = bytes(range(256)) * 4096
        for _ in range(size // len(block)):
            yield block

    rid = release_id(emu, "v1.0.0")
    url = f"{emu.uploads_url}/repos/acme/tool/releases/{rid}/assets?name=big.iso"
    headers = {**AUTH, "Content-Type": "application/x-iso9660-image", "Content-Length": str(size)}
    created = requests.post(url, data=chunks(), headers=headers, timeout=30)
    assert created.status_code == 201
    assert created.json()["size"] == size
    download = requests.get(created.json()["browser_download_url"], timeout=30)
    assert len(download.content) == size
    assert download.content[:512] == bytes(range(256)) * 2


def test_patch_asset(emu: Emulator) -> None:
    assets = emu.list_assets("acme", "tool", release_id(emu, "v1.1.0"))
    url = assets[0]["url"]
    patched = requests.patch(url, json={"label": "Linux x86-64"}, headers=AUTH, timeout=10)
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["label"]) == (
        "tool-1.1.0.tar.gz",
        "Linux x86-64",
    )
    renamed = requests.patch(url, json={"name": "tool (linux).tgz"}, headers=AUTH, timeout=10)
    assert renamed.json()["name"] == "tool.linux.tgz"
    assert renamed.json()["label"] == "Linux x86-64"
    clash = requests.patch(url, json={"name": "big.bin"}, headers=AUTH, timeout=10)
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["code"] == "already_exists"
    bad = requests.patch(url, data=b"{nope", headers=AUTH, timeout=10)
    assert bad.status_code == 400
    assert emu.get_asset(assets[0]["id"])["name"] == "tool.linux.tgz"


def test_delete_asset(emu: Emulator) -> None:
    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.0.0"))[0]
    deleted = requests.delete(asset["url"], headers=AUTH, timeout=10)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert emu.get_asset(asset["id"]) is None
    assert requests.delete(asset["url"], headers=AUTH, timeout=10).status_code == 404
    assert upload(emu, "v1.0.0", "tool-1.0.0.tar.gz", b"new").status_code == 201


# downloads ------------------------------------------------------------------------------


def test_download_redirects_to_storage(emu: Emulator) -> None:
    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.1.0"))[0]
    headers = {**AUTH, "Accept": "application/octet-stream"}
    redirect = requests.get(asset["url"], headers=headers, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(emu.storage_url + "/")
    assert f"{emu.storage_url}/github-production-release-asset/" in location
    assert all(f"&{member}=" in location for member in ("se", "sig", "jwt"))
    assert emu.get_asset(asset["id"])["download_count"] == 1
    content = requests.get(location, timeout=10)
    assert content.status_code == 200
    assert content.content == b"0123456789"
    assert content.headers["Content-Type"] == "application/octet-stream"
    assert content.headers["Content-Length"] == "10"
    # requests drops Authorization on a redirect to another host, as a client must.
    followed = requests.get(asset["url"], headers=headers, timeout=10)
    assert followed.content == b"0123456789"
    assert emu.get_asset(asset["id"])["download_count"] == 2


def test_storage_refuses_authorization_and_bad_signatures(emu: Emulator) -> None:
    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.1.0"))[0]
    headers = {**AUTH, "Accept": "application/octet-stream"}
    location = requests.get(asset["url"], headers=headers, allow_redirects=False).headers[
        "Location"
    ]
    refused = requests.get(location, headers=AUTH, timeout=10)
    assert refused.status_code == 400
    assert b"Only one auth mechanism allowed" in refused.content
    assert refused.headers["Content-Type"] == "application/xml"
    tampered = location.replace("&se=", "&se=2099")
    assert requests.get(tampered, timeout=10).status_code == 403


def test_storage_ranges(emu: Emulator) -> None:
    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.1.0"))[1]
    headers = {**AUTH, "Accept": "application/octet-stream"}
    location = requests.get(asset["url"], headers=headers, allow_redirects=False).headers[
        "Location"
    ]
    whole = requests.get(location, timeout=10).content
    assert len(whole) == 300_000
    assert emu.asset_content(asset["id"]) == whole
    part = requests.get(location, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == "bytes 100-199/300000"
    assert part.content == whole[100:200]
    tail = requests.get(location, headers={"Range": "bytes=299990-"}, timeout=10)
    assert tail.content == whole[299_990:]
    suffix = requests.get(location, headers={"Range": "bytes=-5"}, timeout=10)
    assert suffix.content == whole[-5:]
    beyond = requests.get(location, headers={"Range": "bytes=400000-"}, timeout=10)
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == "bytes */300000"


def test_browser_download_url(emu: Emulator) -> None:
    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.0.0"))[0]
    response = requests.get(asset["browser_download_url"], timeout=10)
    assert response.content == b"old bytes"
    assert [r.status_code for r in response.history] == [302]
    assert emu.log[-2].origin == "web"
    assert emu.get_asset(asset["id"])["download_count"] == 1
    missing = requests.get(f"{emu.api_url}/acme/tool/releases/download/v1.0.0/nope", timeout=10)
    assert missing.status_code == 404


def test_generated_content_matches_digest(emu: Emulator) -> None:
    import hashlib

    asset = emu.list_assets("acme", "tool", release_id(emu, "v1.1.0"))[1]
    data = requests.get(asset["browser_download_url"], timeout=10).content
    assert asset["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_digest_none_and_starter_seeding(emulator: Emulator) -> None:
    emulator.add_repo("o", "r")
    rid = emulator.add_release("o", "r", "v1")["id"]
    plain = emulator.add_asset("o", "r", rid, "old.zip", size=10, digest=None)
    starter = emulator.add_asset("o", "r", rid, "half.zip", content=b"", state="starter")
    assert plain["digest"] is None
    assert (starter["state"], starter["size"], starter["digest"]) == ("starter", 0, None)


# the request log and unknown routes -----------------------------------------------------


def test_request_log(emu: Emulator) -> None:
    emu.clear_log()
    get(emu, "/repos/acme/tool/releases?per_page=5", {**AUTH, "X-Test": "yes"})
    (record,) = emu.log
    assert (record.origin, record.method, record.path, record.status) == (
        "api",
        "GET",
        "/repos/acme/tool/releases",
        200,
    )
    assert record.query == {"per_page": ["5"]}
    assert record.headers["x-test"] == "yes"
    assert record.body_size == 0
    assert emu.unknown == []


def test_unknown_routes_are_recorded(emu: Emulator) -> None:
    assert get(emu, "/repos/acme/tool/issues").status_code == 404
    assert requests.post(f"{emu.api_url}/repos/acme/tool/issues", headers=AUTH).status_code == 404
    assert [(r.method, r.path) for r in emu.unknown] == [
        ("GET", "/repos/acme/tool/issues"),
        ("POST", "/repos/acme/tool/issues"),
    ]


def test_encoded_slashes_and_dot_segments_stay_in_their_segment(emu: Emulator) -> None:
    host = urlsplit(emu.api_url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=5)
    for path in [
        "/repos/acme%2Ftool/x/releases",
        "/repos/acme/../releases",
        "/repos/acme/tool%2Freleases",
    ]:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 404, path
    assert [r.path for r in emu.log[-3:]] == [
        "/repos/acme%2Ftool/x/releases",
        "/repos/acme/../releases",
        "/repos/acme/tool%2Freleases",
    ]
    assert emu.unknown == []  # all three have known route shapes


# GitHub Enterprise Server ---------------------------------------------------------------


def test_ghes_mode() -> None:
    with Emulator(ghes=True) as emu:
        origin = emu.api_url.removesuffix("/api/v3")
        assert emu.api_url.endswith("/api/v3")
        assert emu.uploads_url == f"{origin}/api/uploads"
        emu.add_repo("octocat", "hello")
        rid = emu.add_release("octocat", "hello", "v1")["id"]
        release = get(emu, "/repos/octocat/hello/releases/latest").json()
        assert release["upload_url"] == (
            f"{origin}/api/uploads/repos/octocat/hello/releases/{rid}/assets{{?name,label}}"
        )
        assert release["url"].startswith(f"{origin}/api/v3/repos/")
        created = requests.post(
            release["upload_url"].split("{")[0],
            params={"name": "a.txt"},
            data=b"hi",
            headers={**AUTH, "Content-Type": "text/plain"},
            timeout=10,
        )
        assert created.status_code == 201
        assert created.json()["browser_download_url"] == (
            f"{origin}/octocat/hello/releases/download/v1/a.txt"
        )
        assert requests.get(created.json()["browser_download_url"], timeout=10).content == b"hi"
        assert requests.get(f"{origin}/repos/octocat/hello", timeout=10).status_code == 404
        assert [r.origin for r in emu.log[-4:]] == ["uploads", "web", "storage", "web"]
        many = emu.add_repo("octocat", "many")
        for n in range(3):
            emu.add_release("octocat", "many", f"v{n}")
        page = get(emu, "/repos/octocat/many/releases?per_page=1")
        assert page.links["next"]["url"] == (
            f"{origin}/api/v3/repositories/{many['id']}/releases?per_page=1&page=2"
        )


# python -m sqlgh.emulator ---------------------------------------------------------------


def test_module_entry_point() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sqlgh.emulator", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        api_url = process.stdout.readline().strip()
        assert api_url.startswith("http://127.0.0.1:")
        repos = requests.get(f"{api_url}/orgs/acme/repos", timeout=10)
        assert repos.status_code == 200
        assert len(repos.json()) > 5
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_a_client_that_goes_away_prints_no_traceback(
    emulator: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    """A connection reset by the client (Ctrl-C in ``sqlgh --demo``) is no error to print."""
    import socket
    import struct

    host, port = emulator.api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /repos/a/b HTTP/1.1\\r\\nHost: x\\r\\n")  # headers not finished
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    emulator.stop()  # ends the handler threads, after they met the reset
    for _ in range(50):
        if "Traceback" in capfd.readouterr().err:
            raise AssertionError("the emulator printed a traceback for a reset connection")
        time.sleep(0.01)
