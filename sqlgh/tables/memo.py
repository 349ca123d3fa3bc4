"""What a connection remembers about releases it has seen.

An upload needs the release's ``upload_url``; a row fetched by asset id wants its
release id. Both are learned for free from list responses and kept here.
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


class Memo:
    """Release facts learned from responses, keyed case-insensitively by repository.

    Upload URLs and asset-to-release links hold for the connection's life. Embedded asset
    arrays, and whether a long one proved whole, hold for one statement only
    (``end_statement``): a join from ``releases`` to ``release_assets`` then needs no
    request per release, or one to check a long array, however often the join asks.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._upload_urls: dict[tuple[str, str, int], str] = {}
        self._release_of_asset: dict[int, int] = {}
        self._statement_assets: dict[tuple[str, str, int], list[Any]] = {}
        self._verdicts: dict[tuple[str, str, int], Any] = {}
        self._checking: dict[tuple[str, str, int], threading.Lock] = {}

    def remember_release(self, owner: str, repo: str, release: Mapping[str, Any]) -> None:
        """Keep a release's upload URL and which release each embedded asset belongs to."""
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
            embedded = embedded_asset_array(release)
            key = (*repo_key(owner, repo), release_id)
            if embedded is not None and self._statement_assets.get(key) != embedded:
                self._statement_assets[key] = embedded
                self._verdicts.pop(key, None)  # a verdict on other contents

    def checked_once(
        self, owner: str, repo: str, release_id: int, check: Callable[[list[Any] | None], Checked]
    ) -> Checked:
        """``check`` of the release's embedded asset array (None when this statement has not
        listed the release), run once per statement; concurrent callers wait for the first."""
        key = (*repo_key(owner, repo), release_id)
        with self._lock:
            gate = self._checking.setdefault(key, threading.Lock())
        with gate:
            if key not in self._verdicts:
                self._verdicts[key] = check(self._statement_assets.get(key))
            return self._verdicts[key]

    def end_statement(self) -> None:
        """Forget what holds for one statement only."""
        with self._lock:
            self._statement_assets.clear()
            self._verdicts.clear()
            self._checking.clear()

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
