"""Fault switches and latency."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sqlgh.emulator import Emulator, Fault

AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    """octocat/tool with release v1 holding data.bin (200 kB)."""
    emulator.add_repo("octocat", "tool")
    release = emulator.add_release("octocat", "tool", "v1")
    emulator.add_asset("octocat", "tool", release["id"], "data.bin", size=200_000)
    return emulator


def releases_url(emu: Emulator) -> str:
    return f"{emu.api_url}/repos/octocat/tool/releases"


def upload_url(emu: Emulator) -> str:
    release = requests.get(f"{releases_url(emu)}/tags/v1", timeout=10).json()
    return release["upload_url"].split("{")[0]


def post(emu: Emulator, name: str, data: bytes) -> requests.Response:
    headers = {**AUTH, "Content-Type": "application/octet-stream"}
    return requests.post(upload_url(emu), params={"name": name}, data=data, headers=headers)


def test_status_burst_then_disarms(emu: Emulator) -> None:
    emu.add_fault(Fault(status=502, times=2, path=r"/releases$"))
    statuses = [requests.get(releases_url(emu), timeout=10).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert requests.get(f"{releases_url(emu)}/tags/v1", timeout=10).ok  # path did not match


def test_fault_after_lets_the_first_requests_through(emu: Emulator) -> None:
    emu.add_fault(Fault(status=500, after=2, times=1, path=r"/releases$"))
    statuses = [requests.get(releases_url(emu), timeout=10).status_code for _ in range(4)]
    assert statuses == [200, 200, 500, 200]


def test_fault_filters_and_clear(emu: Emulator) -> None:
    emu.add_fault(Fault(status=503, method="POST", times=-1))
    emu.add_fault(Fault(status=500, origin="storage", times=-1))
    assert requests.get(releases_url(emu), timeout=10).status_code == 200
    assert post(emu, "a.txt", b"x").status_code == 503
    assert post(emu, "a.txt", b"x").status_code == 503  # times=-1: forever
    asset = requests.get(f"{releases_url(emu)}/tags/v1", timeout=10).json()["assets"][0]
    assert requests.get(asset["browser_download_url"], timeout=10).status_code == 500
    emu.clear_faults()
    assert post(emu, "a.txt", b"x").status_code == 201
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(kind="explode")


def test_retry_after_on_status(emu: Emulator) -> None:
    emu.add_fault(Fault(status=503, retry_after=3))
    response = requests.get(releases_url(emu), timeout=10)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "3")


def test_drop_list_mid_body(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="drop", path="/releases$"))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(releases_url(emu), timeout=10)
    assert requests.get(releases_url(emu), timeout=10).ok


def test_drop_download_mid_body(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="drop", origin="storage"))
    asset = requests.get(f"{releases_url(emu)}/tags/v1", timeout=10).json()["assets"][0]
    response = requests.get(asset["browser_download_url"], stream=True, timeout=10)
    received = b""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for piece in response.iter_content(8192):
            received += piece
    assert 0 < len(received) < 200_000
    assert len(requests.get(asset["browser_download_url"], timeout=10).content) == 200_000


def test_drop_upload_mid_body_leaves_starter(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="drop", origin="uploads"))
    with pytest.raises(requests.exceptions.ConnectionError):
        post(emu, "part.bin", b"y" * 3_000_000)
    record = emu.log[-1]
    assert record.status == 0
    assert 0 < record.body_size < 3_000_000
    (starter,) = [
        a for a in emu.list_assets("octocat", "tool", _release_id(emu)) if a["name"] == "part.bin"
    ]
    assert (starter["state"], starter["size"]) == ("starter", 0)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_lost_answer_after_the_request_was_carried_out(emu: Emulator, method: str) -> None:
    emu.add_fault(Fault(kind="lost", method=method))
    asset = emu.list_assets("octocat", "tool", _release_id(emu))[0]
    with pytest.raises(requests.exceptions.ConnectionError):
        if method == "POST":
            post(emu, "landed.txt", b"landed")
        else:
            requests.delete(asset["url"], headers=AUTH, timeout=10)
    assert emu.log[-1].status == 0
    now = {a["name"]: a["state"] for a in emu.list_assets("octocat", "tool", _release_id(emu))}
    assert now == ({"data.bin": "uploaded", "landed.txt": "uploaded"} if method == "POST" else {})


def test_meanwhile_runs_another_client_before_the_request(emu: Emulator) -> None:
    seen: list[int] = []
    emu.add_fault(
        Fault(
            kind="meanwhile",
            path="/releases$",
            after=1,
            call=lambda: seen.append(requests.get(releases_url(emu), timeout=10).status_code),
        )
    )
    assert requests.get(releases_url(emu), timeout=10).ok and seen == []
    assert requests.get(releases_url(emu), timeout=10).ok and seen == [200]
    assert [r.path for r in emu.log][-2:] == ["/repos/octocat/tool/releases"] * 2


def _release_id(emu: Emulator) -> int:
    return requests.get(f"{releases_url(emu)}/tags/v1", timeout=10).json()["id"]


def test_upload_502_starter_then_recovery(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="upload_502_starter"))
    failed = post(emu, "tool.zip", b"zip bytes")
    assert failed.status_code == 502
    (starter,) = [
        a for a in emu.list_assets("octocat", "tool", _release_id(emu)) if a["name"] == "tool.zip"
    ]
    assert (starter["state"], starter["size"], starter["digest"]) == ("starter", 0, None)
    listed = requests.get(f"{releases_url(emu)}/{_release_id(emu)}/assets", timeout=10).json()
    assert [a["state"] for a in listed] == ["uploaded", "starter"]
    assert post(emu, "tool.zip", b"zip bytes").status_code == 422  # the name is taken
    assert requests.delete(starter["url"], headers=AUTH, timeout=10).status_code == 204
    assert post(emu, "tool.zip", b"zip bytes").json()["state"] == "uploaded"


def test_truncated_and_non_json(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="truncated"))
    cut = requests.get(releases_url(emu), timeout=10)
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    emu.add_fault(Fault(kind="non_json", status=502))
    page = requests.get(releases_url(emu), timeout=10)
    assert page.status_code == 502
    assert page.headers["Content-Type"].startswith("text/html")
    emu.add_fault(Fault(kind="non_json"))
    assert requests.get(releases_url(emu), timeout=10).status_code == 200


def test_slow(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="slow", delay=0.5))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(releases_url(emu), timeout=0.1)
    started = time.perf_counter()
    assert requests.get(releases_url(emu), timeout=10).ok
    assert time.perf_counter() - started < 0.4


def test_rate_limit_faults(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="primary_rate_limit", retry_after=30))
    primary = requests.get(releases_url(emu), headers=AUTH, timeout=10)
    assert primary.status_code == 403
    assert primary.headers["x-ratelimit-remaining"] == "0"
    assert 25 <= int(primary.headers["x-ratelimit-reset"]) - time.time() <= 31
    assert primary.json()["message"].startswith("API rate limit exceeded")
    emu.add_fault(Fault(kind="secondary_rate_limit", retry_after=7))
    secondary = requests.get(releases_url(emu), headers=AUTH, timeout=10)
    assert secondary.status_code == 403
    assert secondary.headers["Retry-After"] == "7"
    assert "secondary rate limit" in secondary.json()["message"]
    emu.add_fault(Fault(kind="secondary_rate_limit", status=429))
    bare = requests.get(releases_url(emu), headers=AUTH, timeout=10)
    assert bare.status_code == 429
    assert "Retry-After" not in bare.headers


def test_latency(emu: Emulator) -> None:
    emu.latency = 0.1
    started = time.perf_counter()
    requests.get(releases_url(emu), timeout=10)
    assert time.perf_counter() - started >= 0.1
    emu.latency = 0.0


def test_header_faults_replace_the_answers_headers(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="headers", headers={"X-RateLimit-Remaining": "-3"}))
    changed = requests.get(releases_url(emu), headers=AUTH, timeout=10)
    assert changed.status_code == 200 and changed.json()[0]["tag_name"] == "v1"
    assert changed.headers["x-ratelimit-remaining"] == "-3"  # the only one of that name
    assert changed.raw.headers.getlist("x-ratelimit-remaining") == ["-3"]
    emu.add_fault(Fault(kind="secondary_rate_limit", headers={"Retry-After": "nan"}))
    assert requests.get(releases_url(emu), timeout=10).headers["Retry-After"] == "nan"
    assert requests.get(releases_url(emu), headers=AUTH, timeout=10).headers[
        "x-ratelimit-remaining"
    ].isdigit()  # disarmed


def test_rewrite_json_fault_does_the_work_then_garbles_the_answer(emu: Emulator) -> None:
    emu.add_fault(Fault(kind="rewrite_json", method="POST", rewrite=lambda asset: [asset["id"]]))
    answer = post(emu, "b.txt", b"bytes")
    assert answer.status_code == 201
    (asset_id,) = answer.json()
    assert emu.get_asset(asset_id)["name"] == "b.txt"  # the upload landed all the same
    with pytest.raises(ValueError, match="needs rewrite"):
        Fault(kind="rewrite_json")
