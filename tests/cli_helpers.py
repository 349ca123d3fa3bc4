"""Running the real ``sqlgh`` command, and reading the demo data over plain HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
TOKEN = "test-token"
ORGS = ("acme", "globex", "initech")


def sqlgh(
    *args: str,
    api_url: str | None = None,
    uploads_url: str | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 60,
    token: str | None = TOKEN,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sqlgh.cli ARGS``; with ``api_url`` (and ``uploads_url``), against
    that emulator, with ``token`` (None: none)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    env.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    if api_url is not None:
        env["GITHUB_API_URL"] = api_url
        if token is not None:
            env["GH_TOKEN"] = token
    if uploads_url is not None:
        env["SQLGH_UPLOADS_URL"] = uploads_url
    return subprocess.run(
        [sys.executable, "-m", "sqlgh.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        input=stdin if stdin is not None else "",
        timeout=timeout,
    )


def _pages(url: str, **query: str) -> Iterator[dict]:
    params: dict | None = {"per_page": 100, **query}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    while url:
        response = requests.get(url, params=params, headers=headers, timeout=10)
        response.raise_for_status()
        yield from response.json()
        url = response.links.get("next", {}).get("url")
        params = None


def demo_assets(api_url: str, owners: tuple[str, ...] = ORGS) -> list[dict]:
    """Every asset of every release of ``owners``, read without sqlgh (plain requests).

    Each asset JSON gains owner, repo, repo_archived, release_id, tag_name and
    release_created_at.
    """
    found = []
    for owner in owners:
        for repo in _pages(f"{api_url}/orgs/{owner}/repos", type="all"):
            base = f"{api_url}/repos/{owner}/{repo['name']}/releases"
            for release in _pages(base):
                for asset in _pages(f"{base}/{release['id']}/assets"):
                    asset.update(
                        owner=owner,
                        repo=repo["name"],
                        repo_archived=repo["archived"],
                        release_id=release["id"],
                        tag_name=release["tag_name"],
                        release_created_at=release["created_at"],
                    )
                    found.append(asset)
    return found


def demo_repositories(api_url: str, owner: str) -> list[dict]:
    """An organization's repositories, read without sqlgh."""
    return list(_pages(f"{api_url}/orgs/{owner}/repos", type="all"))

