"""Build the ``Client`` from ``connect()``'s arguments, options and the environment.

Options (keyword arguments of ``sqlgh.connect``), all optional:

=========================  =======  ==========================================================
option                     default  meaning
=========================  =======  ==========================================================
``per_page``               100      items per list page (1-100)
``mutation_interval``      1.0      seconds between POST/PATCH/DELETE, as GitHub asks
``retries``                4        extra attempts for idempotent requests after a fault
``retry_backoff``          1.0      first backoff (seconds), doubled per retry, full jitter
``connect_timeout``        10       seconds to establish a connection
``read_timeout``           30       seconds without a byte arriving (a stall, not a total);
                                    an upload's answer is waited for read_timeout plus 4 min
                                    per GiB uploaded (GitHub answers once it has taken the
                                    whole body in: 2 GiB, 30 s + 8 min; ``transfer.py``)
``low_speed_limit``        1000     bytes/s a transfer must average over ``low_speed_time``
``low_speed_time``         30       seconds under ``low_speed_limit`` that stop a transfer
``statement_timeout``      0        seconds one SQL statement may run (0: no limit)
``max_rate_limit_wait``    60       longest wait for a rate limit before failing, also when an
                                    answer left no requests (3700: wait out any, the window is 1 h)
``secondary_rate_limit_wait`` 60    first wait for a secondary limit without retry-after
``rate_limit_reserve``     0.01     below this share of the limit, requests are spread out
                                    (at most 3 s apart; beyond that, at full speed)
``uploads_url``            derived  ``$SQLGH_UPLOADS_URL``, else GitHub's uploads host as derived
                                    from the API URL; the only host besides the API that gets
                                    the token: uploads.github.com for api.github.com (api.X gives
                                    uploads.X), the API's own host for GHES (``/api/v3``)
``max_concurrency``        8        reads in flight at once (1: sequential); writes are serial
``cache``                  True     conditional-request cache; every GET revalidated (304s free)
``cache_path``             per token  ``$SQLGH_CACHE_DIR`` or user cache dir, file per token hash
``cache_lock_timeout``     5        seconds to wait for another process's lock on the cache file,
                                    then run uncached (one line on stderr)
``cache_max_age``          30       days an entry may go unused (neither read nor revalidated)
                                    before it is pruned (0: kept until the size cap evicts it)
``cache_max_size``         200      MB (10^6 bytes) the cache file may hold; the least recently
                                    used entries go first (0: no cap). See cache_prune.py
=========================  =======  ==========================================================

``(connect_timeout, read_timeout)`` is passed to requests as its ``timeout`` tuple: the
read timeout bounds each wait for the next bytes of an answer, so a 2 GB download on a
slow link is never cut off while data still flows, and a server gone silent is. A server
that trickles (a byte every half second never trips a read timeout) is stopped by the
minimum rate, as curl's ``--speed-limit`` / ``--speed-time`` do (``watchdog.py``): in
headers, bodies and uploads alike. The defaults are DNF's (1000 bytes/s over 30 s,
osbuild/osbuild#990), and a stall is retried once (``retry.py``), so a silent or
trickling server costs about a minute per request (it cost five: 60 s x 5 attempts), while
a slow link that moves 1 kB/s lives. ``statement_timeout`` bounds a whole statement: no
request is sent past it and reads in flight are cut, but a row's write is let finish.
"""

from __future__ import annotations

import os
from typing import Any

from sqlgh.github.auth import api_url_from_environment, find_token
from sqlgh.github.cache import LOCK_TIMEOUT, cache_file
from sqlgh.github.cache_prune import DAY, MAX_AGE, MAX_SIZE, Retention
from sqlgh.github.client import Client
from sqlgh.github.deadline import Deadline
from sqlgh.github.ratelimit import RateLimiter
from sqlgh.github.resilience import Resilience
from sqlgh.github.retry import RetryPolicy
from sqlgh.github.watchdog import Limits

DEFAULT_CONCURRENCY = 8
MB = 1_000_000
# The options make_client takes (the table above); retry_backoff is the uploads' too.
CLIENT_OPTIONS = frozenset(
    {
        "per_page", "mutation_interval", "retries", "retry_backoff", "connect_timeout",
        "read_timeout", "low_speed_limit", "low_speed_time", "statement_timeout",
        "max_rate_limit_wait", "secondary_rate_limit_wait", "rate_limit_reserve",
        "uploads_url", "max_concurrency", "cache", "cache_path", "cache_lock_timeout",
        "cache_max_age", "cache_max_size",
    }
)
UPLOADS_URL_ENV = "SQLGH_UPLOADS_URL"


def _number(options: dict[str, Any], name: str, default: float, minimum: float = 0) -> float:
    value = options.pop(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ValueError(f"option {name} must be a number >= {minimum:g}, not {value!r}")
    return float(value)


def make_client(api_url: str | None, token: str | None, options: dict[str, Any]) -> Client:
    """A Client for ``api_url`` (default: from the environment) with ``token`` (default:
    found as gh finds it). Pops the options it knows from ``options``; ``retry_backoff``
    stays there too, since uploads use it for their own retries."""
    url = api_url or api_url_from_environment()
    if token is not None:
        value, source = token or None, "connect(token=...)"
    else:
        found = find_token(url)
        value, source = (found.value, found.source) if found else (None, None)
    timeout = (
        _number(options, "connect_timeout", 10.0, 0.001),
        _number(options, "read_timeout", 30.0, 0.001),
    )
    deadline = Deadline(_number(options, "statement_timeout", 0.0))
    limits = Limits(
        _number(options, "low_speed_limit", 1000.0),
        _number(options, "low_speed_time", 30.0, 0.001),
        deadline,
    )
    policy = RetryPolicy(
        retries=int(_number(options, "retries", 4)),
        backoff=_number(dict(options), "retry_backoff", 1.0),
    )
    limiter = RateLimiter(
        max_wait=_number(options, "max_rate_limit_wait", 60.0),
        secondary_wait=_number(options, "secondary_rate_limit_wait", 60.0),
        reserve=_number(options, "rate_limit_reserve", 0.01),
        sleep=deadline.sleep,
    )
    resilience = Resilience(
        policy,
        limiter,
        timeout,
        token_source=source if value else None,
        sleep=deadline.sleep,
        deadline=deadline,
    )
    return Client(
        url,
        value,
        per_page=options.pop("per_page", 100),
        timeout=timeout,
        mutation_interval=options.pop("mutation_interval", 1.0),
        resilience=resilience,
        max_concurrency=int(_number(options, "max_concurrency", DEFAULT_CONCURRENCY, 1)),
        cache_path=_cache_path(value, options),
        uploads_url=options.pop("uploads_url", None) or os.environ.get(UPLOADS_URL_ENV) or None,
        limits=limits,
        cache_lock_timeout=_number(options, "cache_lock_timeout", LOCK_TIMEOUT),
        cache_retention=Retention(
            max_age=_number(options, "cache_max_age", MAX_AGE / DAY) * DAY,
            max_size=round(_number(options, "cache_max_size", MAX_SIZE / MB) * MB),
        ),
    )


def _cache_path(token: str | None, options: dict[str, Any]) -> str | None:
    enabled = options.pop("cache", True)
    path = options.pop("cache_path", None)
    if not enabled:
        return None
    return str(path) if path is not None else str(cache_file(token))
