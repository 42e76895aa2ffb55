"""What the agent watches: a target is a pprof URL plus the labels service discovery gave it.

Prometheus' target groups are the exchange format (``file_sd_configs`` files, an
``http_sd_configs`` endpoint): ``[{"targets": ["host:port", ...], "labels": {...}}]``.
Two labels choose how the pprof handlers are reached, as ``__scheme__`` and
``__metrics_path__`` do for Prometheus: ``__scheme__`` (http or https) and
``__pprof_path__`` (default ``/debug/pprof/``). Other labels starting with ``__`` are
dropped after sharding, the rest are kept and shown.

Sharding follows Prometheus' ``hashmod`` relabelling exactly (MD5 of the source label
values joined with ``;``, its last 8 bytes as a big-endian integer, modulo N), so an agent
started with ``--shard 2/4`` watches the targets that a Prometheus job with
``hashmod`` modulus 4 keeps for ``regex: 2``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mapdoctor.cli.command import UsageError
from mapdoctor.collect.target import DEFAULT_PREFIX, Target, parse_target
from mapdoctor.errors import InputError

SCHEME_LABEL = "__scheme__"
PATH_LABEL = "__pprof_path__"
ADDRESS_LABEL = "__address__"
#: A target file (file_sd or a list) larger than this is refused.
MAX_TARGET_FILE_BYTES = 16 << 20
MAX_LABEL_CHARS = 1024


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    count: int
    source_labels: tuple[str, ...] = (ADDRESS_LABEL,)

    def keeps(self, labels: Mapping[str, str]) -> bool:
        value = ";".join(labels.get(name, "") for name in self.source_labels)
        return hashmod(value, self.count) == self.index


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' ``hashmod`` relabel action."""
    digest = hashlib.md5(value.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def parse_shard(spec: str, labels: str | None = None) -> Shard:
    index_s, sep, count_s = spec.partition("/")
    try:
        index, count = int(index_s), int(count_s)
    except ValueError:
        index, count = -1, 0
    if not sep or count < 1 or not 0 <= index < count:
        raise UsageError(f"--shard {spec!r}: expected INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4")
    names = tuple(n.strip() for n in labels.split(",")) if labels else (ADDRESS_LABEL,)
    return Shard(index, count, names)


@dataclass(frozen=True, slots=True)
class Discovered:
    """One target as a source gives it: an address and its labels (``__address__`` included)."""

    labels: tuple[tuple[str, str], ...]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class WatchTarget:
    key: str  # the pprof index URL without credentials: the `target` label
    target: Target = field(compare=False)
    labels: tuple[tuple[str, str], ...] = ()  # public labels (no __ prefix)
    address: str = ""  # host:port as discovered (what Prometheus calls __address__)

    @property
    def instance(self) -> str:
        """What an alert's ``instance`` label is compared with."""
        return dict(self.labels).get("instance", self.address)


def discovered_from_url(url: str) -> Discovered:
    """A command-line URL as a discovered target (its address and scheme become labels)."""
    t = parse_target(url)
    labels = {ADDRESS_LABEL: t.netloc, SCHEME_LABEL: t.scheme, PATH_LABEL: t.prefix, "__url__": url}
    return Discovered(tuple(sorted(labels.items())))


def make_target(d: Discovered, *, headers: Sequence[str] = (), cacert: Path | None = None,
                insecure: bool = False) -> WatchTarget:
    """Build the target; UsageError when the labels do not make a usable URL."""
    labels = d.label_map
    url = labels.get("__url__")
    if url is None:
        scheme = labels.get(SCHEME_LABEL, "http") or "http"
        path = labels.get(PATH_LABEL, DEFAULT_PREFIX) or DEFAULT_PREFIX
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{labels.get(ADDRESS_LABEL, '')}{path}"
    https = url.strip().lower().startswith("https://")
    t = parse_target(url, headers=list(headers), cacert=cacert if https else None, insecure=insecure and https)
    public = tuple(sorted((k, v) for k, v in labels.items() if not k.startswith("__")))
    return WatchTarget(t.display, t, public, labels.get(ADDRESS_LABEL, t.netloc))


def parse_target_groups(data: bytes, origin: str) -> list[Discovered]:
    """Prometheus target groups (file_sd JSON, http_sd body); InputError when malformed."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(origin, "target groups", f"not JSON ({exc})") from None
    if not isinstance(doc, list):
        raise InputError(origin, "target groups", "expected a JSON list of {\"targets\": [...], \"labels\": {...}}")
    out: list[Discovered] = []
    for n, group in enumerate(doc):
        where = f"group {n}"
        if not isinstance(group, dict):
            raise InputError(origin, "target groups", f"{where}: not an object")
        targets = group.get("targets", [])
        labels = group.get("labels") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise InputError(origin, "target groups", f"{where}: \"targets\" must be a list of strings")
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in labels.items()):
            raise InputError(origin, "target groups", f"{where}: \"labels\" must map strings to strings")
        if any(len(k) > MAX_LABEL_CHARS or len(v) > MAX_LABEL_CHARS for k, v in labels.items()):
            raise InputError(origin, "target groups", f"{where}: a label is longer than {MAX_LABEL_CHARS} chars")
        for address in targets:
            if not address.strip() or len(address) > MAX_LABEL_CHARS:
                raise InputError(origin, "target groups", f"{where}: empty or overlong target address")
            merged = {**labels, ADDRESS_LABEL: address.strip()}
            out.append(Discovered(tuple(sorted(merged.items()))))
    return out


def parse_url_list(text: str, origin: str) -> list[Discovered]:
    """A plain list: one URL (or host:port) per line, ``#`` comments."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append(discovered_from_url(line))
        except UsageError as exc:
            raise InputError(origin, "targets", f"line {n}: {exc}") from None
    return out


def parse_target_file(data: bytes, origin: str) -> list[Discovered]:
    """A targets file: Prometheus file_sd JSON when it starts with ``[``, else a URL list."""
    if origin.endswith((".yml", ".yaml")):
        raise InputError(origin, "targets", "YAML file_sd files are not read; write the same target groups as "
                                            "JSON (a .json file)")
    if data.lstrip()[:1] == b"[":
        return parse_target_groups(data, origin)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(origin, "targets", "not UTF-8 text") from None
    return parse_url_list(text, origin)
