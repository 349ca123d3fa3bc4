"""INSERT, UPDATE and DELETE on ``releases``: the exact requests, and errors that say
what changed on GitHub (issue 15, part 1)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from email.utils import formatdate

import pytest
import requests

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.errors import InputError, WriteError
from sqlgh.tables.releases import releases_of_tag
from tests.conftest import TOKEN, connect_to
from tests.helpers import paths

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    emulator.add_release("acme", "tool", "v1.0.0", name="One", body="first")
    emulator.clear_log()
    return emulator


def release(emu: Emulator, release_id: int) -> dict | None:
    answer = requests.get(f"{emu.api_url}/repos/acme/tool/releases/{release_id}", headers=AUTH)
    return answer.json() if answer.status_code == 200 else None


def test_insert_is_one_post_and_the_rowid_is_the_new_id(emu: Emulator) -> None:
    db = connect_to(emu)
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, name, body, draft, prerelease, "
        "target_commitish) VALUES ('acme', 'tool', 'v2.0.0', 'Two', 'notes', 1, 0, 'main')"
    )
    new_id = db.last_insert_rowid()
    assert paths(emu) == ["POST /repos/acme/tool/releases"]
    made = release(emu, new_id)
    assert made is not None
    assert (made["tag_name"], made["name"], made["body"], made["draft"]) == (
        "v2.0.0",
        "Two",
        "notes",
        True,
    )


def test_publishing_by_id_is_one_patch_without_a_get(emu: Emulator) -> None:
    draft = emu.add_release("acme", "tool", "v2.0.0", draft=True)["id"]
    emu.clear_log()
    db = connect_to(emu)
    db.execute(
        "UPDATE releases SET draft = 0 WHERE owner = 'acme' AND repo = 'tool' AND id = ?", (draft,)
    )
    assert paths(emu) == [f"PATCH /repos/acme/tool/releases/{draft}"]
    published = release(emu, draft)
    assert published is not None and published["draft"] is False and published["published_at"]


def test_update_by_tag_sends_only_what_was_set(emu: Emulator) -> None:
    db = connect_to(emu)
    # Between the read and the PATCH someone renames the release: a PATCH carrying the
    # columns that were not SET (name, tag_name) would undo that.
    url = f"{emu.api_url}/repos/acme/tool/releases/tags/v1.0.0"
    release_id = requests.get(url, headers=AUTH).json()["id"]

    def rename() -> None:
        patch = f"{emu.api_url}/repos/acme/tool/releases/{release_id}"
        requests.patch(patch, json={"name": "Renamed meanwhile"}, headers=AUTH, timeout=5)

    emu.add_fault(Fault("meanwhile", method="PATCH", path=r"/releases/\d+$", call=rename))
    emu.clear_log()
    db.execute(
        "UPDATE releases SET body = 'new notes', prerelease = 1, make_latest = 'false' "
        "WHERE owner = 'acme' AND repo = 'tool' AND tag_name = 'v1.0.0'"
    )
    assert [p for p in paths(emu) if "releases" in p][:2] == [
        "GET /repos/acme/tool/releases/tags/v1.0.0",
        f"PATCH /repos/acme/tool/releases/{release_id}",
    ]
    now = release(emu, release_id)
    assert now is not None
    assert (now["name"], now["body"], now["prerelease"], now["tag_name"]) == (
        "Renamed meanwhile",
        "new notes",
        True,
        "v1.0.0",
    )


def test_delete_reads_the_row_then_deletes_it(emu: Emulator) -> None:
    draft = emu.add_release("acme", "tool", "v2.0.0", draft=True)["id"]
    emu.add_asset("acme", "tool", draft, "a.bin", content=b"a")
    emu.clear_log()
    db = connect_to(emu)
    db.execute(
        "DELETE FROM releases WHERE owner = 'acme' AND repo = 'tool' AND id = ? AND draft = 1",
        (draft,),
    )
    assert paths(emu) == [
        f"GET /repos/acme/tool/releases/{draft}",
        f"DELETE /repos/acme/tool/releases/{draft}",
    ]
    assert release(emu, draft) is None


def test_an_existing_tag_is_a_clear_error_and_nothing_is_made(emu: Emulator) -> None:
    db = connect_to(emu)
    with pytest.raises(WriteError) as failure:
        db.execute("INSERT INTO releases(owner, repo, tag_name) VALUES ('acme', 'tool', 'v1.0.0')")
    message = str(failure.value)
    assert "already has a published release of tag 'v1.0.0'" in message
    assert "Nothing was changed on GitHub" in message
    assert paths(emu) == ["POST /repos/acme/tool/releases"]


def test_writes_without_a_token_are_refused_before_any_request(emu: Emulator) -> None:
    anonymous = connect_to(emu, token="")
    with pytest.raises(
        WriteError, match='releases: INSERT needs a token with the "Contents: write"'
    ):
        anonymous.execute(
            "INSERT INTO releases(owner, repo, tag_name) VALUES ('acme', 'tool', 'v3')"
        )
    assert paths(emu) == []


def test_read_only_columns_are_refused_by_name(emu: Emulator) -> None:
    db = connect_to(emu)
    with pytest.raises(InputError, match="releases: INSERT cannot set created_at, id"):
        db.execute(
            "INSERT INTO releases(owner, repo, tag_name, id, created_at) "
            "VALUES ('acme', 'tool', 'v3', 5, 'x')"
        )
    with pytest.raises(
        InputError, match=r"releases\.published_at cannot be changed; UPDATE can change"
    ):
        db.execute(
            "UPDATE releases SET published_at = 'x' "
            "WHERE owner = 'acme' AND repo = 'tool' AND tag_name = 'v1.0.0'"
        )
    assert not any(p.startswith(("POST", "PATCH")) for p in paths(emu))


def inserted_draft_is_the_one_made(emu: Emulator) -> int:
    """INSERT a draft v5; GitHub then holds one v5, whose id is last_insert_rowid()
    (returned)."""
    db = connect_to(emu)
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, draft) VALUES ('acme', 'tool', 'v5', 1)"
    )
    listed = requests.get(f"{emu.api_url}/repos/acme/tool/releases", headers=AUTH).json()
    made = [r for r in listed if r["tag_name"] == "v5"]
    assert len(made) == 1 and db.last_insert_rowid() == made[0]["id"]
    return made[0]["id"]


def test_a_lost_answer_to_the_post_is_judged_by_reading_again(emu: Emulator) -> None:
    emu.add_fault(Fault("lost", method="POST", path=r"/releases$"))
    inserted_draft_is_the_one_made(emu)


def test_a_post_refused_by_a_5xx_says_nothing_was_made(emu: Emulator) -> None:
    emu.add_fault(Fault("status", method="POST", path=r"/releases$", status=503))
    db = connect_to(emu)
    with pytest.raises(
        WriteError, match="GitHub shows no such release made since, so nothing was created"
    ):
        db.execute(
            "INSERT INTO releases(owner, repo, tag_name, draft) VALUES ('acme', 'tool', 'v5', 1)"
        )


def test_drafts_are_found_by_tag_with_a_listing(emu: Emulator) -> None:
    draft = emu.add_release("acme", "tool", "v2.0.0", draft=True)["id"]
    emu.clear_log()
    db = connect_to(emu)
    rows = db.execute(
        "SELECT id, draft FROM releases "
        "WHERE owner = 'acme' AND repo = 'tool' AND tag_name = 'v2.0.0'"
    ).fetchall()
    assert rows == [(draft, 1)]
    assert paths(emu) == [
        "GET /repos/acme/tool/releases/tags/v2.0.0",
        "GET /repos/acme/tool/releases",
    ]
    found = releases_of_tag(db.sqlgh.api, "acme", "tool", "v2.0.0")
    assert [r["id"] for r in found] == [draft]


def test_publishing_a_draft_whose_tag_is_taken_says_so(emu: Emulator) -> None:
    draft = emu.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
    emu.clear_log()
    db = connect_to(emu)
    with pytest.raises(WriteError, match="already has a published release of its tag"):
        db.execute(
            f"UPDATE releases SET draft = 0 WHERE owner = 'acme' AND repo = 'tool' AND id = {draft}"
        )
    assert paths(emu) == [f"PATCH /repos/acme/tool/releases/{draft}"]
    still = release(emu, draft)
    assert still is not None and still["draft"] is True


def test_another_writers_draft_of_the_tag_is_not_taken_for_a_failed_post(emu: Emulator) -> None:
    # Another job made a draft of v5 a moment ago (drafts may share a tag: two release
    # objects of one tag, basbruss/adaptive-cover#493); this POST is refused with a 503.
    theirs = emu.add_release("acme", "tool", "v5", draft=True, name="nightly")["id"]
    emu.add_fault(Fault("status", method="POST", path=r"/releases$", status=503))
    db = connect_to(emu)
    with pytest.raises(WriteError, match="no such release made since, so nothing was created"):
        db.execute(
            "INSERT INTO releases(owner, repo, tag_name, name, draft) "
            "VALUES ('acme', 'tool', 'v5', 'v5 final', 1)"
        )
    assert db.last_insert_rowid() != theirs


def test_a_lost_post_with_two_matching_releases_is_reported_unknown(emu: Emulator) -> None:
    # Another job made the same draft a moment ago; this POST is carried out but its
    # answer is lost: which of the two is this INSERT's cannot be told.
    emu.add_release("acme", "tool", "v5", draft=True, name="v5 final")
    emu.add_fault(Fault("lost", method="POST", path=r"/releases$"))
    db = connect_to(emu)
    with pytest.raises(WriteError) as failure:
        db.execute(
            "INSERT INTO releases(owner, repo, tag_name, name, draft) "
            "VALUES ('acme', 'tool', 'v5', 'v5 final', 1)"
        )
    message = str(failure.value)
    listed = requests.get(f"{emu.api_url}/repos/acme/tool/releases", headers=AUTH).json()
    ids = [r["id"] for r in listed if r["tag_name"] == "v5"]
    assert len(ids) == 2
    assert "the outcome of the INSERT of release 'v5' is unknown" in message
    assert all(str(i) in message for i in ids)
    assert "Nothing was changed" not in message


def test_a_newly_published_release_becomes_the_latest(emu: Emulator) -> None:
    # make_latest "Defaults to true for newly published releases" (REST docs, "Create a
    # release" and "Update a release"); before, the emulator kept an earlier explicit mark.
    db = connect_to(emu, cache=False)
    latest = "SELECT tag_name FROM latest_releases WHERE owner = 'acme' AND repo = 'tool'"
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, draft) VALUES ('acme', 'tool', 'v3', 1)"
    )
    draft = db.last_insert_rowid()
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, make_latest) "
        "VALUES ('acme', 'tool', 'v2', 'true')"
    )
    assert db.execute(latest).fetchall() == [("v2",)]
    db.execute(
        f"UPDATE releases SET draft = 0 WHERE owner = 'acme' AND repo = 'tool' AND id = {draft}"
    )
    assert db.execute(latest).fetchall() == [("v3",)]  # published last, though made first
    db.execute("INSERT INTO releases(owner, repo, tag_name) VALUES ('acme', 'tool', 'v4')")
    assert db.execute(latest).fetchall() == [("v4",)]
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, prerelease) VALUES ('acme', 'tool', 'v5', 1)"
    )
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, make_latest) "
        "VALUES ('acme', 'tool', 'v6', 'false')"
    )
    assert db.execute(latest).fetchall() == [("v4",)]


def test_a_lost_post_is_judged_by_githubs_clock_not_the_local_one(emu: Emulator) -> None:
    # GitHub's clock an hour behind this machine's (its Date header says so); before, the
    # release the lost POST made was judged older than the POST: "nothing was created".
    def an_hour_earlier(stamp: str) -> str:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(hours=1)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def behind(releases: list[dict]) -> list[dict]:
        return [{**r, "created_at": an_hour_earlier(r["created_at"])} for r in releases]

    emu.add_fault(Fault("lost", method="POST", path=r"/releases$"))
    date = {"Date": formatdate(time.time() - 3600, usegmt=True)}
    emu.add_fault(
        Fault("rewrite_json", method="GET", path=r"/releases$", rewrite=behind, headers=date)
    )
    inserted_draft_is_the_one_made(emu)


def test_a_success_whose_body_is_no_release_is_judged_by_reading_again(emu: Emulator) -> None:
    # Before: KeyError 'id' (POST) and AttributeError (PATCH), with no word of what GitHub did.
    emu.add_fault(Fault("rewrite_json", method="POST", path=r"/releases$", rewrite=lambda _: {}))
    draft = inserted_draft_is_the_one_made(emu)
    emu.add_fault(
        Fault("rewrite_json", method="PATCH", path=r"/releases/\d+$", rewrite=lambda r: [r])
    )
    connect_to(emu).execute(
        f"UPDATE releases SET draft = 0 WHERE owner = 'acme' AND repo = 'tool' AND id = {draft}"
    )
    assert (release(emu, draft) or {}).get("draft") is False


def unknown_insert_of_v5(db: object) -> str:
    """The error of an INSERT of draft v5 whose outcome is reported unknown."""
    with pytest.raises(WriteError) as failure:
        db.execute(  # type: ignore[attr-defined]
            "INSERT INTO releases(owner, repo, tag_name, draft) VALUES ('acme', 'tool', 'v5', 1)"
        )
    message = str(failure.value)
    assert "the outcome of the INSERT of release 'v5' is unknown" in message
    return message


def test_a_reread_that_is_no_release_list_leaves_the_outcome_unknown(emu: Emulator) -> None:
    # The POST was carried out (answer lost); the list read to judge it is not a list.
    # Before: "GitHub shows no such release made since, so nothing was created".
    emu.add_fault(Fault("lost", method="POST", path=r"/releases$"))
    emu.add_fault(
        Fault("rewrite_json", method="GET", path=r"/releases$", rewrite=lambda r: {"r": r})
    )
    db = connect_to(emu)
    message = unknown_insert_of_v5(db)
    assert "not a list of releases" in message and "Check with: SELECT" in message
    assert "nothing was created" not in message and "Nothing was changed" not in message


def test_a_post_that_timed_out_is_not_said_to_have_made_nothing(emu: Emulator) -> None:
    # GitHub is still working on the POST when sqlgh stops waiting and reads the list:
    # the release may appear afterwards. Before: "so nothing was created", then it was.
    emu.add_fault(Fault("slow", method="POST", path=r"/releases$", delay=1.0))
    db = connect_to(emu, read_timeout=0.2)
    message = unknown_insert_of_v5(db)
    assert "may still be carried out" in message and "Check with: SELECT" in message
    assert "Nothing was changed" not in message
