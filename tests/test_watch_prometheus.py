"""``mapdoctor watch`` with a real Prometheus and a real Alertmanager (Debian's packages).

One closed loop, all on loopback: Prometheus scrapes the agent's ``/metrics`` (checked
with a query through Prometheus' HTTP API), evaluates an alert rule on
``mapdoctor_cpu_share``, Alertmanager sends the alert to the agent's ``POST /alert``
(with a bearer token), and the agent captures the lab service (Go 1.27 with a flight
recorder); the bundle's verdict is checked. The same Prometheus also applies ``hashmod``
relabelling to a file_sd list, which must keep exactly the targets ``--shard`` keeps.

``tests/debian.py`` installs the packages on first need; the test is skipped, saying so, only
when they cannot be installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import debian
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import SWISS_GO, find_go
from mapdoctor.watch.targets import Shard

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-7f3a"
#: Every wait below is bounded; together well under a minute on a busy machine.
STEP_TIMEOUT_S = 40.0

pytestmark = [
    pytest.mark.go,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def _wait(what: str, probe: Any, timeout: float = STEP_TIMEOUT_S, logs: list[Path] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            got = probe()
        except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
            last, got = exc, None
        if got:
            return got
        time.sleep(0.5)
    tails = "".join(f"\n--- {p.name}:\n{p.read_text(errors='replace')[-1500:]}" for p in logs or [] if p.exists())
    pytest.fail(f"timed out waiting for {what} (last error: {last!r}){tails}")


class Proc:
    def __init__(self, name: str, cmd: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.log = log_dir / f"{name}.log"
        self._fh = self.log.open("wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._fh, stderr=subprocess.STDOUT,
                                     env=env, cwd=log_dir)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._fh.close()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    try:
        yield started
    finally:
        for p in reversed(started):
            p.stop()


def _configs(work: Path, watch_port: int, am_port: int, fleet: list[str]) -> None:
    (work / "token").write_text(TOKEN + "\n")
    (work / "fleet.json").write_text(json.dumps([{"targets": fleet, "labels": {"team": "shard-test"}}]))
    (work / "rules.yml").write_text("""groups:
- name: mapdoctor
  rules:
  - alert: MapGrowthHot
    expr: mapdoctor_cpu_share{kind="map_growth"} > 0.2
    labels:
      mapdoctor_target: '{{ $labels.target }}'
    annotations:
      summary: 'map growth takes {{ $value | humanizePercentage }} of CPU'
""")
    (work / "prometheus.yml").write_text(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
  - static_configs:
    - targets: ['127.0.0.1:{am_port}']
scrape_configs:
- job_name: mapdoctor
  static_configs:
  - targets: ['127.0.0.1:{watch_port}']
- job_name: shard
  scrape_interval: 1h
  file_sd_configs:
  - files: [fleet.json]
  relabel_configs:
  - source_labels: [__address__]
    modulus: 3
    target_label: __tmp_shard
    action: hashmod
  - source_labels: [__tmp_shard]
    regex: '1'
    action: keep
""")
    (work / "alertmanager.yml").write_text(f"""route:
  receiver: mapdoctor
  group_by: [alertname, mapdoctor_target]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: mapdoctor
  webhook_configs:
  - url: 'http://127.0.0.1:{watch_port}/alert'
    send_resolved: false
    http_config:
      authorization:
        credentials_file: {work / 'token'}
""")


def test_prometheus_scrapes_and_alertmanager_triggers_a_capture(tmp_path: Path, procs: list[Proc]) -> None:
    PROMETHEUS = debian.need("prometheus", "prometheus")
    ALERTMANAGER = debian.need("prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
    binary = build_lab(find_go(SWISS_GO))
    watch_port, prom_port, am_port = _free_port(), _free_port(), _free_port()
    fleet = [f"127.0.0.1:{n}" for n in range(1, 25)]  # never scraped (1 h interval); only relabelled
    _configs(tmp_path, watch_port, am_port, fleet)
    out = tmp_path / "bundles"
    with LabService(binary, "mapgrow-str", args=("-flightrecorder", "10s")) as lab:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        procs.append(Proc("watch", [sys.executable, "-m", "mapdoctor", "watch", lab.base_url,
                                    "--listen", f"127.0.0.1:{watch_port}", "--interval", "2", "--window", "1",
                                    "--budget", "60", "--share-jump", "0", "--capture-duration", "2",
                                    "--alert-token-file", str(tmp_path / "token"), "--out", str(out)],
                          tmp_path, env))
        procs.append(Proc("alertmanager", [ALERTMANAGER, f"--config.file={tmp_path / 'alertmanager.yml'}",
                                           f"--storage.path={tmp_path / 'am-data'}",
                                           f"--web.listen-address=127.0.0.1:{am_port}",
                                           "--cluster.listen-address="], tmp_path))
        procs.append(Proc("prometheus", [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                                         f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                                         f"--web.listen-address=127.0.0.1:{prom_port}",
                                         "--rules.alert.resend-delay=1s"], tmp_path))
        logs = [p.log for p in procs]
        prom = f"http://127.0.0.1:{prom_port}"
        key = f"{lab.base_url}/debug/pprof/"

        # 1. Prometheus scraped the agent: the lab's map-growth share, through PromQL.
        def share() -> float | None:
            q = urllib.parse.quote('mapdoctor_cpu_share{kind="map_growth",job="mapdoctor"}')
            res = _get_json(f"{prom}/api/v1/query?query={q}")["data"]["result"]
            vals = [float(r["value"][1]) for r in res if r["metric"].get("target") == key]
            return vals[0] if vals else None

        value = _wait("the map-growth share in Prometheus", share, logs=logs)
        assert value > 0.2, value
        targets = _get_json(f"{prom}/api/v1/query?query=mapdoctor_watch_targets")["data"]["result"]
        assert [float(t["value"][1]) for t in targets] == [1.0]

        # 2. The rule fired, Alertmanager called the webhook, the agent captured: a bundle.
        def alert_bundle() -> dict[str, Any] | None:
            index = json.loads((out / "index.json").read_text())
            return next((b for b in index["bundles"] if b["trigger"] == "alert"), None)

        bundle = _wait("a bundle captured on the Alertmanager webhook", alert_bundle, logs=logs)
        assert bundle["target"] == key
        assert bundle["verdict"] == "map_growth", bundle
        assert "MapGrowthHot" in bundle["reason"]
        folder = out / "bundles" / bundle["id"]
        report = json.loads((folder / "report.json").read_text())
        assert report["verdict"] == "map_growth"
        assert report["causes"][0]["sites"][0]["file"].endswith("orders.go")
        manifest = json.loads((folder / "manifest.json").read_text())
        trace = next(p for p in manifest["parts"] if p["name"] == "trace")
        assert trace["request"].endswith("/flightrecorder") and trace["status"] == "ok"
        assert (folder / "report.html").read_text().lower().startswith("<!doctype html>")

        # 3. The capture's verdict is back in Prometheus.
        def capture_verdict() -> list[Any]:
            q = urllib.parse.quote('mapdoctor_capture_verdict{verdict="map_growth"}')
            result: list[Any] = _get_json(f"{prom}/api/v1/query?query={q}")["data"]["result"]
            return result

        assert _wait("mapdoctor_capture_verdict in Prometheus", capture_verdict, logs=logs)

        # 4. Prometheus' hashmod keeps exactly what --shard 1/3 keeps.
        data = _get_json(f"{prom}/api/v1/targets?state=any")["data"]
        kept = {t["discoveredLabels"]["__address__"] for t in data["activeTargets"]
                if t["discoveredLabels"].get("job") == "shard"}
        dropped = {t["discoveredLabels"]["__address__"] for t in data["droppedTargets"]
                   if t["discoveredLabels"].get("job") == "shard"}
        assert kept | dropped == set(fleet)
        ours = {a for a in fleet if Shard(1, 3).keeps({"__address__": a})}
        assert kept == ours and 0 < len(kept) < len(fleet)
