"""What a connection remembers about releases it has seen, and what one statement knows.

An upload needs the release's ``upload_url``; a row fetched by asset id wants its
release id. Both are learned for free from list responses and kept here, a bounded
number of each. What holds for one statement only (the releases and repositories it
listed, the checks of long embedded asset arrays, tags looked up) is kept in a
``StatementFacts``; whole listings of its earlier statements, while fresh, in
``RecentListings`` (``sqlgh.tables.recent_listings``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from itertools import islice
from typing import Any, TypeVar

from sqlgh.github.pages import LastPage
from sqlgh.tables.recent_listings import (
    KEPT_ROWS,
    ListingName,
    RecentListings,
    held_rows,
)

Checked = TypeVar("Checked")

# A release list embeds each release's assets. GitHub documents no cap on that array, but
# a list endpoint never returns more than 100 items a page, so an embedded array of 100 or
# more may be cut short: it is used only once one page of the release's asset list shows
# it is whole (tables/release_assets.py). Shorter ones are taken as the release's whole
# asset list.
EMBEDDED_ASSETS_TRUSTED_BELOW = 100
# How many asset-to-release links and upload URLs a connection keeps (the oldest half goes
# when full): enough for the releases a session works on, never growing with the rows read.
REMEMBERED_ASSETS = 20_000
REMEMBERED_RELEASES = 5_000


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


class Listing(list):  # type: ignore[type-arg]
    """A page of a list as a statement reads it. What the statement knows of the page's
    objects (``StatementFacts``) refers to the page weakly: it lasts while a cursor, a
    fetch or the statement's replay cache still holds the page, and goes with it."""

    __slots__ = ("__weakref__",)


class StatementFacts:
    """What one statement knows of the releases and repositories it listed, the long
    embedded asset arrays it checked, and the tags it looked up.

    A join from ``releases`` to ``release_assets`` then needs no request per release (one
    to check a long array, however often the join asks), and a release looked up by id or
    tag, or a repository by name, is answered from the listing while its page is in use.
    A release list read to its last page (``release_pages``) answers any tag lookup, a
    draft's or a tag no release has, while all its pages are in use. A cursor keeps the
    facts of the statement that opened it, and its fetches write there: neither a fetch
    still running when its statement ends (a prefetch cut short by LIMIT) nor a statement
    run while another is being read can hand one statement what another read.

    ``recent``: the connection's ``RecentListings``, for a statement that writes nothing
    (None: lookups are answered from this statement's own listings only). Its whole
    listings are kept there, and lookups that ask for it (``recent=True``) are answered
    from the earlier statements' while fresh.
    """

    def __init__(self, recent: RecentListings | None = None) -> None:
        self._recent = recent
        # Whole lists, by ListingName: their pages, while in use (each is checked).
        self._whole: dict[ListingName, list[weakref.ref[Listing]]] = {}
        # Reentrant: a page may be freed (and forgotten) in a thread holding the lock.
        self._lock = threading.RLock()
        self._known: dict[tuple[Any, ...], tuple[weakref.ref[Listing], int]] = {}
        # What each page told, by the id of the weak reference to it (a list is unhashable).
        self._pages: dict[int, list[tuple[Any, ...]]] = {}
        self._verdicts: dict[tuple[Any, ...], tuple[list[Any], Any]] = {}
        self._checking: dict[tuple[Any, ...], threading.Lock] = {}
        self._tags: dict[tuple[str, str, str], int | None] = {}

    def releases_listed(self, owner: str, repo: str, page: list[Any]) -> Listing:
        """Know a page of a repository's releases (by id, and published ones by tag) while
        it is in use; returns the page as the statement should hold it."""
        owner, repo = repo_key(owner, repo)

        def names(release: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
            release_id = release.get("id")
            if type(release_id) is int:
                yield ("release", owner, repo, release_id)
                tag = release.get("tag_name")
                if release.get("draft") is False and isinstance(tag, str):
                    yield ("tag", owner, repo, tag)

        return self._listed(page, names)

    def repositories_listed(self, owner: str, page: list[Any]) -> Listing:
        """Know a page of an owner's repositories (by name) while it is in use."""
        owner = owner.lower()

        def names(repository: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
            name = repository.get("name")
            if isinstance(name, str):
                yield ("repository", owner, name.lower())

        return self._listed(page, names)

    def release_pages(
        self, owner: str, repo: str, pages: Iterable[list[Any]], keep: bool = False
    ) -> Iterator[Listing]:
        """The pages of a repository's release list, each known as ``releases_listed``
        knows it. Read to its last page, the list is known whole to the statement, and with
        ``keep`` to the connection's later statements while fresh."""
        owner, repo = repo_key(owner, repo)
        listed = partial(self.releases_listed, owner, repo)
        return self._list_pages(("releases", owner, repo), pages, listed, _release_index, keep)

    def repository_pages(
        self, owner: str, pages: Iterable[list[Any]], keep: bool = False
    ) -> Iterator[Listing]:
        """The pages of an owner's repository list, each known as ``repositories_listed``
        knows it; read to its last page and with ``keep``, known to the connection's later
        statements while fresh."""
        owner = owner.lower()
        listed = partial(self.repositories_listed, owner)
        return self._list_pages(("repositories", owner), pages, listed, _repository_index, keep)

    def release(
        self, owner: str, repo: str, release_id: int, recent: bool = False
    ) -> dict[str, Any] | None:
        """The release, if a page of a listing that holds it is still in use; with
        ``recent``, else from a fresh listing of an earlier statement."""
        owner, repo = repo_key(owner, repo)
        found = self._find(("release", owner, repo, release_id))
        if found is None and recent:
            found = _only(self._recent_find(("releases", owner, repo), ("id", release_id)))
        return found

    def releases_of_tag(
        self, owner: str, repo: str, tag: str, recent: bool = False
    ) -> list[dict[str, Any]] | None:
        """What ``releases WHERE tag_name = ?`` finds (the published release of the tag,
        else its drafts), when a listing tells: the published release while a page that
        holds it is in use, anything while the whole list is; with ``recent``, else the
        releases of the tag a fresh listing of an earlier statement holds. None: ask
        GitHub."""
        owner, repo = repo_key(owner, repo)
        published = self._find(("tag", owner, repo, tag))
        if published is not None:
            return [published]
        whole = self._whole_list(("releases", owner, repo))
        if whole is not None:
            return of_tag(whole, tag)
        if not recent:
            return None
        return of_tag(self._recent_find(("releases", owner, repo), ("tag", tag)) or (), tag) or None

    def repository(self, owner: str, name: str, recent: bool = False) -> dict[str, Any] | None:
        """The repository, if a page of a listing that holds it is still in use; with
        ``recent``, else from a fresh listing of an earlier statement."""
        owner, name = owner.lower(), name.lower()
        found = self._find(("repository", owner, name))
        if found is None and recent:
            found = _only(self._recent_find(("repositories", owner), ("name", name)))
        return found

    def checked_once(
        self,
        owner: str,
        repo: str,
        release_id: int,
        embedded: list[Any],
        check: Callable[[list[Any]], Checked],
    ) -> Checked:
        """``check`` of a release's long embedded asset array, run once per array while the
        release is known; concurrent callers wait for the first."""
        key = ("release", *repo_key(owner, repo), release_id)
        with self._lock:
            gate = self._checking.setdefault(key, threading.Lock())
        with gate:
            held = self._verdicts.get(key)
            if held is None or held[0] is not embedded:
                held = (embedded, check(embedded))
                with self._lock:
                    if key in self._known:  # else its page is gone: keep nothing
                        self._verdicts[key] = held
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

    def _list_pages(
        self,
        name: ListingName,
        pages: Iterable[list[Any]],
        listed: Callable[[list[Any]], Listing],
        index: Callable[[list[dict[str, Any]]], dict[Any, list[dict[str, Any]]]],
        keep: bool,
    ) -> Iterator[Listing]:
        recent = self._recent if keep else None
        stamp = recent.stamp() if recent is not None else None  # before the first request
        refs: list[weakref.ref[Listing]] = []
        kept: list[dict[str, Any]] | None = [] if recent is not None else None
        rows = 0
        items = False
        for page in pages:
            listing = listed(page)
            refs.append(weakref.ref(listing))
            if kept is not None:
                rows += held_rows(listing)
                if rows > KEPT_ROWS:
                    kept = None  # too long to keep
                else:
                    kept.extend(listing)
            # The client marks the page no next page follows; an empty one after items is
            # GitHub's listing cap (sqlgh.github.listing_cap): the list is not whole.
            if type(page) is LastPage and (page or not items):
                with self._lock:
                    self._whole[name] = refs
                if recent is not None and stamp is not None and kept is not None:
                    recent.keep(name, stamp, rows, index(kept))
            items = items or bool(page)
            yield listing

    def _whole_list(self, name: ListingName) -> list[Any] | None:
        """Every item of a whole list the statement read, while all its pages are in use."""
        with self._lock:
            refs = self._whole.get(name)
        pages = [ref() for ref in refs] if refs is not None else None
        if pages is None or any(page is None for page in pages):
            return None
        return [item for page in pages for item in page]  # type: ignore[union-attr]

    def _recent_find(self, name: ListingName, key: Any) -> list[dict[str, Any]] | None:
        return self._recent.find(name, key) if self._recent is not None else None

    def _listed(
        self, page: list[Any], names: Callable[[Mapping[str, Any]], Iterable[tuple[Any, ...]]]
    ) -> Listing:
        listing = page if type(page) is Listing else Listing(page)
        ref = weakref.ref(listing, self._forget)
        held: list[tuple[Any, ...]] = []
        with self._lock:
            for index, item in enumerate(listing):
                if isinstance(item, Mapping):
                    for name in names(item):
                        # A page still in use knows it already: were a newer page to
                        # take it over, it would take it along when it goes first.
                        known = self._known.get(name)
                        if known is not None and known[0]() is not None:
                            continue
                        self._known[name] = (ref, index)
                        held.append(name)
            self._pages[id(ref)] = held
        return listing

    def _forget(self, ref: weakref.ref[Listing]) -> None:
        """A page is no longer in use: forget what it told (unless a newer page did)."""
        with self._lock:
            for name in self._pages.pop(id(ref), ()):
                if self._known.get(name, (None,))[0] is ref:
                    del self._known[name]
                    self._verdicts.pop(name, None)
                    self._checking.pop(name, None)

    def _find(self, name: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._lock:
            entry = self._known.get(name)
        listing = entry[0]() if entry is not None else None
        return listing[entry[1]] if listing is not None else None  # type: ignore[index]


def of_tag(releases: Iterable[Any], tag: str) -> list[dict[str, Any]]:
    """What GitHub's lookup of ``tag`` finds among ``releases``: its published release
    (there is at most one), else its drafts (there may be several)."""
    found = [r for r in releases if isinstance(r, dict) and r.get("tag_name") == tag]
    published = [r for r in found if r.get("draft") is False]
    return published[:1] or [r for r in found if r.get("draft") is True]


def _only(found: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    return found[0] if found else None


def _release_index(releases: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    index: dict[Any, list[dict[str, Any]]] = {}
    for release in releases:
        release_id, tag = release.get("id"), release.get("tag_name")
        if type(release_id) is int:
            index[("id", release_id)] = [release]
        if isinstance(tag, str):
            index.setdefault(("tag", tag), []).append(release)
    return index


def _repository_index(repositories: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    return {
        ("name", repository["name"].lower()): [repository]
        for repository in repositories
        if isinstance(repository.get("name"), str)
    }


def _bounded_put(store: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """``store[key] = value``, dropping the oldest half of ``store`` when it is full."""
    _bounded_update(store, {key: value}, limit)


def _bounded_update(store: dict[Any, Any], items: dict[Any, Any], limit: int) -> None:
    """``store.update(items)``, dropping the oldest half of ``store`` each time it is full."""
    store.update(items)
    while len(store) > limit:
        for old in list(islice(store, limit // 2)):
            del store[old]


class Memo:
    """Release facts learned from responses, keyed case-insensitively by repository.

    Upload URLs and asset-to-release links hold for the connection's life (an asset never
    moves to another release); the most recent ``REMEMBERED_RELEASES`` and
    ``REMEMBERED_ASSETS`` are kept. What one statement learned is its ``StatementFacts``.
    """

    def __init__(self, write_epoch: Callable[[], int] = lambda: 0) -> None:
        self._lock = threading.Lock()
        # Whole listings of earlier statements, while fresh and no write was sent since
        # (``write_epoch``: the client's, see recent_listings).
        self.recent = RecentListings(write_epoch)
        self._upload_urls: dict[Key, str] = {}
        # Per release: whether it was immutable when last seen, and its asset count when
        # its embedded array was whole (None: unknown). This connection's own uploads and
        # deletes keep the count current (``count_assets``).
        self._release_states: dict[Key, tuple[bool, int | None]] = {}
        self._release_of_asset: dict[int, int] = {}
        # The token's login ("" once GitHub would not tell), and upload names GitHub was
        # seen to store otherwise: written by the write path, one write at a time.
        self.token_login: str | None = None
        self.stored_names: dict[str, str] = {}
        self._archived: dict[tuple[str, str], bool] = {}

    def remember_repositories(self, repositories: Iterable[Any]) -> None:
        """Keep whether each repository read (by its ``full_name``) is archived."""
        with self._lock:
            for repository in repositories:
                if not isinstance(repository, Mapping):
                    continue
                full_name, archived = repository.get("full_name"), repository.get("archived")
                if isinstance(full_name, str) and "/" in full_name and type(archived) is bool:
                    key = repo_key(*full_name.split("/", 1))
                    _bounded_put(self._archived, key, archived, REMEMBERED_RELEASES)

    def archived(self, owner: str, repo: str) -> bool | None:
        """Whether the repository was archived when this connection last read it (None:
        not read)."""
        return self._archived.get(repo_key(owner, repo))

    def remember_release(self, owner: str, repo: str, release: Mapping[str, Any]) -> None:
        """Keep a release's upload URL and which release each embedded asset belongs to."""
        release_id = release.get("id")
        if not isinstance(release_id, int):
            return
        with self._lock:
            key = (*repo_key(owner, repo), release_id)
            url = release.get("upload_url")
            if isinstance(url, str):
                _bounded_put(self._upload_urls, key, url, REMEMBERED_RELEASES)
            embedded = embedded_asset_array(release)
            count = len(embedded) if embedded is not None else None
            if count is not None and count >= EMBEDDED_ASSETS_TRUSTED_BELOW:
                count = None  # perhaps cut short
            state = (release.get("immutable") is True, count)
            _bounded_put(self._release_states, key, state, REMEMBERED_RELEASES)
            self._link_assets(release.get("assets") or (), release_id)

    def remember_asset(self, asset_id: int, release_id: int) -> None:
        """Note which release an asset belongs to."""
        with self._lock:
            _bounded_put(self._release_of_asset, asset_id, release_id, REMEMBERED_ASSETS)

    def remember_assets(self, assets: Iterable[Any], release_id: int) -> None:
        """Note that each asset (a JSON object with an integer id) belongs to the release."""
        with self._lock:
            self._link_assets(assets, release_id)

    def _link_assets(self, assets: Iterable[Any], release_id: int) -> None:
        # One update for a page or an embedded array: this runs for every asset listed
        # (decoded JSON objects are dicts: the exact type test spares the ABC's check).
        links = {
            asset["id"]: release_id
            for asset in assets
            if (type(asset) is dict or isinstance(asset, Mapping))
            and isinstance(asset.get("id"), int)
        }
        _bounded_update(self._release_of_asset, links, REMEMBERED_ASSETS)

    def forget_asset(self, asset_id: int) -> None:
        """Drop what is known of a deleted asset."""
        with self._lock:
            self._release_of_asset.pop(asset_id, None)

    def upload_url(self, owner: str, repo: str, release_id: int) -> str | None:
        """The release's upload URL template, if this connection has seen the release."""
        return self._upload_urls.get((*repo_key(owner, repo), release_id))

    def release_state(
        self, owner: str, repo: str, release_id: int
    ) -> tuple[bool, int | None] | None:
        """(immutable, asset count or None) of a release this connection has seen."""
        return self._release_states.get((*repo_key(owner, repo), release_id))

    def count_assets(self, owner: str, repo: str, release_id: int, change: int) -> None:
        """Add ``change`` to a release's known asset count (an upload +1, a delete -1)."""
        key = (*repo_key(owner, repo), release_id)
        with self._lock:
            state = self._release_states.get(key)
            if state is not None and state[1] is not None:
                self._release_states[key] = (state[0], max(0, state[1] + change))

    def set_asset_count(self, owner: str, repo: str, release_id: int, count: int) -> None:
        """A release's asset count as just counted by listing them."""
        key = (*repo_key(owner, repo), release_id)
        with self._lock:
            state = self._release_states.get(key)
            immutable = state[0] if state is not None else False
            _bounded_put(self._release_states, key, (immutable, count), REMEMBERED_RELEASES)

    def release_of(self, asset_id: int) -> int | None:
        """The release an asset belongs to, if known."""
        return self._release_of_asset.get(asset_id)
