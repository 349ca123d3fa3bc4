"""The object-storage origin downloads are redirected to.

It imitates S3 presigned URLs (``X-Amz-*`` query parameters, as GitHub's redirects to
objects.githubusercontent.com carry): the signature and expiry are checked, ``Range`` is
honoured, and a request that also carries an ``Authorization`` header is refused with
S3's 400 "Only one auth mechanism allowed" -- the reason clients must not forward their
GitHub token across the redirect.

Its answers carry what the store behind those URLs sends: a strong ``ETag`` in Azure Blob
Storage's form (``"0x8DD945EA37EFD30"``), ``Last-Modified`` and ``Accept-Ranges: bytes``
(a curl -v of a download, gm3dmo/the-power#393). Azure documents If-Match, If-None-Match,
If-Modified-Since and If-Unmodified-Since as its conditional headers, not If-Range
(learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-
service-operations), so ``If-Range`` is ignored here: a client resuming a download must
compare the validators and ``Content-Range`` of the answer itself.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import os
import re
import time
from collections.abc import Iterator
from datetime import datetime
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

from sqlgh.emulator.blobs import Blob, FileBlob
from sqlgh.emulator.faults import Fault
from sqlgh.emulator.state import Asset, State
from sqlgh.emulator.wire import Request, Response

BUCKET = "github-production-release-asset-2e65be"
EXPIRES = 300
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def _xml_error(status: int, code: str, message: str, **extra: str) -> Response:
    members = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{members}"
        f"<RequestId>{os.urandom(8).hex().upper()}</RequestId></Error>"
    )
    return Response(status, body.encode(), content_type="application/xml")


class Storage:
    """Signs download URLs for assets and serves them."""

    def __init__(self, state: State, origin: str) -> None:
        self.state = state
        self.origin = origin
        self._secret = os.urandom(32)

    def _signature(self, path: str, params: list[tuple[str, str]]) -> str:
        text = path + "\n" + "\n".join(f"{k}={v}" for k, v in sorted(params))
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def signed_url(self, asset: Asset, actor_id: int) -> str:
        """A short-lived URL for the content of ``asset``."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        repo_id = asset.release.repo.id
        path = f"/{BUCKET}/{repo_id}/{asset.key}"
        params = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", f"RELEASEASSETEMULATOR/{stamp[:8]}/us-east-1/s3/aws4_request"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", str(EXPIRES)),
            ("X-Amz-SignedHeaders", "host"),
            ("actor_id", str(actor_id)),
            ("key_id", "0"),
            ("repo_id", str(repo_id)),
            ("response-content-disposition", f"attachment; filename={asset.name}"),
            ("response-content-type", "application/octet-stream"),
        ]
        params.append(("X-Amz-Signature", self._signature(path, params)))
        return f"{self.origin}{path}?{urlencode(params)}"

    def handle(self, request: Request) -> Response:
        """Answer a request to the storage origin."""
        if "authorization" in request.headers:
            return _xml_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be "
                "specified",
                ArgumentName="Authorization",
                ArgumentValue=request.headers["authorization"],
            )
        segments = request.segments
        if request.method not in ("GET", "HEAD") or len(segments) != 3 or segments[0] != BUCKET:
            response = _xml_error(404, "NoSuchKey", "The specified key does not exist.")
            response.unknown = True
            return response
        params = parse_qsl(request.query_string, keep_blank_values=True)
        signature = dict(params).get("X-Amz-Signature", "")
        unsigned = [(k, v) for k, v in params if k != "X-Amz-Signature"]
        if not hmac.compare_digest(signature, self._signature(request.path, unsigned)):
            return _xml_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        fields = dict(unsigned)
        signed_at = calendar.timegm(time.strptime(fields["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
        if time.time() > signed_at + int(fields["X-Amz-Expires"]):
            return _xml_error(403, "AccessDenied", "Request has expired")
        with self.state.lock:
            asset = self.state.assets_by_key.get(segments[2])
            if asset is None or asset.state != "uploaded":
                return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
            blob, version = asset.blob, _version(asset.key, asset.created_at)
        if request.fault is not None and request.fault.kind == "changed_object":
            blob, version = _Inverted(blob), _version(asset.key + "+", time.time())
        return self._content(request, blob, version, fields)

    def _content(
        self, request: Request, blob: Blob, version: list[tuple[str, str]], fields: dict[str, str]
    ) -> Response:
        headers = [
            ("Content-Disposition", fields.get("response-content-disposition", "attachment")),
            ("Accept-Ranges", "bytes"),
            *version,
        ]
        start, end, status = 0, blob.size, 200
        wanted = _RANGE.match(request.headers.get("range", "").strip())
        if wanted and (wanted.group(1) or wanted.group(2)):
            first, last = wanted.groups()
            if first:
                start = int(first)
                end = min(blob.size, int(last) + 1) if last else blob.size
            else:  # a suffix: the last N bytes
                start = max(0, blob.size - int(last))
            if start >= blob.size or start >= end:
                refused = _xml_error(416, "InvalidRange", "The requested range is not satisfiable")
                refused.headers.append(("Content-Range", f"bytes */{blob.size}"))
                return refused
            if _is(request.fault, "wrong_range") and start > 0:
                start, end = 0, end - start  # as many bytes as asked, from the wrong place
            status = 206
            headers.append(("Content-Range", f"bytes {start}-{end - 1}/{blob.size}"))
        content_type = fields.get("response-content-type", "application/octet-stream")
        return Response(
            status,
            content_type=content_type,
            headers=headers,
            stream=blob.chunks(start, end),
            length=end - start,
            file=(blob.path, start) if isinstance(blob, FileBlob) else None,
        )


def _is(fault: Fault | None, kind: str) -> bool:
    return fault is not None and fault.kind == kind


def _version(key: str, created: str | float) -> list[tuple[str, str]]:
    """The ``ETag`` (Azure's form: 0x and 15 hex digits) and ``Last-Modified`` of a
    stored object, fixed for as long as the object is."""
    if isinstance(created, str):
        created = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    etag = '"0x8D' + hashlib.sha256(key.encode()).hexdigest()[:13].upper() + '"'
    return [("ETag", etag), ("Last-Modified", formatdate(created, usegmt=True))]


class _Inverted:
    """Another version of a blob, as long: every byte inverted (the ``changed_object``
    fault: the object was replaced between two requests)."""

    _INVERT = bytes(255 - b for b in range(256))

    def __init__(self, blob: Blob) -> None:
        self._blob = blob
        self.size = blob.size

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        for piece in self._blob.chunks(start, end):
            yield piece.translate(self._INVERT)

    def sha256(self) -> str:
        return hashlib.sha256(b"".join(self.chunks())).hexdigest()

    def discard(self) -> None:
        pass
