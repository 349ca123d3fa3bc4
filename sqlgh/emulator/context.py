"""What a route handler gets: the request, who sent it, and the emulator's parts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlgh.emulator.headers import http_date
from sqlgh.emulator.models import Shapes, error
from sqlgh.emulator.paging import paginate
from sqlgh.emulator.state import Account, Release, Repo, State
from sqlgh.emulator.wire import HTTPError, Request, Response

if TYPE_CHECKING:
    from sqlgh.emulator.storage import Storage

T = TypeVar("T")


@dataclass(frozen=True)
class Identity:
    """The account a token authenticates, and whether the token may write."""

    account: Account
    write: bool


@dataclass
class Context:
    """One request in flight, with what its handler may use."""

    request: Request
    identity: Identity | None
    state: State
    shapes: Shapes
    storage: Storage
    spool_dir: str
    embedded_assets_cap: int | None
    listing_cap: int | None = None  # see paging.beyond_cap

    @property
    def can_write(self) -> bool:
        return self.identity is not None and self.identity.write

    def ok(self, body: bytes, link: str | None = None, modified: str | None = None) -> Response:
        """200 with a serialized JSON body (and a Link header; for a single object, its
        ISO-8601 ``modified`` time as ``Last-Modified``)."""
        headers = [("Link", link)] if link else []
        if modified:
            headers.append(("Last-Modified", http_date(modified)))
        return Response(200, body, headers=headers)

    def page(self, items: Sequence[T], path: str) -> tuple[Sequence[T], str | None]:
        """The requested page of ``items``; links point at ``path`` below the API root."""
        return paginate(self.request, items, self.shapes.api + path, self.listing_cap)

    def json_body(self) -> dict:
        """The request's JSON object body (none: ``{}``); 400 for anything else."""
        raw = self.request.body.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise HTTPError(400, error("Problems parsing JSON", 400))
        return body

    def release(self, repo: Repo, release_id: str | int) -> Release:
        """The release of ``repo`` with this id, if this identity may see it; else 404."""
        release = repo.releases.get(to_id(release_id))
        if release is None or (release.draft and not self.can_write):
            raise not_found()
        return release


def not_found() -> HTTPError:
    """GitHub's 404."""
    return HTTPError(404, error("Not Found", 404))


def to_id(value: str | int) -> int:
    """A numeric path parameter; anything else is a 404, as on GitHub."""
    try:
        return int(value)
    except ValueError:
        raise not_found() from None
