"""The emulator's data as a JSON file, so that ``sqlgh --demo-state FILE`` keeps it between runs.

Every record is written with its plain fields; references between records (a repository's
owner, a release's repository and author, an asset's release and uploader) become ids.
Generated content is saved as its size, any other content as its bytes (base64). The id
counters are saved too, so that an id is never given twice, as on GitHub.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import os
import tempfile
from typing import Any

from sqlgh.emulator.blobs import Blob, GeneratedBlob, MemoryBlob, read_all
from sqlgh.emulator.state import Account, Asset, Release, Repo, State

FORMAT = 1
# Fields that refer to other records or are caches: saved as ids, or not at all.
_LINKS = frozenset(
    {"owner", "repo", "release", "author", "uploader", "blob", "releases", "assets", "names"}
)
_COUNTERS = ("_account_ids", "_repo_ids", "_release_ids", "_asset_ids")


def _plain(record: Any) -> dict[str, Any]:
    return {
        f.name: _json_ready(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in _LINKS and f.name != "json"
    }


def _json_ready(value: Any) -> Any:
    return sorted(value) if isinstance(value, (set, frozenset)) else value


def _with_sets(cls: type, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the lists saved for ``cls``'s set fields made sets again."""
    sets = {f.name for f in dataclasses.fields(cls) if str(f.type).startswith("set[")}
    return {name: set(v) if name in sets else v for name, v in fields.items()}


def _blob_json(blob: Blob) -> dict[str, Any]:
    if isinstance(blob, GeneratedBlob):
        return {"generated": blob.size}
    return {"base64": base64.b64encode(read_all(blob)).decode("ascii")}


def _blob(saved: dict[str, Any]) -> Blob:
    if "generated" in saved:
        return GeneratedBlob(int(saved["generated"]))
    return MemoryBlob(base64.b64decode(saved["base64"]))


def _next_ids(state: State) -> dict[str, int]:
    """The id each counter gives next (reading a counter advances it: it is renewed)."""
    upcoming = {}
    for name in _COUNTERS:
        value = next(getattr(state, name))
        setattr(state, name, itertools.count(value))
        upcoming[name] = value
    return upcoming


def dump_state(state: State) -> dict[str, Any]:
    """Everything ``state`` holds, as JSON-ready data."""
    with state.lock:
        author = state.default_author
        return {
            "format": FORMAT,
            "next_ids": _next_ids(state),
            "default_author": author.id if author else None,
            "accounts": [_plain(a) for a in state.accounts.values()],
            "repos": [{**_plain(r), "owner": r.owner.id} for r in state.repos_by_id.values()],
            "moved": [[owner, name, repo_id] for (owner, name), repo_id in state.moved.items()],
            "releases": [
                {**_plain(r), "repo": r.repo.id, "author": r.author.id}
                for r in state.releases.values()
            ],
            "assets": [
                {
                    **_plain(a),
                    "release": a.release.id,
                    "uploader": a.uploader.id if a.uploader else None,
                    "blob": _blob_json(a.blob),
                }
                for a in state.assets.values()
            ],
        }


def restore_state(state: State, saved: dict[str, Any]) -> None:
    """Replace what ``state`` holds by ``saved`` (from ``dump_state``), in place.

    An account ``state`` already has (a token's user) keeps its object, with the saved
    fields, so that what refers to it (the token's identity) stays right.
    """
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"not an emulator state file of format {FORMAT}")
    with state.lock:
        state.discard_all()
        accounts: dict[int, Account] = {}
        known = dict(state.accounts)
        state.accounts.clear()
        for fields in saved["accounts"]:
            account = known.get(fields["login"].lower())
            if account is None:
                account = Account(**_with_sets(Account, fields))
            else:
                for name, value in fields.items():
                    setattr(account, name, value)
            accounts[account.id] = state.accounts[account.login.lower()] = account
        state.repos.clear()
        state.repos_by_id.clear()
        for fields in saved["repos"]:
            repo = Repo(**_with_sets(Repo, {**fields, "owner": accounts[fields["owner"]]}))
            state.repos[(repo.owner.login.lower(), repo.name.lower())] = repo
            state.repos_by_id[repo.id] = repo
        state.moved = {(owner, name): repo_id for owner, name, repo_id in saved["moved"]}
        state.releases.clear()
        for fields in saved["releases"]:
            repo = state.repos_by_id[fields["repo"]]
            links = {"repo": repo, "author": accounts[fields["author"]]}
            release = Release(**_with_sets(Release, {**fields, **links}))
            repo.releases[release.id] = state.releases[release.id] = release
        state.assets.clear()
        state.assets_by_key.clear()
        for fields in saved["assets"]:
            release = state.releases[fields["release"]]
            uploader = fields["uploader"]
            asset = Asset(
                **{
                    **fields,
                    "release": release,
                    "uploader": accounts[uploader] if uploader is not None else None,
                    "blob": _blob(fields["blob"]),
                }
            )
            release.assets[asset.id] = state.assets[asset.id] = asset
            release.names[asset.name] = state.assets_by_key[asset.key] = asset
        for name, value in saved["next_ids"].items():
            if name in _COUNTERS:
                setattr(state, name, itertools.count(int(value)))
        author = saved.get("default_author")
        state.default_author = accounts.get(author) if author is not None else None


def save_state(state: State, path: str) -> None:
    """Write ``state`` to ``path`` atomically (a temporary file beside it, then renamed)."""
    data = json.dumps(dump_state(state), separators=(",", ":")).encode()
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".emulator-state-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_state(state: State, path: str) -> None:
    """Replace what ``state`` holds by the file ``save_state`` wrote."""
    with open(path, "rb") as file:
        restore_state(state, json.load(file))
