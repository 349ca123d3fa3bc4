"""HTTP/1.1 on loopback: one listening socket per origin, served by one thread that hands
each connection to a daemon thread."""

from __future__ import annotations

import contextlib
import itertools
import selectors
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from sqlgh.emulator.app import App
from sqlgh.emulator.models import error
from sqlgh.emulator.wire import BodyReader, Request, Response, json_response

# Bodies nobody read are drained up to this size to keep the connection; beyond, it closes.
DRAIN_LIMIT = 1 << 31


class Handler(BaseHTTPRequestHandler):
    """Turns each request into a ``Request`` for the app and writes its ``Response``."""

    protocol_version = "HTTP/1.1"
    # Nagle plus delayed ACKs stalls small keep-alive responses by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "GitHub.com"
    sys_version = ""
    server: Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the app keeps its own log."""

    def _serve(self) -> None:
        app = self.server.app
        path, _, query_string = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = headers.get("content-length")
        body = BodyReader(self.rfile, int(length) if length and length.isdigit() else None)
        if length is None and "transfer-encoding" in headers:
            self.close_connection = True  # a chunked body is not read: drop the connection
        origin, segments = app.locate(self.server.listener, path)
        request = Request(
            origin,
            self.command,
            path,
            segments,
            parse_qs(query_string, keep_blank_values=True),
            query_string,
            headers,
            self.client_address[0],
            body,
        )
        try:
            response = app.handle(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, error("Server Error", 500))
        # Read what the route left of the body, then log, then answer: a client that has
        # its answer finds the request complete in the log.
        if not response.abort and not self.close_connection and not body.drain(DRAIN_LIMIT):
            self.close_connection = True
        app.record(request, 0 if response.abort else response.status, response.unknown)
        self._send(request, response)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _send(self, request: Request, response: Response) -> None:
        """Write ``response`` (or, for ``abort``, close the connection)."""
        if response.abort:
            self.close_connection = True
            return
        status = response.status
        if response.drop or response.close:
            self.close_connection = True
        # A header the answer carries itself (a fault's ``headers``) replaces the default.
        own = {name.lower() for name, _ in response.headers}
        defaults = [
            ("Server", self.server_version),
            ("Date", self.date_time_string()),
            ("Content-Type", response.content_type),
        ]
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        lines += [f"{k}: {v}" for k, v in defaults if v and k.lower() not in own]
        if status not in (204, 304):
            declared = response.size if response.declared is None else response.declared
            lines.append(f"Content-Length: {declared}")
        lines += [f"{k}: {v}" for k, v in response.headers]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if request.method == "HEAD" or status in (204, 304):
            self.wfile.write(head)
            return
        limit = response.size // 2 if response.drop else response.size
        try:
            if response.trickle:
                self._trickle(head, response, limit)
            elif response.stream is None:
                self.wfile.write(head + response.body[:limit])
            elif response.file is not None and limit > 0:
                # A spooled upload goes out through sendfile(2), as a real object store
                # would serve it, without spending this process's CPU on copies.
                self.wfile.write(head)
                path, offset = response.file
                with open(path, "rb") as source:
                    self.connection.sendfile(source, offset, limit)
            else:
                self.wfile.write(head)
                self._write_stream(response, limit)
        except OSError:
            self.close_connection = True

    def _write_stream(self, response: Response, limit: int) -> None:
        for piece in _body(response, limit):
            self.wfile.write(piece)

    def _trickle(self, head: bytes, response: Response, limit: int) -> None:
        """Send the answer one byte every ``response.trickle`` seconds (the head at once
        unless ``trickle_head``), until the client goes away."""
        if not response.trickle_head:
            self.wfile.write(head)
            head = b""
        for piece in itertools.chain([head], _body(response, limit)):
            for at in range(len(piece)):
                self.wfile.write(piece[at : at + 1])
                time.sleep(response.trickle)


def _body(response: Response, limit: int) -> Iterator[bytes]:
    """The first ``limit`` bytes of the body, in pieces."""
    if response.stream is None:
        yield response.body[:limit]
        return
    sent = 0
    for piece in response.stream:
        piece = piece[: limit - sent]
        yield piece
        sent += len(piece)
        if sent >= limit:
            break


class Server(ThreadingHTTPServer):
    """One listening socket for one ``listener`` ("api", "uploads" or "storage");
    remembers its open connections so ``stop`` can end them. Set ``app`` before serving."""

    daemon_threads = True
    block_on_close = False
    app: App

    def __init__(self, host: str, port: int, listener: str) -> None:
        super().__init__((host, port), Handler)
        self.listener = listener
        self.connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        with self._lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        """A client that went away (reset, broken pipe) is GitHub's everyday, not an error
        worth a traceback; anything else is printed as socketserver does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[override]
        with self._lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def end_connections(self) -> None:
        """Shut every open connection (handler threads then see end of file)."""
        with self._lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ServeLoop:
    """Accepts connections on several servers from one thread; stops at once."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="sqlgh-emulator", daemon=True)

    def start(self) -> None:
        """Begin accepting connections."""
        self._thread.start()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            for server in self.servers:
                selector.register(server.socket, selectors.EVENT_READ, server)
            selector.register(self._wake_r, selectors.EVENT_READ, None)
            while True:
                for key, _ in selector.select():
                    if key.data is None:
                        return
                    key.data._handle_request_noblock()

    def stop(self) -> None:
        """Stop accepting, end open connections and close the sockets."""
        self._wake_w.send(b"x")
        self._thread.join()
        for server in self.servers:
            server.end_connections()
            server.server_close()
        self._wake_r.close()
        self._wake_w.close()
