"""Evidence bundles on disk: written atomically, indexed, kept within a count and a size.

Layout under the store's root (``--out``)::

    bundles/<id>/        a finished bundle: the evidence files, manifest.json,
                         report.json, report.html, and bundle.json (last written)
    pending/<id>/        a capture in progress; trigger.json is written first
    trash/<id>/          a bundle being deleted by retention
    index.json           the finished bundles, newest last (a cache of bundles/*/bundle.json)

A bundle becomes visible by one ``rename`` of its finished folder from ``pending/`` to
``bundles/``, after every file in it was written and ``fsync``-ed: a crash, a kill or a
full disk leaves either the whole bundle or none of it. ``bundle.json`` lists each file
with its size and SHA-256, so a bundle can be verified. ``index.json`` is rewritten
through a temporary file and a rename, so it is never half-written; on start it is rebuilt
from the bundles when it disagrees with them. A capture cut short (the agent restarted) is
found in ``pending/`` on the next start: its trigger is handed back to be captured again,
and the partial folder is removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BUNDLE_FORMAT = 1
BUNDLE_FILE = "bundle.json"
TRIGGER_FILE = "trigger.json"
INDEX_FILE = "index.json"
MAX_META_BYTES = 1 << 20
DEFAULT_KEEP_COUNT = 200
DEFAULT_KEEP_BYTES = 1 << 30
#: Below this much free space no capture starts (a capture of a busy service is a few MB).
DEFAULT_MIN_FREE_BYTES = 64 << 20

_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[a-z0-9._-]{1,80}-[0-9a-f]{6}$")


class StoreError(Exception):
    """A bundle could not be written; ``reason`` is a metric label (disk_full, io)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BundleInfo:
    id: str
    target: str
    trigger: str  # kind
    reason: str
    started_at: str  # ISO UTC
    finished_at: str
    verdict: str
    confidence: str
    summary: str
    partial: bool
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> BundleInfo:
        return cls(**{k: doc[k] for k in cls.__slots__})


@dataclass(slots=True)
class Pending:
    id: str
    dir: Path
    target: str
    trigger: dict[str, Any]
    started_at: str


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _slug(target: str) -> str:
    text = re.sub(r"^[a-z]+://", "", target.lower())
    text = re.sub(r"/debug/pprof/?$", "", text)
    return (re.sub(r"[^a-z0-9._-]+", "-", text).strip("-.") or "target")[:80]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file, fsync, rename, fsync the folder."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _read_json(path: Path) -> Any:
    with path.open("rb") as fh:
        data = fh.read(MAX_META_BYTES + 1)
    if len(data) > MAX_META_BYTES:
        raise ValueError("too large")
    return json.loads(data)


def _store_error(exc: OSError, what: str) -> StoreError:
    reason = "disk_full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "io"
    return StoreError(f"{what}: {exc.strerror or exc}", reason)


class BundleStore:
    def __init__(self, root: Path, *, keep_count: int = DEFAULT_KEEP_COUNT, keep_bytes: int = DEFAULT_KEEP_BYTES,
                 min_free_bytes: int = DEFAULT_MIN_FREE_BYTES) -> None:
        self.root = root
        self.bundles_dir = root / "bundles"
        self.pending_dir = root / "pending"
        self.trash_dir = root / "trash"
        self.keep_count = keep_count
        self.keep_bytes = keep_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()
        self._index: list[BundleInfo] = []
        self.pruned_total = 0

    # -- start-up ---------------------------------------------------------------------------

    def open(self) -> list[dict[str, Any]]:
        """Create the folders, finish interrupted deletions, rebuild the index.

        Returns the triggers of captures that were cut short (to be captured again).
        """
        for d in (self.bundles_dir, self.pending_dir, self.trash_dir):
            d.mkdir(parents=True, exist_ok=True)
        for leftover in self.trash_dir.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        resumed: list[dict[str, Any]] = []
        for folder in sorted(self.pending_dir.iterdir()):
            with contextlib.suppress(OSError, ValueError, TypeError):
                doc = _read_json(folder / TRIGGER_FILE)
                if isinstance(doc, dict) and isinstance(doc.get("target"), str):
                    resumed.append(doc)
            shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            self._index = self._scan()
            self._write_index_locked(best_effort=True)
        return resumed

    def _scan(self) -> list[BundleInfo]:
        """The finished bundles, from their own bundle.json (the index is only a cache)."""
        found: list[BundleInfo] = []
        for folder in self.bundles_dir.iterdir():
            if not _ID_RE.match(folder.name):
                continue
            try:
                doc = _read_json(folder / BUNDLE_FILE)
                found.append(BundleInfo.from_json(doc["info"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # cannot happen for bundles written here (rename after fsync)
        found.sort(key=lambda b: (b.finished_at, b.id))
        return found

    # -- writing ----------------------------------------------------------------------------

    def begin(self, target: str, trigger: dict[str, Any]) -> Pending:
        """Reserve a pending folder and journal the trigger; StoreError when it cannot be."""
        free = self.free_bytes()
        if free is not None and free < self.min_free_bytes:
            raise StoreError(f"{self.root}: only {free >> 20} MiB free (a capture needs "
                             f"{self.min_free_bytes >> 20} MiB)", "disk_full")
        started = _now_iso()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        bundle_id = f"{stamp}-{_slug(target)}-{secrets.token_hex(3)}"
        folder = self.pending_dir / bundle_id
        doc = {"target": target, "trigger": trigger, "started_at": started, "id": bundle_id}
        try:
            folder.mkdir(parents=True)
            write_atomic(folder / TRIGGER_FILE, json.dumps(doc, indent=2).encode())
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise _store_error(exc, f"{folder}") from None
        return Pending(bundle_id, folder, target, trigger, started)

    def commit(self, pending: Pending, info: dict[str, Any]) -> BundleInfo:
        """Seal the pending folder into a bundle; StoreError (and nothing left) when it cannot be."""
        try:
            files = []
            total = 0
            for path in sorted(pending.dir.iterdir()):
                if path.name == TRIGGER_FILE or not path.is_file():
                    continue
                _fsync_file(path)
                size = path.stat().st_size
                total += size
                files.append({"name": path.name, "bytes": size, "sha256": _sha256(path)})
            bundle = BundleInfo(
                id=pending.id, target=pending.target, trigger=str(pending.trigger.get("kind", "")),
                reason=str(pending.trigger.get("reason", "")), started_at=pending.started_at,
                finished_at=_now_iso(), verdict=str(info.get("verdict", "")),
                confidence=str(info.get("confidence", "")), summary=str(info.get("summary", "")),
                partial=bool(info.get("partial", False)), bytes=total,
            )
            doc = {"format": BUNDLE_FORMAT, "info": bundle.to_json(), "trigger": pending.trigger, "files": files}
            write_atomic(pending.dir / BUNDLE_FILE, json.dumps(doc, indent=2).encode())
            (pending.dir / TRIGGER_FILE).unlink()
            _fsync_dir(pending.dir)
            os.rename(pending.dir, self.bundles_dir / pending.id)
            _fsync_dir(self.bundles_dir)
            _fsync_dir(self.pending_dir)
        except OSError as exc:
            self.abandon(pending)
            raise _store_error(exc, f"bundle {pending.id}") from None
        with self._lock:
            self._index.append(bundle)
            self._prune_locked(keep=bundle.id)
            self._write_index_locked(best_effort=True)
        return bundle

    def abandon(self, pending: Pending) -> None:
        shutil.rmtree(pending.dir, ignore_errors=True)

    # -- retention and index ---------------------------------------------------------------

    def _prune_locked(self, keep: str) -> None:
        while self._index and (len(self._index) > self.keep_count
                               or sum(b.bytes for b in self._index) > self.keep_bytes):
            victim = next((b for b in self._index if b.id != keep), None)
            if victim is None:
                break
            self._index.remove(victim)
            src = self.bundles_dir / victim.id
            dst = self.trash_dir / victim.id
            try:
                os.rename(src, dst)
            except OSError:
                shutil.rmtree(src, ignore_errors=True)
            else:
                shutil.rmtree(dst, ignore_errors=True)
            self.pruned_total += 1

    def _write_index_locked(self, *, best_effort: bool) -> None:
        doc = {"format": BUNDLE_FORMAT, "bundles": [b.to_json() for b in self._index]}
        try:
            write_atomic(self.root / INDEX_FILE, (json.dumps(doc, indent=1) + "\n").encode())
        except OSError:
            # The previous index stays whole; it is rewritten after the next bundle, and
            # rebuilt from the bundles on start.
            if not best_effort:
                raise

    # -- reading ------------------------------------------------------------------------------

    def bundles(self) -> list[BundleInfo]:
        with self._lock:
            return list(self._index)

    def total_bytes(self) -> int:
        with self._lock:
            return sum(b.bytes for b in self._index)

    def free_bytes(self) -> int | None:
        try:
            return shutil.disk_usage(self.root).free
        except OSError:
            return None

    def bundle_file(self, bundle_id: str, name: str) -> Path | None:
        """A file of a finished bundle, or None (ids and names are checked, never joined raw)."""
        if not _ID_RE.match(bundle_id) or not re.fullmatch(r"[a-z0-9_.-]{1,64}", name) or name.startswith("."):
            return None
        path = self.bundles_dir / bundle_id / name
        return path if path.is_file() else None


def verify_bundle(folder: Path) -> list[str]:
    """Problems with a finished bundle (empty when it is whole)."""
    try:
        doc = _read_json(folder / BUNDLE_FILE)
        files = doc["files"]
        BundleInfo.from_json(doc["info"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{folder.name}: {BUNDLE_FILE} unreadable ({exc})"]
    problems = []
    for f in files:
        path = folder / f["name"]
        if not path.is_file():
            problems.append(f"{folder.name}: {f['name']} missing")
        elif path.stat().st_size != f["bytes"] or _sha256(path) != f["sha256"]:
            problems.append(f"{folder.name}: {f['name']} differs from its checksum")
    return problems


def iter_bundle_dirs(root: Path) -> Iterator[Path]:
    d = root / "bundles"
    if d.is_dir():
        yield from sorted(p for p in d.iterdir() if p.is_dir())


