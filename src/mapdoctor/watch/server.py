"""The agent's HTTP endpoints: ``/metrics``, ``POST /alert``, the status page, bundle files.

Listens on loopback unless told otherwise. Requests are bounded: a 10 s socket timeout,
a 1 MiB body cap for the webhook, and only GET/HEAD/POST. ``--alert-token`` makes the
webhook require ``Authorization: Bearer <token>`` (Alertmanager's ``http_config:
authorization: {credentials: ...}``).
"""

from __future__ import annotations

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mapdoctor.watch.agent import Agent
from mapdoctor.watch.alerts import MAX_BODY_BYTES, PayloadError, parse_payload
from mapdoctor.watch.metrics import make_registry
from mapdoctor.watch.status_page import CSP, render_status

REQUEST_TIMEOUT_S = 10.0
_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".gz": "application/octet-stream",
          ".out": "application/octet-stream", ".txt": "text/plain; charset=utf-8"}


class WatchServer:
    def __init__(self, agent: Agent, host: str, port: int, *, alert_token: str | None = None) -> None:
        self.agent = agent
        self.registry = make_registry(agent)
        self.alert_token = alert_token
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.25},
                                        name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _make_handler(server: WatchServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_S
        server_version = "mapdoctor-watch"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per scrape would flood the log

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, doc: dict[str, Any]) -> None:
            self._send(status, (json.dumps(doc) + "\n").encode(), "application/json")

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/metrics":
                self._send(200, generate_latest(server.registry), CONTENT_TYPE_LATEST)
            elif path in ("/", "/index.html"):
                page = render_status(server.agent).encode()
                self._send(200, page, "text/html; charset=utf-8", {"Content-Security-Policy": CSP})
            elif path in ("/-/healthy", "/-/ready"):
                ready = path == "/-/healthy" or server.agent.ready.is_set()
                self._send(200 if ready else 503, b"ok\n" if ready else b"starting\n", "text/plain")
            elif path.startswith("/bundles/"):
                self._bundle_file(path)
            elif path == "/alert":
                self._send(405, b"POST an Alertmanager webhook payload here\n", "text/plain", {"Allow": "POST"})
            else:
                self._send(404, b"not found\n", "text/plain")

        def _bundle_file(self, path: str) -> None:
            parts = path.split("/")
            found = None
            if len(parts) == 4:
                found = server.agent.store.bundle_file(parts[2], parts[3])
            if found is None:
                self._send(404, b"no such bundle file\n", "text/plain")
                return
            try:
                body = found.read_bytes()
            except OSError:
                self._send(404, b"no such bundle file\n", "text/plain")
                return
            ctype = _TYPES.get(found.suffix, "application/octet-stream")
            extra = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}
            if ctype == "application/octet-stream":
                extra["Content-Disposition"] = f'attachment; filename="{found.name}"'
            self._send(200, body, ctype, extra)

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/alert":
                self._send(404, b"not found\n", "text/plain")
                return
            if server.alert_token is not None:
                got = self.headers.get("Authorization", "")
                if not hmac.compare_digest(got.encode(), f"Bearer {server.alert_token}".encode()):
                    server.agent.counters["alerts:unauthorized"] += 1
                    self._json(401, {"error": "missing or wrong bearer token"})
                    return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._json(411, {"error": "Content-Length required"})
                return
            if length < 0 or length > MAX_BODY_BYTES:
                self._json(413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"})
                return
            try:
                body = self.rfile.read(length)
                alerts = parse_payload(body)
            except PayloadError as exc:
                server.agent.counters["alerts:rejected"] += 1
                self._json(400, {"error": str(exc)})
                return
            except OSError:
                return
            self._json(200, server.agent.handle_alerts(alerts))

    return Handler
