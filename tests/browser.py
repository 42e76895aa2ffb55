"""A real headless Chromium for report tests: render a local HTML file, see what it did.

``render(page, out_dir)`` loads the file with networking logged (``--log-net-log``), takes a
screenshot and dumps the DOM after layout. The result says which URLs the page requested
(``network_urls``: anything but the page itself), the DOM text, and the screenshot's pixels,
so a test can assert "rendered, showed something, fetched nothing". Chromium comes from
Debian's ``chromium`` package (installed on first need by ``tests/debian.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
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
