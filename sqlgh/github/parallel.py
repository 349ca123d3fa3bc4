"""Bounded, ordered concurrency for reads.

Two shapes, both lazy and both delivering results in the order a sequential loop would:

- ``ordered_map(executor, fn, items, window)`` runs ``fn`` over ``items`` on a shared
  thread pool, at most ``window`` calls ahead of the consumer (pages of a long list, the
  asset pages of the releases of a repository).
- ``ordered_chain(factories, window, buffer)`` drains several generators at once, each in
  its own thread and at most ``buffer`` items ahead, and yields their items one generator
  after another (the repositories of a whole-owner scan, ``tables/owner_scan.py``).

(Fetches across the key tuples of a statement, an ``IN`` list's or those a join will ask
for next, are scheduled by ``sqlgh.fetches``, on the same pool.)

A consumer that stops early (``LIMIT``) closes the generator: work not started is
cancelled and running work is dropped, so at most a window of requests is spent ahead.

Tasks on the shared pool are leaves: code running in a pool thread sees ``in_worker()``
and stays sequential, so a pool thread never waits on another pool task (no deadlock, a
bounded number of threads). A task that starts a long list fetches only its first page
(``head_start``) and hands the rest back to the consumer, which pages on in parallel.
Generator threads of ``ordered_chain`` are consumers too and may use the pool. The number
of requests in flight is bounded separately by the client's session pool.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_local = threading.local()
_END = object()
_POLL = 0.05  # seconds a blocked producer waits before checking for cancellation


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
    executor: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T], window: int
) -> Iterator[R]:
    """Yield ``fn(item)`` for each item, in order, running at most ``window`` ahead.

    ``items`` is pulled lazily in the calling thread; an exception from ``fn`` is raised
    when its result is reached.
    """
    pending: deque[Future[R]] = deque()
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
                pending.append(executor.submit(fn, item))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


class _Pump:
    """Runs one generator in its own thread, keeping at most ``buffer`` items ready.

    Items pass through a deque (append and popleft are atomic); the condition is used
    only to wait, so a steady stream costs no lock round trip per item on the consumer.
    A full producer resumes only once the consumer has taken half of the buffer: waking
    it for every item taken cost a thread switch per item (0.45 s of CPU over 4,000
    batches, ``bench/inventory.py`` at 200 repositories).
    """

    def __init__(self, factory: Callable[[], Iterator[T]], buffer: int) -> None:
        self._items: deque[T] = deque()
        self._buffer = max(1, buffer)
        self._resume_at = self._buffer // 2  # items left when a full producer is woken
        self._ready = threading.Condition()
        self._stop = False
        self._done = False
        self._error: BaseException | None = None
        self._producer_waits = False
        self._thread = threading.Thread(
            target=self._run, args=(factory,), name="sqlgh-pump", daemon=True
        )
        self._thread.start()

    def _run(self, factory: Callable[[], Iterator[T]]) -> None:
        try:
            for item in factory():
                with self._ready:
                    self._items.append(item)
                    self._ready.notify()
                    if len(self._items) >= self._buffer:
                        self._producer_waits = True
                        while len(self._items) > self._resume_at and not self._stop:
                            self._ready.wait(_POLL)
                    self._producer_waits = False
                    if self._stop:
                        return
        except BaseException as exc:
            self._error = exc
        finally:
            with self._ready:
                self._done = True
                self._ready.notify()

    def __iter__(self) -> Iterator[T]:
        items = self._items
        while True:
            while items:
                yield items.popleft()
                if self._producer_waits and len(items) <= self._resume_at:
                    with self._ready:
                        self._ready.notify()
            with self._ready:
                while not items and not self._done:
                    self._ready.wait()
                if not items and self._done:
                    break
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Stop the producer at its next item; what it fetched is dropped."""
        with self._ready:
            self._stop = True
            self._ready.notify()


def ordered_chain(
    factories: Iterable[Callable[[], Iterator[T]]], window: int, buffer: int
) -> Iterator[T]:
    """Chain the generators the factories make, running up to ``window`` of them at once.

    Items come out in the order ``itertools.chain`` would give; each running generator is
    at most ``buffer`` items ahead of the consumer.
    """
    source = iter(factories)
    running: deque[_Pump] = deque()
    try:
        while True:
            while len(running) < max(1, window):
                factory = next(source, None)
                if factory is None:
                    break
                running.append(_Pump(factory, buffer))
            if not running:
                return
            yield from running[0]
            running.popleft()
    finally:
        for pump in running:
            pump.cancel()


def chain(factories: Sequence[Callable[[], Iterator[T]]], window: int, buffer: int) -> Iterator[T]:
    """``ordered_chain`` when there are several generators and ``window`` > 1, else a plain
    lazy chain in the calling thread."""
    if window <= 1 or len(factories) <= 1 or in_worker():
        return itertools.chain.from_iterable(factory() for factory in factories)
    return ordered_chain(factories, window, buffer)
