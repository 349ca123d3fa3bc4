"""Shared fetch helpers for table access paths: lists whose 404 means "no such parent"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlgh.errors import NotFoundError
from sqlgh.github.errors import AccessError, GitHubError
from sqlgh.tables.spec import Api

# A page of a list: its items and its ``Link`` relations.
Page = tuple[list[Any], dict[str, Any]]


def not_visible(api: Api) -> str:
    """How to read a 404 for a parent object, depending on whether a token is set."""
    if api.client.has_token:
        return "or it is not visible to this token (it needs Contents: read)"
    return "or it is private: set GH_TOKEN to a token that can read it"


@contextmanager
def _parent_must_exist(api: Api, parent: str) -> Iterator[None]:
    """Turn GitHub's 404 for a list into an error naming the missing parent."""
    try:
        yield
    except GitHubError as exc:
        if exc.status == 404 and not isinstance(exc, AccessError):  # not SSO's 404
            raise NotFoundError(
                f"{parent} does not exist, {not_visible(api)} ({exc.describe()})", parent
            ) from exc
        raise


def listing(
    api: Api,
    url: str,
    parent: str,
    params: Mapping[str, Any] | None = None,
    first: Page | None = None,
) -> Iterator[list[Any]]:
    """The pages of a list endpoint; a 404 becomes an error naming the missing parent.

    ``first``: the first page and its relations, when ``list_page`` already fetched them.
    """
    with _parent_must_exist(api, parent):
        yield from api.client.pages(url, params, first)


def get_object(api: Api, url: str, parent: str) -> Any:
    """One object, such as a release by id; a 404 as for ``listing``."""
    with _parent_must_exist(api, parent):
        return api.client.get_json(url)


def list_page(api: Api, url: str, parent: str, params: Mapping[str, Any] | None = None) -> Page:
    """One page of a list endpoint and its ``Link`` relations (a 404 as for ``listing``)."""
    with _parent_must_exist(api, parent):
        return api.client.page(url, params)
