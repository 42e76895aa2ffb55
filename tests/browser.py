"""A real headless Chromium for report tests: render a local HTML file, see what it did.

``render(page, out_dir)`` loads the file with networking logged (``--log-net-log``), takes a
screenshot and dumps the DOM after layout. The result says which URLs the page requested
(``network_urls``: anything but the page itself), the DOM text, and the screenshot's pixels,
so a test can assert "rendered, showed something, fetched nothing". Chromium comes from
Debian's ``chromium`` package (installed on first need by ``tests/debian.py``).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import debian

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 90


def find_browser() -> str | None:
    explicit = os.environ.get("MAPDOCTOR_CHROMIUM")
    if explicit:
        return explicit
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_browser() -> str:
    path = find_browser()
    if path is None:
        path = debian.need("chromium", *BROWSERS)
    return path


@dataclass
class Rendered:
    dom: str
    png: Path
    width: int
    height: int
    pixels: list[tuple[int, int, int]]  # a sample of the screenshot's pixels
    network_urls: list[str]


def _flags(profile: Path) -> list[str]:
    return ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--metrics-recording-only", "--disable-default-apps", "--mute-audio",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--hide-scrollbars", "--no-pings",
            "--disable-domain-reliability", "--disable-client-side-phishing-detection",
            "--disable-features=NetworkTimeServiceQuerying,SpellCheck,Translate,OptimizationHints,MediaRouter",
            # Nothing leaves the machine, whatever the browser or the page tries: no name resolves
            # and every proxied request goes to a closed local port.
            "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def _requested_urls(netlog: Path, page_url: str) -> list[str]:
    """URLs the page requested (URL_REQUEST sources in the NetLog other than the page itself).

    The browser's own background requests (update checks, network time) are told apart by
    their initiator, which NetLog records as "not an origin"; the flags above make them fail
    locally anyway."""
    try:
        doc = json.loads(netlog.read_text())
    except (OSError, ValueError):
        # Chromium may leave the log without its closing bracket when killed; repair it.
        text = netlog.read_text().rstrip().rstrip(",")
        doc = json.loads(text + "]}")
    types = {v: k for k, v in doc.get("constants", {}).get("logSourceType", {}).items()}
    urls: dict[int, str] = {}
    internal: set[int] = set()
    for ev in doc.get("events", []):
        src = ev.get("source", {})
        params = ev.get("params") or {}
        if types.get(src.get("type")) != "URL_REQUEST":
            continue
        if params.get("initiator") == "not an origin":
            internal.add(src.get("id"))
        url = params.get("url")
        if url and url != page_url:
            urls[src.get("id")] = url
    return sorted({u for sid, u in urls.items() if sid not in internal})


def _png_pixels(path: Path, step: int = 7) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and every ``step``-th pixel of an 8-bit RGB/RGBA PNG (filters undone)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"unsupported PNG ({depth=}, {ctype=})"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    out: list[tuple[int, int, int]] = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        prev = line
        for x in range(0, width, step):
            out.append((line[x * bpp], line[x * bpp + 1], line[x * bpp + 2]))
    return width, height, out


def render(page: Path, out_dir: Path, *, width: int = 1280, height: int = 1600) -> Rendered:
    """Load ``page`` in headless Chromium; its DOM, a screenshot, and any network requests."""
    browser = require_browser()
    out_dir.mkdir(parents=True, exist_ok=True)
    page_url = page.resolve().as_uri()
    netlog = out_dir / "netlog.json"
    png = out_dir / "screenshot.png"
    common = [browser, *_flags(out_dir / "profile"), f"--window-size={width},{height}"]
    shot = _run([*common, f"--log-net-log={netlog}", "--net-log-capture-mode=Everything",
                 f"--screenshot={png}", page_url])
    assert png.is_file(), f"no screenshot: {shot.stderr[-2000:]}"
    dom = _run([*common, "--dump-dom", page_url])
    assert dom.returncode == 0, dom.stderr[-2000:]
    w, h, pixels = _png_pixels(png)
    return Rendered(dom=dom.stdout, png=png, width=w, height=h, pixels=pixels,
                    network_urls=_requested_urls(netlog, page_url) if netlog.is_file() else [])


# ---- an interactive page: the DevTools protocol over a pipe ------------------------------------
#
# ``--remote-debugging-pipe`` makes Chromium read protocol messages (JSON, NUL-terminated) from
# file descriptor 3 and write replies and events to 4: no port, no websocket library, nothing
# another process on the machine could connect to.

#: Bound on one protocol command (a busy CI machine can take seconds to lay out a page).
COMMAND_TIMEOUT_S = 60.0


class BrowserError(AssertionError):
    pass


class Session:
    """One headless Chromium with one page, driven over the DevTools protocol.

    ``console`` collects console messages of level error/warning, uncaught exceptions and
    browser log entries (CSP violations land there); ``requests`` every URL the page asked for.
    """

    def __init__(self, browser: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def _fds() -> None:  # runs in the child before exec: the protocol's two descriptors
            # Moved out of the way first: a pipe end may itself be 3 or 4, and dup2 onto itself
            # would keep its close-on-exec flag.
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        cmd = [browser, *_flags(profile), "--remote-debugging-pipe", "--window-size=1400,1000", "about:blank"]
        # Its chatter goes to a file: a pipe nobody reads could fill and stall the browser.
        profile.mkdir(parents=True, exist_ok=True)
        self._log = (profile.parent / "chromium.log").open("wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     preexec_fn=_fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self._events: list[dict[str, object]] = []
        self._history: list[dict[str, object]] = []
        self.console: list[str] = []
        self.requests: list[str] = []
        self.session_id = ""
        targets = self.call("Target.getTargets")["targetInfos"]
        assert isinstance(targets, list)
        page = next((t for t in targets if isinstance(t, dict) and t.get("type") == "page"), None)
        if page is None:
            target_id = self.call("Target.createTarget", url="about:blank")["targetId"]
        else:
            target_id = page["targetId"]
        self.session_id = str(self.call("Target.attachToTarget", targetId=target_id, flatten=True)["sessionId"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    # -- transport --
    def _send(self, msg: dict[str, object]) -> None:
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._to_child, data)
            data = data[n:]

    def _read(self, deadline: float) -> dict[str, object]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer within the deadline")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 1.0))
            if not ready:
                if self.proc.poll() is not None:
                    raise BrowserError(f"Chromium exited ({self.proc.returncode})")
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the protocol pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        msg = json.loads(raw)
        assert isinstance(msg, dict)
        return msg

    def _note(self, msg: dict[str, object]) -> None:
        method = msg.get("method")
        params = msg.get("params") or {}
        assert isinstance(params, dict)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            args = params.get("args") or []
            self.console.append(f"console.{params.get('type')}: "
                                + " ".join(str(a.get("value", a.get("description", ""))) for a in args
                                           if isinstance(a, dict)))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails") or {}
            assert isinstance(details, dict)
            exc = details.get("exception") or {}
            desc = exc.get("description", "") if isinstance(exc, dict) else ""
            self.console.append(f"exception: {details.get('text', '')} {desc}")
        elif method == "Log.entryAdded":
            entry = params.get("entry") or {}
            if isinstance(entry, dict) and entry.get("level") in ("error", "warning"):
                self.console.append(f"log.{entry.get('level')} ({entry.get('source')}): {entry.get('text')}")
        elif method == "Network.requestWillBeSent":
            req = params.get("request") or {}
            if isinstance(req, dict):
                self.requests.append(str(req.get("url")))
        self._events.append(msg)
        self._history.append(msg)

    def events(self) -> list[dict[str, object]]:
        """Every event since the last :meth:`open`."""
        return list(self._history)

    def call(self, method: str, timeout: float = COMMAND_TIMEOUT_S, **params: object) -> dict[str, object]:
        self._next += 1
        mid = self._next
        msg: dict[str, object] = {"id": mid, "method": method, "params": params}
        if self.session_id and not method.startswith("Target."):
            msg["sessionId"] = self.session_id
        self._send(msg)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == mid:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result = reply.get("result") or {}
                assert isinstance(result, dict)
                return result
            self._note(reply)

    def wait_event(self, method: str, timeout: float = COMMAND_TIMEOUT_S) -> dict[str, object]:
        for i, ev in enumerate(self._events):
            if ev.get("method") == method:
                del self._events[i]
                return ev
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            self._note(msg)
            if msg.get("method") == method:
                self._events.remove(msg)
                return msg

    # -- page helpers --
    def viewport(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def open(self, url: str, *, javascript: bool = True) -> None:
        self.call("Emulation.setScriptExecutionDisabled", value=not javascript)
        self._events.clear()
        self._history.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        # A late load event of the previous page must not pass for this one's.
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def eval(self, expression: str) -> object:
        out = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in out:
            raise BrowserError(f"{expression[:80]}: {out['exceptionDetails']}")
        result = out.get("result") or {}
        assert isinstance(result, dict)
        return result.get("value")

    def wait_for(self, expression: str, timeout: float = COMMAND_TIMEOUT_S) -> object:
        """Poll ``expression`` until it is truthy (no fixed sleeps: as fast as the machine allows)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def click(self, x: float, y: float) -> None:
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type_text(self, text: str) -> None:
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        assert isinstance(data, str)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send({"id": self._next + 1, "method": "Browser.close", "params": {}})
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def session(profile: Path) -> Session:
    """A fresh browser (installed on first need, else the test is skipped with the reason)."""
    return Session(require_browser(), profile)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)
