"""One bounded HTTP GET: a hard deadline on the whole exchange and a cap on the body.

A socket timeout alone does not bound a request: a server that trickles one byte a
second resets it forever. Each request therefore has a watchdog that shuts the socket
down at its deadline, which wakes any blocked read; the body goes to a sink chunk by
chunk, so memory stays bounded whatever the server sends.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from mapdoctor import __version__
from mapdoctor.collect.target import Target

#: Endpoints never requested, whatever the caller asks: ``cmdline`` returns the
#: process arguments (often secrets: tokens, DSNs) and expvar's ``/debug/vars``
#: includes them too.
FORBIDDEN_ENDPOINTS = frozenset({"cmdline", "vars"})

CHUNK_BYTES = 256 << 10
#: How much of an error response is read to show its text.
ERROR_BODY_BYTES = 64 << 10
ERROR_TEXT_CHARS = 300


class ForbiddenEndpointError(RuntimeError):
    """A request for an endpoint mapdoctor must never fetch (a programming error)."""


class FetchError(Exception):
    """A request that produced nothing usable; ``reason`` is one short line."""

    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class FetchResult:
    http_status: int
    content_type: str
    size: int
    elapsed_s: float


class Aborter:
    """Shuts down every request in flight at once (Ctrl-C, or the caller giving up)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()
        self.aborted = threading.Event()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.add(sock)
            if self.aborted.is_set():
                _shutdown(sock)

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.discard(sock)

    def abort_all(self) -> None:
        with self._lock:
            self.aborted.set()
            for sock in self._socks:
                _shutdown(sock)


def check_allowed(path: str) -> None:
    """Refuse a request path whose endpoint is in FORBIDDEN_ENDPOINTS."""
    decoded = unquote(urlsplit(path).path)
    last = decoded.rstrip("/").rsplit("/", 1)[-1].lower()
    if last in FORBIDDEN_ENDPOINTS:
        raise ForbiddenEndpointError(f"refusing to fetch {decoded}: it exposes the command line")


def _shutdown(sock: socket.socket) -> None:
    # The base-class method acts on the file descriptor even for TLS sockets, so a
    # read blocked in another thread returns at once.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """Fires once at the deadline: marks the request late and shuts its socket down."""

    def __init__(self, seconds: float) -> None:
        self.fired = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired.is_set():
                _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired.set()
            if self._sock is not None:
                _shutdown(self._sock)

    def cancel(self) -> None:
        self._timer.cancel()


def fetch(
    target: Target,
    path: str,
    sink: BinaryIO,
    *,
    timeout_s: float,
    max_bytes: int,
    aborter: Aborter | None = None,
) -> FetchResult:
    """GET ``path`` (path and query) from ``target`` into ``sink``.

    Ends within ``timeout_s`` whatever the server does; raises FetchError with a reason
    meant for the user.
    """
    check_allowed(path)
    start = time.monotonic()
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout_s,
                                           context=target.ssl_context)
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout_s)
    dog = _Watchdog(timeout_s)
    received = 0
    answered = False
    sock: socket.socket | None = None
    try:
        try:
            conn.connect()
            sock = conn.sock
            assert sock is not None
            dog.attach(sock)
            if aborter is not None:
                aborter.add(sock)
            conn.putrequest("GET", path, skip_accept_encoding=True)
            conn.putheader("User-Agent", f"mapdoctor/{__version__}")
            conn.putheader("Connection", "close")
            for name, value in target.headers:
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            answered = True
            if resp.status != 200:
                raise FetchError(_http_error(resp, path), http_status=resp.status)
            length = resp.length
            if length is not None and length > max_bytes:
                raise FetchError(f"response of {length} bytes is larger than the {_size(max_bytes)} cap",
                                 http_status=200)
            while True:
                chunk = resp.read(CHUNK_BYTES)
                if not chunk:
                    break
                received += len(chunk)
                if received > max_bytes:
                    raise FetchError(f"response larger than the {_size(max_bytes)} cap; not kept",
                                     http_status=200)
                sink.write(chunk)
            if dog.fired.is_set() or (aborter is not None and aborter.aborted.is_set()):
                raise OSError("cut short")
            if resp.length:  # bytes announced by Content-Length that never came
                raise FetchError(f"connection closed after {received} of {received + resp.length} bytes "
                                 "(truncated body)", http_status=200)
            return FetchResult(resp.status, resp.getheader("Content-Type", ""), received,
                               time.monotonic() - start)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            if aborter is not None and aborter.aborted.is_set():
                raise FetchError("interrupted") from None
            if dog.fired.is_set():
                raise FetchError(_late(timeout_s, answered, received)) from None
            raise FetchError(_network_error(exc, target)) from None
    finally:
        dog.cancel()
        if sock is not None and aborter is not None:
            aborter.discard(sock)
        conn.close()


def _late(timeout_s: float, answered: bool, received: int) -> str:
    if not answered:
        return f"no answer within {timeout_s:g} s"
    return f"timed out after {timeout_s:g} s with {received} bytes received (the server sends too slowly)"


def _network_error(exc: BaseException, target: Target) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {target.host}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message}); pass --cacert FILE or --insecure"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed after {len(exc.partial)} bytes of a chunk (truncated body)"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return f"not an HTTP answer ({type(exc).__name__})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _http_error(resp: http.client.HTTPResponse, path: str) -> str:
    status = resp.status
    head = f"HTTP {status} {resp.reason}".rstrip()
    where = urlsplit(path).path.rsplit("/", 1)[0] + "/"  # the query may carry secrets
    try:
        body = resp.read(ERROR_BODY_BYTES)
    except http.client.IncompleteRead as exc:
        body = exc.partial
    ctype = (resp.getheader("Content-Type") or "").lower()
    text = _text_of(body) if ctype.startswith("text/plain") or not ctype else ""
    if resp.getheader("X-Go-Pprof") == "1":
        # net/http/pprof's serveError: the text is the runtime's own explanation.
        return f"HTTP {status} from Go's pprof handler: {text or resp.reason}"
    if 300 <= status < 400:
        location = urlsplit(resp.getheader("Location") or "")
        dest = f"{location.scheme}://{location.netloc}{location.path}" if location.netloc else location.path
        return f"{head}: redirected to {dest or '?'} (not followed)"
    if status in (401, 403):
        return f"{head} (pass credentials with --header 'Authorization: ...')"
    if status == 404:
        return f"{head} (net/http/pprof not mounted at {where}?)"
    return f"{head}: {text}" if text else head


def _text_of(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= ERROR_TEXT_CHARS else text[: ERROR_TEXT_CHARS - 3] + "..."


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"
