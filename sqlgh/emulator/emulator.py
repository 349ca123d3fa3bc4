"""``Emulator``: a GitHub REST stand-in on 127.0.0.1, with methods to seed and inspect it."""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from typing import Any

from sqlgh.emulator.app import App, RequestRecord
from sqlgh.emulator.blobs import GeneratedBlob, MemoryBlob, read_all
from sqlgh.emulator.context import Identity
from sqlgh.emulator.faults import Fault
from sqlgh.emulator.models import Shapes
from sqlgh.emulator.server import ServeLoop, Server
from sqlgh.emulator.state import State
from sqlgh.emulator.storage import Storage

DEFAULT_TOKENS = {"test-token": {"login": "octocat", "write": True}}
ACTIONS_BOT = {"account_id": 41898282, "app_id": 15368}  # github-actions[bot] on GitHub
_COMPUTED: Any = object()  # add_asset's default digest: computed from the content


class Emulator:
    """A faithful GitHub REST API (2022-11-28) for release assets, served over HTTP.

    Three origins, each on its own port: the API (which also serves the web origin's
    ``browser_download_url``s), uploads, and object storage. With ``ghes=True`` the API
    lives under ``/api/v3`` and uploads under ``/api/uploads`` of the same host, as on
    GitHub Enterprise Server. ``tokens`` maps a token to ``{"login": ..., "write": ...}``;
    each login becomes a user.

    A release's JSON embeds all its assets unless ``embedded_assets_cap`` is set. Public
    issues show clients treating the embedded array as complete (sigmavirus24/github3.py#235,
    google/go-github#140) and none reporting a cap, so no cap is the default; the option
    lets tests check that a client does not rely on it.
    """

    def __init__(
        self,
        *,
        ghes: bool = False,
        latency: float = 0.0,
        tokens: dict[str, dict] | None = None,
        embedded_assets_cap: int | None = None,
        rate_limit: int = 5000,
        unauthenticated_rate_limit: int = 60,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.ghes = ghes
        self._state = State()
        identities = {}
        for token, spec in (DEFAULT_TOKENS if tokens is None else tokens).items():
            account = self._state.add_account(spec["login"], "User")
            identities[token] = Identity(account, bool(spec.get("write", False)))
            self._state.default_author = self._state.default_author or account
        self._spool_dir = tempfile.mkdtemp(prefix="sqlgh-emulator-")
        # Uploaded bytes go away with the emulator even if stop() is never called.
        self._remove_spool = weakref.finalize(
            self, shutil.rmtree, self._spool_dir, ignore_errors=True
        )
        api = Server(host, port, "api")
        servers = [api]
        origin = f"http://{host}:{api.port}"
        if ghes:
            self.api_url = f"{origin}/api/v3"
            self.uploads_url = f"{origin}/api/uploads"
        else:
            uploads = Server(host, 0, "uploads")
            servers.append(uploads)
            self.api_url = origin
            self.uploads_url = f"http://{host}:{uploads.port}"
        storage = Server(host, 0, "storage")
        servers.append(storage)
        self.storage_url = f"http://{host}:{storage.port}"
        self.web_url = origin
        shapes = Shapes(self.api_url, self.web_url, self.uploads_url)
        self._app = App(
            ghes=ghes,
            tokens=identities,
            state=self._state,
            shapes=shapes,
            storage=Storage(self._state, self.storage_url),
            spool_dir=self._spool_dir,
            rate_limit=rate_limit,
            unauthenticated_rate_limit=unauthenticated_rate_limit,
        )
        self._app.latency = latency
        self._app.embedded_assets_cap = embedded_assets_cap
        for server in servers:
            server.app = self._app
        self._loop = ServeLoop(servers)
        self._started = self._stopped = False

    # lifecycle ------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Start serving (the ports are bound already)."""
        if not self._started:
            self._started = True
            self._loop.start()
        return self

    def stop(self) -> None:
        """Stop serving, close connections and remove uploaded content."""
        if self._stopped:
            return
        self._stopped = True
        if self._started:
            self._loop.stop()
        else:
            for server in self._loop.servers:
                server.server_close()
        self._state.discard_all()
        self._remove_spool()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # settings -------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds added to every request."""
        return self._app.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._app.latency = seconds

    @property
    def embedded_assets_cap(self) -> int | None:
        """How many assets a release's JSON embeds (None: all)."""
        return self._app.embedded_assets_cap

    @embedded_assets_cap.setter
    def embedded_assets_cap(self, cap: int | None) -> None:
        self._app.embedded_assets_cap = cap

    @property
    def listing_cap(self) -> int | None:
        """How many items of a longer list can be paged to (None: all; see
        ``paging.beyond_cap``). GitHub's cap has been reported at 1000 and at 10000 for
        release lists, so no cap is the default."""
        return self._app.listing_cap

    @listing_cap.setter
    def listing_cap(self, cap: int | None) -> None:
        self._app.listing_cap = cap

    # seeding --------------------------------------------------------------------------
    def add_user(self, login: str) -> dict:
        """Create a user; return its ``simple-user`` JSON."""
        return self._app.shapes.user(self._state.add_account(login, "User"))

    def add_org(self, login: str) -> dict:
        """Create an organization; return its ``simple-user`` JSON (type Organization)."""
        return self._app.shapes.user(self._state.add_account(login, "Organization"))

    def add_bot(self, app: str = "github-actions") -> dict:
        """Create the bot of GitHub App ``app`` (login ``<app>[bot]``); return its
        ``simple-user`` JSON. github-actions[bot] gets its ids on GitHub (user 41898282, App
        15368, as in any release Actions published); another App's ids are made up."""
        ids = ACTIONS_BOT if app == "github-actions" else {}
        with self._state.lock:
            account = self._state.add_account(f"{app}[bot]", "Bot", **ids)
            if account.app_id is None:
                account.app_id = account.id
            return self._app.shapes.user(account)

    def add_repo(
        self,
        owner: str,
        name: str,
        *,
        private: bool = False,
        fork: bool = False,
        archived: bool = False,
        description: str | None = None,
        default_branch: str = "main",
        pushed_at: str | None = None,
        created_at: str | None = None,
        immutable_releases: bool = False,
    ) -> dict:
        """Create a repository (an unknown owner becomes a user); return its JSON.
        ``immutable_releases`` turns on release immutability: releases published from then
        on are immutable."""
        repo = self._state.add_repo(
            owner,
            name,
            private=private,
            fork=fork,
            archived=archived,
            immutable_releases=immutable_releases,
            description=description,
            default_branch=default_branch,
            pushed_at=pushed_at,
            created_at=created_at,
        )
        return self._app.shapes.repo(repo)

    def rename_repo(
        self, owner: str, name: str, new_name: str, new_owner: str | None = None
    ) -> dict:
        """Rename ``owner/name`` (and with ``new_owner``, transfer it); requests naming the old
        path get a 301 to ``/repositories/{id}/...``, as on GitHub. Returns the new JSON."""
        repo = self._state.repo(owner, name)
        if repo is None:
            raise KeyError(f"no repository {owner}/{name}")
        account = self._account(new_owner) if new_owner else None
        self._state.rename_repo(repo, new_name, account)
        return self._app.shapes.repo(repo)

    def advance_signed_url_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for download URLs: a URL signed earlier than its 300 s
        before the new time is answered 403 "Request has expired"."""
        self._app.storage.advance_clock(seconds)

    def set_archived(self, owner: str, repo: str, archived: bool = True) -> None:
        """Archive (or unarchive) ``owner/repo``: GitHub then refuses writes to it."""
        found = self._state.repo(owner, repo)
        if found is None:
            raise KeyError(f"no repository {owner}/{repo}")
        with self._state.lock:
            found.archived, found.json = archived, None

    def add_release(
        self,
        owner: str,
        repo: str,
        tag_name: str,
        *,
        name: str | None = None,
        body: str | None = None,
        draft: bool = False,
        prerelease: bool = False,
        target_commitish: str = "main",
        created_at: str | None = None,
        published_at: str | None = None,
        author: str | None = None,
    ) -> dict:
        """Create a release; return its JSON. ``author`` defaults to the owner when that
        is a user, else to the first token's user."""
        found = self._state.repo(owner, repo)
        if found is None:
            raise KeyError(f"no repository {owner}/{repo}")
        release = self._state.add_release(
            found,
            tag_name,
            name=name,
            body=body,
            draft=draft,
            prerelease=prerelease,
            target_commitish=target_commitish,
            created_at=created_at,
            published_at=published_at,
            author=self._account(author),
        )
        return self._release_json(release.id)

    def add_asset(
        self,
        owner: str,
        repo: str,
        release_id: int,
        name: str,
        *,
        content: bytes | None = None,
        size: int | None = None,
        content_type: str = "application/octet-stream",
        label: str | None = None,
        state: str = "uploaded",
        download_count: int = 0,
        digest: Any = _COMPUTED,
        created_at: str | None = None,
        uploader: str | None = None,
    ) -> dict:
        """Attach an asset to a release; return its JSON.

        Give ``content`` bytes, or ``size`` for that many generated bytes (not held in
        memory); neither means empty. ``digest`` defaults to ``sha256:<hex>`` of the
        content; None models an asset without a digest. The name is sanitized as GitHub
        sanitizes uploads.
        """
        found = self._state.repo(owner, repo)
        release = found.releases.get(release_id) if found else None
        if release is None:
            raise KeyError(f"no release {release_id} in {owner}/{repo}")
        blob = MemoryBlob(content) if content is not None else GeneratedBlob(size or 0)
        asset = self._state.add_asset(
            release,
            name,
            blob,
            content_type=content_type,
            label=label,
            state=state,
            download_count=download_count,
            digest=None if digest is _COMPUTED else digest,
            digest_from_blob=digest is _COMPUTED,
            created_at=created_at,
            uploader=self._account(uploader),
        )
        return self.get_asset(asset.id) or {}

    def _account(self, login: str | None):
        if login is None:
            return None
        account = self._state.account(login)
        if account is None:
            raise KeyError(f"no account {login}")
        return account

    # inspecting -----------------------------------------------------------------------
    def _release_json(self, release_id: int) -> dict:
        with self._state.lock:
            release = self._state.releases[release_id]
            return json.loads(self._app.shapes.release_bytes(release))

    def get_asset(self, asset_id: int) -> dict | None:
        """The asset's current JSON, or None if there is no such asset."""
        with self._state.lock:
            asset = self._state.assets.get(asset_id)
            return None if asset is None else self._app.shapes.asset(asset)

    def list_assets(self, owner: str, repo: str, release_id: int) -> list[dict]:
        """The current JSON of every asset of a release, in id order."""
        with self._state.lock:
            found = self._state.repo(owner, repo)
            release = found.releases.get(release_id) if found else None
            if release is None:
                raise KeyError(f"no release {release_id} in {owner}/{repo}")
            return [self._app.shapes.asset(a) for a in release.assets.values()]

    def asset_content(self, asset_id: int) -> bytes:
        """The stored bytes of an asset."""
        with self._state.lock:
            blob = self._state.assets[asset_id].blob
        return read_all(blob)

    @property
    def log(self) -> list[RequestRecord]:
        """Every request so far, oldest first (a copy)."""
        return list(self._app.log)

    @property
    def unknown(self) -> list[RequestRecord]:
        """Requests whose path and method matched no route (a copy)."""
        return list(self._app.unknown)

    def clear_log(self) -> None:
        """Forget the logged requests."""
        self._app.clear_log()

    # faults and limits ----------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        """Arm a fault switch."""
        self._app.faults.add(fault)

    def clear_faults(self) -> None:
        """Disarm every fault switch."""
        self._app.faults.clear()

    def set_rate_limit(self, remaining: int | None = None, reset: int | None = None) -> None:
        """Set every identity's remaining requests and reset time (epoch seconds)."""
        self._app.limits.set(remaining, reset)
