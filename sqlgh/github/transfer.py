"""Uploads to a release's ``upload_url`` and streamed downloads of assets."""

from __future__ import annotations

import hashlib
from typing import Any, BinaryIO
from urllib.parse import urljoin

import requests
import uritemplate

from sqlgh.github.body import HashBehind, chunks
from sqlgh.github.client import Client
from sqlgh.github.errors import TransportError
from sqlgh.github.progress import ReadingProgress

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Bytes as stored: the digest is of those, and curl, too, asks for no encoding.
OCTET_STREAM = {"Accept": "application/octet-stream", "Accept-Encoding": "identity"}


def upload(
    client: Client,
    upload_url: str,
    *,
    name: str,
    label: str | None,
    body: bytes | BinaryIO,
    size: int,
    content_type: str,
) -> dict:
    """POST the bytes to the release's ``upload_url`` (an RFC 6570 template); return the asset.

    The URL is GitHub's own hypermedia, never built here: on GitHub.com it is another host,
    on GitHub Enterprise Server it is ``/api/uploads``.
    """
    values = {"name": name} if label is None else {"name": name, "label": label}
    url = uritemplate.expand(upload_url, values)
    bar = client.progress(total=size, desc=f"upload {name}", unit="B")
    try:
        response = client.request(
            "POST",
            url,
            data=body if isinstance(body, bytes) else ReadingProgress(body, size, bar),
            headers={"Content-Type": content_type, "Content-Length": str(size)},
            authenticate=True,
        )
    finally:
        bar.close()
    # A broken answer raises TransportError: the caller then looks for what arrived.
    return _asset(client.decode(response), "POST", client.display_path(url))


def _asset(answer: Any, method: str, shown: str) -> dict:
    """The asset GitHub's answer describes: an object with an integer ``id`` and a text
    ``name`` ("release-asset" in GitHub's REST schema). Anything else is a damaged answer,
    a TransportError like a body cut short, though the request may have done its work."""
    if isinstance(answer, dict):
        if type(answer.get("id")) is int and isinstance(answer.get("name"), str):
            return answer
        got = "an object without them"
    else:
        got = _JSON_KINDS.get(type(answer), type(answer).__name__)
    problem = ValueError(f"expected an asset with an integer id and a text name, got {got}")
    raise TransportError(method, shown, problem, f"the answer was not an asset ({problem})")


_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def download(client: Client, asset_url: str, sink: BinaryIO, *, name: str = "") -> tuple[int, str]:
    """Stream an asset's bytes into ``sink``; return (bytes written, sha256 hex).

    ``name`` (the asset's file name) labels the progress bar.

    GitHub answers 200 with the bytes or a redirect to object storage. The token goes to
    the API only: storage rejects a second auth mechanism, and it must not leak anyway.
    A connection that breaks mid-body is resumed with a ``Range`` request (or, when the
    server ignores the range and ``sink`` can seek, started over), as often as the
    client's retry policy allows.
    """
    digest = hashlib.sha256()
    written = 0
    policy = client.resilience.policy
    bar = None
    try:
        for attempt in range(policy.attempts):
            response, url = _open(client, asset_url, written)
            if written and response.status_code != 206:
                sink.seek(0)  # the range was ignored: start over
                sink.truncate()
                digest, written = hashlib.sha256(), 0
            if bar is None:
                length = response.headers.get("Content-Length", "")
                total = int(length) if length.isdigit() else None
                label = name or asset_url.rsplit("/", 1)[-1]
                bar = client.progress(total=total, desc=f"download {label}", unit="B")
            hasher = HashBehind(digest)
            try:
                for chunk in chunks(response, hasher):
                    sink.write(chunk)
                    hasher.hash(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
                hasher.close()
                return written, digest.hexdigest()
            except requests.RequestException as exc:
                failure = TransportError("GET", client.display_path(url), exc)
            finally:
                hasher.close()  # every byte counted in ``written`` is hashed before a resume
                response.close()
            if attempt + 1 < policy.attempts:
                client.resilience.sleep(policy.delay(attempt))
        raise client.resilience.explained(failure, policy.attempts)
    finally:
        if bar is not None:
            bar.close()


def _open(client: Client, asset_url: str, offset: int) -> tuple[requests.Response, str]:
    """GET the asset's bytes from ``offset`` on, following redirects; the token goes to
    GitHub's own hosts alone, never to object storage."""
    headers = dict(OCTET_STREAM)
    if offset:
        headers["Range"] = f"bytes={offset}-"
    response = client.request("GET", asset_url, headers=headers, stream=True, allow_redirects=False)
    url = asset_url
    for _ in range(MAX_REDIRECTS):
        if response.status_code not in REDIRECTS:
            return response, url
        url = urljoin(url, response.headers.get("Location", ""))
        response.close()
        response = client.request(
            "GET",
            url,
            headers=headers,
            stream=True,
            allow_redirects=False,
            # GitHub's hosts (a renamed repository's 301) get the token, storage does not.
            authenticate=None if client.trusts(url) else False,
        )
    response.close()
    raise TransportError("GET", client.display_path(url), ValueError("too many redirects"))
