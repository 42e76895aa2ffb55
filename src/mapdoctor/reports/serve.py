"""``-http ADDR``: the HTML report served on a local address, as ``go tool pprof -http`` does.

The page is the same single file ``--html`` writes (no network requests of its own), served
from memory until the user interrupts; only ``/`` exists. ``:8080`` means localhost, as
with pprof: the report names files and functions of the service, so it is not offered to
the network unless a host is given.
"""

from __future__ import annotations

import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from mapdoctor.errors import InputError


def parse_addr(text: str) -> tuple[str, int]:
    """``:8080``, ``localhost:8080``, ``0.0.0.0:8080`` -> (host, port); ValueError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"not an address: {text!r} (use e.g. :8080 or localhost:8080)")
    return host.strip("[]") or "localhost", int(port)


def make_server(page: str, addr: tuple[str, int]) -> ThreadingHTTPServer:
    body = page.encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the terminal keeps the verdict, not an access log

    try:
        return ThreadingHTTPServer(addr, Handler)
    except OSError as exc:
        raise InputError(f"{addr[0]}:{addr[1]}", "-http", exc.strerror or str(exc)) from None


def serve(page: str, text: str, *, stderr: TextIO = sys.stderr) -> None:
    """Serve ``page`` at ``text`` until interrupted (Ctrl-C ends it with status 0)."""
    server = make_server(page, parse_addr(text))
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]" if ":" in host else host
    print(f"mapdoctor: serving the report at http://{shown}:{port}/ (Ctrl-C to stop)", file=stderr, flush=True)
    # Ctrl-C and SIGTERM both end it, even when the shell that started it ignored SIGINT
    # (a background job of a script): Python then installs no KeyboardInterrupt handler.
    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    main = threading.current_thread() is threading.main_thread()  # handlers need the main thread
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
