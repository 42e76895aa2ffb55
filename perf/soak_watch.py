"""Soak test of ``mapdoctor watch`` (not part of the test suite; about 10 minutes).

200 targets on loopback: 3 real lab services (Go 1.27 map growth with a flight recorder,
Go 1.23 GC pressure, Go 1.27 idle) and 197 fake pprof endpoints serving real captured
profiles (perf/fake_pprof.py), read from a file_sd file. During the run:

* fake targets die and come back (5 % every 15 s, down 20-60 s); a lab service is
  restarted on the same port; some fake targets switch to a map-growth profile for a
  minute (share-jump triggers); an Alertmanager-style webhook arrives every 20 s;
* the agent is killed (SIGKILL) and later stopped (SIGTERM) while a capture runs, and
  restarted each time: the capture must be resumed;
* the bundle folder is a 64 MB tmpfs that is filled to 1.5 MB free for a minute (disk full).

At the end every bundle is verified (sizes and SHA-256 of each file against bundle.json),
the index is checked against the bundles, every trigger is accounted for, no
``cmdline`` request was made, and the agent's RSS over the last 7 minutes (one
uninterrupted run) is reported: flat means the last minutes' median within 10 % of the
first's. Needs root (for the tmpfs).

    python perf/soak_watch.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_pprof import FakeTarget, Fleet, load_fixtures, write_sd
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go
from mapdoctor.watch.store import iter_bundle_dirs, verify_bundle

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _calm(t: FakeTarget) -> None:
    t.scenario = "presized"


class FleetThread:
    """The fake fleet's event loop in a thread, with the chaos schedule."""

    def __init__(self, n: int, sd: Path, labs: list[str]) -> None:
        self.fleet = Fleet(load_fixtures())
        self.sd, self.labs, self.n = sd, labs, n
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop = False
        self.downs = 0
        self.spikes = 0
        self._tasks: set[asyncio.Future[None]] = set()
        self.thread = threading.Thread(target=self._run, daemon=True, name="fleet")
        self.thread.start()
        if not self.ready.wait(60):
            raise SystemExit("the fake fleet did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        rng = random.Random(7)
        await self.fleet.add(self.n, rng)
        write_sd(self.fleet, self.sd, self.labs)
        self.ready.set()
        await self._chaos(rng)
        for t in self.fleet.targets:
            await self.fleet.stop_target(t)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _chaos(self, rng: random.Random) -> None:
        next_down, next_spike = time.monotonic() + 15, time.monotonic() + 30
        while not self.stop:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            if now >= next_down:
                next_down = now + 15
                for t in rng.sample(self.fleet.targets, max(1, self.n // 20)):
                    if t.up:
                        self.downs += 1
                        await self.fleet.stop_target(t)
                        self.loop.call_later(rng.uniform(20, 60), self._schedule_up, t)
            if now >= next_spike:
                next_spike = now + 30
                for t in rng.sample([t for t in self.fleet.targets if t.scenario == "presized"], 3):
                    self.spikes += 1
                    t.scenario = "mapgrow-str"
                    self.loop.call_later(60, _calm, t)

    def _schedule_up(self, t: FakeTarget) -> None:
        task = asyncio.ensure_future(self._up(t))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _up(self, t: FakeTarget) -> None:
        for _ in range(20):
            try:
                await self.fleet.start_target(t)
                return
            except OSError:
                await asyncio.sleep(1)


class AgentProc:
    def __init__(self, cmd: list[str], log: Path) -> None:
        self.cmd, self.log = cmd, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.cpu_total = 0.0

    def start(self) -> None:
        fh = self.log.open("ab")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=fh, env=env)
        fh.close()

    def stop(self, sig: int) -> None:
        assert self.proc is not None
        with_cpu = cpu_s(self.proc.pid) if self.proc.poll() is None else 0.0
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.cpu_total += with_cpu

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def capture_in_progress(log: Path) -> bool:
    """A trigger was logged after the last capture outcome (the agent is capturing)."""
    text = log.read_text(errors="replace")
    last_trigger = text.rfind(": trigger ")
    last_end = max(text.rfind(": captured "), text.rfind(": capture failed"), text.rfind("stopped"))
    return last_trigger > last_end


def post_alert(port: int, instance: str) -> None:
    payload = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "SoakLatency", "instance": instance}, "fingerprint": "s"}]}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/alert", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            resp.read()
    except OSError:
        pass  # the agent may be restarting


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--targets", type=int, default=200)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the soak mounts a tmpfs for its disk-full phase: run it as root")
    T = args.seconds
    work = Path(tempfile.mkdtemp(prefix="soak-watch-"))
    disk = work / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], check=True, timeout=30)
    swiss, classic = build_lab(find_go(SWISS_GO)), build_lab(find_go(CLASSIC_GO))
    lab_ports = [free_port() for _ in range(3)]
    lab_specs = [(swiss, "mapgrow-str", ("-flightrecorder", "10s")), (classic, "gcpressure", ()), (swiss, "idle", ())]
    labs = [LabService(b, sc, workers=1, args=(*extra, "-addr", f"127.0.0.1:{port}"))
            for (b, sc, extra), port in zip(lab_specs, lab_ports, strict=True)]
    for lab in labs:
        lab.start()
    lab_addrs = [f"127.0.0.1:{p}" for p in lab_ports]
    sd = work / "fleet.json"
    fleet = FleetThread(args.targets - len(labs), sd, lab_addrs)
    port = free_port()
    log = work / "agent.log"
    agent = AgentProc([sys.executable, "-m", "mapdoctor", "watch", "--targets-file", str(sd), "--interval", "20",
                       "--window", "2", "--capture-duration", "2", "--cooldown", "60", "--max-captures", "2",
                       "--keep", "60", "--keep-size", "24M", "--min-free", "1M", "--listen", f"127.0.0.1:{port}",
                       "--out", str(disk / "bundles")], log)
    print(f"soak: {args.targets} targets ({len(labs)} lab services), {T:.0f} s; work folder {work}", flush=True)
    rss: list[tuple[float, int]] = []  # (seconds since the last start, KB) of the final uninterrupted run
    kills: list[str] = []
    events = {"disk_full_on": 0.12 * T + 120, "disk_full_off": 0.12 * T + 180, "lab_restart": 0.55 * T}
    restarts = [(0.2 * T, signal.SIGKILL), (0.3 * T, signal.SIGTERM)]
    t0 = time.monotonic()
    agent.start()
    last_start = t0
    next_alert = t0 + 20
    ballast = disk / "ballast"
    rng = random.Random(3)
    try:
        while (now := time.monotonic()) - t0 < T:
            el = now - t0
            if restarts and el >= restarts[0][0]:
                # Make a capture start (a webhook for a fake target), then stop the agent in the middle of it.
                _, sig = restarts.pop(0)
                mid = False
                for _ in range(10):
                    t = rng.choice([t for t in fleet.fleet.targets if t.up])
                    post_alert(port, f"127.0.0.1:{t.port}")
                    for _ in range(25):
                        time.sleep(0.2)
                        if capture_in_progress(log):
                            mid = True
                            break
                    if mid:
                        time.sleep(0.5)
                        break
                agent.stop(sig)
                kills.append(f"{signal.Signals(sig).name} at {el:.0f} s ({'mid-capture' if mid else 'idle'})")
                agent.start()
                last_start = time.monotonic()
                rss.clear()
            if events.get("disk_full_on") and el >= events["disk_full_on"]:
                del events["disk_full_on"]
                free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
                with ballast.open("wb") as fh:
                    fh.truncate(0)
                    fh.write(b"\0" * max(0, free - (3 << 19)))
                print(f"soak: {el:.0f} s: disk full (1.5 MB left)", flush=True)
            if events.get("disk_full_off") and el >= events["disk_full_off"]:
                del events["disk_full_off"]
                ballast.unlink()
                print(f"soak: {el:.0f} s: disk space back", flush=True)
            if events.get("lab_restart") and el >= events["lab_restart"]:
                del events["lab_restart"]
                labs[1].stop()
                time.sleep(5)
                labs[1].start()
                print(f"soak: {el:.0f} s: lab service {lab_addrs[1]} restarted", flush=True)
            if now >= next_alert:
                next_alert = now + 20
                inst = rng.choice([*lab_addrs, *[f"127.0.0.1:{t.port}" for t in fleet.fleet.targets[:50]]])
                post_alert(port, inst)
            if agent.proc is not None and agent.proc.poll() is None:
                rss.append((now - last_start, rss_kb(agent.pid)))
            time.sleep(5)
        agent_cpu = cpu_s(agent.pid) + agent.cpu_total
        agent.stop(signal.SIGTERM)
    finally:
        fleet.stop = True
        fleet.thread.join(timeout=30)
        for lab in labs:
            lab.stop()

    # -- checks ---------------------------------------------------------------------------------
    text = log.read_text(errors="replace")
    triggers = len(re.findall(r": trigger \w+: ", text))
    resumed = text.count("trigger resumed: ")
    captured = len(re.findall(r": captured \S+: ", text))
    failed = re.findall(r": capture failed \((\w+)\)", text)
    skipped = text.count("capture skipped")
    bundle_dirs = list(iter_bundle_dirs(disk / "bundles"))
    problems = [p for d in bundle_dirs for p in verify_bundle(d)]
    index = json.loads((disk / "bundles" / "index.json").read_text())
    index_ids = sorted(b["id"] for b in index["bundles"])
    pending = list((disk / "bundles" / "pending").iterdir())
    unaccounted = triggers - captured - len(failed) - skipped
    lost = unaccounted - resumed - len(pending)
    pruned = captured - len(bundle_dirs)
    print(f"\nsoak over {T:.0f} s, {args.targets} targets; load average {os.getloadavg()[0]:.1f} "
          f"(uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()})")
    print(f"  chaos: {fleet.downs} target outages, {fleet.spikes} map-growth spikes, 1 lab restart, "
          f"disk full for 60 s, agent stops: {', '.join(kills)}")
    print(f"  fake endpoints: {fleet.fleet.requests} requests; cmdline/vars requests: {len(fleet.fleet.violations)}")
    print(f"  triggers {triggers} (of which resumed after a restart: {resumed}); captured {captured}; "
          f"failed {len(failed)} {dict((r, failed.count(r)) for r in sorted(set(failed)))}; skipped {skipped}; "
          f"journaled at the end (resumed at next start): {len(pending)}")
    print(f"  bundles on disk {len(bundle_dirs)} (retention pruned {pruned}); index matches: "
          f"{index_ids == sorted(d.name for d in bundle_dirs)}; corrupt: {len(problems)} {problems[:3]}")
    print(f"  triggers lost: {lost}")
    print(f"  agent CPU over the whole run: {agent_cpu:.0f} s = {agent_cpu / T:.2f} cores")
    if len(rss) >= 10:
        span = rss[-1][0]
        first = [kb for t, kb in rss if t < span * 0.3]
        last = [kb for t, kb in rss if t >= span * 0.7]
        m1, m2 = statistics.median(first), statistics.median(last)
        print(f"  agent RSS over its last {span / 60:.1f} min uninterrupted run ({len(rss)} samples): first 30 % "
              f"median {m1 / 1024:.1f} MB, last 30 % median {m2 / 1024:.1f} MB ({m2 / m1 - 1:+.1%}), max "
              f"{max(kb for _, kb in rss) / 1024:.1f} MB: {'flat' if m2 <= 1.1 * m1 else 'GROWING'}")
    subprocess.run(["umount", "-l", str(disk)], timeout=30)
    ok = not problems and lost <= 0 and not fleet.fleet.violations and index_ids == sorted(d.name for d in bundle_dirs)
    print("soak:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
