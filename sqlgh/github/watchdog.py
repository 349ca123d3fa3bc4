"""A minimum transfer rate, in the manner of curl's ``--speed-limit`` / ``--speed-time``.

requests bounds each socket read (``read_timeout``) but not the rate: a server that sends
one byte every half second, in its headers or its body, or that reads an upload that
slowly, keeps every read under the timeout and the request alive for hours. Neither
requests nor urllib3 offers a minimum rate (jjjake/internetarchive#333; curl has one,
pycurl would mean another transport). So every socket of sqlgh's sessions is a
``MeteredSocket`` that counts the bytes it moves, and one watchdog thread looks at the busy
ones a few times per window: a socket that moved fewer than ``low_speed_limit`` bytes/s
over ``low_speed_time`` seconds, or is still busy past the statement's deadline
(``deadline.py``), is shut down. The read or write blocked on it then fails with
``TransferStopped``, whose message names the option.

Only time spent in socket calls counts: a keep-alive connection idle in the pool, or one
whose reader pauses between reads, starts a new window when it is used again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlgh.github.deadline import Deadline
from sqlgh.github.option_hint import how_to_set

SEND_PIECE = 1 << 16  # sendall in pieces, so a slow reader's progress is seen


class TransferStopped(OSError):
    """The watchdog shut the connection: too slow, or past ``statement_timeout``."""


@dataclass
class Limits:
    """What a connection must keep up: ``low_speed_limit`` bytes/s over ``low_speed_time``
    seconds (a limit of 0 switches the check off), and the statement's ``deadline``."""

    low_speed_limit: float = 1000.0
    low_speed_time: float = 30.0
    deadline: Deadline = field(default_factory=Deadline)

    def tick(self) -> float:
        """How long the watchdog may sleep: a fifth of the window, at most a second, and
        not past the deadline."""
        pause = min(1.0, self.low_speed_time / 5)
        left = self.deadline.remaining()
        if left is not None:
            pause = min(pause, left)
        return max(0.005, pause)

    def too_slow(self, moved: int, seconds: float) -> str | None:
        """Why a transfer that moved ``moved`` bytes in ``seconds`` must stop, or None.

        Silence (nothing at all) is left to the socket timeouts, which say so more plainly:
        read_timeout bounds each wait for bytes, connect_timeout each wait to send."""
        if self.low_speed_limit <= 0 or seconds < self.low_speed_time or not moved:
            return None
        if moved >= self.low_speed_limit * seconds:
            return None
        limit, window = f"{self.low_speed_limit:.15g}", f"{self.low_speed_time:.15g}"
        return (
            f"the transfer averaged {moved / seconds:.0f} bytes/s over {seconds:.1f} s, less "
            f"than low_speed_limit ({limit} bytes/s) for low_speed_time ({window} s): the "
            "server or the network is stalling (on a link this slow, lower low_speed_limit "
            f"or raise low_speed_time: {how_to_set('low_speed_time', self.low_speed_time * 4)})"
        )


class MeteredSocket:
    """A connected socket (plain or TLS) that counts the bytes through it; every other
    attribute is the socket's own. ``makefile`` and ``close`` follow ``socket.socket``'s
    own reference counting, so that a response outliving its connection object (as
    http.client arranges for ``Connection: close``) still reads through this wrapper."""

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        self._sock = sock
        self.limits = limits
        self.moved = 0
        self.busy = 0  # socket calls in progress
        self.touched = False  # a call began since the watchdog last looked
        self.watched = False
        self.stopped: str | None = None
        self.samples: deque[tuple[float, int]] = deque()  # the watchdog's: (time, moved)
        self._io_refs = 0
        self._closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    # the calls http.client and urllib3 move bytes with --------------------------------
    # (arguments passed on as given: a TLS socket's defaults differ from a plain one's)
    def recv_into(self, *args: Any) -> int:
        """``socket.recv_into``, counted."""
        return self._count(self._call(self._sock.recv_into, *args))

    def recv(self, *args: Any) -> bytes:
        """``socket.recv``, counted."""
        data = self._call(self._sock.recv, *args)
        self._count(len(data))
        return data

    def send(self, *args: Any) -> int:
        """``socket.send``, counted."""
        return self._count(self._call(self._sock.send, *args))

    def sendall(self, data: Any, *flags: int) -> None:
        """``socket.sendall`` in pieces: each piece waits at most the socket's timeout,
        and the bytes a slow reader takes are counted as they go."""
        view = memoryview(data).cast("B")
        while view:
            view = view[self.send(view[:SEND_PIECE], *flags) :]

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        """A file over this wrapper, so that its reads are counted."""
        return socket.socket.makefile(self, *args, **kwargs)  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:  # called by the file's close, as socket's is
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    def close(self) -> None:
        """Close the socket once no file made by ``makefile`` is open."""
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    # the watchdog's side ---------------------------------------------------------------
    def _call(self, call: Any, *args: Any) -> Any:
        if self.stopped:
            raise TransferStopped(self.stopped)
        self.busy += 1
        self.touched = True
        if not self.watched:
            WATCHDOG.watch(self)
        try:
            return call(*args)
        except OSError as exc:
            if self.stopped:
                raise TransferStopped(self.stopped) from exc
            raise
        finally:
            self.busy -= 1

    def _count(self, count: int) -> int:
        if self.stopped and not count:  # the end of file the shutdown caused
            raise TransferStopped(self.stopped)
        self.moved += count
        return count

    def look(self, now: float) -> bool:
        """Called by the watchdog: stop the transfer if it must; False once it is idle."""
        active = self.busy > 0 or self.touched
        self.touched = False
        if not active or self.stopped:
            self.samples.clear()
            return False
        if self.limits.deadline.passed():
            seconds = self.limits.deadline.seconds
            return self.stop(f"the statement ran past statement_timeout ({seconds:g} s)")
        self.samples.append((now, self.moved))
        window_start = now - self.limits.low_speed_time
        while len(self.samples) > 1 and self.samples[1][0] <= window_start:
            self.samples.popleft()
        since, moved = self.samples[0]
        reason = self.limits.too_slow(self.moved - moved, now - since)
        return self.stop(reason) if reason else True

    def stop(self, reason: str) -> bool:
        """Shut the connection down, waking a read or write blocked on it; return False."""
        self.stopped = reason
        with contextlib.suppress(OSError):  # already closed
            # socket.socket's own shutdown, also for a TLS socket: SSLSocket.shutdown would
            # drop its TLS state under a thread still reading through it.
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
        return False


class Watchdog:
    """One daemon thread that looks at the busy ``MeteredSocket``s, sleeping while none is."""

    def __init__(self) -> None:
        self._watched: set[MeteredSocket] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, sock: MeteredSocket) -> None:
        """Look at ``sock`` from now on, until it is idle."""
        with self._wake:
            sock.watched = True
            self._watched.add(sock)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlgh-watchdog")
                self._thread.daemon = True
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._watched:
                    self._wake.wait()
                watched = list(self._watched)
            now = time.monotonic()
            for sock in watched:
                if not sock.look(now):
                    self._forget(sock)
            with self._wake:  # a socket watched meanwhile wakes it early
                self._wake.wait(min(sock.limits.tick() for sock in watched))

    def _forget(self, sock: MeteredSocket) -> None:
        with self._wake:
            sock.watched = False
            self._watched.discard(sock)
            # A call that began meanwhile saw ``watched`` still True: keep looking. (It set
            # busy and touched before reading ``watched``; this reads them after clearing it.)
            if (sock.busy or sock.touched) and not sock.stopped:
                sock.watched = True
                self._watched.add(sock)


WATCHDOG = Watchdog()
