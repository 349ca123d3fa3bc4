"""Bounded, ordered concurrency for reads.

``ordered_map(executor, fn, items, window)`` runs ``fn`` over ``items`` on a shared
thread pool, at most ``window`` calls ahead of the consumer, and yields the results in
the order a sequential loop would (pages of a long list, the asset pages of the releases
of a repository, the repositories of a whole-owner scan, ``tables/owner_scan.py``); it is
lazy.

(Fetches across the key tuples of a statement, an ``IN`` list's or those a join will ask
for next, are scheduled by ``sqlgh.fetches``, on the same pool.)

A consumer that stops early (``LIMIT``) closes the generator: work not started is
cancelled and running work is dropped, so at most a window of requests is spent ahead.

Tasks on the shared pool are leaves: code running in a pool thread sees ``in_worker()``
and stays sequential, so a pool thread never waits on another pool task (no deadlock, a
bounded number of threads). A task that starts a long list fetches only its first page
(``head_start``) and hands the rest back to the consumer, which pages on in parallel.
The number of requests in flight is bounded separately by the client's session pool."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_local = threading.local()
_END = object()


def in_worker() -> bool:
    """True in a thread started by this module (nested work stays sequential there)."""
    return getattr(_local, "worker", False)


def _mark_worker() -> None:
    _local.worker = True


def head_start(items: Iterator[T]) -> Iterator[T]:
    """Take the first item now (its page is fetched in this thread); the rest stay lazy."""
    first = next(items, _END)
    if first is _END:
        return iter(())
    return itertools.chain((first,), items)  # type: ignore[arg-type]


def worker_pool(size: int) -> ThreadPoolExecutor:
    """A thread pool whose threads count as workers for ``in_worker()``."""
    return ThreadPoolExecutor(
        max_workers=max(1, size), thread_name_prefix="sqlgh-read", initializer=_mark_worker
    )


def ordered_map(
    executor: ThreadPoolExecutor,
    fn: Callable[[T], R],
    items: Iterable[T],
    window: int,
    inline: Callable[[T], bool] | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` for each item, in order, running at most ``window`` ahead.

    ``items`` is pulled lazily in the calling thread; an exception from ``fn`` is raised
    when its result is reached. An item ``inline`` accepts (one ``fn`` answers without a
    request) is run in the calling thread when its turn comes: a thread round trip for
    it would cost more than the call (about 0.1 ms of CPU).
    """
    pending: deque[tuple[Future[R] | None, T | None]] = deque()
    source = iter(items)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < max(1, window):
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                if inline is not None and inline(item):
                    pending.append((None, item))
                else:
                    pending.append((executor.submit(fn, item), None))
            if not pending:
                return
            future, item = pending.popleft()
            yield fn(item) if future is None else future.result()  # type: ignore[arg-type]
    finally:
        for future, _ in pending:
            if future is not None:
                future.cancel()
