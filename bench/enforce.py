"""Benchmark of `dockaudit enforce serve` on a private engine.

1. N container create requests (default 1,000) through an engine started
   with ``--authorization-plugin``, over its socket (``--clients`` at once),
   with the varied settings of the live benchmark (some denied: added
   capabilities, the Docker socket, passwords in the environment). The
   decision latency p50/p99 comes from the plugin's own decision log
   (``duration_ms``), its peak memory from ``/proc/PID/status`` (VmHWM).
2. The wall time of the ``docker create`` CLI with the plugin and, on a
   second engine, without it, alternating.

Prints each figure with its target; exit 1 when a target is missed or the
run could not be made. Needs root, docker.io and busybox-static (as the tests).

    python bench/enforce.py [--requests 1000] [--cli-runs 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import IMAGE_NAMES, BenchError, _load_test_engine, alternate, container_config, run_process  # noqa: E402

P99_TARGET_MS = 10.0
RSS_TARGET_MB = 60.0
UNIT_NICE = -5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def start_plugin(workdir: Path, nice: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    from dockaudit.enforce.server import socket_answers

    name = f"dockaudit-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    sock = Path("/run/docker/plugins") / f"{name}.sock"
    log = workdir / "decisions.jsonl"
    config = workdir / "policy.yaml"
    config.write_text("{}\n")  # the built-in policy, whatever .dockaudit.yaml is near
    argv = ["nice", "-n", str(nice), sys.executable, "-m", "dockaudit.cli", "enforce", "serve", "--socket", str(sock),
            "--config", str(config), "--log", str(log)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not socket_answers(sock):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise BenchError(f"the plugin did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.05)
    return process, name, log


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError("no VmHWM in /proc/PID/status")


def create_many(engine: Any, count: int, clients: int) -> tuple[int, int]:
    """*count* create requests from *clients* clients at once; (allowed, denied)."""
    import docker

    images = [engine.tag(name) for name in IMAGE_NAMES]

    def create(index: int) -> bool:
        api = docker.APIClient(base_url=engine.url, version="1.41", timeout=120)
        try:
            config = container_config(api, index, images[index % len(images)])
            config["name"] = f"enforce-bench-{index:05d}"
            api.create_container(**config)
            return True
        except docker.errors.APIError as exc:
            if "authorization denied" not in str(exc):
                raise BenchError(f"create {index} failed: {exc}") from None
            return False
        finally:
            api.close()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(create, range(count)))
    return sum(outcomes), len(outcomes) - sum(outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="create requests through the engine (default 1000)")
    parser.add_argument("--clients", type=int, default=1,
                        help="clients sending the requests at once (default 1, as one deploy script does)")
    parser.add_argument("--cli-runs", type=int, default=30, help="docker create runs per engine (default 30)")
    parser.add_argument("--nice", type=int, default=UNIT_NICE,
                        help=f"niceness of the plugin process (default {UNIT_NICE}, as contrib/systemd/dockaudit-enforce.service)")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args(argv)

    engines = _load_test_engine()
    workdir = Path(tempfile.mkdtemp(prefix="enforce-bench-"))
    plugin = None
    started: list[Any] = []
    try:
        plugin, name, log = start_plugin(workdir, args.nice)
        guarded = engines.start_engine(extra_args=(f"--authorization-plugin={name}",))
        started.append(guarded)
        open_engine = engines.start_engine()
        started.append(open_engine)

        began = time.perf_counter()
        allowed, denied = create_many(guarded, args.requests, args.clients)
        create_seconds = time.perf_counter() - began
        decisions = [json.loads(line) for line in log.read_text().splitlines()]
        judged = [r for r in decisions if r.get("decision") and r["request"]["kind"] == "create" and
                  str(r.get("container", "")).startswith("enforce-bench-")]
        latencies = [r["duration_ms"] for r in judged]
        cpu = [r["cpu_ms"] for r in judged]
        if len(latencies) != args.requests:
            raise BenchError(f"{len(latencies)} create decisions logged for {args.requests} requests")
        rss = peak_rss_mb(plugin.pid)

        image = guarded.tag("busybox")
        open_engine.tag("busybox")
        cli = ["docker", "create", "--pull", "never", "--memory", "64m", image, "true"]
        with_plugin, without = alternate(
            args.cli_runs,
            lambda: run_process(cli, env=guarded.env(), ok_codes=(0,)),
            lambda: run_process(cli, env=open_engine.env(), ok_codes=(0,)),
        )
        figures = {
            "requests": args.requests, "allowed": allowed, "denied": denied,
            "create_requests_seconds": round(create_seconds, 2),
            "latency_ms": {"p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
                           "max": max(latencies), "mean": round(statistics.fmean(latencies), 3)},
            "cpu_ms": {"p50": percentile(cpu, 0.50), "p99": percentile(cpu, 0.99)},
            "load_average": os.getloadavg()[0],
            "nice": args.nice,
            "clients": args.clients,
            "plugin_peak_rss_mb": round(rss, 1),
            "docker_create_wall_s": {
                "with_plugin": {"median": statistics.median(s.wall for s in with_plugin),
                                "p90": percentile([s.wall for s in with_plugin], 0.9)},
                "without": {"median": statistics.median(s.wall for s in without),
                            "p90": percentile([s.wall for s in without], 0.9)},
            },
        }
    except BenchError as exc:
        print(f"enforce bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if plugin is not None and plugin.poll() is None:
            for engine in started:  # while the plugin still answers: the engine asks it to remove things
                engine.stop()
            started.clear()
            plugin.send_signal(signal.SIGTERM)
            plugin.wait(timeout=30)
        for engine in started:
            engine.stop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)

    latency, walls = figures["latency_ms"], figures["docker_create_wall_s"]
    p99_ok, rss_ok = latency["p99"] <= P99_TARGET_MS, figures["plugin_peak_rss_mb"] <= RSS_TARGET_MB
    print(f"{'measurement':44} {'value':>12} {'target':>12}  result")
    print(f"{'decision latency p50 (plugin log)':44} {latency['p50']:>9.2f} ms {'':>12}")
    print(f"{'decision latency p99 (plugin log)':44} {latency['p99']:>9.2f} ms {'<= 10 ms':>12}  "
          f"{'PASS' if p99_ok else 'FAIL'}")
    print(f"{'decision CPU time p50 / p99 (plugin log)':44} {figures['cpu_ms']['p50']:>5.2f}/{figures['cpu_ms']['p99']:.2f} ms"
          f" {'':>8}")
    print(f"{'plugin peak RSS':44} {figures['plugin_peak_rss_mb']:>9.1f} MB {'<= 60 MB':>12}  "
          f"{'PASS' if rss_ok else 'FAIL'}")
    for label, key in (("with the plugin", "with_plugin"), ("without it", "without")):
        print(f"{'docker create wall, median, ' + label:44} {walls[key]['median'] * 1000:>9.0f} ms {'(reference)':>12}")
    print(f"\n{args.requests} create requests ({figures['allowed']} allowed, {figures['denied']} denied) "
          f"in {figures['create_requests_seconds']} s from {args.clients} client(s) at once; latency max {latency['max']:.2f} ms, "
          f"mean {latency['mean']:.2f} ms; docker create p90 {walls['with_plugin']['p90'] * 1000:.0f} ms "
          f"with, {walls['without']['p90'] * 1000:.0f} ms without ({args.cli_runs} runs each); plugin at nice "
          f"{args.nice}; load average {figures['load_average']:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if p99_ok and rss_ok else 1


if __name__ == "__main__":
    sys.exit(main())
