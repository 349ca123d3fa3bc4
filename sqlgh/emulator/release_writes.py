"""Creating, editing and deleting releases (docs.github.com/rest/releases/releases:
"Create a release", "Update a release", "Delete a release"), and what immutable releases
refuse.

Immutable releases (docs.github.com/en/code-security/concepts/supply-chain-security/
immutable-releases): once published, a release's assets cannot be added, changed or
deleted and its tag is locked; its title, notes, pre-release flag and latest mark may
still change (github/docs#45718). The answers below are GitHub's as reported where a
source is named; where none is, the wording is the emulator's own.
"""

from __future__ import annotations

from typing import Any

from sqlgh.emulator.context import Context
from sqlgh.emulator.models import DOCS, error
from sqlgh.emulator.state import Release, Repo
from sqlgh.emulator.wire import HTTPError, Response

RELEASE_DOCS = f"{DOCS}/releases/releases"
_TEXT = ("tag_name", "target_commitish", "name", "body", "discussion_category_name")
_FLAGS = ("draft", "prerelease", "generate_release_notes")
MAKE_LATEST = ("true", "false", "legacy")


def release_invalid(code: str, field: str, documentation: str, **extra: object) -> dict:
    """A 422 "Validation Failed" about one field of a ``Release`` (fastlane/fastlane
    discussion #17212 shows ``already_exists`` on ``tag_name``)."""
    problem = {"resource": "Release", "code": code, "field": field, **extra}
    return error("Validation Failed", 422, f"{RELEASE_DOCS}#{documentation}", errors=[problem])


def immutable_refusal(message: str) -> HTTPError:
    """A 422 with a bare message, as GitHub refuses changes to an immutable release
    ("Cannot upload assets to an immutable release.": concourse/github-release-resource#151)."""
    return HTTPError(422, error(message, 422, DOCS))


def _body(ctx: Context, documentation: str) -> dict[str, Any]:
    body = ctx.json_body()
    for key in _TEXT:
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise HTTPError(422, release_invalid("invalid", key, documentation))
    for key in _FLAGS:
        if key in body and not isinstance(body[key], bool):
            raise HTTPError(422, release_invalid("invalid", key, documentation))
    if "make_latest" in body and body["make_latest"] not in MAKE_LATEST:
        raise HTTPError(422, release_invalid("invalid", "make_latest", documentation))
    return body


def _check_tag(
    repo: Repo, tag: str, draft: bool, documentation: str, itself: Release | None
) -> None:
    """A tag a published release may take: not another published release's, and never
    one an immutable release held ("tag_name was used by an immutable release":
    github-community-projects/ospo-reusable-workflows#83, a release being published).
    A draft takes no tag, so it is not checked (see State.add_release)."""
    if draft:
        return
    if tag in repo.immutable_tags and not (itself is not None and itself.immutable):
        message = "tag_name was used by an immutable release"
        raise HTTPError(422, release_invalid("custom", "tag_name", documentation, message=message))
    for other in repo.releases.values():
        if other is not itself and not other.draft and other.tag_name == tag:
            raise HTTPError(422, release_invalid("already_exists", "tag_name", documentation))


def _mark_latest(
    repo: Repo, release: Release, make_latest: str | None, newly_published: bool
) -> None:
    """make_latest "Defaults to true for newly published releases. Drafts and prereleases
    cannot be set as latest" (REST docs, "Create a release", "Update a release")."""
    if make_latest is None and newly_published:
        make_latest = "true"
    if make_latest == "true" and not release.draft and not release.prerelease:
        repo.latest_id = release.id
    elif make_latest in ("false", "legacy") and repo.latest_id == release.id:
        repo.latest_id = None


def create_release(ctx: Context, repo: Repo) -> Response:
    """POST /repos/{owner}/{repo}/releases: 201 with the release."""
    body = _body(ctx, "create-a-release")
    tag = body.get("tag_name")
    if not tag:
        raise HTTPError(422, release_invalid("missing_field", "tag_name", "create-a-release"))
    draft = bool(body.get("draft", False))
    with ctx.state.lock:
        _check_tag(repo, tag, draft, "create-a-release", None)
        name, notes = body.get("name"), body.get("body")
        if body.get("generate_release_notes"):
            # GitHub writes the notes from the commits since the previous release; the
            # emulator has no commits, so only the closing line of such notes is given.
            name = name or tag
            notes = notes or f"**Full Changelog**: {ctx.shapes.web}/{repo.full_name}/commits/{tag}"
        release = ctx.state.add_release(
            repo,
            tag,
            author=ctx.identity.account if ctx.identity else None,
            name=name,
            body=notes,
            draft=draft,
            prerelease=bool(body.get("prerelease", False)),
            target_commitish=body.get("target_commitish") or repo.default_branch,
        )
        _mark_latest(repo, release, body.get("make_latest"), not draft)
        response = Response(201, ctx.shapes.release_bytes(release, ctx.embedded_assets_cap))
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/releases/{release.id}"
    response.headers.append(("Location", url))
    return response


def update_release(ctx: Context, repo: Repo, release_id: str) -> Response:
    """PATCH /repos/{owner}/{repo}/releases/{release_id}: members left out stay as they
    are; ``draft: false`` publishes."""
    body = _body(ctx, "update-a-release")
    with ctx.state.lock:
        release = ctx.release(repo, release_id)
        changes: dict[str, Any] = {}
        draft = body.get("draft", release.draft)
        tag = body.get("tag_name") or release.tag_name
        if release.immutable:
            if draft:
                # cameronrye/openzim-mcp#215: gh release edit --draft=true on an immutable one.
                raise immutable_refusal("state cannot be changed when release is immutable")
            if tag != release.tag_name:
                raise immutable_refusal("tag_name cannot be changed when release is immutable")
        if tag != release.tag_name or draft != release.draft:
            _check_tag(repo, tag, draft, "update-a-release", release)
        changes["tag_name"], changes["draft"] = tag, draft
        for key in ("name", "body"):
            if key in body:
                changes[key] = body[key]
        if "prerelease" in body:
            changes["prerelease"] = body["prerelease"]
        if body.get("target_commitish"):
            changes["target_commitish"] = body["target_commitish"]
        published = release.draft and not draft
        ctx.state.update_release(release, **changes)
        _mark_latest(repo, release, body.get("make_latest"), published)
        return ctx.ok(ctx.shapes.release_bytes(release, ctx.embedded_assets_cap))


def delete_release(ctx: Context, repo: Repo, release_id: str) -> Response:
    """DELETE /repos/{owner}/{repo}/releases/{release_id}: 204; the tag is kept. An
    immutable release may be deleted; its tag cannot be used again (immutable-releases
    docs)."""
    with ctx.state.lock:
        ctx.state.delete_release(ctx.release(repo, release_id))
    return Response(204, content_type=None)


def check_assets_mutable(release: Release) -> None:
    """Refuse an asset change (PATCH, DELETE) on an immutable release: "Release assets
    cannot be modified or deleted" (immutable-releases docs). GitHub's wording for these
    two is not documented; the emulator answers as for an upload."""
    if release.immutable:
        raise immutable_refusal("Cannot modify assets of an immutable release.")
