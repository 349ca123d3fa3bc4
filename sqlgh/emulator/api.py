"""Routes of the API origin: repositories, releases and release assets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlgh.emulator.context import Context, not_found, to_id
from sqlgh.emulator.models import UPDATE_DOCS, dumps, error, join_array, validation_failed
from sqlgh.emulator.naming import sanitize_asset_name
from sqlgh.emulator.release_writes import (
    check_assets_mutable,
    create_release,
    delete_release,
    update_release,
)
from sqlgh.emulator.routes import Route, route
from sqlgh.emulator.state import Account, Asset, Release, Repo
from sqlgh.emulator.wire import HTTPError, Response

# repositories ---------------------------------------------------------------------------

_SORT_KEYS: dict[str, Callable[[Repo], object]] = {
    "created": lambda r: r.created_at,
    "updated": lambda r: r.pushed_at,
    "pushed": lambda r: r.pushed_at,
    "full_name": lambda r: r.full_name.lower(),
}

# What each `type` keeps (the member types need memberships, which are not modelled).
_TYPES: dict[str, Callable[[Repo], bool]] = {
    "all": lambda r: True,
    "owner": lambda r: True,
    "public": lambda r: not r.private,
    "private": lambda r: r.private,
    "forks": lambda r: r.fork,
    "sources": lambda r: not r.fork,
    "member": lambda r: False,
}


def _repo_list(ctx: Context, repos: Iterable[Repo], path: str, default_sort: str) -> Response:
    """A sorted, filtered, paginated list of repositories (docs: "List organization
    repositories": sort default per endpoint; direction asc for full_name, else desc)."""
    request = ctx.request
    sort = request.param("sort")
    sort = sort if sort in _SORT_KEYS else default_sort
    direction = request.param("direction") or ("asc" if sort == "full_name" else "desc")
    keep = _TYPES.get(request.param("type") or "all", _TYPES["all"])
    visibility = request.param("visibility") or "all"
    key = _SORT_KEYS[sort]
    with ctx.state.lock:
        chosen = [
            r
            for r in repos
            if keep(r)
            and (not r.private or ctx.identity is not None)
            and visibility in ("all", "private" if r.private else "public")
        ]
        chosen.sort(key=lambda r: (key(r), r.id), reverse=direction == "desc")
        items, link = ctx.page(chosen, path)
        return ctx.ok(join_array(ctx.shapes.repo_bytes(r) for r in items), link)


def _account(ctx: Context, login: str | None = None, account_id: str | None = None) -> Account:
    account = (
        ctx.state.account(login)
        if login is not None
        else ctx.state.account_by_id(to_id(account_id or ""))
    )
    if account is None:
        raise not_found()
    return account


def get_repo(ctx: Context, repo: Repo) -> Response:
    """GET /repos/{owner}/{repo}."""
    return ctx.ok(ctx.shapes.repo_bytes(repo), modified=repo.pushed_at)


def org_repos(ctx: Context, org: str | None = None, org_id: str | None = None) -> Response:
    """GET /orgs/{org}/repos (a user's name is a 404)."""
    account = _account(ctx, org, org_id)
    if account.type != "Organization":
        raise not_found()
    repos = ctx.state.repos_of(account)
    return _repo_list(ctx, repos, f"/organizations/{account.id}/repos", "created")


def user_repos(ctx: Context, username: str | None = None, user_id: str | None = None) -> Response:
    """GET /users/{username}/repos: public repositories; organizations answer too."""
    account = _account(ctx, username, user_id)
    repos = [r for r in ctx.state.repos_of(account) if not r.private]
    return _repo_list(ctx, repos, f"/user/{account.id}/repos", "full_name")


def my_repos(ctx: Context) -> Response:
    """GET /user/repos: the authenticated user's own repositories."""
    if ctx.identity is None:
        raise HTTPError(401, error("Requires authentication", 401))
    repos = ctx.state.repos_of(ctx.identity.account)
    return _repo_list(ctx, repos, "/user/repos", "full_name")


def authenticated_user(ctx: Context) -> Response:
    """GET /user: the account the token belongs to (docs: "Get the authenticated user")."""
    if ctx.identity is None:
        raise HTTPError(401, error("Requires authentication", 401))
    return ctx.ok(dumps(ctx.shapes.user(ctx.identity.account)))


# releases -------------------------------------------------------------------------------


def _visible_releases(ctx: Context, repo: Repo) -> list[Release]:
    """Newest first by created_at; drafts only for tokens that may write."""
    releases = [r for r in repo.releases.values() if ctx.can_write or not r.draft]
    releases.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return releases


def _release_response(ctx: Context, release: Release) -> Response:
    modified = release.published_at or release.created_at  # its updated_at
    return ctx.ok(ctx.shapes.release_bytes(release, ctx.embedded_assets_cap), modified=modified)


def list_releases(ctx: Context, repo: Repo) -> Response:
    """GET /repos/{owner}/{repo}/releases."""
    with ctx.state.lock:
        items, link = ctx.page(_visible_releases(ctx, repo), f"/repositories/{repo.id}/releases")
        cap = ctx.embedded_assets_cap
        return ctx.ok(join_array(ctx.shapes.release_bytes(r, cap) for r in items), link)


def get_release(ctx: Context, repo: Repo, release_id: str) -> Response:
    """GET /repos/{owner}/{repo}/releases/{release_id}."""
    with ctx.state.lock:
        return _release_response(ctx, ctx.release(repo, release_id))


def latest_release(ctx: Context, repo: Repo) -> Response:
    """GET /repos/{owner}/{repo}/releases/latest: the newest full release by created_at
    (docs: "the most recent non-prerelease, non-draft release ... by created_at")."""
    with ctx.state.lock:
        full = [r for r in repo.releases.values() if not r.draft and not r.prerelease]
        if not full:
            raise not_found()
        marked = repo.releases.get(repo.latest_id or 0)  # make_latest = "true"
        if marked is not None and marked in full:
            return _release_response(ctx, marked)
        return _release_response(ctx, max(full, key=lambda r: (r.created_at, r.id)))


def release_by_tag(ctx: Context, repo: Repo, tag: str) -> Response:
    """GET /repos/{owner}/{repo}/releases/tags/{tag}: published releases only."""
    with ctx.state.lock:
        release = ctx.state.release_by_tag(repo, tag)
        if release is None:
            raise not_found()
        return _release_response(ctx, release)


# assets ---------------------------------------------------------------------------------


def list_assets(ctx: Context, repo: Repo, release_id: str) -> Response:
    """GET /repos/{owner}/{repo}/releases/{release_id}/assets, in upload (id) order."""
    with ctx.state.lock:
        release = ctx.release(repo, release_id)
        path = f"/repositories/{repo.id}/releases/{release.id}/assets"
        items, link = ctx.page(list(release.assets.values()), path)
        return ctx.ok(join_array(ctx.shapes.asset_bytes(a) for a in items), link)


def _asset(ctx: Context, repo: Repo, asset_id: str) -> Asset:
    asset = ctx.state.assets.get(to_id(asset_id))
    if asset is None or asset.release.repo is not repo:
        raise not_found()
    ctx.release(repo, asset.release.id)  # a draft's assets are as hidden as the draft
    return asset


def get_asset(ctx: Context, repo: Repo, asset_id: str) -> Response:
    """GET /repos/{owner}/{repo}/releases/assets/{asset_id}: the JSON, or with
    ``Accept: application/octet-stream`` a 302 to object storage (docs: "API clients
    should handle both a 200 or 302 response")."""
    with ctx.state.lock:
        asset = _asset(ctx, repo, asset_id)
        if "application/octet-stream" not in ctx.request.headers.get("accept", ""):
            return ctx.ok(ctx.shapes.asset_bytes(asset), modified=asset.updated_at)
        ctx.state.count_download(asset)
        actor = ctx.identity.account.id if ctx.identity else 0
        return redirect(ctx.storage.signed_url(asset, actor))


def redirect(location: str) -> Response:
    """302 Found to ``location``."""
    return Response(
        302, b"", content_type="text/html;charset=utf-8", headers=[("Location", location)]
    )


def update_asset(ctx: Context, repo: Repo, asset_id: str) -> Response:
    """PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}: name, label, state;
    members left out stay as they are. A new name is sanitized as uploads are."""
    body = ctx.json_body()
    with ctx.state.lock:
        asset = _asset(ctx, repo, asset_id)
        check_assets_mutable(asset.release)
        changes: dict[str, object] = {}
        if isinstance(body.get("name"), str):
            name = sanitize_asset_name(body["name"])
            if not name:
                raise HTTPError(422, validation_failed("invalid", "name", UPDATE_DOCS))
            other = ctx.state.asset_named(asset.release, name)
            if other is not None and other is not asset:
                raise HTTPError(422, validation_failed("already_exists", "name", UPDATE_DOCS))
            changes["name"] = name
        if "label" in body and (body["label"] is None or isinstance(body["label"], str)):
            changes["label"] = body["label"]
        if isinstance(body.get("state"), str):
            changes["state"] = _settable_state(body["state"])
        ctx.state.update_asset(asset, **changes)
        return ctx.ok(ctx.shapes.asset_bytes(asset))


# The states the docs name for an asset ("uploaded", "open": the release-asset schema); the
# PATCH docs give "uploaded" as the example. "starter" is GitHub's own mark of an unfinished
# upload. No source we found shows GitHub's answer to another value: refusing it (422
# "invalid", as for a bad name) is this emulator's assumption, so that a client sending
# one fails here rather than passing.
SETTABLE_STATES = ("uploaded", "open")


def _settable_state(state: str) -> str:
    if state not in SETTABLE_STATES:
        raise HTTPError(422, validation_failed("invalid", "state", UPDATE_DOCS))
    return state


def delete_asset(ctx: Context, repo: Repo, asset_id: str) -> Response:
    """DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}: 204."""
    with ctx.state.lock:
        asset = _asset(ctx, repo, asset_id)
        check_assets_mutable(asset.release)
        ctx.state.delete_asset(asset)
    return Response(204, content_type=None)


# the route table ------------------------------------------------------------------------


# GitHub's answer to a write in an archived repository: 403 "Repository was archived so is
# read-only." (the message conda-forge's bot matches, regro/cf-scripts; docs.github.com/
# repositories/archiving-a-github-repository: archived repositories are "read-only for all
# users"). No report shows the release-asset endpoints' answer in particular; they are
# assumed to answer as GitHub's other writes do.
ARCHIVED = "Repository was archived so is read-only."


def repo_scoped(handler: Callable[..., Response], write: bool = False) -> Callable[..., Response]:
    """Resolve ``{owner}/{repo}`` or ``{repo_id}`` to a repository this identity may see
    (a private one without a token is a 404, as on GitHub), then call ``handler``; a
    ``write`` to an archived repository is refused."""

    def resolve(
        ctx: Context, owner: str = "", repo: str = "", repo_id: str | None = None, **params: str
    ) -> Response:
        if repo_id is not None:
            found = ctx.state.repos_by_id.get(to_id(repo_id))
        else:
            found = ctx.state.repo(owner, repo)
            renamed = None if found is not None else ctx.state.moved_repo(owner, repo)
            if renamed is not None and not (renamed.private and ctx.identity is None):
                return moved(ctx, renamed)
        if found is None or (found.private and ctx.identity is None):
            raise not_found()
        if write and found.archived:
            raise HTTPError(403, error(ARCHIVED, 403))
        return handler(ctx, found, **params)

    return resolve


def moved(ctx: Context, repo: Repo) -> Response:
    """A renamed or transferred repository's old path redirects to ``/repositories/{id}``
    and the rest of the path: 301 for a GET, 307 for other methods, so a write is sent
    again unchanged ("you'll be able to make an API request using the repository's old
    location and receive either a 301 or 307 HTTP redirect, depending on the type of
    request": developer.github.com/changes/2015-04-17-preview-repository-redirects)."""
    raw = ctx.request.path.split("/")
    below_repo = raw[len(raw) - len(ctx.request.segments) + 3 :]  # after repos/{o}/{r}
    location = "/".join([f"{ctx.shapes.api}/repositories/{repo.id}", *below_repo])
    if ctx.request.query_string:
        location += "?" + ctx.request.query_string
    read = ctx.request.method in ("GET", "HEAD")
    status, message = (301, "Moved Permanently") if read else (307, "Temporary Redirect")
    body = error(message, status, url=location)
    return Response(status, json.dumps(body).encode(), headers=[("Location", location)])


def repo_routes(
    method: str, suffix: str, handler: Callable[..., Response], write: bool = False
) -> list[Route]:
    """A repository route under both ``/repos/{owner}/{repo}`` and ``/repositories/{id}``
    (the form GitHub's Link headers use)."""
    scoped = repo_scoped(handler, write)
    return [
        route(method, "repos/{owner}/{repo}" + suffix, scoped, write=write),
        route(method, "repositories/{repo_id}" + suffix, scoped, write=write),
    ]


API_ROUTES: list[Route] = [
    *repo_routes("GET", "", get_repo),
    *repo_routes("GET", "/releases", list_releases),
    *repo_routes("POST", "/releases", create_release, write=True),
    *repo_routes("GET", "/releases/latest", latest_release),
    *repo_routes("GET", "/releases/tags/{tag}", release_by_tag),
    *repo_routes("GET", "/releases/assets/{asset_id}", get_asset),
    *repo_routes("PATCH", "/releases/assets/{asset_id}", update_asset, write=True),
    *repo_routes("DELETE", "/releases/assets/{asset_id}", delete_asset, write=True),
    *repo_routes("GET", "/releases/{release_id}", get_release),
    *repo_routes("PATCH", "/releases/{release_id}", update_release, write=True),
    *repo_routes("DELETE", "/releases/{release_id}", delete_release, write=True),
    *repo_routes("GET", "/releases/{release_id}/assets", list_assets),
    route("GET", "orgs/{org}/repos", org_repos),
    route("GET", "organizations/{org_id}/repos", org_repos),
    route("GET", "users/{username}/repos", user_repos),
    route("GET", "user/{user_id}/repos", user_repos),
    route("GET", "user/repos", my_repos),
    route("GET", "user", authenticated_user),
]
