"""``mapdoctor diagnose`` against a misbehaving server: every fault ends in time, clearly.

The server is a threaded ``http.server`` on 127.0.0.1 started by each test. Endpoints
that are not faulty serve real captures of the lab service (the committed fixtures),
so a fault on one part still leaves a partial verdict from the others.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import io
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from mapdoctor.cli.command import UsageError
from mapdoctor.cli.diagnose import warn_about_transport
from mapdoctor.cli.main import main
from mapdoctor.collect.collector import collect
from mapdoctor.collect.fetch import FORBIDDEN_ENDPOINTS, ForbiddenEndpointError, check_allowed, fetch
from mapdoctor.collect.plan import request_timeout
from mapdoctor.collect.target import parse_target
from testbytes import gzip_bomb

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: A capture of the lab's mapgrow-str scenario (Go 1.27, ``mapdoctor.lab.capture``): endpoint -> file.
CAPTURE_DIR = FIXTURES / "go1.27" / "mapgrow-str"
CAPTURE_FILES = {
    "profile": "cpu.pb.gz",
    "allocs": "allocs.pb.gz",
    "heap": "heap.pb.gz",
    "mutex": "mutex.pb.gz",
    "block": "block.pb.gz",
    "goroutine": "goroutine.pb.gz",
    "goroutine-dump": "goroutine.txt",
    "trace": "trace.out",
}

GO_PPROF_ERROR = "profile duration exceeds server's WriteTimeout"
DURATION = 1
#: The longest request of a --duration 1 run (the CPU profile and the delta profiles).
LONGEST_TIMEOUT = request_timeout(DURATION)
SLACK_S = 10.0


class FaultServer:
    """Serves pprof endpoints from captures, except the ones told to misbehave.

    ``faults`` maps an endpoint (``profile``, ``trace``, ``heap``..., ``goroutine-dump``
    for ``goroutine?debug=2``, ``""`` for the index, ``*`` for all) to a fault name.
    """

    def __init__(self, faults: dict[str, str], tls: ssl.SSLContext | None = None) -> None:
        self.faults = faults
        self.paths: list[str] = []
        self.release = threading.Event()
        handler = self._handler_class()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.paths.append(self.path)
                url = urlsplit(self.path)
                endpoint = url.path.removeprefix("/debug/pprof/")
                if endpoint == "goroutine" and parse_qs(url.query).get("debug") == ["2"]:
                    endpoint = "goroutine-dump"
                fault = server.faults.get(endpoint, server.faults.get("*", "ok"))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    FAULTS[fault](self, server, endpoint)

        return Handler


Fault = Callable[[http.server.BaseHTTPRequestHandler, FaultServer, str], None]


def _send(h: http.server.BaseHTTPRequestHandler, status: int, body: bytes, ctype: str,
          extra: dict[str, str] | None = None, length: int | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    for k, v in (extra or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body) if length is None else length))
    h.end_headers()
    h.wfile.write(body)


def _ok(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    name = CAPTURE_FILES.get(endpoint)
    if name is None:
        _send(h, 404, b"404 page not found\n", "text/plain; charset=utf-8")
        return
    _send(h, 200, (CAPTURE_DIR / name).read_bytes(), "application/octet-stream")


def _not_found(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    _send(h, 404, b"404 page not found\n", "text/plain; charset=utf-8")


def _server_error(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    _send(h, 500, b"upstream exploded\n", "text/plain; charset=utf-8")


def _go_pprof_error(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    # What net/http/pprof's serveError sends.
    _send(h, 400, (GO_PPROF_ERROR + "\n").encode(), "text/plain; charset=utf-8", {"X-Go-Pprof": "1"})


def _stall(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    s.release.wait(120)


def _trickle(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    while not s.release.wait(1.0):
        h.wfile.write(b"\x1f")
        h.wfile.flush()


def _endless(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.end_headers()  # no length: the body ends when the connection does, i.e. never
    chunk = b"\x1f\x8b" + bytes(1 << 20)
    while not s.release.is_set():
        h.wfile.write(chunk)


def _truncated(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    body = (CAPTURE_DIR / CAPTURE_FILES.get(endpoint, "cpu.pb.gz")).read_bytes()
    _send(h, 200, body[: len(body) // 2], "application/octet-stream", length=len(body))
    h.close_connection = True


def _html(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    page = b"<!doctype html><html><head><title>Sign in</title></head><body>Please sign in</body></html>"
    _send(h, 200, page, "text/html; charset=utf-8")


_BOMB: list[bytes] = []


def _bomb(h: http.server.BaseHTTPRequestHandler, s: FaultServer, endpoint: str) -> None:
    if not _BOMB:
        _BOMB.append(gzip_bomb(300 << 20))
    _send(h, 200, _BOMB[0], "application/octet-stream")


FAULTS: dict[str, Fault] = {
    "ok": _ok, "404": _not_found, "500": _server_error, "pprof400": _go_pprof_error, "stall": _stall,
    "trickle": _trickle, "endless": _endless, "truncated": _truncated, "html": _html, "bomb": _bomb,
}


@pytest.fixture(autouse=True)
def _needs_captures() -> None:
    missing = [n for n in CAPTURE_FILES.values() if not (CAPTURE_DIR / n).is_file()]
    if missing:
        pytest.fail(f"lab captures missing from {CAPTURE_DIR}: {missing}")


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, str]], FaultServer]]:
    servers: list[FaultServer] = []

    def start(faults: dict[str, str]) -> FaultServer:
        srv = FaultServer(faults).__enter__()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.__exit__()


def _diagnose(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str, float]:
    start = time.monotonic()
    status = main(["diagnose", url, "--duration", str(DURATION), "--json", "-", *extra])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    return status, out, err, elapsed


def _notes(out: str) -> str:
    return "\n".join(json.loads(out)["notes"])


def test_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nobody listens there
    status, out, err, elapsed = _diagnose(f"127.0.0.1:{port}", capsys)
    assert status == 2
    assert out == ""
    assert err.strip().splitlines()[-1] == f"http://127.0.0.1:{port}/debug/pprof/: http: connection refused"
    assert elapsed < 5


def test_pprof_not_mounted(serve: Callable[[dict[str, str]], FaultServer],
                           capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"*": "404"})
    status, _out, err, _ = _diagnose(srv.url, capsys)
    assert status == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"{srv.url}/debug/pprof/: http: HTTP 404 Not Found")
    assert "net/http/pprof not mounted" in last


def test_server_error_on_cpu_profile_leaves_a_partial_verdict(
        serve: Callable[[dict[str, str]], FaultServer], capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"profile": "500"})
    status, out, err, _ = _diagnose(srv.url, capsys)
    assert status == 0, err
    report = json.loads(out)
    assert report["partial"] is True
    assert "CPU profile (profile?seconds=1) not collected: HTTP 500 Internal Server Error: upstream exploded" \
        in report["notes"]
    assert {i["kind"] for i in report["inputs"]} >= {"heap", "trace", "goroutine_dump"}


def test_go_pprof_error_text_is_shown(serve: Callable[[dict[str, str]], FaultServer],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"profile": "pprof400", "trace": "pprof400"})
    status, out, err, _ = _diagnose(srv.url, capsys)
    assert status == 0, err
    assert f"HTTP 400 from Go's pprof handler: {GO_PPROF_ERROR}" in _notes(out)


def test_go_pprof_error_text_is_the_reason_when_nothing_else_works(
        serve: Callable[[dict[str, str]], FaultServer], capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"*": "pprof400"})
    status, _, err, _ = _diagnose(srv.url, capsys)
    assert status == 2
    assert err.strip().splitlines()[-1] == (
        f"{srv.url}/debug/pprof/: http: HTTP 400 from Go's pprof handler: {GO_PPROF_ERROR}")


def test_many_faults_at_once_end_in_time(serve: Callable[[dict[str, str]], FaultServer],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Stall, trickle, endless, truncated, HTML and gzip bomb, one per endpoint, in one run."""
    srv = serve({"trace": "stall", "mutex": "trickle", "block": "endless", "goroutine": "truncated",
                 "heap": "html", "allocs": "bomb"})
    status, out, err, elapsed = _diagnose(srv.url, capsys)
    assert elapsed < LONGEST_TIMEOUT + SLACK_S
    assert status == 0, err  # the CPU profile alone gives a verdict
    notes = _notes(out)
    assert "execution trace (trace?seconds=0.5) not collected: no answer within" in notes
    assert "mutex profile (mutex?seconds=1) not collected: timed out after" in notes
    assert "the server sends too slowly" in notes
    assert "block profile (block?seconds=1) not collected: response larger than the 64 MiB cap" in notes
    assert "goroutine profile (goroutine) not collected: connection closed after" in notes
    assert "(truncated body)" in notes
    assert "heap profile (heap) not collected: got an HTML page" in notes
    assert "allocation profile (allocs?seconds=1) not collected: gzip bomb: inflates to more than" in notes
    # No goroutine count, so no stop-the-world dump.
    assert "goroutine dump (goroutine?debug=2) skipped: goroutine count unknown" in notes
    assert [i["kind"] for i in json.loads(out)["inputs"]] == ["cpu"]


def test_stall_everywhere_gives_up_at_the_deadline(serve: Callable[[dict[str, str]], FaultServer],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"*": "stall"})
    status, _out, err, elapsed = _diagnose(srv.url, capsys)
    assert status == 2
    assert elapsed < LONGEST_TIMEOUT + SLACK_S
    assert "http: no answer within" in err.strip().splitlines()[-1]


def test_html_everywhere_is_nothing_usable(serve: Callable[[dict[str, str]], FaultServer],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"*": "html"})
    status, _out, err, _ = _diagnose(srv.url, capsys)
    assert status == 2
    assert err.strip().splitlines()[-1] == (
        f"{srv.url}/debug/pprof/: http: got an HTML page instead of Go runtime data "
        "(a login page or a proxy? check the URL)")


def test_saved_folder_records_failures(serve: Callable[[dict[str, str]], FaultServer],
                                       capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    srv = serve({"trace": "500"})
    out_dir = tmp_path / "evidence"
    status, _, err, _ = _diagnose(srv.url + "/debug/pprof/?token=s3cret", capsys, "--out", str(out_dir),
                                  "--header", "Authorization: Bearer s3cret")
    assert status == 0, err
    text = (out_dir / "manifest.json").read_text()
    assert "s3cret" not in text
    manifest = json.loads(text)
    parts = {p["name"]: p for p in manifest["parts"]}
    assert parts["trace"]["status"] == "failed"
    assert parts["trace"]["http_status"] == 500
    assert parts["trace"]["file"] is None
    assert parts["cpu"]["file"] == "cpu.pb.gz"
    assert parts["cpu"]["request"] == "/debug/pprof/profile?seconds=1"
    assert manifest["headers"] == ["Authorization"]
    assert not (out_dir / "trace.out").exists()
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        ["manifest.json", *(p["file"] for p in manifest["parts"] if p["file"])])
    # Every request carried the user's query parameters; the server saw them, the files did not.
    assert all("token=s3cret" in p for p in srv.paths)


def test_never_fetches_cmdline(serve: Callable[[dict[str, str]], FaultServer],
                               capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({})
    status, _, err, _ = _diagnose(srv.url, capsys)
    assert status == 0, err
    assert srv.paths, "no request reached the server"
    assert not [p for p in srv.paths if "cmdline" in p or "/vars" in p]
    # Even a pasted address of the cmdline endpoint only names the pprof folder.
    assert parse_target(srv.url + "/debug/pprof/cmdline").prefix == "/debug/pprof/"


@pytest.mark.parametrize("path", [
    "/debug/pprof/cmdline", "/debug/pprof/cmdline?debug=1", "/x/debug/pprof/CMDLINE/", "/debug/pprof/%63mdline",
    "/debug/vars",
])
def test_forbidden_endpoints_are_refused_before_connecting(path: str) -> None:
    assert {"cmdline", "vars"} == FORBIDDEN_ENDPOINTS
    with pytest.raises(ForbiddenEndpointError):
        check_allowed(path)
    # Port 9 (discard) is never contacted: the refusal comes first.
    target = parse_target("127.0.0.1:9")
    with pytest.raises(ForbiddenEndpointError):
        fetch(target, path, io.BytesIO(), timeout_s=1, max_bytes=10)


def test_gzip_bomb_fixture_is_a_bomb() -> None:
    bomb = gzip_bomb(2 << 20)
    assert len(bomb) < 10_000
    assert len(gzip.decompress(bomb)) == 2 << 20


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    return d / "cert.pem", ctx


def test_https_certificate_checks(self_signed: tuple[Path, ssl.SSLContext],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    cert, ctx = self_signed
    with FaultServer({}, tls=ctx) as srv:
        status, _, err, _ = _diagnose(srv.url, capsys)
        assert status == 2
        assert err.strip().splitlines()[-1].startswith(
            f"{srv.url}/debug/pprof/: http: TLS certificate not trusted (")
        assert "pass --cacert FILE or --insecure" in err

        status, out, err, _ = _diagnose(srv.url, capsys, "--cacert", str(cert))
        assert status == 0, err
        assert json.loads(out)["verdict"] == "map_growth"

        status, _, err, _ = _diagnose(srv.url, capsys, "--insecure")
        assert status == 0, err
        assert "warning: --insecure" in err


def test_plain_http_to_another_host_is_warned_about() -> None:
    buf = io.StringIO()
    warn_about_transport(parse_target("10.1.2.3:6060"), insecure=False, stream=buf)
    assert "10.1.2.3 is not a loopback address and the connection is plain HTTP" in buf.getvalue()
    for quiet in ("127.0.0.1:6060", "localhost:6060", "[::1]:6060", "https://10.1.2.3/"):
        buf = io.StringIO()
        warn_about_transport(parse_target(quiet), insecure=False, stream=buf)
        assert buf.getvalue() == "", quiet


@pytest.mark.parametrize(("url", "display"), [
    ("localhost:6060", "http://localhost:6060/debug/pprof/"),
    ("http://127.0.0.1:6060", "http://127.0.0.1:6060/debug/pprof/"),
    ("http://127.0.0.1:6060/debug/pprof", "http://127.0.0.1:6060/debug/pprof/"),
    ("http://127.0.0.1:6060/debug/pprof/heap?seconds=3", "http://127.0.0.1:6060/debug/pprof/"),
    ("https://svc.example:443/x/debug/pprof/profile", "https://svc.example/x/debug/pprof/"),
    ("http://127.0.0.1:6060/admin/pprof", "http://127.0.0.1:6060/admin/pprof/"),
    ("http://127.0.0.1:6060/admin/pprof/trace", "http://127.0.0.1:6060/admin/pprof/"),
    ("http://user:pw@[::1]:6060/", "http://[::1]:6060/debug/pprof/"),
])
def test_urls_are_read_like_go_tool_pprof_reads_them(url: str, display: str) -> None:
    assert parse_target(url).display == display


def test_credentials_in_the_url_become_a_header() -> None:
    target = parse_target("http://user:pw@127.0.0.1:6060/?token=abc")
    assert target.headers == (("Authorization", "Basic dXNlcjpwdw=="),)
    assert target.request_path("heap", {}) == "/debug/pprof/heap?token=abc"
    assert "pw" not in target.display and "abc" not in target.display


@pytest.mark.parametrize("args", [
    ["ftp://127.0.0.1:6060"], ["127.0.0.1:6060", "--duration", "0"], ["127.0.0.1:6060", "--duration", "61"],
    ["127.0.0.1:6060", "--header", "no colon"], ["127.0.0.1:6060", "--insecure"],
])
def test_unusable_arguments(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mapdoctor: ") and len(err.strip().splitlines()) == 1
    with pytest.raises(UsageError):
        parse_target("ftp://x")


def test_goroutine_dump_is_skipped_for_many_goroutines(serve: Callable[[dict[str, str]], FaultServer],
                                                      tmp_path: Path) -> None:
    srv = serve({})
    coll = collect(parse_target(srv.url), tmp_path, duration_s=1, max_goroutines_for_dump=2)
    dump = coll.part("goroutines")
    assert coll.goroutine_count is not None and coll.goroutine_count > 2
    assert dump is not None and dump.status == "skipped"
    assert dump.error == (f"{coll.goroutine_count} goroutines (limit 2): "
                          "the dump would stop the world for too long")
    assert not any("goroutine?debug=2" in p for p in srv.paths)
    assert not (tmp_path / "goroutine.txt").exists()


def test_out_folder_of_something_else_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["diagnose", "127.0.0.1:9", "--out", str(tmp_path)]) == 2
    assert "the folder is not empty" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_stalling_index_page_is_a_partial_result_with_a_note(
        serve: Callable[[dict[str, str]], FaultServer], capsys: pytest.CaptureFixture[str]) -> None:
    srv = serve({"": "stall"})
    status, out, err, elapsed = _diagnose(srv.url, capsys)
    assert status == 0, err
    assert elapsed < LONGEST_TIMEOUT + SLACK_S
    report = json.loads(out)
    assert report["partial"] is True
    assert "pprof index (/debug/pprof/) not collected: no answer within" in _notes(out)
