"""GitHub's rate limits: wait when told to, slow down before the wall, say so once.

* Primary limit: a 403 or 429 with ``x-ratelimit-remaining: 0``. Wait until
  ``x-ratelimit-reset`` when that is within ``max_wait`` seconds, otherwise fail with
  ``RateLimitError`` saying when the limit resets.
* Secondary limit: a 403 or 429 whose message mentions a secondary rate limit. Honour
  ``retry-after``; without it wait at least ``secondary_wait`` (GitHub: a minute), doubling
  on each further hit.
* Low budget: when the last answer left fewer than ``reserve`` (a fraction of the limit)
  requests, spread the remaining ones evenly until the reset instead of hitting the wall,
  but only when that spacing is short (``MAX_SPACING``). A few requests left and the reset
  far away (40 left, an hour to go: 90 s each) would make every request wait; then sqlgh
  goes on at full speed, says so once, and the spent-budget rule below takes over.

* Spent budget: when the last answer left no requests, the next one would be refused.
  Wait for the reset when that is within ``max_wait``, otherwise fail at once with
  ``RateLimitError`` rather than send it.

Each wait episode is announced once on stderr, not once per request.

The headers are GitHub's to give, and a proxy's or a hostile server's to garble: a value
that is not what GitHub documents is taken as absent. ``x-ratelimit-reset`` is "a Unix UTC
timestamp" (developer.github.com/changes/2013-07-02-rate-limit-reset), ``x-ratelimit-
remaining`` "the number of requests remaining in the current rate limit window"
(github/docs#29242; a count below zero is taken as none left), and ``retry-after`` "will
always be an integer, representing the number of seconds you should wait" (GitHub's REST
docs, quoted in phabricator.wikimedia.org/T185939).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from requests.structures import CaseInsensitiveDict

from sqlgh.github.errors import ExplainedError, GitHubError
from sqlgh.github.option_hint import how_to_set

RATE_LIMIT_STATUS = frozenset({403, 429})
# The last second time.localtime can show (9999-12-31T23:59:59Z): a later reset is garbage.
LAST_EPOCH = 253402300799
NO_ANSWER = 0  # the status of a RateLimitError raised before sending: no answer to quote
# The longest spacing a low budget gets: beyond it, waiting before every request costs more
# (39 requests, 39 minutes) than it saves.
MAX_SPACING = 3.0


class RateLimitError(ExplainedError):
    """A rate limit that would take longer than the allowed wait to clear.

    With ``status`` ``NO_ANSWER`` the request was not sent (the budget was spent): the
    message is the explanation alone.
    """

    def describe(self) -> str:
        """The explanation, then GitHub's answer when there was one."""
        return self.explanation if self.status == NO_ANSWER else super().describe()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, CaseInsensitiveDict):  # requests' own: no scan needed
        return headers.get(name)
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _number(headers: Mapping[str, str], name: str) -> float | None:
    """A header's finite number; None when it is absent or not a number (NaN, inf)."""
    value = _header(headers, name)
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _count(headers: Mapping[str, str], name: str) -> float | None:
    """A request count (``x-ratelimit-remaining``, ``-limit``): below zero is zero."""
    number = _number(headers, name)
    return None if number is None else max(0.0, number)


def _epoch(headers: Mapping[str, str]) -> float | None:
    """``x-ratelimit-reset`` as epoch seconds; None when absent or no time (NaN, 1e30)."""
    number = _number(headers, "x-ratelimit-reset")
    return number if number is not None and 0 <= number <= LAST_EPOCH else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``retry-after`` seconds; None when absent, negative, not a number, or past the
    last time there is."""
    number = _number(headers, "retry-after")
    if number is None or not 0 <= number <= LAST_EPOCH - time.time():
        return None
    return number


def kind_of(error: GitHubError) -> str | None:
    """``"primary"``, ``"secondary"`` or None for an error that is not a rate limit."""
    if error.status not in RATE_LIMIT_STATUS:
        return None
    if "secondary rate limit" in error.message.lower() or "abuse" in error.message.lower():
        return "secondary"
    if _count(error.headers, "x-ratelimit-remaining") == 0:
        return "primary"
    if error.status == 429 or _header(error.headers, "retry-after") is not None:
        return "secondary"
    return None


def local_time(epoch: float) -> str:
    """``14:05:09`` (or with the date when not today), in local time."""
    moment = time.localtime(epoch)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%Y-%m-%d %H:%M:%S", moment)


@dataclass
class RateLimiter:
    """Decides how long to wait for GitHub's rate limits, and announces waits once.

    ``max_wait``: the longest single wait (seconds) before giving up with an error.
    ``secondary_wait``: the first wait for a secondary limit without ``retry-after``.
    ``reserve``: below this fraction of the limit, requests are spread until the reset.
    """

    max_wait: float = 60.0
    secondary_wait: float = 60.0
    reserve: float = 0.01
    sleep: Callable[[float], None] = time.sleep
    say: Callable[[str], None] = field(
        default=lambda text: print(f"sqlgh: {text}", file=sys.stderr, flush=True)
    )
    _remaining: float | None = field(default=None, init=False)
    _limit: float | None = field(default=None, init=False)
    _reset: float | None = field(default=None, init=False)
    _secondary_hits: int = field(default=0, init=False)
    _announced: str | None = field(default=None, init=False)

    # before and after each request --------------------------------------------------
    def pace(self) -> None:
        """Before a request: sleep if the budget is low, to spread what is left; when it
        is spent, wait for the reset or raise RateLimitError (see ``_spent``)."""
        if self._remaining is None or self._reset is None:
            return
        until_reset = self._reset - time.time()
        if until_reset <= 0:
            return
        if self._remaining == 0:
            self._spent(until_reset)
            return
        if self._limit is None:
            return
        floor = max(1.0, math.ceil(self._limit * self.reserve))
        if self._remaining >= floor:
            return
        delay = min(until_reset / max(self._remaining, 1.0), self.max_wait)
        if delay > MAX_SPACING:
            self._announce(
                f"low:{self._reset}",
                f"only {self._remaining:g} of {self._limit:g} requests left until the rate "
                f"limit resets at {local_time(self._reset)}; going on at full speed (spacing "
                f"them would take {_duration(delay)} per request)",
            )
            return
        self._announce(
            f"pace:{self._reset}",
            f"only {self._remaining:g} of {self._limit:g} requests left until the rate limit "
            f"resets at {local_time(self._reset)}; spacing requests {delay:.1f} s apart",
        )
        self.sleep(delay)
        self._remaining = max(0.0, self._remaining - 1)

    def _spent(self, until_reset: float) -> None:
        """The last answer left no requests: the next would be refused. Sleep until the
        reset when ``max_wait`` allows it, else raise RateLimitError without sending."""
        assert self._reset is not None
        delay = until_reset + 1.0  # the reset second itself
        if delay > self.max_wait:
            spent = GitHubError(NO_ANSWER, "no requests left", "", "")
            left = f"0 of {self._limit:g}" if self._limit else "no"
            raise RateLimitError(
                spent,
                f"GitHub's rate limit is used up (its last answer left {left} requests); it "
                f"resets at {local_time(self._reset)} "
                f"(local time), in {_duration(delay)}, longer than max_rate_limit_wait "
                f"({self.max_wait:g} s) allows; the query was not finished and nothing more "
                "was sent: run it again after that time, or set max_rate_limit_wait to "
                f"{math.ceil(delay)} or more to wait "
                f"({how_to_set('max_rate_limit_wait', math.ceil(delay))})",
            )
        self._announce(
            f"primary:{self._reset:.0f}",
            f"GitHub's rate limit is used up; waiting {_duration(delay)} "
            f"(until {local_time(self._reset)}) before going on",
        )
        self.sleep(delay)
        self._remaining = None  # a new window: its budget is known from the next answer

    def observe(self, headers: Mapping[str, str]) -> None:
        """After an answer: remember the budget; a success ends a secondary-limit episode."""
        remaining = _count(headers, "x-ratelimit-remaining")
        if remaining is not None:
            self._remaining = remaining
            self._limit = _count(headers, "x-ratelimit-limit")
            self._reset = _epoch(headers)

    def succeeded(self) -> None:
        """A request got through: the next wait is a new episode."""
        self._secondary_hits = 0
        if self._announced and not self._announced.startswith(("pace:", "low:")):
            self._announced = None

    # when GitHub says no -------------------------------------------------------------
    def wait_for(self, error: GitHubError) -> bool:
        """Sleep as ``error`` asks and return True, or False when it is no rate limit.

        Raises RateLimitError when the wait would exceed ``max_wait``.
        """
        kind = kind_of(error)
        if kind is None:
            return False
        self.observe(error.headers)
        retry_after = _retry_after(error.headers)
        when = ""  # when the limit resets, in words, if GitHub's answer does not tell
        if kind == "primary" and retry_after is None:
            reset = _epoch(error.headers)
            if reset is None:  # absent or garbled: try again in a minute
                reset = time.time() + 60
                raw = _header(error.headers, "x-ratelimit-reset")
                when = f"its answer does not say when it resets (x-ratelimit-reset: {raw!r})"
            delay = max(0.0, reset - time.time()) + 1.0  # the reset second itself
            resets = reset
        elif retry_after is not None:
            delay = retry_after
            resets = time.time() + delay
        else:
            delay = self.secondary_wait * 2**self._secondary_hits
            resets = time.time() + delay
        if kind == "secondary":
            self._secondary_hits += 1
        what = "rate limit" if kind == "primary" else "secondary rate limit"
        if delay > self.max_wait:
            if when:
                when += f"; sqlgh would try again in {_duration(delay)}"
                again = "later"
            else:
                when = f"it resets at {local_time(resets)} (local time), in {_duration(delay)}"
                again = "after that time"
            raise RateLimitError(
                error,
                f"GitHub's {what} is reached; {when}, longer than max_rate_limit_wait "
                f"({self.max_wait:g} s) allows; the query was not finished, run it again "
                f"{again}, or set max_rate_limit_wait to {math.ceil(delay)} or more to wait "
                f"({how_to_set('max_rate_limit_wait', math.ceil(delay))})",
            )
        self._announce(
            f"{kind}:{resets:.0f}" if kind == "primary" else "secondary",
            f"GitHub's {what} is reached{f' ({when})' if when else ''}; waiting "
            f"{_duration(delay)} (until {local_time(resets)}) before going on",
        )
        self.sleep(delay)
        return True

    def _announce(self, episode: str, text: str) -> None:
        if self._announced != episode:
            self._announced = episode
            self.say(text)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
