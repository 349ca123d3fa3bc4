"""The object-storage origin downloads are redirected to.

Since 2025 GitHub redirects downloads to ``release-assets.githubusercontent.com`` with an
Azure Blob Storage shared-access signature (``sp``, ``sv``, ``sr``, ``se``, ``rscd``,
``rsct``, ``skoid``, ..., ``sig``) and a ``jwt`` whose ``nbf`` is the moment of the
redirect and whose ``exp`` is 300 s later (a wget log of 2026-02-22 shows such a Location;
its jwt decodes to ``exp - nbf == 300``). The URLs here have that shape: the signature is
checked, and so is the expiry, by the storage's clock (``advance_clock`` lets a test make
time pass). What the host answers an expired URL with is not recorded anywhere we found;
the 403 here is S3's, as objects.githubusercontent.com answered before.

``Range`` is honoured, and a request that also carries an ``Authorization`` header is
refused with S3's 400 "Only one auth mechanism allowed" (the old host's answer; the new
one's is not recorded either) -- the reason clients must not forward their GitHub token
across the redirect.

Its answers carry what the store behind those URLs sends: a strong ``ETag`` in Azure Blob
Storage's form (``"0x8DD945EA37EFD30"``), ``Last-Modified`` and ``Accept-Ranges: bytes``
(a curl -v of a download, gm3dmo/the-power#393). Azure documents If-Match, If-None-Match,
If-Modified-Since and If-Unmodified-Since as its conditional headers, not If-Range
(learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-
service-operations), so ``If-Range`` is ignored here: a client resuming a download must
compare the validators and ``Content-Range`` of the answer itself.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
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

CONTAINER = "github-production-release-asset"
EXPIRES = 300  # seconds a signed URL is good for (the jwt's exp - nbf)
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
# The constant members of the signature, as in recorded URLs.
_SAS = [("sp", "r"), ("sv", "2018-11-09"), ("sr", "b"), ("spr", "https")]
_KEY = [("sks", "b"), ("skv", "2018-11-09")]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def _xml_error(status: int, code: str, message: str, **extra: str) -> Response:
    members = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{members}"
        f"<RequestId>{os.urandom(8).hex().upper()}</RequestId></Error>"
    )
    return Response(status, body.encode(), content_type="application/xml")


# The members the signature covers (all but ``sig`` itself and what follows it).
_SIGNED = {k for k, _ in _SAS + _KEY} | {"se", "rscd", "rsct", "skoid", "sktid", "skt", "ske"}


class Storage:
    """Signs download URLs for assets and serves them."""

    def __init__(self, state: State, origin: str) -> None:
        self.state = state
        self.origin = origin
        self._secret = os.urandom(32)
        self._clock_offset = 0.0

    def now(self) -> float:
        """The storage's clock (GitHub's, as it signs URLs)."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for signed URLs: those signed before may expire."""
        self._clock_offset += seconds

    def _signature(self, path: str, params: list[tuple[str, str]]) -> str:
        text = path + "\n" + "\n".join(f"{k}={v}" for k, v in sorted(params))
        return _b64(hmac.new(self._secret, text.encode(), hashlib.sha256).digest())

    def _jwt(self, nbf: int) -> str:
        claims = {
            "iss": "github.com",
            "aud": "release-assets.githubusercontent.com",
            "key": "key1",
            "exp": nbf + EXPIRES,
            "nbf": nbf,
            "path": "releaseassetproduction.blob.core.windows.net",
        }
        head = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(mac)}"

    def signed_url(self, asset: Asset, actor_id: int) -> str:
        """A URL for the content of ``asset``, good for ``EXPIRES`` seconds."""
        nbf = int(self.now())
        repo_id = asset.release.repo.id
        path = f"/{CONTAINER}/{repo_id}/{asset.key}"
        disposition = f"attachment; filename={asset.name}"
        params = [
            *_SAS,
            ("se", _iso(nbf + EXPIRES)),
            ("rscd", disposition),
            ("rsct", "application/octet-stream"),
            ("skoid", "96c2d410-5711-43a1-aedd-ab1947aa7ab0"),
            ("sktid", "398a6654-997b-47e9-b12b-9515b896b4de"),
            ("skt", _iso(nbf)),
            ("ske", _iso(nbf + EXPIRES)),
            *_KEY,
        ]
        params.append(("sig", self._signature(path, params)))
        params += [
            ("jwt", self._jwt(nbf)),
            ("response-content-disposition", disposition),
            ("response-content-type", "application/octet-stream"),
        ]
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
        if request.method not in ("GET", "HEAD") or len(segments) != 3 or segments[0] != CONTAINER:
            response = _xml_error(404, "NoSuchKey", "The specified key does not exist.")
            response.unknown = True
            return response
        fields = dict(parse_qsl(request.query_string, keep_blank_values=True))
        signed = [(k, v) for k, v in parse_qsl(request.query_string) if k in _SIGNED]
        if not hmac.compare_digest(fields.get("sig", ""), self._signature(request.path, signed)):
            return _xml_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        expires = calendar.timegm(time.strptime(fields["se"], "%Y-%m-%dT%H:%M:%SZ"))
        if self.now() > expires:
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
