"""The request pipeline: origin, faults, authentication, rate limit, routing, ETag."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote

from sqlgh.emulator.api import API_ROUTES, redirect
from sqlgh.emulator.context import Context, Identity
from sqlgh.emulator.faults import Fault, Faults
from sqlgh.emulator.headers import cache_headers, conditional, etag
from sqlgh.emulator.models import Shapes, dumps, error
from sqlgh.emulator.ratelimit import Bucket, RateLimits
from sqlgh.emulator.routes import Router
from sqlgh.emulator.state import State
from sqlgh.emulator.storage import Storage
from sqlgh.emulator.uploads import UPLOAD_ROUTES
from sqlgh.emulator.wire import JSON, HTTPError, Request, Response, json_response

RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)


def request_id() -> str:
    """An id shaped like GitHub's ``X-GitHub-Request-Id`` (``CC20:3C83:6E76CA:755512:59842897``)."""
    r = random.getrandbits
    return f"{r(16):04X}:{r(16):04X}:{r(24):06X}:{r(24):06X}:{r(32):08X}"


def _token(authorization: str) -> str:
    """The token of ``Bearer X``, ``token X`` or Basic auth (the token as password)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[2]
        except ValueError:
            return ""
    return value.strip() if scheme.lower() in ("bearer", "token") else ""


def _rewrite(response: Response, find: str, replace: str) -> None:
    """Replace ``find`` in a response's headers and (unstreamed) body."""
    response.headers = [(k, v.replace(find, replace)) for k, v in response.headers]
    if response.stream is None:
        response.body = response.body.replace(find.encode(), replace.encode())


def _retry_after(fault: Fault) -> list[tuple[str, str]]:
    return [("Retry-After", str(fault.retry_after))] if fault.retry_after else []


def _with_headers(response: Response, fault: Fault) -> Response:
    """``response`` with the fault's ``headers`` in place of those of the same names."""
    if fault.headers:
        replaced = {name.lower() for name in fault.headers}
        kept = [(k, v) for k, v in response.headers if k.lower() not in replaced]
        response.headers = kept + list(fault.headers.items())
    return response


@dataclass
class RequestRecord:
    """One request as the emulator saw it (``status`` 0: the connection was closed
    without an answer)."""

    origin: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int
    body_size: int


class App:
    """Everything behind the sockets."""

    def __init__(
        self,
        *,
        ghes: bool,
        tokens: dict[str, Identity],
        state: State,
        shapes: Shapes,
        storage: Storage,
        spool_dir: str,
        rate_limit: int,
        unauthenticated_rate_limit: int,
    ) -> None:
        self.ghes = ghes
        self.tokens = tokens
        self.state = state
        self.shapes = shapes
        self.storage = storage
        self.spool_dir = spool_dir
        self.rate_limit = rate_limit
        self.unauthenticated_rate_limit = unauthenticated_rate_limit
        self.latency = 0.0
        self.embedded_assets_cap: int | None = None
        self.listing_cap: int | None = None
        self.limits = RateLimits()
        self.faults = Faults()
        self.log: list[RequestRecord] = []
        self.unknown: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._api = Router(API_ROUTES)
        self._uploads = Router(UPLOAD_ROUTES)

    # where a request goes -----------------------------------------------------------
    def locate(self, listener: str, path: str) -> tuple[str, list[str]]:
        """The origin a request to ``listener`` ("api", "uploads" or "storage") is for,
        and its path segments below that origin's prefix, each percent-decoded on its own
        (so ``a%2Fb`` stays one segment)."""
        raw = path.split("/")[1:]
        segments = [unquote(s) for s in raw]
        if listener != "api":
            return listener, segments
        if self.ghes:
            if raw[:2] == ["api", "v3"]:
                return "api", segments[2:]
            if raw[:2] == ["api", "uploads"]:
                return "uploads", segments[2:]
            return "web", segments
        if len(segments) >= 6 and segments[2:4] == ["releases", "download"]:
            return "web", segments
        return "api", segments

    def record(self, request: Request, status: int, unknown: bool) -> None:
        """Add a request to the log (and to ``unknown`` when no route has its shape)."""
        entry = RequestRecord(
            request.origin,
            request.method,
            request.path,
            request.query,
            request.headers,
            status,
            request.body.received,
        )
        with self._log_lock:
            self.log.append(entry)
            if unknown:
                self.unknown.append(entry)

    def clear_log(self) -> None:
        """Forget the logged requests."""
        with self._log_lock:
            self.log.clear()
            self.unknown.clear()

    # the pipeline ---------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer ``request``."""
        if self.latency > 0:
            time.sleep(self.latency)
        fault = request.fault = self.faults.take(request.origin, request.method, request.path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "meanwhile" and fault.call is not None:
                fault.call()
            elif fault.kind == "trickle":
                request.body.trickle = fault.delay or 0.5
            early = self._fault_response(fault)
            if early is not None:
                return _with_headers(early, fault)
        if request.origin == "storage":
            response = self.storage.handle(request)
        elif request.origin == "web":
            response = self._web(request)
        else:
            response = self._api_request(request)
        if fault is not None and fault.kind == "truncated":
            response.body = response.body[: len(response.body) // 2]
            if response.length is not None:
                response.length //= 2
        elif fault is not None and fault.kind == "drop":
            response.drop = True
        elif fault is not None and fault.kind == "lost":
            # Done, but the answer never arrives: a proxy or a network that gave up.
            return Response(0, abort=True)
        elif fault is not None and fault.kind == "overlong":
            response.declared, response.close = 1 << 40, True
        elif fault is not None and fault.kind == "rewrite":
            _rewrite(response, fault.find, fault.replace)
        elif fault is not None and fault.kind == "rewrite_json" and response.body:
            assert fault.rewrite is not None  # checked when the fault was made
            response.body = dumps(fault.rewrite(json.loads(response.body)))
        elif fault is not None and fault.kind in ("trickle", "trickle_body"):
            response.trickle = fault.delay or 0.5
            response.trickle_head = fault.kind == "trickle"
        return _with_headers(response, fault) if fault is not None else response

    def _fault_response(self, fault: Fault) -> Response | None:
        kind = fault.kind
        if kind == "redirect":
            return Response(fault.status or 307, b"", None, [("Location", fault.location)])
        if kind == "status":
            status = fault.status or 500
            return json_response(status, error("Server Error", status), _retry_after(fault))
        if kind == "non_json":
            page = b"<!DOCTYPE html><html><body><h1>Unicorn!</h1></body></html>"
            return Response(fault.status or 200, page, "text/html; charset=utf-8")
        if kind == "primary_rate_limit":
            limit = self.rate_limit
            reset = int(time.time()) + (fault.retry_after or 60)
            return json_response(
                fault.status or 403,
                error("API rate limit exceeded for user ID 1.", 403, RATE_DOCS),
                Bucket(limit, 0, reset).headers(),
            )
        if kind == "secondary_rate_limit":
            # Body as in apache/devlake#1322 and app-sre/github-mirror#62.
            message = (
                "You have exceeded a secondary rate limit. Please wait a few "
                "minutes before you try again."
            )
            status = fault.status or 403
            return json_response(
                status, error(message, status, SECONDARY_DOCS), _retry_after(fault)
            )
        if kind == "sso_required":
            # Header and message as GitHub sends them for a token not authorized for an
            # organization that enforces SAML single sign-on (octokit/rest.js#663 and
            # GitHub's "Authorizing a personal access token for use with SAML SSO").
            sso = f"required; url={self.shapes.web}/orgs/acme/sso?authorization_request=AZ42"
            message = (
                "Resource protected by organization SAML enforcement. You must grant your "
                "Personal Access token access to this organization."
            )
            status = fault.status or 403
            return json_response(status, error(message, status), [("X-GitHub-SSO", sso)])
        if kind == "ip_allow_list":
            # Message as quoted in SalesforceFoundation/NPSP#7247.
            message = (
                "Although you appear to have the correct authorization credentials, the "
                "`acme` organization has an IP allow list enabled, and your IP address is "
                "not permitted to access this resource."
            )
            return json_response(403, error(message, 403))
        return None

    def _identity(self, request: Request) -> tuple[Identity | None, bool]:
        """The identity of the request's token, and False when the token is unknown."""
        authorization = request.headers.get("authorization")
        if authorization is None:
            return None, True
        identity = self.tokens.get(_token(authorization))
        return identity, identity is not None

    def _bucket_key(self, identity: Identity | None, request: Request) -> tuple[str, int]:
        if identity is None:
            return f"ip:{request.client}", self.unauthenticated_rate_limit
        return f"user:{identity.account.id}", self.rate_limit

    def _api_request(self, request: Request) -> Response:
        identity, known = self._identity(request)
        key, limit = self._bucket_key(identity, request)
        if not known:
            response = json_response(401, error("Bad credentials", 401))
            return self._finish(response, self.limits.peek(key, limit))
        method = "GET" if request.method == "HEAD" else request.method
        if request.origin == "api" and method == "GET" and request.segments == ["rate_limit"]:
            return self._finish(self._rate_limit(key, limit), self.limits.peek(key, limit))
        bucket = self.limits.peek(key, limit)
        if bucket.remaining <= 0:
            return self._finish(self._exhausted(identity, request), bucket)
        router = self._uploads if request.origin == "uploads" else self._api
        match = router.match(method, request.segments)
        try:
            if match is None:
                raise HTTPError(404, error("Not Found", 404))
            if match.route.write and identity is None:
                raise HTTPError(401, error("Requires authentication", 401))
            if match.route.write and not identity.write:
                message = "Resource not accessible by personal access token"
                raise HTTPError(403, error(message, 403))
            context = Context(
                request,
                identity,
                self.state,
                self.shapes,
                self.storage,
                self.spool_dir,
                self.embedded_assets_cap,
                listing_cap=self.listing_cap,
            )
            response = match.route.handler(context, **match.params)
        except HTTPError as failure:
            response = failure.response
        response.unknown = match is None
        if method == "GET" and response.status == 200 and response.content_type == JSON:
            response = conditional(request, response)
        elif method in ("POST", "PATCH") and response.status in (200, 201) and response.body:
            response.headers.append(("ETag", etag(response.body, weak=False)))
        if response.status != 304:
            bucket = self.limits.charge(key, limit)
        if response.status in (200, 201, 304):
            response.headers += cache_headers(identity is not None)
        return self._finish(response, bucket, request.origin)

    def _finish(self, response: Response, bucket: Bucket, origin: str = "api") -> Response:
        if origin != "uploads":
            response.headers += bucket.headers()
        response.headers += [
            ("X-GitHub-Api-Version-Selected", "2022-11-28"),
            ("X-GitHub-Media-Type", "github.v3; format=json"),
            ("X-GitHub-Request-Id", request_id()),
        ]
        if not any(name == "Vary" for name, _ in response.headers):
            response.headers.append(("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"))
        return response

    def _exhausted(self, identity: Identity | None, request: Request) -> Response:
        """403 when the primary limit is used up (messages as GitHub words them, e.g.
        charany1/GHSDD#2 for the unauthenticated one)."""
        if identity is None:
            message = (
                f"API rate limit exceeded for {request.client}. (But here's the good news: "
                "Authenticated requests get a higher rate limit. Check out the documentation "
                "for more details.)"
            )
        else:
            message = f"API rate limit exceeded for user ID {identity.account.id}."
        return json_response(403, error(message, 403, RATE_DOCS))

    def _rate_limit(self, key: str, limit: int) -> Response:
        """GET /rate_limit (``rate-limit-overview``); it does not count against the limit."""
        core = self.limits.peek(key, limit).snapshot()
        reset = core["reset"]

        def other(size: int) -> dict:
            return {"limit": size, "used": 0, "remaining": size, "reset": reset}

        resources = {
            "core": core,
            "search": other(30),
            "graphql": other(limit),
            "code_search": other(10),
            "integration_manifest": other(5000),
            "source_import": other(100),
            "code_scanning_upload": other(limit),
            "actions_runner_registration": other(10000),
            "scim": other(15000),
            "dependency_snapshots": other(100),
        }
        return json_response(200, {"resources": resources, "rate": core})

    def _web(self, request: Request) -> Response:
        """``browser_download_url``s: ``/{owner}/{repo}/releases/download/{tag}/{name}``
        redirect to storage for published releases of public repositories."""
        segments = request.segments
        not_found = Response(404, b"Not Found", "text/plain; charset=utf-8")
        if (
            request.method not in ("GET", "HEAD")
            or len(segments) < 6
            or segments[2:4] != ["releases", "download"]
        ):
            not_found.unknown = True
            return not_found
        with self.state.lock:
            repo = self.state.repo(segments[0], segments[1])
            if repo is None or repo.private:
                return not_found
            release = self.state.release_by_tag(repo, "/".join(segments[4:-1]))
            asset = release and self.state.asset_named(release, segments[-1])
            if not asset:
                return not_found
            self.state.count_download(asset)
            return redirect(self.storage.signed_url(asset, 0))
