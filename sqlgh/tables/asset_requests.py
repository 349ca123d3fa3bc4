"""The requests a write sends about one asset, each judged by what GitHub now holds.

A PATCH or DELETE whose answer never came (the connection broke) or came as a 5xx may
have been carried out all the same; its retry then meets the new state (a DELETE retried
after its answer was lost finds the asset gone). Such an outcome is never guessed: the
asset is read again once, and when even that fails, the error says that the outcome is
unknown and which query tells.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlgh.errors import RemoteError, SqlghError, WriteError
from sqlgh.github.client import MAX_PER_PAGE
from sqlgh.github.dates import http_date
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.retry import is_stall
from sqlgh.tables.endpoints import ASSET, ASSETS, USER
from sqlgh.tables.spec import Api

TABLE = "release_assets"
# What a step of a write can fail with (SqlghError: a 404 or 422 already explained).
FAILURES = (GitHubError, TransportError, SqlghError)


class Unreadable(WriteError):
    """GitHub could not be read to tell what a write did: its outcome is unknown."""

    def __init__(self, message: str) -> None:
        super().__init__(message, changed=None)


def asset_url(api: Api, owner: str, repo: str, asset_id: int) -> str:
    """The API URL of one asset."""
    return api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)


def sql_text(value: object) -> str:
    """``value`` as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def check_query(owner: str, repo: str, **where: object) -> str:
    """The SELECT a user runs to see assets for themselves."""
    terms = [f"owner = {sql_text(owner)}", f"repo = {sql_text(repo)}"]
    terms += [f"{c} = {v if isinstance(v, int) else sql_text(v)}" for c, v in where.items()]
    return f"SELECT id, name, label, state, size FROM {TABLE} WHERE {' AND '.join(terms)}"


def delete_query(owner: str, repo: str, asset_id: int) -> str:
    """The DELETE a user runs to remove one asset."""
    where = f"owner = {sql_text(owner)} AND repo = {sql_text(repo)} AND id = {asset_id}"
    return f"DELETE FROM {TABLE} WHERE {where}"


def answers_since(api: Api, method: str, since: float) -> list[int | None]:
    """The statuses GitHub gave every ``method`` request sent since ``since`` (None: no
    answer arrived), from the client's request log.

    Writes run one at a time on a connection's client, so these are the attempts of the
    one write in progress, every hop of them: a write to a renamed repository is sent
    again to ``/repositories/ID/...`` (307), and that hop is logged under its own path.
    """
    return [
        record.status
        for record in list(api.client.log)
        if record.started >= since and record.method == method
    ]


def maybe_applied(answers: list[int | None]) -> bool:
    """Whether some attempt may have been carried out unseen: its answer was lost or was
    a server error (a refusal, 4xx, is an answer that nothing was done)."""
    return any(status is None or status >= 500 for status in answers)


def may_still_land(failure: Exception) -> bool:
    """Whether GitHub may still carry out a write it gave no answer to in time (a stall):
    a re-read made meanwhile does not tell what it will have done."""
    return isinstance(failure, TransportError) and is_stall(failure)


STILL_PENDING = "may still be carried out (it had no answer in time)"


def changed_after(held: list[bool], failure: Exception) -> bool | None:
    """What a failed write changed, by which of its fields a re-read shows (``held``):
    False (nothing) only when none is shown and the write cannot still land."""
    return False if not any(held) and not may_still_land(failure) else None


def outcome_after(held: list[bool], failure: Exception, method: str) -> str:
    """The end of the error of a failed write, by ``changed_after``."""
    if any(held):
        return ""
    if may_still_land(failure):
        return f", but the {method} {STILL_PENDING}"
    return ", so nothing was changed"


def read_asset(api: Api, owner: str, repo: str, asset_id: int, doing: str, failure: Exception):
    """The asset as GitHub has it now (None: gone), read to judge ``doing``, whose outcome
    ``failure`` left unclear; Unreadable when GitHub cannot be read either."""
    try:
        return api.client.get_json_or_none(asset_url(api, owner, repo, asset_id))
    except FAILURES as exc:
        raise Unreadable(
            f"{TABLE}: the outcome of {doing} is unknown: {failure}; and asset {asset_id} "
            f"could not be read afterwards to tell ({exc}). Check with: "
            f"{check_query(owner, repo, id=asset_id)}"
        ) from exc


def patch(api: Api, owner: str, repo: str, asset_id: int, body: Mapping[str, Any]) -> dict:
    """PATCH one asset (retried as idempotent); 404 and a taken name become clear errors."""
    url = asset_url(api, owner, repo, asset_id)
    try:
        return api.client.decode(api.client.request("PATCH", url, json=dict(body)))
    except GitHubError as exc:
        if exc.status == 404:
            raise RemoteError(f"{TABLE}: no asset {asset_id} in {owner}/{repo}") from exc
        if exc.status == 422 and "already_exists" in exc.error_codes:
            raise WriteError(
                f"{TABLE}: cannot rename asset {asset_id} to {body.get('name')!r}: that "
                "name is taken in its release"
            ) from exc
        raise


def delete(api: Api, owner: str, repo: str, asset_id: int) -> None:
    """DELETE one asset; one found gone counts as deleted (a DELETE reads its rows first,
    so a gone asset was deleted by an attempt whose answer was lost, or by someone else).

    Raises the failure when the asset is still there, Unreadable when that cannot be told.
    """
    url = asset_url(api, owner, repo, asset_id)
    since = time.time()
    try:
        response = api.client.request("DELETE", url)
        if response.status_code == 204:
            return
        # GitHub answers 204 ("Delete a release asset"); anything else came from elsewhere
        # (a proxy's page, say) and says nothing of what GitHub did.
        not_github = ValueError(f"answered {response.status_code}, not 204")
        failure: Exception = TransportError("DELETE", api.client.display_path(url), not_github)
    except GitHubError as exc:
        failure = exc
        if exc.status == 404:
            return  # gone: by an attempt whose answer was lost, or by someone else
        if not maybe_applied(answers_since(api, "DELETE", since)):
            raise
    except TransportError as exc:
        failure = exc
    if read_asset(api, owner, repo, asset_id, f"DELETE of asset {asset_id}", failure) is None:
        return
    if may_still_land(failure):
        raise WriteError(
            f"{TABLE}: could not delete asset {asset_id} ({failure}); it is still there, but "
            f"the DELETE {STILL_PENDING}. Check with: {check_query(owner, repo, id=asset_id)}",
            changed=None,
        )
    raise failure


def listing_with_clock(
    api: Api, owner: str, repo: str, release_id: int
) -> tuple[list[dict], float]:
    """Every asset of a release, read afresh (never from the cache), and GitHub's clock:
    ``clock + time.monotonic()`` is GitHub's time now, by the ``Date`` header of the
    first page (the local clock when there is none)."""
    url = api.client.url(ASSETS, owner=owner, repo=repo, release_id=release_id)
    response = api.client.request("GET", url, params={"per_page": MAX_PER_PAGE}, fresh=True)
    received = time.monotonic()
    first = api.client.decode(response)
    if not isinstance(first, list):
        raise TransportError("GET", api.client.display_path(url), ValueError("not a list"))
    pages = api.client.pages(url, first=(first, response.links), fresh=True)
    assets = [a for page in pages for a in page]
    answered = http_date(response.headers.get("Date"))
    return assets, (time.time() if answered is None else answered) - received


def token_login(api: Api) -> str | None:
    """The login of the token's account (GET /user once per connection); None when GitHub
    does not say (a GitHub App's token is refused there: actions/create-github-app-token#258)."""
    known = api.memo.token_login
    if known is not None:
        return known or None
    try:
        user = api.client.get_json(api.client.url(USER))
    except GitHubError as exc:
        if exc.status not in (401, 403, 404):
            raise
        user = None
    login = user.get("login") if isinstance(user, dict) else None
    api.memo.token_login = login if isinstance(login, str) else ""
    return api.memo.token_login or None


def learn_token_login(api: Api, uploaded: Mapping[str, Any]) -> None:
    """Take the ``uploader`` of an asset this token has just uploaded as the token's
    account, when GET /user has not told it (not asked yet, or refused to an App's token)."""
    login = uploader_login(uploaded)
    if not api.memo.token_login and login:
        api.memo.token_login = login


def uploader_login(asset: Mapping[str, Any]) -> str | None:
    """The login of the account that uploaded ``asset``, as GitHub gives it."""
    uploader = asset.get("uploader")
    login = uploader.get("login") if isinstance(uploader, Mapping) else None
    return login if isinstance(login, str) else None
