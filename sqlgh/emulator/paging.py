"""GitHub's page-number pagination and its ``Link`` header.

``per_page`` defaults to 30 and is clamped to 100; ``page`` counts from 1. The links are
absolute, keep the request's other query parameters and put ``page`` last, in the order
GitHub writes them: prev, next, last, first. Docs: "Using pagination in the REST API".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

from sqlgh.emulator.wire import Request

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def _positive(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


def paginate(request: Request, items: Sequence[T], url: str) -> tuple[Sequence[T], str | None]:
    """The page of ``items`` the request asks for, and the Link header (None when one
    page holds everything). ``url`` is the absolute URL the links point at."""
    per_page = min(_positive(request.param("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    page = _positive(request.param("page"), 1)
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
