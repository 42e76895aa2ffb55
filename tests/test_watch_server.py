"""The agent's HTTP side, in-process: /metrics, POST /alert, the status page, bundle files.

Targets here are loopback ports where nothing listens (samples fail with "refused"), with
hostile labels and alert texts: what reaches the page must be escaped.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mapdoctor.watch.agent import Agent, WatchConfig
from mapdoctor.watch.discovery import Discovery, FileSource
from mapdoctor.watch.server import WatchServer
from mapdoctor.watch.store import BundleStore

HOSTILE = "<script>alert(1)</script>\x1b[31m"


@pytest.fixture
def agent_url(tmp_path: Path) -> Iterator[tuple[Agent, str]]:
    sd = tmp_path / "sd.json"
    sd.write_text(json.dumps([{"targets": ["127.0.0.1:1", "127.0.0.1:2"], "labels": {"team": HOSTILE}}]))
    agent = Agent(WatchConfig(interval_s=2, window_s=1, budget=0.9, cooldown_s=0),
                  Discovery([FileSource(sd)]), BundleStore(tmp_path / "out", min_free_bytes=0),
                  log=open(tmp_path / "log.txt", "w"))  # noqa: SIM115 - closed with the agent's process
    server = WatchServer(agent, "127.0.0.1", 0, alert_token="s3cret")
    server.start()
    agent.start()
    host, port = server.address
    try:
        assert agent.ready.wait(10)
        yield agent, f"http://{host}:{port}"
    finally:
        agent.stop()
        server.stop()


def _get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


def _post(url: str, body: bytes, token: str | None = "s3cret") -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_metrics_page_and_webhook(agent_url: tuple[Agent, str]) -> None:
    agent, url = agent_url
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, text, _ = _get(url + "/metrics")
        if text.count('reason="refused"') == 2:
            break
        time.sleep(0.3)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    errors = [s for s in families["mapdoctor_collection_errors"].samples if s.name.endswith("_total")]
    assert {s.labels["target"] for s in errors} == {"http://127.0.0.1:1/debug/pprof/",
                                                    "http://127.0.0.1:2/debug/pprof/"}
    assert families["mapdoctor_watch_targets"].samples[0].value == 2
    assert "process_resident_memory_bytes" in families
    up = {s.labels["target"]: s.value for s in families["mapdoctor_target_up"].samples}
    assert set(up.values()) == {0.0}

    # The webhook: token, size and shape are checked before anything happens.
    alert = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": HOSTILE, "instance": "127.0.0.1:1"}},
        {"status": "firing", "labels": {"alertname": "Other", "instance": "10.0.0.1:6060"}}]}
    body = json.dumps(alert).encode()
    assert _post(url + "/alert", body, token=None)[0] == 401
    assert _post(url + "/alert", body, token="wrong")[0] == 401
    assert _post(url + "/alert", b"{not json")[0] == 400
    # A body announced larger than the cap is refused before it is read.
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", "/alert")
    conn.putheader("Authorization", "Bearer s3cret")
    conn.putheader("Content-Length", str(2 << 20))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    status, answer = _post(url + "/alert", body)
    assert status == 200
    assert answer["captures"] == [{"target": "http://127.0.0.1:1/debug/pprof/", "result": "capturing"}]
    ignored = answer["ignored"]
    assert isinstance(ignored, list) and "not a watched target" in json.dumps(ignored)

    # The capture of a dead target fails cleanly (no bundle, nothing pending).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not agent.counters.get("bundle_errors:collection"):
        time.sleep(0.3)
    assert agent.counters.get("bundle_errors:collection") == 1
    assert not any(agent.store.pending_dir.iterdir())

    status, page, headers = _get(url + "/")
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert "<script>" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "capture failed" in page

    for bad in ("/bundles/../index.json", "/bundles/x/report.html", "/bundles/%2e%2e/index.json", "/nope"):
        assert _get(url + bad)[0] == 404
