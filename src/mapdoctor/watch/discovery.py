"""Where the targets come from, and noticing when that changes.

Each source keeps the last list it read successfully: a file being rewritten or an
``http_sd`` endpoint that is down for a while does not make every target vanish (as in
Prometheus). Files are re-read when their size, modification time or inode changes
(checked every poll, a ``stat`` call); ``http_sd`` endpoints are fetched every
``refresh_s`` with a hard deadline and a size cap.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mapdoctor.cli.command import UsageError
from mapdoctor.collect.fetch import FetchError, fetch
from mapdoctor.collect.target import Target, parse_header
from mapdoctor.errors import InputError
from mapdoctor.watch.targets import (
    MAX_TARGET_FILE_BYTES,
    Discovered,
    Shard,
    WatchTarget,
    discovered_from_url,
    make_target,
    parse_target_file,
    parse_target_groups,
)

HTTP_SD_TIMEOUT_S = 10.0
DEFAULT_HTTP_SD_REFRESH_S = 60.0


@dataclass(slots=True)
class SourceStatus:
    name: str
    targets: int = 0
    error: str | None = None
    errors_total: int = 0
    last_read: float = 0.0  # wall clock of the last successful read


class Source:
    """A place targets are read from."""

    status: SourceStatus

    def poll(self, now: float) -> list[Discovered] | None:
        """The new list when it changed (or on the first call), else None."""
        raise NotImplementedError


class StaticSource(Source):
    def __init__(self, urls: Sequence[str]) -> None:
        self.status = SourceStatus("command line")
        self._items = [discovered_from_url(u) for u in urls]
        self._given = False

    def poll(self, now: float) -> list[Discovered] | None:
        if self._given:
            return None
        self._given = True
        self.status.targets, self.status.last_read = len(self._items), time.time()
        return list(self._items)


class FileSource(Source):
    """A file_sd JSON file or a list of URLs, re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.status = SourceStatus(str(path))
        self._stamp: tuple[int, int, int] | None = None

    def poll(self, now: float) -> list[Discovered] | None:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            self._fail(f"{self.path}: {exc.strerror or exc}")
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return None
        try:
            if st.st_size > MAX_TARGET_FILE_BYTES:
                raise InputError(str(self.path), "targets", f"larger than {MAX_TARGET_FILE_BYTES >> 20} MiB")
            data = self.path.read_bytes()
            items = parse_target_file(data, str(self.path))
        except OSError as exc:
            self._fail(f"{self.path}: {exc.strerror or exc}")
            return None
        except InputError as exc:
            # A half-written file is read again at the next change; the old list stays.
            self._stamp = stamp
            self._fail(str(exc))
            return None
        self._stamp = stamp
        self.status.error, self.status.targets, self.status.last_read = None, len(items), time.time()
        return items

    def _fail(self, why: str) -> None:
        if self.status.error != why:
            self.status.errors_total += 1
        self.status.error = why


class HttpSdSource(Source):
    """Prometheus ``http_sd_configs``: GET returns the target groups as JSON."""

    def __init__(self, url: str, *, refresh_s: float = DEFAULT_HTTP_SD_REFRESH_S,
                 headers: Sequence[str] = ()) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--http-sd {url}: expected an http(s) URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise UsageError(f"--http-sd {url}: {exc}") from None
        import ssl

        self.url = url
        self._target = Target(parts.scheme, parts.hostname, port, "/", (), tuple(parse_header(h) for h in headers),
                              ssl.create_default_context() if parts.scheme == "https" else None)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.refresh_s = refresh_s
        self.status = SourceStatus(f"{parts.scheme}://{parts.netloc}{parts.path}")
        self._next = 0.0
        self._last: list[Discovered] | None = None

    def poll(self, now: float) -> list[Discovered] | None:
        if now < self._next:
            return None
        self._next = now + self.refresh_s
        buf = io.BytesIO()
        try:
            got = fetch(self._target, self._path, buf, timeout_s=HTTP_SD_TIMEOUT_S, max_bytes=MAX_TARGET_FILE_BYTES)
            if "json" not in got.content_type.lower():
                raise InputError(self.status.name, "http_sd", f"Content-Type {got.content_type or 'missing'}, "
                                                              "expected application/json")
            items = parse_target_groups(buf.getvalue(), self.status.name)
        except FetchError as exc:
            self._fail(f"{self.status.name}: http: {exc.reason}")
            return None
        except InputError as exc:
            self._fail(str(exc))
            return None
        self.status.error, self.status.targets, self.status.last_read = None, len(items), time.time()
        if items == self._last:
            return None
        self._last = items
        return items

    def _fail(self, why: str) -> None:
        self.status.errors_total += 1
        self.status.error = why


@dataclass(slots=True)
class Discovery:
    """All sources merged, sharded, turned into targets; each target once (by its URL)."""

    sources: list[Source]
    shard: Shard | None = None
    headers: tuple[str, ...] = ()
    cacert: Path | None = None
    insecure: bool = False
    _lists: dict[int, list[Discovered]] = field(default_factory=dict)
    #: Discovered targets that could not be turned into a URL, with why (shown on the status page).
    rejected: dict[str, str] = field(default_factory=dict)

    def poll(self, now: float) -> list[WatchTarget] | None:
        """The full target list when any source changed, else None."""
        changed = False
        for n, src in enumerate(self.sources):
            got = src.poll(now)
            if got is not None:
                self._lists[n] = got
                changed = True
        if not changed:
            return None
        out: dict[str, WatchTarget] = {}
        self.rejected = {}
        for n in sorted(self._lists):
            for d in self._lists[n]:
                labels = d.label_map
                if self.shard is not None and not self.shard.keeps(labels):
                    continue
                try:
                    t = make_target(d, headers=self.headers, cacert=self.cacert, insecure=self.insecure)
                except UsageError as exc:
                    self.rejected[labels.get("__address__", "?")] = str(exc)
                    continue
                out.setdefault(t.key, t)
        return list(out.values())
