"""One ``requests.Session`` for everything sqlgh asks of GitHub.

The client knows URLs, headers, pagination and errors; it knows nothing about SQL.
Every request lands in ``Client.log`` (method, path, status, time, rate-limit budget),
which the ``sqlgh_requests`` table shows to users.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import orjson
import requests
import uritemplate

from sqlgh import __version__
from sqlgh.github import adapter, cache, hosts, listing_cap, pages, parallel
from sqlgh.github.cache_prune import Retention
from sqlgh.github.deadline import DeadlineError
from sqlgh.github.errors import AccessError, GitHubError, TransportError, UnsafeAnswerError
from sqlgh.github.option_hint import how_to_set
from sqlgh.github.pool import BearerAuth, PlainSession, SessionPool
from sqlgh.github.progress import Progress, ProgressFactory, last_page, no_progress
from sqlgh.github.ratelimit import RateLimitError
from sqlgh.github.resilience import Resilience, Rewind, rewinder
from sqlgh.github.retry import disable_transport_retries
from sqlgh.github.watchdog import Limits

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MAX_PER_PAGE = 100
LOG_SIZE = 10_000
MUTATIONS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MAX_REDIRECTS = 5
_NO_HTTP_PROXY = {"http": None, "all": None}
T = TypeVar("T")


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request as the user may see it (never with credentials)."""

    started: float
    method: str
    path: str
    status: int | None
    elapsed_ms: float
    from_cache: bool
    rate_remaining: int | None


def normalize_api_url(api_url: str) -> str:
    """Strip the trailing slash and check the scheme; raise ValueError when unusable."""
    url = api_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"api_url {api_url!r} is not an http(s) URL; use e.g. {DEFAULT_API_URL} "
            "or https://HOST/api/v3 for GitHub Enterprise Server"
        )
    return url


class Client:
    """A GitHub REST client: auth, base URL, pagination, errors and a request log.

    ``progress`` makes progress bars for long work (see ``sqlgh.github.progress``).
    """

    progress: ProgressFactory = staticmethod(no_progress)

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        token: str | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        timeout: tuple[float, float] = (10.0, 30.0),
        session: requests.Session | None = None,
        mutation_interval: float = 1.0,
        resilience: Resilience | None = None,
        max_concurrency: int = 1,
        cache_path: str | None = None,
        uploads_url: str | None = None,
        limits: Limits | None = None,
        cache_lock_timeout: float = cache.LOCK_TIMEOUT,
        cache_retention: Retention | None = None,
    ) -> None:
        self.api_url = normalize_api_url(api_url)
        self._origin = hosts.origin(self.api_url)
        self.uploads_origin = hosts.uploads_origin(self.api_url, uploads_url)
        # The only origins that ever get a request with the token (see _credentials).
        self.trusted_origins = frozenset({self._origin, self.uploads_origin})
        for trusted in sorted(self.trusted_origins):
            parts = urlsplit(trusted)
            if token and parts.scheme == "http" and not hosts.is_loopback(parts.hostname):
                raise ValueError(
                    f"refusing to send a token over plain http to {trusted}; use https"
                )
        self._token = token or None
        self._auth = BearerAuth(token) if token else None
        self.per_page = max(1, min(int(per_page), MAX_PER_PAGE))
        self.timeout = timeout
        # Retries and rate limits: sqlgh/github/resilience.py (urllib3 never retries).
        self.resilience = resilience or Resilience(timeout=timeout)
        # A minimum transfer rate and the statement's deadline, for every connection.
        self.limits = limits or Limits(deadline=self.resilience.deadline)
        self._capped: set[str] = set()  # lists that stopped at GitHub's listing cap
        # Reads run up to max_concurrency requests at once, each on a session of its own
        # (see pool.py); a given session means one at a time. cache_path: see cache.py
        # (None when the file cannot be used: sqlgh then runs uncached); cache_retention:
        # how long unused entries are kept, and the cap on the file (cache_prune.py).
        self.max_concurrency = 1 if session else max(1, int(max_concurrency))
        self.cache = (
            cache.open_backend(cache_path, cache_lock_timeout, cache_retention)
            if cache_path
            else None
        )
        self._pool = SessionPool(self.max_concurrency, self._new_session)
        self.session = self._pool.add(
            self._configure(session, own=False) if session else self._new_session()
        )
        # Writes and streamed downloads never touch the cache: requests-cache would read a
        # whole upload body into memory just to compute a cache key.
        self._uncached = (
            SessionPool(self.max_concurrency, self._plain_session) if self.cache else self._pool
        )
        self._workers: Any = None
        self._workers_lock = threading.Lock()
        self.log: deque[RequestRecord] = deque(maxlen=LOG_SIZE)
        # GitHub asks integrators to space POST/PATCH/PUT/DELETE about a second apart.
        self.mutation_interval = mutation_interval
        self._last_mutation = 0.0
        # Moves when a write is sent and when it is answered (or fails): what was read
        # while it stayed the same saw no write of this client (tables/recent_listings.py).
        self.write_epoch = 0

    @property
    def has_token(self) -> bool:
        """Whether requests are authenticated."""
        return self._token is not None

    def __repr__(self) -> str:
        auth = "with a token" if self._token else "without a token"
        return f"<sqlgh Client {self.api_url} {auth}>"

    def url(self, template: str, **values: object) -> str:
        """Expand an RFC 6570 path template under the API URL, encoding every value.

        ``url("/repos/{owner}/{repo}", owner="a/b", repo="c")`` gives ``.../repos/a%2Fb/c``:
        a value can never change which endpoint is called.
        """
        return self.api_url + uritemplate.expand(template, {k: str(v) for k, v in values.items()})

    def request(self, method: str, url: str, **options: Any) -> requests.Response:
        """Send a request as ``_send`` does, with retries and rate-limit waits.

        Idempotent methods are retried on transient faults; a POST only after a rate
        limit refused it (its body is rewound), never after a fault (uploads clean up
        and retry in ``tables/asset_writes.py``).
        """
        return self.resilience.run(
            method, lambda: self._send(method, url, **options), rewinder(options.get("data"))
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        allow_redirects: bool = True,
        authenticate: bool | None = None,
        fresh: bool = False,
        read_timeout: float | None = None,
        to_storage: bool = False,
    ) -> requests.Response:
        """Send one request; raise GitHubError for 4xx/5xx, TransportError when unreachable.

        ``fresh``: a GET sent as it is, past the cache (no stored answer, nothing stored).
        ``read_timeout`` replaces the client's own for this request (an upload's answer).

        Only GitHub's own hosts are ever asked: the API's origin and its uploads origin
        (see ``hosts.uploads_origin``), and they alone get the token. A URL elsewhere (an
        ``upload_url``, a ``Link``, a redirect's ``Location``) is refused before sending,
        with ``UnsafeAnswerError``, unless ``authenticate=False`` says it is object
        storage, which gets a request without credentials. Redirects are followed here,
        hop by hop, within GitHub's hosts: a GET after any redirect, a write only after a
        307 or 308 (sent again as it was, as GitHub asks for a renamed repository).
        ``to_storage``: a download, whose redirect may lead to object storage on another
        host; that hop, and any after it, is sent without credentials.
        """
        rewind = rewinder(data)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                stream=stream,
                authenticate=authenticate,
                fresh=fresh,
                read_timeout=read_timeout,
            )
            if not (allow_redirects and response.is_redirect):
                return response
            url = self._redirect_target(method, url, params, response, rewind, to_storage)
            if to_storage and not self.trusts(url):
                authenticate = False  # object storage, and wherever it sends us next
            params = None  # the Location carries its own query
        raise UnsafeAnswerError(
            method, self.display_path(url), f"more than {MAX_REDIRECTS} redirects in a row"
        )

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        stream: bool,
        authenticate: bool | None,
        fresh: bool,
        read_timeout: float | None = None,
    ) -> requests.Response:
        """One HTTP exchange, logged; a redirect is returned as it is."""
        shown = self.display_path(url, params)
        self.resilience.deadline.check(method, shown)  # past statement_timeout: not sent
        auth = self._credentials(method, url, shown, authenticate)
        write = method in MUTATIONS
        if write:
            self._space_mutation()
            self.write_epoch += 1
        try:
            started = time.time()
            clock = time.perf_counter()
            try:
                response = self._transmit(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    auth=auth,
                    stream=stream,
                    timeout=(self.timeout[0], read_timeout) if read_timeout else self.timeout,
                    allow_redirects=False,
                    # A token over plain http (loopback only) never goes through a proxy,
                    # which would read it in the clear.
                    proxies=_NO_HTTP_PROXY if auth and url.startswith("http:") else None,
                    fresh=fresh,
                )
            except requests.RequestException as exc:
                self._record(started, clock, method, shown, None, False, None)
                if self.resilience.deadline.passed():  # the watchdog cut it at the deadline
                    seconds = self.resilience.deadline.seconds
                    raise DeadlineError(seconds, method, shown, cut=True) from exc
                raise TransportError(method, shown, exc) from exc
            self._record(
                started,
                clock,
                method,
                shown,
                cache.wire_status(response),
                bool(getattr(response, "from_cache", False)),
                _int_header(response.headers.get("x-ratelimit-remaining")),
            )
            self.resilience.observe(response.headers)
            if response.status_code >= 400:
                error = GitHubError.from_response(response, shown)
                response.close()
                raise error
            return response
        finally:
            if write:
                self.write_epoch += 1

    def _redirect_target(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        response: requests.Response,
        rewind: Rewind,
        to_storage: bool = False,
    ) -> str:
        """Where a redirect leads, when sqlgh may follow it; else UnsafeAnswerError.
        ``to_storage``: a download's GET, which may leave GitHub's hosts (see ``_send``)."""
        shown = self.display_path(url, params)
        status = response.status_code
        target = urljoin(response.url or url, response.headers["Location"])
        response.close()
        write = method in MUTATIONS
        not_done = ", so the write was not done" if write else ""
        if not self.trusts(target) and not (to_storage and method == "GET"):
            raise UnsafeAnswerError(
                method,
                shown,
                f"the answer {status} redirects to {hosts.origin(target)}, which is not "
                f"GitHub's API or uploads host; sqlgh does not follow it{not_done}",
            )
        if write and status not in (307, 308):
            raise UnsafeAnswerError(
                method,
                shown,
                f"the answer {status} redirects to {self.display_path(target)}, and a "
                f"{status} turns a {method} into a GET; sqlgh does not follow it{not_done}",
            )
        if not rewind():
            raise UnsafeAnswerError(
                method, shown, f"the answer {status} asks to send the body again, which "
                f"cannot be re-read; sqlgh does not follow it{not_done}"
            )
        return target

    def trusts(self, url: str) -> bool:
        """Whether ``url`` is on GitHub's API or uploads host, the only ones given the token."""
        return hosts.origin(url) in self.trusted_origins

    def _credentials(
        self, method: str, url: str, shown: str, authenticate: bool | None
    ) -> BearerAuth | None:
        """The token for a request to GitHub's own hosts; None for object storage
        (``authenticate=False``); UnsafeAnswerError for any other host."""
        if authenticate is False:
            return None
        if not self.trusts(url):
            hint = (
                f" (if your GitHub serves uploads there, pass it: "
                f"{how_to_set('uploads_url', hosts.origin(url))})"
                if authenticate
                else ""
            )
            raise UnsafeAnswerError(
                method,
                shown,
                f"refusing to send it to {hosts.origin(url)}: sqlgh sends requests only to "
                f"GitHub's API ({self._origin}) and uploads host ({self.uploads_origin})"
                + hint,
            )
        return self._auth

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, *, counted: bool = True
    ) -> Any:
        """GET a URL and decode its JSON body (a cut or non-JSON body is retried).

        ``counted=False`` for what GitHub does not count against the rate limit."""
        shown = self.display_path(url, params)
        return self.resilience.run(
            "GET", lambda: _decode(self._send("GET", url, params=params), shown), counted=counted
        )

    def decode(self, response: requests.Response) -> Any:
        """The JSON body of a response; TransportError when it is cut short or not JSON."""
        return _decode(response, self.display_path(response.url))

    def get_json_or_none(self, url: str) -> Any | None:
        """GET a single object; None when GitHub answers 404."""
        try:
            return self.get_json(url)
        except GitHubError as exc:
            if exc.status == 404 and not isinstance(exc, AccessError):  # SSO may say 404
                return None
            raise

    def pages(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        first: tuple[list[Any], dict[str, Any]] | None = None,
        *,
        fresh: bool = False,
    ) -> Iterator[list[Any]]:
        """Yield the pages of a list endpoint, each a list of items (see ``_pages``).

        ``first``: the first page and its relations, when ``page`` already fetched them.
        ``fresh``: every page read past the cache (see ``_send``).
        When a rate limit stops the list, the error says how many of its pages were left.
        """
        count = _PageCount()
        try:
            yield from self._pages(url, params, count, first, fresh)
        except RateLimitError as exc:
            if count.total is None:
                raise
            left = count.total - count.done
            raise RateLimitError(
                exc,
                f"{exc.explanation}; {self.display_path(url)} still needed {left} of its "
                f"{count.total} pages",
            ) from exc

    def page(
        self, url: str, params: Mapping[str, Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        """One page of a list endpoint (``per_page`` as for ``pages``) and its ``Link``
        relations, retried as a page of ``pages`` is."""
        query = {"per_page": self.per_page, **(params or {})}
        return self.resilience.run("GET", lambda: self._get_page(url, query))

    def paginate(self, url: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Yield the items of a list endpoint, page after page."""
        for page in self.pages(url, params):
            yield from page

    def _pages(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        count: _PageCount,
        first: tuple[list[Any], dict[str, Any]] | None = None,
        fresh: bool = False,
    ) -> Iterator[list[Any]]:
        """Yield the pages of a list endpoint, following ``rel="next"``.

        Pages are fetched lazily: a consumer that stops early costs no further request.
        With ``max_concurrency`` > 1, once the consumer reads past the first page and its
        ``rel="last"`` link tells how many remain, the rest are fetched in parallel (at most
        ``max_concurrency`` pages ahead), still yielded in order.
        """
        query: dict[str, Any] | None = {"per_page": self.per_page, **(params or {})}
        next_url: str | None = url
        bar: Progress | None = None
        read: set[str] = set()  # the next links followed: one seen twice is a loop
        try:
            while next_url:
                if first is not None:
                    (page, links), first = first, None
                else:
                    page, links = self.resilience.run(
                        "GET", lambda u=next_url, q=query: self._get_page(u, q, fresh)
                    )
                if query is None:
                    read.add(next_url)
                next_url = links.get("next", {}).get("url")
                if next_url is not None:
                    self._check_next(url, count.done + 1, not page, next_url, read)
                query = None  # the next link carries its own query
                count.done += 1
                if bar is None and next_url:  # a multi-page scan
                    total = count.total = last_page(links)
                    bar = self.progress(total=total, desc=self.display_path(url), unit="page")
                if bar is not None:
                    bar.update(1)
                yield page if next_url else pages.LastPage(page)
                if next_url and self.max_concurrency > 1 and not parallel.in_worker():
                    rest = pages.remaining(next_url, links.get("last", {}).get("url"))
                    if rest:
                        next_url = yield from self._parallel_pages(rest, bar, count, fresh)
                        read.update(rest)
                        if next_url is not None:
                            self._check_next(url, count.done, False, next_url, read)
        finally:
            if bar is not None:
                bar.close()

    def parallel_map(self, fn: Any, items: Any, inline: Any = None) -> Iterator[Any]:
        """``fn`` over ``items`` on the read threads, in order, ``max_concurrency`` ahead;
        sequential when concurrency is 1 or already inside a read thread. Items ``inline``
        accepts are run in the calling thread (see ``parallel.ordered_map``)."""
        if self.max_concurrency == 1 or parallel.in_worker():
            return map(fn, items)
        return parallel.ordered_map(
            self._read_threads(), fn, items, self.max_concurrency, inline
        )

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on the read threads, as a leaf task (see ``parallel``)."""
        return self._read_threads().submit(fn, *args)

    def _read_threads(self) -> ThreadPoolExecutor:
        with self._workers_lock:  # two reading threads may get here at once
            if self._workers is None:
                self._workers = parallel.worker_pool(self.max_concurrency)
            return self._workers

    def close(self) -> None:
        """Close every pooled connection and stop the read threads."""
        with self._workers_lock:
            if self._workers is not None:
                self._workers.shutdown(wait=False, cancel_futures=True)
                self._workers = None
        self._pool.close()
        if self._uncached is not self._pool:
            self._uncached.close()

    def clear_cache(self) -> int:
        """Empty the conditional-request cache; return how many responses it held."""
        return cache.clear(self.cache) if self.cache is not None else 0

    def _check_next(
        self, url: str, number: int, empty: bool, next_url: str, read: set[str]
    ) -> None:
        """Refuse a ``rel="next"`` that cannot lead to the end of a list: back to a page
        already read, from an empty page, or past ``pages.MAX_PAGES`` pages."""
        why = None
        if next_url in read:
            why = f"to a page already read ({self.display_path(next_url)})"
        elif empty:
            why = "from an empty page"
        elif number >= pages.MAX_PAGES:
            why = f"past {pages.MAX_PAGES} pages"
        if why is not None:
            raise UnsafeAnswerError(
                "GET",
                self.display_path(url),
                f'page {number} links as rel="next" {why}; the list was not finished',
            )

    def _parallel_pages(
        self, urls: list[str], bar: Progress | None, count: _PageCount, fresh: bool
    ) -> Generator[list[Any], None, str | None]:
        """The pages at ``urls`` (from ``rel="last"``), fetched ahead in parallel and
        yielded in order, up to the first that links to no next page: a ``rel="last"``
        that overstates the list costs at most ``max_concurrency`` requests more. Returns
        the ``rel="next"`` of the last of ``urls`` when it has one (``rel="last"``
        understated the list), to be followed from there."""

        def one(url: str) -> tuple[list[Any], dict[str, Any]]:
            return self.resilience.run("GET", lambda: self._get_page(url, None, fresh))

        links: dict[str, Any] = {}
        for page, links in self.parallel_map(one, urls):
            count.done += 1
            if bar is not None:
                bar.update(1)
            if not page or "next" not in links:
                yield pages.LastPage(page)
                return None
            yield page
        return links.get("next", {}).get("url")

    def _transmit(
        self, method: str, url: str, *, fresh: bool, **kwargs: Any
    ) -> requests.Response:
        """One request on a pooled session (the pool bounds requests in flight)."""
        if method == "GET" and not kwargs["stream"] and not fresh:
            with self._pool.session() as session:
                return cache.remember_backend(session.request(method, url, **kwargs), self.cache)
        with self._uncached.session() as session:
            return session.request(method, url, **kwargs)

    def _new_session(self) -> requests.Session:
        made = cache.cached_session(self.cache) if self.cache else PlainSession()
        return self._configure(made)

    def _plain_session(self) -> requests.Session:
        return self._configure(PlainSession())

    def _configure(self, session: requests.Session, own: bool = True) -> requests.Session:
        if own:
            adapter.mount(session, self.limits)
        else:
            disable_transport_retries(session)
        session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"sqlgh/{__version__}",
            }
        )
        return session

    def _get_page(
        self, url: str, query: Mapping[str, Any] | None, fresh: bool = False
    ) -> tuple[list[Any], dict[str, Any]]:
        """One page of a list: its items and its ``Link`` relations; past GitHub's
        listing cap, an empty last page (see ``listing_cap``)."""
        try:
            response = self._send("GET", url, params=query, fresh=fresh)
        except GitHubError as exc:
            cap = listing_cap.cap_of(exc)
            if cap is None:
                raise
            path = self.display_path(url.split("?")[0])
            if path not in self._capped:  # once per list, though pages past it run at once
                self._capped.add(path)
                self.resilience.limiter.say(listing_cap.notice(path, cap))
            return [], {}
        page = _decode(response, self.display_path(url, query))
        if not isinstance(page, list) or not all(type(item) is dict for item in page):
            cache.forget(response)
            shown = self.display_path(url, query)
            raise TransportError("GET", shown, ValueError("expected a JSON list of objects"))
        links = response.links
        if "next" not in links and cache.wire_status(response) == 304:
            links = self._confirm_last(response.url, page, links)
        return page, links

    def _confirm_last(
        self, url: str, page: list[Any], links: dict[str, Any]
    ) -> dict[str, Any]:
        """The links of a revalidated page stored as a list's last: when the page is full,
        the list may have grown past it since, which its stored links cannot say (see
        pages.py). The next page is asked for (stored, an empty one is a free 304 on later
        runs) and linked as ``rel="next"`` when it holds items."""
        after = pages.after_full_page(url, len(page))
        if after is None:
            return links
        more = _decode(self._send("GET", after), self.display_path(after))
        if not more:
            return links
        return {**links, "next": {"url": after, "rel": "next"}}

    def display_path(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """The request as logs and errors show it: the API path, or another host's bare URL.

        Query strings of other hosts are left out: storage URLs carry signatures.
        """
        if url == self.api_url or url.startswith((self.api_url + "/", self.api_url + "?")):
            shown = url[len(self.api_url) :] or "/"
            query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
            if query:
                shown += ("&" if "?" in shown else "?") + query
            return shown
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def _space_mutation(self) -> None:
        wait = self._last_mutation + self.mutation_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_mutation = time.monotonic()

    def _record(
        self,
        started: float,
        clock: float,
        method: str,
        path: str,
        status: int | None,
        from_cache: bool,
        remaining: int | None,
    ) -> None:
        elapsed = (time.perf_counter() - clock) * 1000.0
        self.log.append(
            RequestRecord(started, method, path, status, round(elapsed, 3), from_cache, remaining)
        )


@dataclass
class _PageCount:
    """How far one paginated list got: pages fetched, and pages in all once known."""

    done: int = 0
    total: int | None = None


def _int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _decode(response: requests.Response, shown: str) -> Any:
    # orjson parses GitHub's UTF-8 JSON several times faster than the json module, the
    # largest cost of a long list on a fast link; anything it refuses gets a second look.
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError as exc:
        cache.forget(response)  # a body cut short must not be served again from the cache
        raise TransportError(response.request.method or "GET", shown, exc) from exc
