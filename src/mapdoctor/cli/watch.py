"""``mapdoctor watch TARGET...``: watch services, capture and diagnose when a spike happens."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from pathlib import Path
from types import FrameType

from mapdoctor.cli.command import UsageError
from mapdoctor.collect.plan import MAX_DURATION_S, MIN_DURATION_S

DEFAULT_LISTEN = "127.0.0.1:9477"
DEFAULT_OUT = "mapdoctor-watch"
TOKEN_ENV = "MAPDOCTOR_ALERT_TOKEN"


def parse_size(text: str, what: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise UsageError(f"{what} {text!r}: expected a size like 500M or 2G")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9477")
    return host or "127.0.0.1", int(port)


class WatchCommand:
    name = "watch"
    help = ("Watch one or many Go services: light CPU samples on a schedule, triggers (CPU, goroutines, "
            "a jump of the map-growth/GC/lock share, Alertmanager webhooks), a full diagnose capture into an "
            "evidence bundle on each, Prometheus metrics and a status page.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("targets")
        g.add_argument("urls", nargs="*", metavar="TARGET", help="pprof URL or host:port, as for diagnose")
        g.add_argument("--targets-file", "--file-sd", dest="files", action="append", default=[], type=Path,
                       metavar="FILE", help="a list of URLs (one per line) or Prometheus file_sd JSON; re-read "
                                            "when it changes (repeatable)")
        g.add_argument("--http-sd", action="append", default=[], metavar="URL",
                       help="a Prometheus http_sd endpoint returning target groups (repeatable)")
        g.add_argument("--http-sd-refresh", type=float, default=60.0, metavar="S",
                       help="seconds between http_sd reads (default 60)")
        g.add_argument("--shard", metavar="I/N", help="watch only the targets Prometheus' hashmod puts in shard I "
                                                      "of N (over __address__)")
        g.add_argument("--shard-labels", metavar="L1,L2", help="labels hashed for --shard (default __address__)")
        g.add_argument("--header", action="append", default=[], metavar="'K: V'",
                       help="extra request header sent to every target (repeatable)")
        g.add_argument("--cacert", type=Path, metavar="FILE", help="CA certificates for https targets")
        g.add_argument("--insecure", action="store_true", help="do not verify https targets' certificates")

        s = parser.add_argument_group("light sampling")
        s.add_argument("--interval", type=float, default=60.0, metavar="S",
                       help="seconds between light samples of a target (jittered ±10%%; default 60)")
        s.add_argument("--window", type=int, default=5, metavar="S", help="CPU profile length of a light sample "
                                                                            "(default 5)")
        s.add_argument("--concurrency", type=int, default=64, metavar="N", help="light samples at once (default 64)")
        s.add_argument("--budget", type=float, default=10.0, metavar="PCT",
                       help="most of its time a target may spend being profiled, in %% (default 10)")
        s.add_argument("--max-cpu", type=float, default=0.5, metavar="CORES",
                       help="the agent's own CPU budget; intervals stretch above it (default 0.5)")

        t = parser.add_argument_group("triggers")
        t.add_argument("--cpu-cores", type=float, metavar="N", help="capture when a target uses more than N cores")
        t.add_argument("--goroutines", type=int, metavar="N", help="capture when a target has more than N goroutines")
        t.add_argument("--share-jump", type=float, default=20.0, metavar="POINTS",
                       help="capture when the map-growth, GC or lock share's 95%% lower bound is POINTS above the "
                            "target's baseline (default 20; 0 disables)")
        t.add_argument("--alert-token-file", type=Path, metavar="FILE",
                       help="require 'Authorization: Bearer <token>' on POST /alert "
                            f"(token from FILE, or ${TOKEN_ENV})")

        c = parser.add_argument_group("captures and bundles")
        c.add_argument("--capture-duration", type=int, default=5, metavar="S",
                       help=f"diagnose window of a capture ({MIN_DURATION_S}-{MAX_DURATION_S}, default 5)")
        c.add_argument("--cooldown", type=float, default=600.0, metavar="S",
                       help="seconds after a capture before the same target is captured again (default 600)")
        c.add_argument("--max-captures", type=int, default=2, metavar="N", help="captures at once (default 2)")
        c.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR",
                       help=f"where bundles are kept (default ./{DEFAULT_OUT})")
        c.add_argument("--keep", type=int, default=200, metavar="N", help="keep at most N bundles (default 200)")
        c.add_argument("--keep-size", default="1G", metavar="SIZE", help="and at most SIZE in total (default 1G)")
        c.add_argument("--min-free", default="64M", metavar="SIZE",
                       help="no capture starts with less free disk space (default 64M)")
        c.add_argument("--no-flight-recorder", dest="flight_recorder", action="store_false",
                       help="always take a live trace, even from services serving a flight recorder")

        parser.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                            help=f"/metrics, POST /alert and the status page (default {DEFAULT_LISTEN})")

    def run(self, args: argparse.Namespace) -> int:
        from mapdoctor.collect.target import is_loopback_host
        from mapdoctor.watch.agent import Agent, WatchConfig
        from mapdoctor.watch.discovery import Discovery, FileSource, HttpSdSource, Source, StaticSource
        from mapdoctor.watch.memory import limit_malloc_arenas
        from mapdoctor.watch.server import WatchServer
        from mapdoctor.watch.store import BundleStore
        from mapdoctor.watch.targets import parse_shard
        from mapdoctor.watch.triggers import TriggerRules

        if not (args.urls or args.files or args.http_sd):
            raise UsageError("watch: give at least one TARGET, --targets-file or --http-sd")
        checks = [
            (args.interval >= 1, "--interval must be at least 1 second"),
            (MIN_DURATION_S <= args.window <= MAX_DURATION_S,
             f"--window must be between {MIN_DURATION_S} and {MAX_DURATION_S} seconds"),
            (args.window < args.interval, "--window must be shorter than --interval"),
            (MIN_DURATION_S <= args.capture_duration <= MAX_DURATION_S,
             f"--capture-duration must be between {MIN_DURATION_S} and {MAX_DURATION_S} seconds"),
            (1 <= args.concurrency <= 1024, "--concurrency must be between 1 and 1024"),
            (0 < args.budget <= 100, "--budget must be a percentage above 0"),
            (args.max_cpu > 0, "--max-cpu must be above 0"),
            (1 <= args.max_captures <= 16, "--max-captures must be between 1 and 16"),
            (args.keep >= 1, "--keep must be at least 1"),
            (args.cooldown >= 0, "--cooldown must not be negative"),
            (args.share_jump >= 0, "--share-jump must not be negative"),
        ]
        for ok, why in checks:
            if not ok:
                raise UsageError(why)
        host, port = parse_listen(args.listen)
        token = _token(args.alert_token_file)

        sources: list[Source] = []
        if args.urls:
            sources.append(StaticSource(args.urls))
        sources += [FileSource(p) for p in args.files]
        sources += [HttpSdSource(u, refresh_s=max(1.0, args.http_sd_refresh)) for u in args.http_sd]
        shard = parse_shard(args.shard, args.shard_labels) if args.shard else None
        discovery = Discovery(sources, shard, tuple(args.header), args.cacert, bool(args.insecure))
        rules = TriggerRules(cpu_cores=args.cpu_cores, goroutines=args.goroutines,
                             jump=args.share_jump / 100 if args.share_jump else None)
        config = WatchConfig(interval_s=args.interval, window_s=args.window, concurrency=args.concurrency,
                             budget=args.budget / 100, max_cpu=args.max_cpu, capture_s=args.capture_duration,
                             cooldown_s=args.cooldown, max_captures=args.max_captures,
                             flight_recorder=bool(args.flight_recorder), rules=rules)
        store = BundleStore(args.out, keep_count=args.keep, keep_bytes=parse_size(args.keep_size, "--keep-size"),
                            min_free_bytes=parse_size(args.min_free, "--min-free"))
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: {exc.strerror or exc}") from None
        limit_malloc_arenas()  # before any thread starts: keeps RSS flat (see watch/memory.py)
        agent = Agent(config, discovery, store)
        try:
            server = WatchServer(agent, host, port, alert_token=token)
        except OSError as exc:
            raise UsageError(f"--listen {args.listen}: {exc.strerror or exc}") from None
        if not is_loopback_host(host):
            print(f"mapdoctor: warning: listening on {host}, not loopback: the status page shows target URLs "
                  "and profile sites" + ("" if token else ", and POST /alert takes webhooks from anyone "
                                         "(use --alert-token-file)"), file=sys.stderr)
        if config.interval_s < agent.schedule.base_interval_s:
            print(f"mapdoctor: --interval {args.interval:g} s with --window {args.window} s exceeds the "
                  f"{args.budget:g}% overhead budget: sampling every {agent.schedule.base_interval_s:.0f} s",
                  file=sys.stderr)
        stopping: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopping.append(signum)
            agent.stop()

        previous = signal.signal(signal.SIGTERM, on_signal)
        h, p = server.address
        shown = f"[{h}]" if ":" in h else h
        server.start()
        print(f"mapdoctor watch: listening on http://{shown}:{p}/ (metrics /metrics, Alertmanager webhook "
              f"POST /alert); bundles in {args.out}", file=sys.stderr, flush=True)
        agent.start()
        try:
            while not agent.wait(1.0):
                pass
        except KeyboardInterrupt:
            agent.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.stop()
        print("mapdoctor watch: stopped (captures cut short are resumed at the next start)", file=sys.stderr)
        return 0


def _token(path: Path | None) -> str | None:
    if path is not None:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--alert-token-file {path}: {exc.strerror or exc}") from None
        if not token:
            raise UsageError(f"--alert-token-file {path}: empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


COMMAND = WatchCommand()
