"""The emulated GitHub's data: accounts, repositories, releases and assets.

Lookups by owner and repository name ignore case, as GitHub's do. Every change happens
under ``State.lock``; records carry a cache of their serialized JSON that changes clear.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlgh.emulator.blobs import Blob, MemoryBlob
from sqlgh.emulator.naming import sanitize_asset_name

# Assets per release GitHub accepts: uploads beyond answer 422 "file_count limited to 1000
# assets" (seen in leeguooooo/AgentParty#974).
MAX_ASSETS_PER_RELEASE = 1000
# Bytes per file: "Each file included in a release must be under 2 GiB" (docs.github.com,
# "About releases", storage and bandwidth quotas); beyond, 422 "size must be less than or
# equal to 2147483648" (bluerobotics/BlueOS#3683, cli/cli#10182).
MAX_ASSET_SIZE = 2 * 1024**3


def now_iso() -> str:
    """The current UTC time as GitHub writes it (``2013-02-27T19:35:32Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(eq=False)
class Account:
    """A user, an organization, or a GitHub App's bot (``app_id`` set)."""

    id: int
    login: str
    type: str  # "User", "Organization" or "Bot"
    created_at: str
    app_id: int | None = None


@dataclass(eq=False)
class Repo:
    """A repository and its releases (by id)."""

    id: int
    owner: Account
    name: str
    created_at: str
    pushed_at: str
    private: bool = False
    fork: bool = False
    archived: bool = False
    description: str | None = None
    default_branch: str = "main"
    # The "Enable release immutability" setting: a release published while it is on is
    # immutable (docs.github.com/en/code-security/concepts/supply-chain-security/
    # immutable-releases). Tags of immutable releases cannot be used again, even after
    # the release is deleted (ibid.; github-community-projects/ospo-reusable-workflows#83).
    immutable_releases: bool = False
    immutable_tags: set[str] = field(default_factory=set)
    latest_id: int | None = None  # set by make_latest = "true"; None: newest by date
    releases: dict[int, Release] = field(default_factory=dict)
    json: bytes | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass(eq=False)
class Release:
    """A release and its assets (by id, so in upload order)."""

    id: int
    repo: Repo
    tag_name: str
    created_at: str
    published_at: str | None
    author: Account
    name: str | None = None
    body: str | None = None
    draft: bool = False
    prerelease: bool = False
    target_commitish: str = "main"
    immutable: bool = False
    assets: dict[int, Asset] = field(default_factory=dict)
    names: dict[str, Asset] = field(default_factory=dict)  # the same assets by name
    json: bytes | None = None  # the release without its "assets" member


@dataclass(eq=False)
class Asset:
    """A release asset. ``digest`` None means "no digest"; see ``digest_value``."""

    id: int
    release: Release
    name: str
    blob: Blob
    created_at: str
    updated_at: str
    uploader: Account | None
    label: str | None = None
    state: str = "uploaded"
    content_type: str = "application/octet-stream"
    download_count: int = 0
    digest: str | None = None
    digest_from_blob: bool = True
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    json: bytes | None = None

    def digest_value(self) -> str | None:
        """The ``digest`` member: computed from the content unless given explicitly."""
        if self.digest_from_blob:
            if self.state == "starter":  # nothing stored yet
                return None
            self.digest = "sha256:" + self.blob.sha256()
            self.digest_from_blob = False
        return self.digest


class Conflict(ValueError):
    """A name that must be unique is taken."""


class State:
    """All records, their indexes and the id counters."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.repos_by_id: dict[int, Repo] = {}
        # Old (owner, name) of renamed or transferred repositories -> repository id.
        self.moved: dict[tuple[str, str], int] = {}
        self.releases: dict[int, Release] = {}
        self.assets: dict[int, Asset] = {}
        self.assets_by_key: dict[str, Asset] = {}
        # Distinct ranges, so that an id of the wrong kind finds nothing.
        self._account_ids = itertools.count(1001)
        self._repo_ids = itertools.count(200_001)
        self._release_ids = itertools.count(3_000_001)
        self._asset_ids = itertools.count(40_000_001)
        self.default_author: Account | None = None

    # accounts -------------------------------------------------------------------------
    def add_account(
        self, login: str, type_: str, *, account_id: int | None = None, app_id: int | None = None
    ) -> Account:
        """Create a user, organization or bot; an existing one of the same type is returned."""
        with self.lock:
            existing = self.accounts.get(login.lower())
            if existing is not None:
                if existing.type != type_:
                    raise Conflict(f"{login} exists as a {existing.type}")
                return existing
            ident = account_id if account_id is not None else next(self._account_ids)
            account = Account(ident, login, type_, now_iso(), app_id)
            self.accounts[login.lower()] = account
            return account

    def account(self, login: str) -> Account | None:
        """The account called ``login`` (any case), if any."""
        return self.accounts.get(login.lower())

    def account_by_id(self, account_id: int) -> Account | None:
        """The account with id ``account_id``, if any."""
        with self.lock:
            return next((a for a in self.accounts.values() if a.id == account_id), None)

    # repositories ---------------------------------------------------------------------
    def add_repo(
        self,
        owner: str,
        name: str,
        *,
        created_at: str | None = None,
        pushed_at: str | None = None,
        **fields: Any,
    ) -> Repo:
        """Create a repository (``fields``: the optional Repo attributes); an unknown
        owner becomes a user."""
        with self.lock:
            account = self.account(owner) or self.add_account(owner, "User")
            key = (owner.lower(), name.lower())
            if key in self.repos:
                raise Conflict(f"repository {owner}/{name} exists")
            created = created_at or now_iso()
            repo = Repo(
                next(self._repo_ids), account, name, created, pushed_at or created, **fields
            )
            self.repos[key] = repo
            self.repos_by_id[repo.id] = repo
            self.moved.pop(key, None)
            return repo

    def repo(self, owner: str, name: str) -> Repo | None:
        """The repository ``owner/name`` (any case), if any."""
        return self.repos.get((owner.lower(), name.lower()))

    def rename_repo(self, repo: Repo, name: str, owner: Account | None = None) -> None:
        """Rename (and with ``owner``, transfer) a repository; its old name keeps redirecting
        to it, as GitHub's does, until a new repository takes that name."""
        with self.lock:
            new_key = ((owner or repo.owner).login.lower(), name.lower())
            if new_key in self.repos:
                raise Conflict(f"repository {new_key[0]}/{name} exists")
            old_key = (repo.owner.login.lower(), repo.name.lower())
            del self.repos[old_key]
            self.moved[old_key] = repo.id
            self.moved.pop(new_key, None)
            repo.owner, repo.name = owner or repo.owner, name
            self.repos[new_key] = repo
            repo.json = None
            for release in repo.releases.values():
                release.json = None
                for asset in release.assets.values():
                    asset.json = None

    def moved_repo(self, owner: str, name: str) -> Repo | None:
        """The repository that used to be called ``owner/name``, if it was renamed."""
        repo_id = self.moved.get((owner.lower(), name.lower()))
        return self.repos_by_id.get(repo_id) if repo_id is not None else None

    def repos_of(self, account: Account) -> list[Repo]:
        """The repositories ``account`` owns, oldest first."""
        with self.lock:
            return [r for r in self.repos.values() if r.owner is account]

    # releases -------------------------------------------------------------------------
    def add_release(
        self,
        repo: Repo,
        tag_name: str,
        *,
        created_at: str | None = None,
        published_at: str | None = None,
        author: Account | None = None,
        **fields: Any,
    ) -> Release:
        """Create a release (``fields``: the optional Release attributes); its author
        defaults to the owner when that is a user."""
        with self.lock:
            # Only published releases have tags of their own: GitHub keeps several drafts
            # for one tag, and a draft beside the published release of its tag
            # (ncipollo/release-action#8; basbruss/adaptive-cover#493).
            published = [r for r in repo.releases.values() if not r.draft]
            if not fields.get("draft") and any(r.tag_name == tag_name for r in published):
                raise Conflict(f"{repo.full_name} has a release for tag {tag_name}")
            if author is None:
                author = repo.owner if repo.owner.type == "User" else self.default_author
            if author is None:
                raise ValueError("a release needs an author: add a user first")
            created = created_at or now_iso()
            published = None if fields.get("draft") else (published_at or created)
            release = Release(
                next(self._release_ids), repo, tag_name, created, published, author, **fields
            )
            if published is not None and repo.immutable_releases:
                self._lock_release(release)
            repo.releases[release.id] = release
            self.releases[release.id] = release
            return release

    def update_release(self, release: Release, **changes: Any) -> None:
        """Set the given attributes of ``release``; publishing a draft stamps
        ``published_at`` and, under the repository's immutability setting, locks it."""
        with self.lock:
            publishing = release.draft and changes.get("draft") is False
            for attr, value in changes.items():
                setattr(release, attr, value)
            if publishing:
                release.published_at = now_iso()
                if release.repo.immutable_releases:
                    self._lock_release(release)
            release.json = None

    def _lock_release(self, release: Release) -> None:
        release.immutable = True
        release.repo.immutable_tags.add(release.tag_name)

    def delete_release(self, release: Release) -> None:
        """Remove ``release`` and its assets; the tag stays (it is git's, not the release's)."""
        with self.lock:
            for asset in list(release.assets.values()):
                self.delete_asset(asset)
            release.repo.releases.pop(release.id, None)
            self.releases.pop(release.id, None)
            if release.repo.latest_id == release.id:
                release.repo.latest_id = None

    def release_by_tag(self, repo: Repo, tag_name: str) -> Release | None:
        """The published release of ``repo`` for ``tag_name``, if any."""
        with self.lock:
            return next(
                (r for r in repo.releases.values() if r.tag_name == tag_name and not r.draft),
                None,
            )

    # assets ---------------------------------------------------------------------------
    def add_asset(
        self,
        release: Release,
        name: str,
        blob: Blob,
        *,
        created_at: str | None = None,
        uploader: Account | None = None,
        **fields: Any,
    ) -> Asset:
        """Attach an asset to ``release`` under its sanitized name (``fields``: the
        optional Asset attributes); the uploader defaults to the release's author."""
        stored_name = sanitize_asset_name(name)
        with self.lock:
            if not stored_name:
                raise ValueError(f"asset name {name!r} has no usable characters")
            if self.asset_named(release, stored_name) is not None:
                raise Conflict(f"{release.tag_name} already has an asset named {stored_name}")
            created = created_at or now_iso()
            asset = Asset(
                next(self._asset_ids),
                release,
                stored_name,
                blob,
                created,
                created,
                uploader or release.author,
                **fields,
            )
            release.assets[asset.id] = asset
            release.names[asset.name] = asset
            self.assets[asset.id] = asset
            self.assets_by_key[asset.key] = asset
            return asset

    def asset_named(self, release: Release, name: str) -> Asset | None:
        """The asset of ``release`` called exactly ``name``, if any."""
        return release.names.get(name)

    def update_asset(self, asset: Asset, **changes: object) -> None:
        """Set the given attributes of ``asset`` and stamp ``updated_at``."""
        with self.lock:
            names = asset.release.names
            if names.get(asset.name) is asset:
                del names[asset.name]
            for attr, value in changes.items():
                setattr(asset, attr, value)
            names[asset.name] = asset
            asset.updated_at = now_iso()
            asset.json = None

    def finish_upload(self, asset: Asset, blob: Blob) -> None:
        """Store the uploaded content of a ``starter`` asset and mark it uploaded."""
        self.update_asset(asset, blob=blob, state="uploaded", digest_from_blob=True)

    def count_download(self, asset: Asset) -> None:
        """One more download of ``asset``."""
        with self.lock:
            asset.download_count += 1
            asset.json = None

    def delete_asset(self, asset: Asset) -> None:
        """Remove ``asset`` and discard its content."""
        with self.lock:
            asset.release.assets.pop(asset.id, None)
            if asset.release.names.get(asset.name) is asset:
                del asset.release.names[asset.name]
            self.assets.pop(asset.id, None)
            self.assets_by_key.pop(asset.key, None)
        asset.blob.discard()

    def discard_all(self) -> None:
        """Release every asset's content (spool files)."""
        with self.lock:
            for asset in self.assets.values():
                asset.blob.discard()


EMPTY = MemoryBlob(b"")
