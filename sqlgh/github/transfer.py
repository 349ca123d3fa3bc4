"""Uploads to a release's ``upload_url`` and streamed downloads of assets."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

import requests
import uritemplate

from sqlgh.github.body import HashBehind, chunks
from sqlgh.github.client import Client
from sqlgh.github.dates import http_date
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.option_hint import how_to_set
from sqlgh.github.progress import ReadingProgress, no_progress
from sqlgh.github.retry import READ_TIMEOUTS, find_cause, is_stall

# Bytes as stored: the digest is of those, and curl, too, asks for no encoding.
OCTET_STREAM = {"Accept": "application/octet-stream", "Accept-Encoding": "identity"}
# GitHub answers an upload once it has taken in the whole body, and large uploads have been
# answered long after their last byte: softprops/action-gh-release#549 (0.8 and 1.7 GB
# uploads that landed, reported failed by a 5-minute wait for the answer's headers),
# SAP/jenkins-library#5393 ("timeout awaiting response headers" on large assets). So the
# wait for an upload's answer is read_timeout plus this many seconds per GiB uploaded.
UPLOAD_ANSWER_SECONDS_PER_GIB = 240


def upload_answer_wait(read_timeout: float, size: int) -> float:
    """Seconds to wait for the answer to an upload of ``size`` bytes: ``read_timeout``
    plus 4 minutes per GiB (2 GiB, GitHub's largest asset: 30 s + 8 min)."""
    return read_timeout + size / (1 << 30) * UPLOAD_ANSWER_SECONDS_PER_GIB


def upload_target(upload_url: str, name: str, label: str | None) -> str:
    """The URL an upload is POSTed to: the release's ``upload_url`` template, expanded."""
    values = {"name": name} if label is None else {"name": name, "label": label}
    return str(uritemplate.expand(upload_url, values))


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
    url = upload_target(upload_url, name, label)
    bar = client.progress(total=size, desc=f"upload {name}", unit="B")
    wait = upload_answer_wait(client.timeout[1], size)
    try:
        response = client.request(
            "POST",
            url,
            data=body if isinstance(body, bytes) else ReadingProgress(body, size, bar),
            headers={"Content-Type": content_type, "Content-Length": str(size)},
            authenticate=True,
            read_timeout=wait,
        )
    except TransportError as exc:
        if find_cause(exc.cause, READ_TIMEOUTS) is None:
            raise
        raise TransportError(exc.method, exc.path, exc.cause, _no_answer(wait, size)) from exc
    finally:
        bar.close()
    # A broken answer raises TransportError: the caller then looks for what arrived.
    return _asset(client.decode(response), "POST", client.display_path(url))


def _no_answer(wait: float, size: int) -> str:
    """The silence after an upload's body, in words, with how to wait longer."""
    return (
        f"GitHub sent no answer for {wait:.3g} s after the {size} bytes of the upload (the "
        "wait for an upload's answer is read_timeout plus 4 min per GiB uploaded; to wait "
        f"longer, raise read_timeout: {how_to_set('read_timeout', 300)})"
    )


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


def download(
    client: Client, asset_url: str, sink: BinaryIO, *, name: str = "", own_bar: bool = True
) -> tuple[int, str]:
    """Stream an asset's bytes into ``sink``; return (bytes written, sha256 hex).

    ``name`` (the asset's file name) labels the progress bar; ``own_bar`` False: no bar
    (a batch of downloads shows one for all).

    GitHub answers 200 with the bytes or a redirect to object storage. The token goes to
    the API only: storage rejects a second auth mechanism, and it must not leak anyway.
    Each attempt and each resume starts at the API, so a signed storage URL is never used
    again after its 300 s; one refused by storage (403: it expired before its first use) is
    asked for again once. A connection that breaks mid-body is resumed with a ``Range``
    request, as often as the client's retry policy allows (a stall, twice in a row at
    most). A resume is kept only when it continues the same bytes (see
    ``Version.continued_by``); otherwise ``sink`` (which must seek) starts over.
    """
    digest = hashlib.sha256()
    written = stalls = 0
    version: Version | None = None
    policy = client.resilience.policy
    bar = None
    try:
        for attempt in range(policy.attempts):
            response, url = _open(client, asset_url, written, version)
            if written and not (version and version.continued_by(response, written)):
                sink.seek(0)  # the range was ignored, or answered with other bytes
                sink.truncate()
                digest, written = hashlib.sha256(), 0
                if response.status_code == 206:  # a part of something else: ask anew
                    response.close()
                    cause = ValueError(_NOT_CONTINUED)
                    failure = TransportError("GET", client.display_path(url), cause, str(cause))
                    continue
            if not written:
                version = Version.of(response)
            if bar is None:
                length = response.headers.get("Content-Length", "")
                total = int(length) if length.isdigit() else None
                label = name or asset_url.rsplit("/", 1)[-1]
                progress = client.progress if own_bar else no_progress
                bar = progress(total=total, desc=f"download {label}", unit="B")
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
            stalls = stalls + 1 if is_stall(failure) else 0
            if attempt + 1 == policy.attempts or stalls == policy.stall_attempts:
                break
            client.resilience.sleep(policy.delay(attempt))
        raise client.resilience.explained(failure, attempt + 1)
    finally:
        if bar is not None:
            bar.close()


_NOT_CONTINUED = "storage answered a resumed download with other bytes than the ones asked for"


@dataclass(frozen=True)
class Version:
    """What the first answer of a download says about its bytes: their length and the
    validators (``ETag``, ``Last-Modified``) that tell one version of an object from another.
    """

    length: int | None
    etag: str | None
    last_modified: str | None
    date: str | None

    @classmethod
    def of(cls, response: requests.Response) -> Version:
        """The version a 200 answer carries."""
        headers = response.headers
        length = headers.get("Content-Length", "")
        return cls(
            int(length) if length.isdigit() else None,
            headers.get("ETag"),
            headers.get("Last-Modified"),
            headers.get("Date"),
        )

    def if_range(self) -> str | None:
        """The validator a resume sends in ``If-Range``, so that a server that honours it
        answers a changed object with all of it (200) rather than a part (RFC 9110 13.1.5):
        a strong ETag, else a Last-Modified date that is strong, at least 60 s older than
        the answer (RFC 9110 8.8.2.2); None when there is neither."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        modified, answered = http_date(self.last_modified), http_date(self.date)
        if modified is not None and answered is not None and answered - modified >= 60:
            return self.last_modified
        return None

    def continued_by(self, response: requests.Response, offset: int) -> bool:
        """Whether ``response`` is a 206 carrying these bytes from ``offset`` to the end.

        Its ``Content-Range`` must start at ``offset`` and end at the end of the same
        length, and its validators, where both answers give one, must be the same: GitHub's
        storage does not honour ``If-Range`` (see ``sqlgh/emulator/storage.py``), so a
        changed object would come back as a 206 of its new bytes.
        """
        if response.status_code != 206:
            return False
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is None or int(match["first"]) != offset:
            return False
        complete = None if match["length"] == "*" else int(match["length"])
        if complete is not None and int(match["last"]) != complete - 1:
            return False
        if self.length is not None and complete is not None and complete != self.length:
            return False
        return all(
            mine is None or theirs is None or mine == theirs
            for mine, theirs in (
                (self.etag, response.headers.get("ETag")),
                (self.last_modified, response.headers.get("Last-Modified")),
            )
        )


_CONTENT_RANGE = re.compile(r"bytes (?P<first>\d+)-(?P<last>\d+)/(?P<length>\d+|\*)")


def _open(
    client: Client, asset_url: str, offset: int, version: Version | None
) -> tuple[requests.Response, str]:
    """GET the asset's bytes from ``offset`` on, following redirects to object storage
    (``Client._send``: the token goes to GitHub's own hosts alone)."""
    headers = dict(OCTET_STREAM)
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = version.if_range() if version else None
        if validator:
            headers["If-Range"] = validator

    def ask() -> requests.Response:
        return client.request("GET", asset_url, headers=headers, stream=True, to_storage=True)

    try:
        response = ask()
    except GitHubError as exc:
        if not _refused_by_storage(client, exc):
            raise
        # GitHub's signed storage URL lives 300 s from the redirect (the emulator's
        # storage.py gives the source): one that expired before it was used is replaced,
        # by asking the API again.
        response = ask()
    return response, response.url or asset_url


def _refused_by_storage(client: Client, failure: GitHubError) -> bool:
    """Whether object storage (not GitHub's API) answered 403: an expired signed URL."""
    shown = failure.path
    return failure.status == 403 and "://" in shown and not client.trusts(shown)
