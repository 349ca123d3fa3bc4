"""GitHub's page-number pagination and its ``Link`` header.

``per_page`` defaults to 30 and is clamped to 100; ``page`` counts from 1. The links are
absolute, keep the request's other query parameters and put ``page`` last, in the order
GitHub writes them: prev, next, last, first. Docs: "Using pagination in the REST API".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

from sqlgh.emulator.models import error
from sqlgh.emulator.wire import HTTPError, Request

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def _positive(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


def paginate(
    request: Request, items: Sequence[T], url: str, cap: int | None = None
) -> tuple[Sequence[T], str | None]:
    """The page of ``items`` the request asks for, and the Link header (None when one
    page holds everything). ``url`` is the absolute URL the links point at; ``cap``: see
    ``beyond_cap``."""
    per_page = min(_positive(request.param("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    page = _positive(request.param("page"), 1)
    if cap is not None and len(items) > cap and (page - 1) * per_page >= cap:
        raise beyond_cap(cap)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1 and page == 1:
        return chunk, None
    params = [
        (k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k != "page"
    ]

    def link(number: int, rel: str) -> str:
        return f'<{url}?{urlencode([*params, ("page", number)])}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(page - 1, "prev"))
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links.append(link(1, "first"))
    return chunk, ", ".join(links)


def beyond_cap(cap: int) -> HTTPError:
    """GitHub's answer to a page that starts past the first ``cap`` items of a longer list.

    Reported for release lists: 422 "Only the first 10000 results are available."
    (MeltanoLabs/tap-github#182, Azure/azure-sdk-tools#9395) and "Only the first 1000
    results are available." (iree-org/iree#16506), the page before it linking to it as
    ``rel="next"``; a list of fewer items answers such a page with ``[]``
    (mislav/hub#2920). Earlier (release-drafter/release-drafter#1082, 2022) the answer
    was a 500.
    """
    docs = "https://docs.github.com/rest/releases/releases#list-releases"
    return HTTPError(422, error(f"Only the first {cap} results are available.", 422, docs))
