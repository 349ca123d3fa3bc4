"""GitHub's primary rate limit: a budget per identity that refills every hour.

Authenticated requests are counted per user, unauthenticated ones per client address
(docs.github.com, "Rate limits for the REST API").
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

WINDOW = 3600


@dataclass
class Bucket:
    """One identity's budget in the current window."""

    limit: int
    remaining: int
    reset: int

    @property
    def used(self) -> int:
        return self.limit - self.remaining

    def headers(self) -> list[tuple[str, str]]:
        """The ``x-ratelimit-*`` headers GitHub sends with every API response."""
        return [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", str(self.reset)),
            ("x-ratelimit-used", str(self.used)),
            ("x-ratelimit-resource", "core"),
        ]

    def snapshot(self) -> dict:
        """The ``rate-limit`` JSON shape."""
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": self.reset,
        }


class RateLimits:
    """The buckets of every identity seen so far."""

    def __init__(self) -> None:
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()
        self._override: tuple[int | None, int | None] | None = None

    def _fresh(self, limit: int) -> Bucket:
        bucket = Bucket(limit, limit, int(time.time()) + WINDOW)
        if self._override is not None:
            remaining, reset = self._override
            if remaining is not None:
                bucket.remaining = max(0, min(limit, remaining))
            if reset is not None:
                bucket.reset = reset
        return bucket

    def _get(self, key: str, limit: int) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = self._fresh(limit)
        if time.time() >= bucket.reset:
            # A new window: the override was for the old one.
            bucket.limit, bucket.remaining, bucket.reset = limit, limit, int(time.time()) + WINDOW
        return bucket

    def peek(self, key: str, limit: int) -> Bucket:
        """A copy of the bucket of ``key`` (created with ``limit`` if new)."""
        with self._lock:
            bucket = self._get(key, limit)
            return Bucket(bucket.limit, bucket.remaining, bucket.reset)

    def charge(self, key: str, limit: int) -> Bucket:
        """Count one request against ``key``; return the bucket after it."""
        with self._lock:
            bucket = self._get(key, limit)
            bucket.remaining = max(0, bucket.remaining - 1)
            return Bucket(bucket.limit, bucket.remaining, bucket.reset)

    def set(self, remaining: int | None = None, reset: int | None = None) -> None:
        """Force every bucket, present and future, to ``remaining`` and ``reset``."""
        with self._lock:
            self._override = (remaining, reset)
            for bucket in self._buckets.values():
                if remaining is not None:
                    bucket.remaining = max(0, min(bucket.limit, remaining))
                if reset is not None:
                    bucket.reset = reset
