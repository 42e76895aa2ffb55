"""``mapdoctor watch`` pieces on real inputs: target sources, shards, triggers, alerts, the store.

The store is exercised on real files (fsync, rename), including a real full disk: a small
tmpfs, mounted where the tests run as root (CI does).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapdoctor.analysis.snapshot import cpu_snapshot
from mapdoctor.errors import InputError
from mapdoctor.watch.alerts import PayloadError, match, parse_payload
from mapdoctor.watch.discovery import Discovery, FileSource, StaticSource
from mapdoctor.watch.store import BundleStore, StoreError, iter_bundle_dirs, verify_bundle
from mapdoctor.watch.targets import (
    Shard,
    WatchTarget,
    hashmod,
    make_target,
    parse_target_file,
    parse_target_groups,
)
from mapdoctor.watch.triggers import Baseline, TriggerRules, evaluate

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"


def _cpu(go: str, scenario: str) -> bytes:
    return (FIX / go / scenario / "cpu.pb.gz").read_bytes()


# -- target sources ------------------------------------------------------------------------

def test_file_sd_groups_become_targets_with_labels() -> None:
    doc = [{"targets": ["10.1.2.3:6060", "svc.internal:6060"], "labels": {"job": "api", "__scheme__": "https"}},
           {"targets": ["127.0.0.1:7070"], "labels": {"__pprof_path__": "/admin/pprof/", "instance": "edge-1"}}]
    found = parse_target_groups(json.dumps(doc).encode(), "sd.json")
    targets = [make_target(d) for d in found]
    assert [t.key for t in targets] == ["https://10.1.2.3:6060/debug/pprof/", "https://svc.internal:6060/debug/pprof/",
                                        "http://127.0.0.1:7070/admin/pprof/"]
    assert targets[0].labels == (("job", "api"),)  # __ labels are not shown
    assert targets[2].instance == "edge-1" and targets[0].instance == "10.1.2.3:6060"


@pytest.mark.parametrize(("body", "why"), [
    (b"{", "not JSON"),
    (b'{"targets": []}', "expected a JSON list"),
    (b'[{"targets": "a:1"}]', "must be a list of strings"),
    (b'[{"targets": ["a:1"], "labels": {"x": 1}}]', "must map strings to strings"),
    (b'[{"targets": [" "]}]', "empty or overlong"),
])
def test_bad_target_groups_are_one_line_errors(body: bytes, why: str) -> None:
    with pytest.raises(InputError) as err:
        parse_target_groups(body, "sd.json")
    assert why in str(err.value) and str(err.value).startswith("sd.json: target groups: ")


def test_url_list_and_yaml_refusal() -> None:
    found = parse_target_file(b"# fleet\nhttp://127.0.0.1:6060\n\n127.0.0.2:7000  # comment\n", "list.txt")
    assert [make_target(d).key for d in found] == ["http://127.0.0.1:6060/debug/pprof/",
                                                   "http://127.0.0.2:7000/debug/pprof/"]
    with pytest.raises(InputError, match="line 1"):
        parse_target_file(b"ftp://x\n", "list.txt")
    with pytest.raises(InputError, match="YAML"):
        parse_target_file(b"- targets: []", "sd.yml")


def test_file_source_reloads_on_change_and_keeps_the_old_list_on_a_bad_write(tmp_path: Path) -> None:
    sd = tmp_path / "sd.json"
    sd.write_text(json.dumps([{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}]))
    disc = Discovery([FileSource(sd), StaticSource(["127.0.0.1:3"])])
    first = disc.poll(0.0)
    assert first is not None and len(first) == 3
    assert disc.poll(1.0) is None  # unchanged
    sd.write_text("[{\"targets\": [")  # a half-written file
    assert disc.poll(2.0) is None
    assert disc.sources[0].status.error is not None and "not JSON" in disc.sources[0].status.error
    sd.write_text(json.dumps([{"targets": ["127.0.0.1:1"]}]))
    again = disc.poll(3.0)
    assert again is not None and sorted(t.key for t in again) == ["http://127.0.0.1:1/debug/pprof/",
                                                                  "http://127.0.0.1:3/debug/pprof/"]
    assert disc.sources[0].status.error is None


def test_hashmod_matches_prometheus_vectors() -> None:
    # Known values of Prometheus' relabel hashmod (md5, last 8 bytes, big-endian); the
    # Prometheus integration test checks the same against a running Prometheus.
    value = "127.0.0.1:9090"
    import hashlib

    digest = hashlib.md5(value.encode()).digest()
    assert hashmod(value, 1 << 64) == int.from_bytes(digest[8:], "big")
    shards = [Shard(i, 4) for i in range(4)]
    addresses = [f"10.0.0.{n}:6060" for n in range(200)]
    kept = [sum(s.keeps({"__address__": a}) for s in shards) for a in addresses]
    assert kept == [1] * 200  # every target in exactly one shard
    sizes = [sum(s.keeps({"__address__": a}) for a in addresses) for s in shards]
    assert min(sizes) > 30  # and the shards are balanced (200 / 4 = 50 expected)


# -- triggers --------------------------------------------------------------------------------

def test_share_jump_fires_on_map_growth_against_a_healthy_baseline() -> None:
    rules = TriggerRules(jump=0.20, min_baseline=3)
    base = Baseline(rules.baseline_len)
    healthy = cpu_snapshot(_cpu("go1.27", "presized"), "presized")
    for _ in range(3):
        assert evaluate(rules, healthy, 10, base) is None
    spike = cpu_snapshot(_cpu("go1.27", "mapgrow-str"), "mapgrow")
    fired = evaluate(rules, spike, 10, base)
    assert fired is not None and fired.kind == "share_jump" and fired.detail["share"] == "map_growth"
    # The spike did not join the baseline: it fires again next time.
    assert evaluate(rules, spike, 10, base) is not None


def test_idle_samples_never_fire_or_feed_the_baseline() -> None:
    rules = TriggerRules(jump=0.05, min_baseline=1)
    base = Baseline(rules.baseline_len)
    idle = cpu_snapshot(_cpu("go1.23", "idle"), "idle")
    assert idle.samples < rules.min_samples
    assert evaluate(rules, idle, 5, base) is None and not base.history


def test_thresholds() -> None:
    snap = cpu_snapshot(_cpu("go1.23", "gcpressure"), "gc")
    assert evaluate(TriggerRules(cpu_cores=0.5, jump=None), snap, 3, Baseline(5)) is not None
    fired = evaluate(TriggerRules(goroutines=100, jump=None), snap, 101, Baseline(5))
    assert fired is not None and fired.kind == "goroutines"


# -- alerts ----------------------------------------------------------------------------------

def _targets() -> list[WatchTarget]:
    groups = [{"targets": ["127.0.0.1:6060"], "labels": {"instance": "api-1"}}, {"targets": ["127.0.0.1:7070"]}]
    return [make_target(d) for d in parse_target_groups(json.dumps(groups).encode(), "x")]


def test_alerts_match_watched_targets_only() -> None:
    payload = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "Slow", "instance": "api-1"}},
        {"status": "firing", "labels": {"alertname": "Slow", "instance": "127.0.0.1:7070"}},
        {"status": "firing", "labels": {"alertname": "X", "mapdoctor_target": "http://169.254.169.254/"}},
        {"status": "resolved", "labels": {"alertname": "Slow", "instance": "api-1"}},
        {"status": "firing", "labels": {"alertname": "NoTarget"}},
    ]}
    m = match(parse_payload(json.dumps(payload).encode()), _targets())
    assert [t.key for t, _ in m.captures] == ["http://127.0.0.1:6060/debug/pprof/",
                                              "http://127.0.0.1:7070/debug/pprof/"]
    whys = [why for _, why in m.ignored]
    assert any("not a watched target" in w for w in whys) and any("resolved" in w for w in whys)
    assert any("no mapdoctor_target" in w for w in whys)
    with pytest.raises(PayloadError):
        parse_payload(b'{"no": "alerts"}')


# -- the store -------------------------------------------------------------------------------

def _fill(pending_dir: Path, size: int) -> None:
    (pending_dir / "cpu.pb.gz").write_bytes(os.urandom(size))
    (pending_dir / "report.json").write_text('{"verdict": "map_growth"}')


def test_bundles_are_sealed_verified_and_pruned(tmp_path: Path) -> None:
    store = BundleStore(tmp_path, keep_count=3, keep_bytes=10 << 20, min_free_bytes=0)
    assert store.open() == []
    ids = []
    for n in range(5):
        p = store.begin(f"http://127.0.0.1:{6000 + n}/debug/pprof/", {"kind": "alert", "reason": "test"})
        _fill(p.dir, 1000)
        ids.append(store.commit(p, {"verdict": "map_growth", "confidence": "high", "summary": "s"}).id)
    kept = [b.id for b in store.bundles()]
    assert kept == ids[2:]  # the oldest two pruned by count
    assert [d.name for d in iter_bundle_dirs(tmp_path)] == sorted(kept)
    for d in iter_bundle_dirs(tmp_path):
        assert verify_bundle(d) == []
    index = json.loads((tmp_path / "index.json").read_text())
    assert [b["id"] for b in index["bundles"]] == kept
    # A damaged file is found.
    victim = next(iter_bundle_dirs(tmp_path))
    (victim / "cpu.pb.gz").write_bytes(b"x")
    assert verify_bundle(victim) != []
    # Size retention: a 4 MB bundle in a 5 MB store pushes the others out.
    small = BundleStore(tmp_path / "s", keep_count=100, keep_bytes=5 << 20, min_free_bytes=0)
    small.open()
    for size in (2 << 20, 2 << 20, 4 << 20):
        p = small.begin("http://127.0.0.1:1/debug/pprof/", {"kind": "cpu"})
        _fill(p.dir, size)
        small.commit(p, {})
    assert len(small.bundles()) == 1 and small.total_bytes() <= 5 << 20


def test_restart_resumes_a_capture_cut_short_and_rebuilds_the_index(tmp_path: Path) -> None:
    store = BundleStore(tmp_path, min_free_bytes=0)
    store.open()
    done = store.commit(store.begin("http://127.0.0.1:1/debug/pprof/", {"kind": "cpu"}), {"verdict": "x"})
    cut = store.begin("http://127.0.0.1:2/debug/pprof/", {"kind": "alert", "reason": "Slow"})
    (cut.dir / "cpu.pb.gz").write_bytes(b"half")  # the agent is killed here
    (tmp_path / "index.json").write_text("{ broken")  # and say the index was damaged too
    again = BundleStore(tmp_path, min_free_bytes=0)
    resumed = again.open()
    assert [r["target"] for r in resumed] == ["http://127.0.0.1:2/debug/pprof/"]
    assert resumed[0]["trigger"]["reason"] == "Slow"
    assert not any(again.pending_dir.iterdir())
    assert [b.id for b in again.bundles()] == [done.id]
    assert json.loads((tmp_path / "index.json").read_text())["bundles"][0]["id"] == done.id


def test_bundle_files_are_served_by_checked_names_only(tmp_path: Path) -> None:
    store = BundleStore(tmp_path, min_free_bytes=0)
    store.open()
    p = store.begin("http://127.0.0.1:1/debug/pprof/", {"kind": "cpu"})
    _fill(p.dir, 10)
    b = store.commit(p, {})
    assert store.bundle_file(b.id, "report.json") is not None
    for bad in [("..", "index.json"), (b.id, "../../index.json"), (b.id, ".hidden"), ("x", "report.json")]:
        assert store.bundle_file(*bad) is None


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill a disk ({proc.stderr.strip() or 'not root'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root to mount a tmpfs")
def test_a_full_disk_loses_no_finished_bundle(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "disk", "2m") as disk:
        store = BundleStore(disk, keep_count=100, keep_bytes=1 << 30, min_free_bytes=0)
        store.open()
        good = []
        failures = 0
        for _ in range(12):
            try:
                p = store.begin("http://127.0.0.1:1/debug/pprof/", {"kind": "cpu"})
            except StoreError as exc:
                assert exc.reason == "disk_full"
                failures += 1
                continue
            try:
                _fill(p.dir, 300_000)
            except OSError:
                store.abandon(p)
                failures += 1
                continue
            try:
                good.append(store.commit(p, {"verdict": "map_growth"}).id)
            except StoreError as exc:
                assert exc.reason == "disk_full"
                failures += 1
        assert good and failures  # the disk filled up part-way
        assert not any(store.pending_dir.iterdir())  # nothing half-written left behind
        for d in iter_bundle_dirs(disk):
            assert verify_bundle(d) == []
        assert sorted(d.name for d in iter_bundle_dirs(disk)) == sorted(good)
        reopened = BundleStore(disk, min_free_bytes=0)
        reopened.open()
        assert sorted(b.id for b in reopened.bundles()) == sorted(good)
        # The free-space floor refuses a capture before anything is written.
        floor = BundleStore(disk, min_free_bytes=1 << 30)
        with pytest.raises(StoreError, match="free"):
            floor.begin("http://127.0.0.1:1/debug/pprof/", {"kind": "cpu"})


def test_light_sample_timing_is_bounded() -> None:
    # A refused connection costs nothing and is classified, not raised.
    from mapdoctor.collect.sample import light_sample
    from mapdoctor.collect.target import parse_target

    t0 = time.monotonic()
    got = light_sample(parse_target("127.0.0.1:1"), 1)
    assert got.reason == "refused" and got.cpu_profile is None
    assert time.monotonic() - t0 < 5


def test_http_sd_reads_target_groups_and_keeps_them_when_the_endpoint_fails() -> None:
    import http.server
    import threading

    from mapdoctor.watch.discovery import HttpSdSource

    state = {"status": 200, "body": json.dumps([{"targets": ["127.0.0.1:6060"], "labels": {"job": "a"}}]).encode()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(state["status"])  # type: ignore[arg-type]
            self.send_header("Content-Type", "application/json")
            body = state["body"]
            assert isinstance(body, bytes)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/sd?zone=a"
        disc = Discovery([HttpSdSource(url, refresh_s=0.0)])
        got = disc.poll(0.0)
        assert got is not None and [t.key for t in got] == ["http://127.0.0.1:6060/debug/pprof/"]
        assert got[0].labels == (("job", "a"),)
        state["status"] = 500
        assert disc.poll(1.0) is None  # the endpoint fails: the last list stays
        assert disc.sources[0].status.error is not None and "HTTP 500" in disc.sources[0].status.error
        state["status"], state["body"] = 200, b"not json"
        assert disc.poll(2.0) is None and "not JSON" in (disc.sources[0].status.error or "")
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize(("argv", "message"), [
    (["watch"], "at least one TARGET"),
    (["watch", "127.0.0.1:1", "--shard", "3/3"], "--shard"),
    (["watch", "127.0.0.1:1", "--window", "0"], "--window"),
    (["watch", "127.0.0.1:1", "--listen", "nowhere"], "--listen"),
    (["watch", "127.0.0.1:1", "--keep-size", "lots"], "--keep-size"),
])
def test_watch_usage_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    from mapdoctor.cli.main import main

    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_malloc_arenas_capped_on_glibc() -> None:
    import platform

    from mapdoctor.watch.memory import limit_malloc_arenas

    applied = limit_malloc_arenas()
    if platform.libc_ver()[0] == "glibc":
        assert applied
