"""The uploads origin: ``POST .../releases/{release_id}/assets?name=..&label=..`` with the
file's raw bytes as the body (docs: "Upload a release asset")."""

from __future__ import annotations

import hashlib
import os
import tempfile

from sqlgh.emulator.api import repo_routes
from sqlgh.emulator.blobs import FileBlob
from sqlgh.emulator.context import Context
from sqlgh.emulator.models import error, validation_failed
from sqlgh.emulator.naming import sanitize_asset_name
from sqlgh.emulator.release_writes import immutable_refusal
from sqlgh.emulator.state import EMPTY, MAX_ASSET_SIZE, MAX_ASSETS_PER_RELEASE, Repo
from sqlgh.emulator.wire import BodyReader, HTTPError, Response

SPOOL_CHUNK = 1 << 20


class IncompleteBody(Exception):
    """The client sent less than its Content-Length."""


def spool(body: BodyReader, directory: str) -> FileBlob:
    """Write the request body to a file in ``directory``, hashing it on the way."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="asset-")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while body.remaining:
                piece = body.read(SPOOL_CHUNK)
                if not piece:
                    raise IncompleteBody
                digest.update(piece)
                out.write(piece)
    except BaseException:
        os.unlink(path)
        raise
    return FileBlob(path, body.received, digest.hexdigest())


def upload_asset(ctx: Context, repo: Repo, release_id: str) -> Response:
    """Create the asset in state ``starter`` (size 0), store the body, mark it uploaded.

    An upload that does not finish leaves the ``starter`` asset behind, and its name stays
    taken until it is deleted (docs: a 502 "may leave an empty asset with a state of
    starter. It can be safely deleted"; retries that hit already_exists in e.g.
    EvotecIT/PSPublishModule#698, AstroVela/vane#818).
    """
    release = ctx.release(repo, release_id)
    request = ctx.request
    content_type = request.headers.get("content-type", "")
    if not content_type:
        # The body GitHub gave in JasonEtco/upload-to-release#6 and fastlane/fastlane#9922.
        raise HTTPError(400, error("Invalid Content-Type: ''", 400))
    if request.body.length is None:
        raise HTTPError(400, error("Bad Content-Length: ", 400))  # PyGithub/PyGithub#525
    if release.immutable:
        # concourse/github-release-resource#151; softprops/action-gh-release#653.
        raise immutable_refusal("Cannot upload assets to an immutable release.")
    if request.body.length > MAX_ASSET_SIZE:
        # Refused on the declared length, before the body is read.
        message = f"size must be less than or equal to {MAX_ASSET_SIZE}"
        raise HTTPError(422, validation_failed("custom", "size", message=message))
    if request.body.length == 0:
        # GitHub refuses an empty file and keeps no asset: a client that retried got the
        # same 422 each time, never "already_exists" (xresloader/upload-to-github-release#37;
        # the body also in svenstaro/upload-release-action#94; "size is not included in
        # the list" was the older wording, softprops/action-gh-release#89).
        message = "size must be greater than or equal to 1"
        raise HTTPError(422, validation_failed("custom", "size", message=message))
    name = sanitize_asset_name(request.param("name") or "")
    if not name:
        code = "invalid" if request.param("name") else "missing_field"
        raise HTTPError(422, validation_failed(code, "name"))
    state = ctx.state
    with state.lock:
        if state.asset_named(release, name) is not None:
            raise HTTPError(422, validation_failed("already_exists", "name"))
        if len(release.assets) >= MAX_ASSETS_PER_RELEASE:
            raise HTTPError(
                422,
                validation_failed(
                    "custom",
                    "file_count",
                    message=f"file_count limited to {MAX_ASSETS_PER_RELEASE} assets",
                ),
            )
        asset = state.add_asset(
            release,
            name,
            EMPTY,
            content_type=content_type,
            label=request.param("label"),
            state="starter",
            uploader=ctx.identity.account if ctx.identity else None,
        )
    fault = request.fault
    if fault is not None and fault.kind == "upload_502_starter":
        raise HTTPError(fault.status or 502, error("Bad Gateway", fault.status or 502))
    if fault is not None and fault.kind == "drop":
        request.body.read(request.body.remaining // 2)
        return Response(0, abort=True)
    try:
        blob = spool(request.body, ctx.spool_dir)
    except (IncompleteBody, OSError):
        return Response(0, abort=True)
    state.finish_upload(asset, blob)
    with state.lock:
        return Response(201, ctx.shapes.asset_bytes(asset))


UPLOAD_ROUTES = repo_routes("POST", "/releases/{release_id}/assets", upload_asset, write=True)
