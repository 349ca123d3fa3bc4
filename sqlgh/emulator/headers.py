"""Caching headers of the API and uploads origins, as GitHub sends them.

From recorded answers of api.github.com:
- ``Cache-Control: private, max-age=60, s-maxage=60`` with a token (HPInc/ml-git's tests
  hold a recorded answer; a repository creation's 201 carried it too), ``public, ...``
  without one (a curl of a release list, 2025);
- two ``Vary`` headers, ``Accept, Authorization, Cookie, X-GitHub-OTP`` and
  ``Accept-Encoding, Accept, X-Requested-With`` (a VCR cassette keeps them apart; other
  recorders join them with ", "); without a token the first is just ``Accept``;
- ``Last-Modified`` on single objects (the same cassette), so a client may also revalidate
  with ``If-Modified-Since``; ``If-None-Match`` takes precedence when both are sent
  (RFC 9110, 13.2.2), and the emulator honours both;
- an ``ETag`` on the answers of writes (the 201 above carried a strong one). The uploads
  origin's answers carry an ETag but no ``X-RateLimit-*`` headers, as issue 18's
  comparison with recorded traffic found.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime

from sqlgh.emulator.wire import Request, Response

MAX_AGE = 60
VARY_ENCODING = "Accept-Encoding, Accept, X-Requested-With"


def cache_headers(authenticated: bool) -> list[tuple[str, str]]:
    """``Cache-Control`` and the two ``Vary`` headers of a successful answer."""
    scope = "private" if authenticated else "public"
    vary = "Accept, Authorization, Cookie, X-GitHub-OTP" if authenticated else "Accept"
    return [
        ("Cache-Control", f"{scope}, max-age={MAX_AGE}, s-maxage={MAX_AGE}"),
        ("Vary", vary),
        ("Vary", VARY_ENCODING),
    ]


def etag(body: bytes, weak: bool = True) -> str:
    """The ETag of a JSON body: weak for reads (as GitHub's GETs), strong for writes."""
    tag = f'"{hashlib.sha256(body).hexdigest()}"'
    return "W/" + tag if weak else tag


def http_date(iso: str) -> str:
    """An ISO-8601 time as an HTTP date (``Wed, 17 May 2023 23:39:58 GMT``)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    return formatdate(moment, usegmt=True)


def _etag_matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    bare = tag.removeprefix("W/")
    return any(t.strip() == "*" or t.strip().removeprefix("W/") == bare for t in header.split(","))


def _not_modified_since(request: Request, response: Response) -> bool:
    since = request.headers.get("if-modified-since")
    modified = next((v for k, v in response.headers if k == "Last-Modified"), None)
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored (RFC 9110, 13.1.3)


def conditional(request: Request, response: Response) -> Response:
    """Add the ETag to a GET's 200; answer 304 when the client already has this body
    (by ``If-None-Match``, or by ``If-Modified-Since`` when no ``If-None-Match`` came)."""
    tag = etag(response.body)
    if_none_match = request.headers.get("if-none-match")
    if _etag_matches(if_none_match, tag) or (
        if_none_match is None and _not_modified_since(request, response)
    ):
        kept = [(k, v) for k, v in response.headers if k == "Last-Modified"]
        return Response(304, content_type=None, headers=[("ETag", tag), *kept])
    response.headers.append(("ETag", tag))
    return response
