"""A light sample: the pprof index (goroutine count) and one CPU profile, held in memory.

This is what ``mapdoctor watch`` takes from every target on its schedule: a few seconds
of CPU profile cost the service little (the runtime samples at 100 Hz), and the index
page counts goroutines without stopping the world (unlike the goroutine profile). The
full collection (``collector``) is kept for when something looks wrong.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from mapdoctor.collect.fetch import Aborter, FetchError, fetch
from mapdoctor.collect.index import parse_index
from mapdoctor.collect.plan import INDEX_MAX_BYTES, request_timeout
from mapdoctor.collect.target import Target
from mapdoctor.formats.limits import GZIP_MAGIC

#: A CPU profile of a few seconds is tens of KB; more than this is not a light sample.
LIGHT_PROFILE_MAX_BYTES = 16 << 20

#: Bounded set of reasons (metric label values).
REASONS = ("refused", "timeout", "http", "tls", "body", "network", "interrupted")


@dataclass(slots=True)
class LightSample:
    started_at: float  # wall clock (time.time())
    window_s: int
    elapsed_s: float = 0.0
    cpu_profile: bytes | None = None  # as served (gzipped)
    goroutines: int | None = None
    error: str | None = None
    reason: str | None = None  # one of REASONS when error is set


def reason_of(exc: FetchError) -> str:
    text = exc.reason.lower()
    if exc.http_status is not None and exc.http_status != 200:
        return "http"
    if text == "interrupted":
        return "interrupted"
    if "refused" in text:
        return "refused"
    if "timed out" in text or "no answer within" in text:
        return "timeout"
    if "tls" in text:
        return "tls"
    if exc.http_status == 200:
        return "body"
    return "network"


def light_sample(target: Target, window_s: int, *, aborter: Aborter | None = None,
                 with_index: bool = True) -> LightSample:
    """Goroutine count, then a ``window_s`` CPU profile; never raises for network trouble."""
    got = LightSample(time.time(), window_s)
    t0 = time.monotonic()
    try:
        if with_index:
            buf = io.BytesIO()
            fetch(target, target.request_path("", {}), buf, timeout_s=request_timeout(0),
                  max_bytes=INDEX_MAX_BYTES, aborter=aborter)
            got.goroutines = parse_index(buf.getvalue().decode("utf-8", errors="replace")).get("goroutine")
        buf = io.BytesIO()
        res = fetch(target, target.request_path("profile", {"seconds": str(window_s)}), buf,
                    timeout_s=request_timeout(window_s), max_bytes=LIGHT_PROFILE_MAX_BYTES, aborter=aborter)
        body = buf.getvalue()
        if res.content_type.lower().startswith("text/html") or body[:1] == b"<":
            raise FetchError("got an HTML page instead of a CPU profile", http_status=200)
        if body[:2] != GZIP_MAGIC and body[:1] != b"\x0a":
            raise FetchError(f"not a pprof profile (starts with {body[:8]!r})", http_status=200)
        got.cpu_profile = body
    except FetchError as exc:
        got.error, got.reason = exc.reason, reason_of(exc)
    got.elapsed_s = time.monotonic() - t0
    return got
