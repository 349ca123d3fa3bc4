"""The JSON shapes GitHub answers with (api version 2022-11-28).

Each shape follows the schema of the same name in GitHub's OpenAPI description
(``simple-user``, ``full-repository``, ``release``, ``release-asset``, ...); the
example responses on docs.github.com give the member order. Serialized records are cached
on the record itself; ``State`` clears the cache when a record changes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from sqlgh.emulator.state import Account, Asset, Release, Repo

DOCS = "https://docs.github.com/rest"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: object) -> bytes:
    """Compact JSON, as GitHub sends it."""
    return _encode(value).encode()


def join_array(items: Iterable[bytes]) -> bytes:
    """A JSON array of already serialized members."""
    return b"[" + b",".join(items) + b"]"


def node_id(kind: str, ident: int) -> str:
    """A legacy global node id, e.g. ``MDQ6VXNlcjE=`` for User 1."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def error(message: str, status: int, documentation_url: str = DOCS, **extra: object) -> dict:
    """GitHub's error body: ``basic-error`` (or ``validation-error`` with ``errors``)."""
    return {
        "message": message,
        **extra,
        "documentation_url": documentation_url,
        "status": str(status),
    }


# The documentation_url of a release asset operation's errors, as GitHub now sends it
# (docs.github.com/rest/<category>/<page>#<operation>, with "status" beside it: e.g.
# {"message":"Validation Failed",...,"documentation_url":"https://docs.github.com/rest/
# issues/labels#create-a-label","status":"422"} as quoted from gh in public tests).
UPLOAD_DOCS = f"{DOCS}/releases/assets#upload-a-release-asset"
UPDATE_DOCS = f"{DOCS}/releases/assets#update-a-release-asset"


def validation_failed(code: str, field: str, docs: str = UPLOAD_DOCS, **extra: object) -> dict:
    """A 422 body about one field of a ``ReleaseAsset`` (``docs``: the operation's page)."""
    problem = {"resource": "ReleaseAsset", "code": code, "field": field, **extra}
    return error("Validation Failed", 422, docs, errors=[problem])


def _cached(record: Any, shape: Callable[[Any], dict]) -> bytes:
    """``shape(record)`` serialized, kept on ``record.json`` until the record changes."""
    if record.json is None:
        record.json = dumps(shape(record))
    return record.json


# URL templates of a repository, relative to its API URL ("hooks" -> ".../hooks").
_REPO_LINKS = (
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
)


class Shapes:
    """Builds the JSON of records for one emulator's origins.

    ``api`` is the API root, ``web`` the site root (html_url, browser downloads) and
    ``uploads`` the root of the uploads endpoint.
    """

    def __init__(self, api: str, web: str, uploads: str) -> None:
        self.api, self.web, self.uploads = api, web, uploads

    # users ----------------------------------------------------------------------------
    def user(self, account: Account) -> dict:
        """``simple-user`` (organizations too, with type Organization, and bots).

        A bot, as GitHub shows ``github-actions[bot]`` (the uploader of assets made by
        Actions, e.g. in actions/runner's releases): type ``Bot``, its App's avatar
        (``/in/{app id}``), its App's page as ``html_url`` (``/apps/github-actions``), and
        ``[bot]`` percent-encoded in API URLs (``/users/github-actions%5Bbot%5D``)."""
        url = f"{self.api}/users/{quote(account.login)}"
        if account.app_id is not None:
            avatar = f"https://avatars.githubusercontent.com/in/{account.app_id}?v=4"
            html_url = f"{self.web}/apps/{account.login.removesuffix('[bot]')}"
        else:
            avatar = f"https://avatars.githubusercontent.com/u/{account.id}?v=4"
            html_url = f"{self.web}/{account.login}"
        return {
            "login": account.login,
            "id": account.id,
            "node_id": node_id(account.type, account.id),
            "avatar_url": avatar,
            "gravatar_id": "",
            "url": url,
            "html_url": html_url,
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": account.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    # repositories ---------------------------------------------------------------------
    def repo(self, repo: Repo) -> dict:
        """``full-repository`` members (a superset of ``repository`` and ``minimal-repository``)."""
        url = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.web}/{repo.full_name}"
        host = self.web.split("://", 1)[1]
        shape: dict = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork,
            "url": url,
        }
        shape.update((key, url + suffix) for key, suffix in _REPO_LINKS)
        shape.update(
            {
                "created_at": repo.created_at,
                "updated_at": repo.pushed_at,
                "pushed_at": repo.pushed_at,
                "git_url": f"git://{host}/{repo.full_name}.git",
                "ssh_url": f"git@{host}:{repo.full_name}.git",
                "clone_url": f"{html}.git",
                "svn_url": html,
                "homepage": None,
                "size": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": None,
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": True,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": repo.archived,
                "disabled": False,
                "open_issues_count": 0,
                "license": None,
                "allow_forking": True,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "visibility": "private" if repo.private else "public",
                "forks": 0,
                "open_issues": 0,
                "watchers": 0,
                "default_branch": repo.default_branch,
                "network_count": 0,
                "subscribers_count": 0,
            }
        )
        return shape

    def repo_bytes(self, repo: Repo) -> bytes:
        """``repo`` serialized (cached)."""
        return _cached(repo, self.repo)

    # releases -------------------------------------------------------------------------
    def web_tag(self, release: Release) -> str:
        """The tag in the release's web URLs (``html_url``, downloads). A draft has no tag
        yet: GitHub names it ``untagged-`` and 20 hex digits there (grafana/plugin-workflows#2
        shows such a download URL), and serves no browser download of its assets
        (maojindao55/freebuddy#139)."""
        if release.draft:
            return "untagged-" + hashlib.sha1(b"release %d" % release.id).hexdigest()[:20]
        return quote(release.tag_name)

    def release_head(self, release: Release) -> dict:
        """``release`` without its ``assets`` member."""
        repo_url = f"{self.api}/repos/{release.repo.full_name}"
        url = f"{repo_url}/releases/{release.id}"
        tag = quote(release.tag_name)
        return {
            "url": url,
            "assets_url": f"{url}/assets",
            "upload_url": (
                f"{self.uploads}/repos/{release.repo.full_name}/releases/{release.id}"
                "/assets{?name,label}"
            ),
            "html_url": f"{self.web}/{release.repo.full_name}/releases/tag/{self.web_tag(release)}",
            "id": release.id,
            "author": self.user(release.author),
            "node_id": node_id("Release", release.id),
            "tag_name": release.tag_name,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "draft": release.draft,
            "immutable": release.immutable,
            "prerelease": release.prerelease,
            "created_at": release.created_at,
            "updated_at": release.published_at or release.created_at,
            "published_at": release.published_at,
            "tarball_url": f"{repo_url}/tarball/{tag}",
            "zipball_url": f"{repo_url}/zipball/{tag}",
            "body": release.body,
        }

    def release_bytes(self, release: Release, cap: int | None = None) -> bytes:
        """``release`` serialized, embedding its first ``cap`` assets (all if None)."""
        head = _cached(release, self.release_head)
        assets = list(release.assets.values())
        if cap is not None:
            assets = assets[:cap]
        embedded = join_array(self.asset_bytes(a) for a in assets)
        return head[:-1] + b',"assets":' + embedded + b"}"

    # assets ---------------------------------------------------------------------------
    def download_url(self, asset: Asset) -> str:
        """The asset's ``browser_download_url``."""
        release = asset.release
        return (
            f"{self.web}/{release.repo.full_name}/releases/download/"
            f"{self.web_tag(release)}/{asset.name}"
        )

    def asset(self, asset: Asset) -> dict:
        """``release-asset``."""
        return {
            "url": f"{self.api}/repos/{asset.release.repo.full_name}/releases/assets/{asset.id}",
            "id": asset.id,
            "node_id": node_id("ReleaseAsset", asset.id),
            "name": asset.name,
            "label": asset.label,
            "uploader": None if asset.uploader is None else self.user(asset.uploader),
            "content_type": asset.content_type,
            "state": asset.state,
            "size": asset.blob.size,
            "digest": asset.digest_value(),
            "download_count": asset.download_count,
            "created_at": asset.created_at,
            "updated_at": asset.updated_at,
            "browser_download_url": self.download_url(asset),
        }

    def asset_bytes(self, asset: Asset) -> bytes:
        """``asset`` serialized (cached)."""
        return _cached(asset, self.asset)
