"""What a connection remembers about releases it has seen.

An upload needs the release's ``upload_url``; a row fetched by asset id wants its
release id. Both are learned for free from list responses and kept here. What holds for
one statement only (embedded asset arrays, the checks of long ones, tags looked up) is
kept in a ``StatementFacts``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

Checked = TypeVar("Checked")

# A release list embeds each release's assets. GitHub documents no cap on that array, but
# a list endpoint never returns more than 100 items a page, so an embedded array of 100 or
# more may be cut short: it is used only once one page of the release's asset list shows
# it is whole (tables/release_assets.py). Shorter ones are taken as the release's whole
# asset list.
EMBEDDED_ASSETS_TRUSTED_BELOW = 100


def embedded_asset_array(release: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A release's embedded ``assets`` array, when it is an array of objects."""
    assets = release.get("assets")
    if isinstance(assets, list) and all(type(asset) is dict for asset in assets):
        return assets
    return None


def repo_key(owner: str, repo: str) -> tuple[str, str]:
    """GitHub owner and repository names are case-insensitive."""
    return owner.lower(), repo.lower()


Key = tuple[str, str, int]


class StatementFacts:
    """What one statement learned of releases: their embedded asset arrays, whether a long
    one proved whole, and the releases its tag lookups found.

    A join from ``releases`` to ``release_assets`` then needs no request per release, or
    one to check a long array, however often the join asks. A cursor keeps the facts of
    the statement that opened it, and its fetches write there: neither a fetch still
    running when its statement ends (a prefetch cut short by LIMIT) nor a statement run
    while another is being read can hand one statement what another read.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assets: dict[Key, list[Any]] = {}
        self._verdicts: dict[Key, tuple[list[Any] | None, Any]] = {}
        self._checking: dict[Key, threading.Lock] = {}
        self._tags: dict[tuple[str, str, str], int | None] = {}

    def keep_embedded(self, owner: str, repo: str, release: Mapping[str, Any]) -> None:
        """Keep the release's embedded asset array, if it has one and an id."""
        embedded = embedded_asset_array(release)
        release_id = release.get("id")
        if embedded is None or not isinstance(release_id, int):
            return
        key = (*repo_key(owner, repo), release_id)
        with self._lock:
            if self._assets.get(key) != embedded:  # a verdict on the old one lapses
                self._assets[key] = embedded

    def checked_once(
        self, owner: str, repo: str, release_id: int, check: Callable[[list[Any] | None], Checked]
    ) -> Checked:
        """``check`` of the release's embedded asset array (None when this statement has not
        listed the release), run once per array; concurrent callers wait for the first."""
        key = (*repo_key(owner, repo), release_id)
        with self._lock:
            gate = self._checking.setdefault(key, threading.Lock())
        with gate:
            embedded = self._assets.get(key)
            held = self._verdicts.get(key)
            if held is None or held[0] is not embedded:
                held = self._verdicts[key] = (embedded, check(embedded))
            return held[1]

    def tag_lookup(self, owner: str, repo: str, tag: str) -> tuple[bool, int | None]:
        """Whether this statement looked the tag up, and the release id it found (or None)."""
        key = (*repo_key(owner, repo), tag)
        with self._lock:
            return key in self._tags, self._tags.get(key)

    def remember_tag(self, owner: str, repo: str, tag: str, release_id: int | None) -> None:
        """Note the release a tag lookup found (None: no published release has the tag).
        Per statement: a tag may be released again under another id."""
        with self._lock:
            self._tags[(*repo_key(owner, repo), tag)] = release_id


class Memo:
    """Release facts learned from responses, keyed case-insensitively by repository.

    Upload URLs and asset-to-release links hold for the connection's life (an asset never
    moves to another release). What one statement learned is its ``StatementFacts``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._upload_urls: dict[Key, str] = {}
        self._release_of_asset: dict[int, int] = {}
        # The token's login ("" once GitHub would not tell), and upload names GitHub was
        # seen to store otherwise: written by the write path, one write at a time.
        self.token_login: str | None = None
        self.stored_names: dict[str, str] = {}

    def remember_release(
        self, owner: str, repo: str, release: Mapping[str, Any], facts: StatementFacts | None
    ) -> None:
        """Keep a release's upload URL and which release each embedded asset belongs to;
        with ``facts``, the facts of the statement that read it, its embedded assets too."""
        release_id = release.get("id")
        if not isinstance(release_id, int):
            return
        with self._lock:
            url = release.get("upload_url")
            if isinstance(url, str):
                self._upload_urls[(*repo_key(owner, repo), release_id)] = url
            for asset in release.get("assets") or ():
                if isinstance(asset, Mapping) and isinstance(asset.get("id"), int):
                    self._release_of_asset[asset["id"]] = release_id
        if facts is not None:
            facts.keep_embedded(owner, repo, release)

    def remember_asset(self, asset_id: int, release_id: int) -> None:
        """Note which release an asset belongs to."""
        with self._lock:
            self._release_of_asset[asset_id] = release_id

    def forget_asset(self, asset_id: int) -> None:
        """Drop what is known of a deleted asset."""
        with self._lock:
            self._release_of_asset.pop(asset_id, None)

    def upload_url(self, owner: str, repo: str, release_id: int) -> str | None:
        """The release's upload URL template, if this connection has seen the release."""
        return self._upload_urls.get((*repo_key(owner, repo), release_id))

    def release_of(self, asset_id: int) -> int | None:
        """The release an asset belongs to, if known."""
        return self._release_of_asset.get(asset_id)
