"""INSERT, UPDATE and DELETE on ``releases``: one POST, PATCH or DELETE each
(docs.github.com/rest/releases/releases: "Create a release", "Update a release",
"Delete a release").

No GET comes before a keyed write. Every error says what the write changed on GitHub: a
request whose answer was lost (or came as a 5xx, or as a success with no release in it) is
judged by reading the release again,
and when even that fails the error says the outcome is unknown and which query tells.
Immutable releases: a change GitHub refuses (a new tag, back to draft) is refused before
sending when the row shows the release immutable, and GitHub's refusal is explained the
same way when it was not known yet.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlgh.errors import InputError, RemoteError, SqlghError, WriteError
from sqlgh.github.dates import http_date
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.tables import keys
from sqlgh.tables.asset_guards import refuse_archived
from sqlgh.tables.asset_requests import (
    STILL_PENDING,
    answers_since,
    changed_after,
    may_still_land,
    maybe_applied,
    outcome_after,
    sql_text,
)
from sqlgh.tables.asset_writes import refuse_unsettable, require_token
from sqlgh.tables.endpoints import RELEASE, RELEASES
from sqlgh.tables.memo import EMBEDDED_ASSETS_TRUSTED_BELOW
from sqlgh.tables.spec import Api
from sqlgh.write_report import Write

TABLE = "releases"
TEXT = ("target_commitish", "name", "body", "discussion_category_name")
FLAGS = ("draft", "prerelease")
INSERTABLE = frozenset(
    {"owner", "repo", "tag_name", "generate_release_notes", "make_latest", *TEXT, *FLAGS}
)
EDITABLE = ("tag_name", *TEXT, "draft", "prerelease", "make_latest")
MAKE_LATEST = {"true": "true", "false": "false", "legacy": "legacy", 1: "true", 0: "false"}
# How far before the POST a release found by a re-read may have been made and still be
# taken as the POST's: created_at and the Date header carry whole seconds.
CREATED_SLACK = 5.0


class ReleaseWriter:
    """The write half of ``releases``."""

    EDITABLE = EDITABLE
    CHANGE_HINT = "(a release's id, dates, author and URLs are GitHub's)"

    def insert(self, api: Api, values: Mapping[str, Any], conflict: str) -> tuple[int, str]:
        """POST one release; return (release id, what was done in words)."""
        owner, repo, body = _insert_arguments(api, values, conflict)
        tag = body["tag_name"]
        url = api.client.url(RELEASES, owner=owner, repo=repo)
        started = time.monotonic()
        release = _sent(
            api,
            "POST",
            url,
            body,
            lambda exc: _tag_refusal(exc, owner, repo, tag),
            lambda exc: _judge_create(api, owner, repo, body, started, exc),
        )
        api.memo.remember_release(owner, repo, release)
        kind = "draft release" if release.get("draft") else "release"
        return int(release["id"]), f"created {kind} {tag!r} (id {release['id']})"

    def update(self, api: Api, row: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
        """PATCH the changed fields of one release, in one request; return what was done."""
        body = _patch_body(api, row, changes)
        if not body:
            return ""
        owner, repo, release_id = row["owner"], row["repo"], int(row["id"])
        url = api.client.url(RELEASE, owner=owner, repo=repo, release_id=release_id)

        def refused(exc: GitHubError) -> SqlghError | None:
            if exc.status == 404:
                return RemoteError(f"{TABLE}: no release {release_id} in {owner}/{repo}")
            tag = body.get("tag_name") or row.get("tag_name")
            refusal = _tag_refusal(exc, owner, repo, tag)
            if refusal is None and exc.status == 422 and "immutable" in str(exc).lower():
                return _immutable(owner, repo, release_id, body)
            return refusal

        release = _sent(
            api,
            "PATCH",
            url,
            body,
            refused,
            lambda exc: _judge_update(api, owner, repo, release_id, body, exc),
        )
        api.memo.remember_release(owner, repo, release)
        if _publishes(row, body):
            locked = " (immutable now)" if release.get("immutable") else ""
            return f"published release {release.get('tag_name')!r} (id {release_id}){locked}"
        return f"updated {', '.join(body)} of release {release_id}"

    def delete(self, api: Api, row: Mapping[str, Any]) -> str:
        """DELETE one release (its assets go with it, its tag stays); one already gone
        counts as deleted (a DELETE reads its rows first)."""
        require_token(api, "DELETE", TABLE)
        refuse_archived(api, row["owner"], row["repo"], "DELETE", TABLE)
        owner, repo, release_id = row["owner"], row["repo"], int(row["id"])
        url = api.client.url(RELEASE, owner=owner, repo=repo, release_id=release_id)
        since = time.time()
        failure: Exception
        try:
            response = api.client.request("DELETE", url)
            if response.status_code == 204:
                return _deleted(row, release_id)
            shown = api.client.display_path(url)
            answered = ValueError(f"answered {response.status_code}, not 204")
            failure = TransportError("DELETE", shown, answered)
        except GitHubError as exc:
            if exc.status == 404:
                return _deleted(row, release_id)
            if not maybe_applied(answers_since(api, "DELETE", since)):
                raise
            failure = exc
        except TransportError as exc:
            failure = exc
        doing = f"DELETE of release {release_id}"
        if _read_release(api, owner, repo, release_id, doing, failure) is None:
            return _deleted(row, release_id)
        later = may_still_land(failure)
        raise WriteError(
            f"{TABLE}: could not delete release {release_id} of {owner}/{repo} ({failure}); "
            f"it is still there{f', but the DELETE {STILL_PENDING}' if later else ''}",
            changed=None if later else False,
        )

    # dry runs: what a write would send, after the same checks; reads run as usual -------
    def preview_insert(self, api: Api, values: Mapping[str, Any], conflict: str) -> Write:
        """What ``insert`` would send: one POST of the release."""
        owner, repo, body = _insert_arguments(api, values, conflict)
        url = api.client.url(RELEASES, owner=owner, repo=repo)
        post = f"POST {url}  {json.dumps(body)}"
        return Write("created", owner, repo, None, None, body["tag_name"], (post,), noun="release")

    def preview_update(self, api: Api, row: Mapping[str, Any], changes: Mapping[str, Any]) -> Write:
        """What ``update`` would send: one PATCH of the changed fields (none: nothing)."""
        body = _patch_body(api, row, changes)
        url = _release_url(api, row)
        verb = "published" if _publishes(row, body) else "updated"
        return _planned(verb, row, (f"PATCH {url}  {json.dumps(body)}",) if body else ())

    def preview_delete(self, api: Api, row: Mapping[str, Any]) -> Write:
        """What ``delete`` would send: one DELETE, which takes the release's assets along."""
        require_token(api, "DELETE", TABLE)
        refuse_archived(api, row["owner"], row["repo"], "DELETE", TABLE)
        url = _release_url(api, row)
        return self.taken_along(_planned("deleted", row, (f"DELETE {url}",)), row)

    def taken_along(self, write: Write, row: Mapping[str, Any]) -> Write:
        """``write`` with the assets a deleted release took with it: its row's
        ``assets_count`` (an embedded list of 100 or more may be cut short: at least)."""
        count = row.get("assets_count")
        if write.verb != "deleted" or not isinstance(count, int):
            return write
        return replace(write, assets=count, assets_exact=count < EMBEDDED_ASSETS_TRUSTED_BELOW)


def _publishes(row: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    return body.get("draft") is False and row.get("draft") is not False


def _release_url(api: Api, row: Mapping[str, Any]) -> str:
    return api.client.url(RELEASE, owner=row["owner"], repo=row["repo"], release_id=int(row["id"]))


def _planned(verb: str, row: Mapping[str, Any], requests: tuple[str, ...]) -> Write:
    tag = row.get("tag_name")
    return Write(
        verb,
        row["owner"],
        row["repo"],
        None,
        int(row["id"]),
        tag if isinstance(tag, str) else None,
        requests,
        noun="release",
    )


def _insert_arguments(
    api: Api, values: Mapping[str, Any], conflict: str
) -> tuple[str, str, dict[str, Any]]:
    """An INSERT's owner, repo and POST body, checked; refused without a token."""
    optional = ", ".join(sorted(INSERTABLE - {"owner", "repo", "tag_name"}))
    give = f"owner, repo, tag_name and optionally {optional}"
    refuse_unsettable(TABLE, values, INSERTABLE, give)
    if conflict in ("IGNORE", "REPLACE"):
        raise InputError(
            f"{TABLE}: INSERT OR {conflict} is not supported; to change a release, UPDATE it "
            "(UPDATE releases SET ... WHERE owner = ... AND repo = ... AND tag_name = ...)"
        )
    owner = keys.owner_name(TABLE, "owner", values.get("owner"))
    repo = keys.repo_name(TABLE, "repo", values.get("repo"))
    tag = keys.tag_name(TABLE, "tag_name", values.get("tag_name"))
    body: dict[str, Any] = {"tag_name": tag, **_fields(values)}
    notes = values.get("generate_release_notes")
    if notes is not None:
        body["generate_release_notes"] = _flag("generate_release_notes", notes)
    require_token(api, "INSERT", TABLE)
    refuse_archived(api, owner, repo, "INSERT", TABLE)
    return owner, repo, body


def _patch_body(api: Api, row: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """An UPDATE's PATCH body (empty: nothing changes), checked; refused without a token,
    or when it would change what an immutable release locks."""
    _refuse_nulls(changes)
    body = _fields(changes)
    if "tag_name" in changes and changes["tag_name"] != row.get("tag_name"):
        body["tag_name"] = keys.tag_name(TABLE, "tag_name", changes["tag_name"])
    if not body:
        return body
    require_token(api, "UPDATE", TABLE)
    refuse_archived(api, row["owner"], row["repo"], "UPDATE", TABLE)
    if _known_immutable(api, row) and ("tag_name" in body or body.get("draft") is True):
        raise _immutable(row["owner"], row["repo"], int(row["id"]), body)
    return body


def _refuse_nulls(changes: Mapping[str, Any]) -> None:
    """A column SET to NULL: GitHub's "Update a release" takes strings and booleans only,
    and a member left out keeps its value, so NULL cannot say "clear" (the OpenAPI
    description of repos/update-release; docs.github.com/rest/releases/releases)."""
    for column, value in changes.items():
        if value is not None:
            continue
        if column in TEXT:
            instead = f"to empty it, SET {column} = ''"
        elif column in FLAGS:
            instead = f"SET {column} = 1 or 0"
        elif column == "make_latest":
            instead = "SET make_latest = 'true', 'false' or 'legacy', or leave it out"
        else:
            instead = "a release always has a tag: give one such as 'v1.2.0'"
        raise InputError(
            f"{TABLE}.{column}: NULL cannot be sent to GitHub (the release would keep its "
            f"{column}); {instead}"
        )


def _sent(
    api: Api,
    method: str,
    url: str,
    body: Mapping[str, Any],
    refused: Callable[[GitHubError], SqlghError | None],
    judge: Callable[[Exception], dict],
) -> dict:
    """Send one POST or PATCH and return the release GitHub answers. A refusal GitHub
    explains (``refused``) is raised as such; an answer lost, or a 5xx after which the
    write may have been done, is ``judge``d by reading again."""
    since = time.time()
    try:
        answer = api.client.decode(api.client.request(method, url, json=dict(body)))
    except GitHubError as exc:
        refusal = refused(exc)
        if refusal is not None:
            raise refusal from exc
        if not maybe_applied(answers_since(api, method, since)):
            raise
        return judge(exc)
    except TransportError as exc:
        return judge(exc)
    if isinstance(answer, dict) and type(answer.get("id")) is int:
        return answer
    # A success whose body is no release (a proxy's, or a broken answer): the write was
    # accepted, so what it did is read from GitHub as for a lost answer.
    return judge(_unusable(method, api.client.display_path(url), "a release"))


def _unusable(method: str, shown: str, expected: str) -> TransportError:
    """A success whose body is not what GitHub answers (``expected``)."""
    return TransportError(method, shown, ValueError(f"the answer to it was not {expected}"))


def _deleted(row: Mapping[str, Any], release_id: int) -> str:
    tag = row.get("tag_name")
    kept = f"; its tag {tag!r} is kept" if tag else "; its tag is kept"
    return f"deleted release {release_id}{kept}"


def _fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The request members of the given columns (tag_name apart), checked."""
    body: dict[str, Any] = {}
    for column in TEXT:
        if column in values and values[column] is not None:
            body[column] = _text(column, values[column])
    for column in FLAGS:
        if column in values and values[column] is not None:
            body[column] = _flag(column, values[column])
    if values.get("make_latest") is not None:
        value = values["make_latest"]
        if isinstance(value, bool) or value not in MAKE_LATEST:
            raise InputError(
                f"{TABLE}.make_latest: {value!r} is not one of 'true', 'false', 'legacy' "
                "(or 1, 0); 'legacy' lets GitHub pick the latest by date and version"
            )
        body["make_latest"] = MAKE_LATEST[value]
    return body


def _text(column: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"{TABLE}.{column}: {value!r} is not text; give text, or NULL")
    return value


def _flag(column: str, value: Any) -> bool:
    if value not in (0, 1) or isinstance(value, float):
        raise InputError(f"{TABLE}.{column}: {value!r} is not 0 or 1; give 1 (true) or 0 (false)")
    return bool(value)


def _known_immutable(api: Api, row: Mapping[str, Any]) -> bool:
    if row.get("immutable"):
        return True
    state = api.memo.release_state(row["owner"], row["repo"], int(row["id"]))
    return state is not None and state[0]


def _immutable(owner: str, repo: str, release_id: int, body: Mapping[str, Any]) -> WriteError:
    what = "its tag" if "tag_name" in body else "it back to a draft"
    return WriteError(
        f"{TABLE}: cannot change {what}: release {release_id} of {owner}/{repo} is immutable "
        "(published with release immutability on): its tag and assets are locked, while name, "
        "body, prerelease and make_latest may still change. Make a new release instead "
        "(INSERT INTO releases(owner, repo, tag_name, draft) VALUES (..., 1)); a tag an "
        "immutable release used cannot be used again",
        changed=False,
    )


def _tag_refusal(exc: GitHubError, owner: str, repo: str, tag: str | None) -> WriteError | None:
    """GitHub's 422 about the tag (``tag`` None: the release's own, not known here),
    explained; None for anything else."""
    if exc.status != 422:
        return None
    shown = f"tag {tag!r}" if tag else "its tag"
    if "already_exists" in exc.error_codes:
        return WriteError(
            f"{TABLE}: {owner}/{repo} already has a published release of {shown}; UPDATE "
            "that release instead, or give another tag_name",
            changed=False,
        )
    if "used by an immutable release" in str(exc):
        return WriteError(
            f"{TABLE}: {shown} of {owner}/{repo} was used by an immutable release, and "
            "GitHub never lets such a tag be used again (even after that release is deleted); "
            "give another tag_name",
            changed=False,
        )
    return None


def _read_release(
    api: Api, owner: str, repo: str, release_id: int, doing: str, failure: Exception
) -> Any:
    """The release as GitHub has it now (None: gone), read to judge ``doing``."""
    url = api.client.url(RELEASE, owner=owner, repo=repo, release_id=release_id)
    try:
        release = api.client.get_json_or_none(url)
        if release is not None and not isinstance(release, dict):
            raise _unusable("GET", api.client.display_path(url), "a release")
        return release
    except (GitHubError, TransportError, SqlghError) as exc:
        raise WriteError(
            f"{TABLE}: the outcome of the {doing} is unknown: {failure}; and the release "
            f"could not be read afterwards to tell ({exc}). Check with: SELECT id, tag_name, "
            f"draft, name FROM {TABLE} WHERE owner = {sql_text(owner)} AND repo = "
            f"{sql_text(repo)} AND id = {release_id}",
            changed=None,
        ) from exc


def _judge_update(
    api: Api, owner: str, repo: str, release_id: int, body: Mapping[str, Any], failure: Exception
) -> dict:
    """A PATCH whose answer was lost or a 5xx: the release as re-read, if the change is
    in it; otherwise an error saying what GitHub shows."""
    shown = ", ".join(f"{k} = {v!r}" for k, v in body.items())
    doing = f"UPDATE of release {release_id} ({shown})"
    release = _read_release(api, owner, repo, release_id, doing, failure)
    if release is None:
        raise WriteError(
            f"{TABLE}: the {doing} failed ({failure}) and the release is gone now (deleted by "
            "someone else)",
            changed=None,
        )
    held = [_holds(release, k, v) for k, v in body.items()]
    if all(held):
        return release
    now = ", ".join(f"{k} = {release.get(k)!r}" for k in body if k != "make_latest")
    raise WriteError(
        f"{TABLE}: could not update release {release_id} ({shown}): {failure}; GitHub now "
        f"shows {now}{outcome_after(held, failure, 'PATCH')}",
        changed=changed_after(held, failure),
    )


def _holds(release: Mapping[str, Any], key: str, value: Any) -> bool:
    # make_latest is not echoed in a release; the rest are.
    return key == "make_latest" or release.get(key) == value


def _judge_create(
    api: Api, owner: str, repo: str, body: Mapping[str, Any], started: float, failure: Exception
) -> dict:
    """A POST whose answer was lost or a 5xx: the release it made, found on the newest page
    of the list (a draft is not served by tag) by its tag, what was sent, and a creation
    time no earlier than the POST (less ``CREATED_SLACK``) by GitHub's clock (the list's
    ``Date``; ``started`` is ``time.monotonic()``); else an error saying nothing was
    created. Another writer may make a release of the same tag at the same time (drafts
    may share a tag: basbruss/adaptive-cover#493): when two releases fit, which one is this
    POST's cannot be told, and the outcome is reported unknown."""
    tag = body["tag_name"]
    url = api.client.url(RELEASES, owner=owner, repo=repo)
    check = (
        f"SELECT id, tag_name, draft, created_at FROM {TABLE} WHERE owner = {sql_text(owner)} "
        f"AND repo = {sql_text(repo)} AND tag_name = {sql_text(tag)}"
    )
    unknown = f"{TABLE}: the outcome of the INSERT of release {tag!r} is unknown: {failure}"
    try:
        response = api.client.request("GET", url, params={"per_page": 100}, fresh=True)
        received = time.monotonic()
        newest = api.client.decode(response)
        if not isinstance(newest, list):
            raise _unusable("GET", api.client.display_path(url), "a list of releases")
    except (GitHubError, TransportError, SqlghError) as exc:
        raise WriteError(
            f"{unknown}; and the releases could not be read afterwards to tell ({exc}). "
            f"Check with: {check}",
            changed=None,
        ) from exc
    github_now = http_date(response.headers.get("Date")) or time.time()
    posted = github_now - (received - started)
    made = [r for r in newest if isinstance(r, dict) and _made_by_post(r, body, posted)]
    if len(made) == 1:
        return made[0]
    if made:
        ids = ", ".join(str(r.get("id")) for r in made)
        raise WriteError(
            f"{unknown}; releases {ids} all match it and were made since, by this INSERT or "
            f"another writer, so which one is this INSERT's cannot be told. Check with: {check}",
            changed=None,
        )
    if may_still_land(failure):
        raise WriteError(
            f"{unknown}; GitHub shows no such release yet, but the POST may still be carried "
            f"out. Check with: {check}",
            changed=None,
        )
    raise WriteError(
        f"{TABLE}: could not create release {tag!r} in {owner}/{repo}: {failure}; GitHub shows "
        "no such release made since, so nothing was created",
        changed=False,
    )


def _made_by_post(release: Mapping[str, Any], body: Mapping[str, Any], posted: float) -> bool:
    created = str(release.get("created_at")).replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(created).timestamp()
    except ValueError:
        return False
    if release.get("tag_name") != body["tag_name"] or when < int(posted - CREATED_SLACK):
        return False
    # What GitHub keeps as sent; generated notes change the body (and name, when none).
    sent = {"draft": False, "prerelease": False, **body}
    kept = ["draft", "prerelease", "name"] if "name" in body else ["draft", "prerelease"]
    if "body" in body and not body.get("generate_release_notes"):
        kept.append("body")
    return all(release.get(key) == sent[key] for key in kept)
