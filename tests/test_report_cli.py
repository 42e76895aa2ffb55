"""How reports reach the reader: pprof's URL and flag habits, outputs that never lose the verdict,
text for logs, and the options every report-producing subcommand shares.

Live runs go to a small ``http.server`` on 127.0.0.1 that serves a real capture of the lab's
mapgrow-str scenario (the committed fixtures) and records every request it is sent.
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from clirun import run_cli
from labdata import LAB_GO
from mapdoctor.cli.command import UsageError
from mapdoctor.cli.main import _commands, build_parser, main
from mapdoctor.collect.target import parse_target

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CAPTURE = FIXTURES / "go1.27" / "mapgrow-str"
CAPTURE_FILES = {
    "profile": "cpu.pb.gz", "allocs": "allocs.pb.gz", "heap": "heap.pb.gz", "mutex": "mutex.pb.gz",
    "block": "block.pb.gz", "goroutine": "goroutine.pb.gz", "trace": "trace.out",
}
WINDOWED = {"profile", "allocs", "mutex", "block", "trace"}


class CaptureServer:
    """net/http/pprof as far as mapdoctor sees it, answering at once from a capture."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                url = urlsplit(self.path)
                endpoint = url.path.removeprefix("/debug/pprof/")
                if endpoint == "goroutine" and parse_qs(url.query).get("debug") == ["2"]:
                    body = (CAPTURE / "goroutine.txt").read_bytes()
                elif endpoint in CAPTURE_FILES:
                    body = (CAPTURE / CAPTURE_FILES[endpoint]).read_bytes()
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queries(self, endpoint: str) -> list[dict[str, list[str]]]:
        """The query of every request to ``endpoint``."""
        found = [urlsplit(p) for p in self.requests]
        return [parse_qs(u.query) for u in found if u.path == f"/debug/pprof/{endpoint}"]


@pytest.fixture
def server() -> Iterator[CaptureServer]:
    srv = CaptureServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- 2. pprof's URL and flag habits -------------------------------------------------------------

@pytest.mark.parametrize(("url", "display"), [
    (":6060", "http://localhost:6060/debug/pprof/"),
    ("host:6060", "http://host:6060/debug/pprof/"),
    ("http://host:6060/debug/pprof/", "http://host:6060/debug/pprof/"),
    ("http://host:6060/debug/pprof/profile?seconds=30", "http://host:6060/debug/pprof/"),
])
def test_urls_as_pprof_users_type_them(url: str, display: str) -> None:
    assert parse_target(url).display == display


def test_a_pasted_profile_url_gives_its_window_and_keeps_its_query_to_itself() -> None:
    target = parse_target("http://host:6060/debug/pprof/profile?seconds=30&token=abc")
    assert target.window_s == 30
    assert target.request_path("heap", {}) == "/debug/pprof/heap?token=abc"
    assert target.request_path("profile", {"seconds": "5"}) == "/debug/pprof/profile?token=abc&seconds=5"


@pytest.mark.parametrize(("typo", "meant"), [
    ("htp://x:6060", "http://x:6060"),
    ("localhost6060", "localhost:6060"),
    ("http//x", "http://x"),
    ("http:/x:6060", "http://x:6060"),
    ("htps://x", "https://x"),
])
def test_urls_that_look_mistyped_get_a_suggestion(typo: str, meant: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", typo, "--quiet"]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert line.startswith("mapdoctor: ") and f"did you mean {meant}?" in line


@pytest.mark.parametrize("name", ["ftp://x", "web01", "http://web01/"])
def test_only_near_misses_of_http_are_suggested(name: str) -> None:
    try:
        parse_target(name)
    except UsageError as exc:
        assert "did you mean" not in str(exc)


def test_pasted_profile_url_sets_the_window_and_sends_no_query_elsewhere(
        server: CaptureServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"{server.url}/debug/pprof/profile?seconds=1"
    assert main(["diagnose", url, "--json", "-", "--quiet"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["verdict"] == "map_growth"
    assert server.queries("profile") == [{"seconds": ["1"]}]  # the URL's window, not the default 5 s
    for endpoint in ("heap", "goroutine", ""):
        assert all("seconds" not in q for q in server.queries(endpoint)), server.requests
    assert not any("cmdline" in p for p in server.requests)


@pytest.mark.parametrize(("flag", "value", "sent"), [
    ("-seconds", "1", "1"), ("--duration", "1s", "1"), ("--duration", "0.5", "1"), ("-seconds", "2", "2"),
])
def test_pprof_flags_and_durations(flag: str, value: str, sent: str, server: CaptureServer,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    # ":PORT" is go tool pprof's "this machine".
    assert main(["diagnose", f":{server.port}", flag, value, "--json", "-"]) == 0
    err = capsys.readouterr().err
    assert server.queries("profile") == [{"seconds": [sent]}]
    if value == "0.5":
        assert "pprof takes whole seconds; collecting for 1 s" in err


def test_duration_given_wins_over_the_url_window(server: CaptureServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"{server.url}/debug/pprof/profile?seconds=30"
    assert main(["diagnose", url, "--duration", "1", "--json", "-", "--quiet"]) == 0
    assert server.queries("profile") == [{"seconds": ["1"]}]


@pytest.mark.parametrize("value", ["1m30s", "2x", "90s", "0"])
def test_durations_out_of_bounds_or_unreadable(value: str) -> None:
    run = run_cli(["diagnose", "127.0.0.1:9", "--duration", value])
    assert run.returncode == 2
    _one_line_error(run.err)


# --- 3. outputs never lose the verdict ----------------------------------------------------------

@pytest.mark.parametrize("option", ["--html", "--json", "--export-pprof"])
def test_unwritable_output_is_refused_before_collecting(option: str, server: CaptureServer, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("/nonexistent/r.out", str(tmp_path)):
        assert main(["diagnose", server.url, "--duration", "1", option, bad, "--quiet"]) == 2
        out, err = capsys.readouterr()
        line = _one_line_error(err)
        assert line.startswith(f"mapdoctor: {option} {bad}: ")
        assert out == ""
    assert server.requests == []


def test_analyze_refuses_a_missing_folder_in_one_line() -> None:
    run = run_cli(["analyze", CAPTURE, "--html", "/nonexistent/r.html"])
    assert run.returncode == 2 and run.out == ""
    assert _one_line_error(run.err) == "mapdoctor: --html /nonexistent/r.html: /nonexistent: no such directory"


def test_two_outputs_on_stdout_are_a_usage_error() -> None:
    run = run_cli(["analyze", CAPTURE, "--html", "-", "--json", "-"])
    assert run.returncode == 2 and run.out == ""
    assert "both write to stdout" in _one_line_error(run.err)


def test_dash_is_stdout_for_every_output(tmp_path: Path) -> None:
    html = run_cli(["analyze", CAPTURE, "--html", "-"], cwd=tmp_path)
    assert html.returncode == 0, html.err
    assert html.out.lower().startswith("<!doctype html>") and "MAP GROWTH" not in html.out.split("<", 2)[1]
    exported = run_cli(["analyze", CAPTURE, "--export-pprof", "-", "--quiet", "--json", str(tmp_path / "d.json")],
                       cwd=tmp_path)
    assert exported.returncode == 0, exported.err
    assert exported.stdout[:2] == b"\x1f\x8b" and gzip.decompress(exported.stdout)
    assert not (tmp_path / "-").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to make a write fail")
def test_a_failed_write_comes_after_the_verdict() -> None:
    run = run_cli(["analyze", CAPTURE, "--json", "/dev/full"])
    assert run.returncode == 2
    assert run.out.lstrip().startswith("MAP GROWTH")
    assert _one_line_error(run.err) == "/dev/full: write: No space left on device"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to make a write fail")
def test_live_evidence_is_kept_when_an_output_fails(server: CaptureServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["diagnose", server.url, "--duration", "1", "--html", "/dev/full", "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert "MAP GROWTH" in out
    assert "/dev/full: write: No space left on device" in err.splitlines()
    kept = re.search(r"the evidence is kept in (\S+) ", err)
    assert kept is not None, err
    folder = Path(kept[1])
    assert folder.parent == tmp_path and (folder / "cpu.pb.gz").is_file() and (folder / "manifest.json").is_file()
    assert main(["analyze", str(folder), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "map_growth"
    shutil.rmtree(folder)


def test_live_evidence_is_deleted_when_every_output_is_written(server: CaptureServer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    report = tmp_path / "r.html"
    assert main(["diagnose", server.url, "--duration", "1", "--html", str(report), "--quiet"]) == 0
    assert report.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


# --- 5. text output for logs, and the shared options --------------------------------------------

def test_no_hard_wrap_when_stdout_is_not_a_terminal() -> None:
    run = run_cli(["analyze", CAPTURE])  # the child has COLUMNS=100 and stdout in a file
    assert run.returncode == 0, run.err
    summary = next(line for line in run.out.splitlines() if line.startswith("Yes: map growth costs"))
    assert summary.rstrip().endswith("orders.go:24.")
    assert max(len(line) for line in run.out.splitlines()) > 100


def test_no_color_env_and_flag() -> None:
    forced = run_cli(["analyze", CAPTURE], env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.out
    for extra_env, args in (({"NO_COLOR": "1"}, []), ({}, ["--no-color"])):
        run = run_cli(["analyze", CAPTURE, *args], env={"FORCE_COLOR": "1", **extra_env})
        assert run.returncode == 0 and "\x1b[" not in run.out, (extra_env, args)
        assert "MAP GROWTH" in run.out


def _options(command: str) -> set[str]:
    parser = build_parser(_commands())
    sub = next(a for a in parser._actions if a.dest == "command")
    choices: dict[str, Any] = sub.choices  # type: ignore[assignment]
    return {s for action in choices[command]._actions for s in action.option_strings}


REPORT_COMMANDS = {
    "analyze": {"--json", "--html", "--format", "--no-color", "--quiet", "--source"},
    "diagnose": {"--json", "--html", "--format", "--no-color", "--quiet", "--source", "-seconds"},
    "demo": {"--json", "--html", "--format", "--no-color", "--quiet", "--source", "-seconds"},
    "compare": {"--json", "--format", "--no-color", "--quiet"},
    "census": {"--json", "--html", "--format", "--no-color", "--quiet"},
    "bench": {"--json", "--html", "--format", "--no-color", "--quiet", "--source"},
    "lint": {"--json", "--format", "--no-color", "--quiet"},
}


@pytest.mark.parametrize("command", list(REPORT_COMMANDS))
def test_the_common_options_are_on_every_report_command(command: str) -> None:
    assert REPORT_COMMANDS[command] <= _options(command)


def test_format_json_is_json_on_stdout() -> None:
    as_format = run_cli(["analyze", CAPTURE, "--format", "json"])
    as_json = run_cli(["analyze", CAPTURE, "--json", "-"])
    assert as_format.returncode == 0 and json.loads(as_format.out) == json.loads(as_json.out)
    other = FIXTURES / "go1.27" / "presized"
    compared = run_cli(["compare", CAPTURE, other, "--format", "json"])
    assert compared.returncode == 0, compared.err
    assert json.loads(compared.out)["schema"].startswith("mapdoctor/comparison@")


def test_diagnose_source_attaches_source_findings(server: CaptureServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", server.url, "--duration", "1", "--source", str(LAB_GO), "--format", "json",
                 "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    site = report["causes"][0]["sites"][0]
    found = site["detail"]["source_findings"]
    assert found and found[0]["rule"] == "MD001" and Path(found[0]["file"]).name == "orders.go"


def test_diagnose_source_must_be_a_folder(server: CaptureServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", server.url, "--source", "/nonexistent", "--quiet"]) == 2
    assert "--source /nonexistent: not a directory" in _one_line_error(capsys.readouterr().err)
    assert server.requests == []


def test_http_serves_the_html_report_like_pprof(tmp_path: Path) -> None:
    """``-http ADDR`` (go tool pprof's habit): the same single-file page, served until Ctrl-C."""
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    from labdata import FIXTURES

    proc = subprocess.Popen([sys.executable, "-m", "mapdoctor", "analyze", str(FIXTURES / "go1.23" / "mutex"),
                             "-http", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # As a background job of a script starts it: SIGINT ignored, which
                            # leaves Python without its KeyboardInterrupt handler.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        m = re.search(r"serving the report at (http://127\.0\.0\.1:\d+/)", line)
        assert m, line
        with urllib.request.urlopen(m.group(1), timeout=10) as resp:
            page = resp.read().decode()
            assert resp.headers["Content-Type"].startswith("text/html")
        assert "LOCK CONTENTION" in page and "default-src 'none'" in page
        try:
            urllib.request.urlopen(m.group(1) + "debug/pprof/cmdline", timeout=10)
            raise AssertionError("only / is served")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "LOCK CONTENTION" in out  # the terminal verdict came first


def test_http_bad_address_is_one_line() -> None:
    import subprocess
    import sys

    from labdata import FIXTURES

    r = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(FIXTURES / "go1.23" / "idle"),
                        "-http", "nonsense"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "-http" in r.stderr, r.stderr
