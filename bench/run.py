"""Benchmarks of dockaudit against its peers, with pass/fail targets.

Every measurement starts real processes, the way a user or CI runs the tools,
and takes the median of several runs; dockaudit and its peer alternate so
that both see the same machine state. Wall time is measured around each
process; peak memory comes from ``wait4`` (the process and the children it
waited for).

1. whole corpus: ``dockaudit check`` on every script of the real corpus
   (``--corpus`` or ``$DOCKAUDIT_CORPUS``, the folder holding ``scripts/``)
   and on a synthetic corpus of the same shape (bench/synth.py, written to a
   temporary folder), against ``shellcheck -f gcc`` on the same files.
   Target: at most 0.25x ShellCheck's wall time.
2. one file, cold: ``dockaudit check fixtures/examples/deploy.sh`` against
   ``compose-lint fixtures/examples/docker-compose.yml``, fresh processes.
   Target: at most 1.0x.
3. live: ``dockaudit live --all`` on a private engine (tests/engine.py) with
   10, 100 and 500 containers, a tenth of them running. Target: at most 2 s
   at 500 containers.
4. memory: peak RSS of ``dockaudit check`` over the whole corpus. Target:
   at most 100 MB.
5. growth: ``dockaudit check`` on one generated fleet deploy script of 0.25,
   1, 4 and 16 MB (bench/fleet.py), ShellCheck on the smallest beside it.
   Targets: at most 2 CPU seconds per MB at every size, the largest size at
   most 1.5x the smallest per MB, and peak RSS at most 100 MB plus 30 bytes
   per byte of input.

    python bench/run.py [--corpus DIR] [--runs N] [--cold-runs N] [--skip-live] [--json out.json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import fleet  # noqa: E402  (sibling modules, not installed packages)
import synth  # noqa: E402

COMPOSE_LINT_VERSION = "0.36.2"
BENCH_VENV = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dockaudit-bench" / "venv"
DEPLOY_SH = REPO / "fixtures" / "examples" / "deploy.sh"
COMPOSE_YML = REPO / "fixtures" / "examples" / "docker-compose.yml"
LIVE_SIZES = (10, 100, 500)
LIVE_MIN_RUNS = 5
SETTLE = 3.0  # seconds
RUNNING_EVERY = 10  # one container in ten runs `sleep 3600`, so `top` has processes to list
FLEET_ENGINES = 4
FLEET_SIZE = 1000  # containers over the fleet's engines
FLEET_MAX_SECONDS = 3.0
FLEET_MAX_RATIO = 1.2  # the fleet run against the slowest single engine
PEER_RUNNING = 30  # running containers for the comparison with docker-bench-security's container runtime section
PEER_MAX_RATIO = 0.01  # at least 100x faster
# a git clone of github.com/docker/docker-bench-security (its .git folder), read with git archive at bench time
DOCKER_BENCH_GIT = os.environ.get("DOCKAUDIT_DOCKER_BENCH_GIT", "/work/.mirror/docker+docker-bench-security/repo")
GROWTH_SIZES = (0.25, 1, 4, 16)  # MB
GROWTH_ONCE_FROM = 4  # MB: sizes from here on are run once, whatever --runs says
GROWTH_MAX_RATE = 2.0  # CPU seconds per MB, at the largest size
GROWTH_MAX_SLOWDOWN = 1.5  # the largest size's seconds per MB against the smallest's
GROWTH_RSS_BASE = 100  # MB, plus GROWTH_RSS_PER_BYTE bytes for every byte of input
GROWTH_RSS_PER_BYTE = 30
MB = 1024 * 1024


class BenchError(Exception):
    """A measurement could not be made (a tool is missing, a run failed)."""


# --- processes ----------------------------------------------------------------


@dataclass
class Sample:
    """One process run: wall and CPU (user + system) seconds, peak RSS in MB, exit code, stdout lines."""

    wall: float
    cpu: float
    rss_mb: float
    rc: int
    stdout_lines: int


def user_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured run: as a user's, whose installed package has its bytecode.

    With PYTHONDONTWRITEBYTECODE set (some CI and development shells set it) a
    working tree is compiled again at every start, a tenth of a second no user
    pays; without it the warm-up run writes the bytecode the measured runs read.
    """
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_process(argv: Sequence[str], *, env: dict[str, str] | None = None,
                ok_codes: tuple[int, ...] = (0, 1)) -> Sample:
    """Run *argv* to completion; raise BenchError when it exits with a code outside *ok_codes*."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok_codes:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-5:]
            raise BenchError(f"{Path(argv[0]).name} exited {proc.returncode}: " + " | ".join(tail))
        out.seek(0)
        lines = out.read().count(b"\n")
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024, rc=proc.returncode, stdout_lines=lines)


def settle(idle: float = 0.9, longest: float = 30.0) -> None:
    """Wait (at most *longest* seconds) until the machine's CPUs are *idle* of the time
    for half a second: a measurement of CPU seconds is one of dockaudit, not of what
    the bench left running (an engine stopping, its containers exiting)."""
    def idle_and_total() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, all
    if not os.path.exists("/proc/stat"):
        return
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        idle0, total0 = idle_and_total()
        time.sleep(0.5)
        idle1, total1 = idle_and_total()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= idle:
            return


def alternate(runs: int, first: Callable[[], Sample], second: Callable[[], Sample]
              ) -> tuple[list[Sample], list[Sample]]:
    """Run both *runs* times, swapping which goes first every round."""
    a: list[Sample] = []
    b: list[Sample] = []
    for i in range(runs):
        if i % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def median(samples: Sequence[Sample], attr: str = "wall") -> float:
    return statistics.median(getattr(s, attr) for s in samples)


# --- tools --------------------------------------------------------------------


class BenchVenv:
    """The bench's own virtual environment: compose-lint, and dockaudit installed as users install it.

    An editable install pays for its import hook at every start, and the
    interpreter running the bench may load ``.pth`` files a user's would not;
    both tools started from one plain venv pay the same interpreter start-up.
    """

    def __init__(self, path: Path = BENCH_VENV) -> None:
        self.path = path
        self.bin = path / "bin"

    def _pip(self, *args: str) -> None:
        proc = subprocess.run([str(self.bin / "python"), "-m", "pip", "install", "--quiet", *args],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise BenchError(f"pip install {' '.join(args)} failed: {proc.stderr.strip()[-300:]}")

    def ensure(self) -> None:
        if not (self.bin / "python").exists():
            print(f"bench: creating {self.path}", file=sys.stderr)
            proc = subprocess.run([sys.executable, "-m", "venv", str(self.path)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BenchError(f"cannot create {self.path}: {proc.stderr.strip()[-300:]}")

    def compose_lint(self, install: bool) -> str:
        tool = self.bin / "compose-lint"
        if not tool.exists():
            if not install:
                raise BenchError(f"compose-lint is not installed in {self.path} (run without --no-install)")
            self.ensure()
            print(f"bench: installing compose-lint {COMPOSE_LINT_VERSION} into {self.path}", file=sys.stderr)
            self._pip(f"compose-lint=={COMPOSE_LINT_VERSION}")
        return str(tool)

    def dockaudit(self, install: bool) -> str:
        """dockaudit from this working tree, (re)installed non-editable so the venv runs the current code."""
        tool = self.bin / "dockaudit"
        if install:
            self.ensure()
            print(f"bench: installing dockaudit from {REPO} into {self.path}", file=sys.stderr)
            # Built from a copy: a build in place would leave build/ and egg-info in the tree.
            with tempfile.TemporaryDirectory(prefix="dockaudit-bench-src-") as tmp:
                source = Path(tmp) / "dockaudit"
                shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
                    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".ruff_cache"))
                # the distribution's name before dockaudit-lint: both at once load every rule twice
                subprocess.run([str(self.bin / "python"), "-m", "pip", "uninstall", "--quiet", "--yes",
                                "dockaudit"], capture_output=True)
                if tool.exists():  # dependencies are in place: replace dockaudit alone, quickly
                    self._pip("--no-deps", "--force-reinstall", "--no-build-isolation", str(source))
                else:
                    self._pip("setuptools>=61", "wheel")
                    self._pip(str(source))
        if not tool.exists():
            raise BenchError(f"dockaudit is not installed in {self.path} (run without --no-install)")
        return str(tool)


def current_dockaudit() -> str:
    """The dockaudit console script of this interpreter (not a shim that adds its own start-up)."""
    beside = Path(sys.executable).with_name("dockaudit")
    if beside.exists():
        return str(beside)
    found = shutil.which("dockaudit")
    if found is None:
        raise BenchError("dockaudit is not installed (pip install -e .)")
    return found


def bare_python(dockaudit: str) -> list[str]:
    """The bare start of the interpreter that runs *dockaudit*: ``python -c pass``. The console
    scripts of the bench's venv (compose-lint's too) run that same interpreter."""
    python = Path(dockaudit).with_name("python")
    return [str(python if python.exists() else sys.executable), "-c", "pass"]


def find_shellcheck() -> str:
    found = shutil.which("shellcheck")
    if found is None:
        raise BenchError("shellcheck is not installed (apt-get install shellcheck)")
    return found


def tool_version(argv: Sequence[str]) -> str:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    except OSError as exc:
        return f"unknown ({exc})"
    text = (proc.stdout or proc.stderr).strip().splitlines()
    for line in text:
        if "version" in line.lower() and any(ch.isdigit() for ch in line):
            return line.strip()
    return text[0] if text else "unknown"


# --- results ------------------------------------------------------------------


@dataclass
class Row:
    """One line of the result table."""

    name: str
    ours: float | None
    peer: float | None = None
    unit: str = "s"
    peer_name: str = ""
    max_ratio: float | None = None  # target as a ratio to the peer
    max_value: float | None = None  # target as an absolute value in *unit*
    note: str = ""
    error: str = ""
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.peer:
            return None
        return self.ours / self.peer

    @property
    def verdict(self) -> str:
        if self.error:
            return "SKIP" if self.ours is None else "ERROR"
        if self.max_ratio is not None:
            ratio = self.ratio
            return "-" if ratio is None else ("PASS" if ratio <= self.max_ratio else "FAIL")
        if self.max_value is not None and self.ours is not None:
            return "PASS" if self.ours <= self.max_value else "FAIL"
        return "-"

    @property
    def target(self) -> str:
        if self.max_ratio is not None:
            return f"<= {self.max_ratio:g}x"
        if self.max_value is not None:
            return f"<= {self.max_value:g} {self.unit}"
        return ""


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s/MB":
        return f"{value:.2f} s/MB"
    return f"{value:.1f} {unit}"


def print_table(rows: Sequence[Row]) -> None:
    header = ("measurement", "dockaudit", "peer", "ratio", "target", "result")
    table = [header]
    for row in rows:
        peer = _fmt(row.peer, row.unit) + (f" ({row.peer_name})" if row.peer is not None and row.peer_name else "")
        # three figures below 0.1x: 0.0103x and 0.0149x against a target of 0.01x are not both "0.01x"
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x" if row.ratio >= 0.1 else f"{row.ratio:.3g}x"
        table.append((row.name, _fmt(row.ours, row.unit), peer, ratio, row.target or "-", row.verdict))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    notes = [(row.name, row.error or row.note) for row in rows if row.error or row.note]
    if notes:
        print()
        for name, note in notes:
            print(f"{name}: {note}")


# --- 1 and 4: whole corpus ------------------------------------------------------


def corpus_files(folder: Path) -> list[Path]:
    scripts = folder / "scripts" if (folder / "scripts").is_dir() else folder
    return sorted(p for p in scripts.iterdir() if p.is_file())


def bench_corpus(label: str, files: list[Path], runs: int, dockaudit: str, shellcheck: str) -> list[Row]:
    """Whole-corpus wall time against ShellCheck, and dockaudit's peak memory on it."""
    lines = 0
    for path in files:  # also brings the files into the page cache for both tools
        lines += path.read_bytes().count(b"\n")
    name = f"{label} ({len(files)} files, {lines} lines)"
    paths = [str(p) for p in files]
    ours_argv = [dockaudit, "check", "--format", "parsable", "--fail-on", "never", *paths]
    peer_argv = [shellcheck, "-f", "gcc", *paths]
    try:
        ours, peer = alternate(runs, lambda: run_process(ours_argv), lambda: run_process(peer_argv))
    except BenchError as exc:
        return [Row(name, None, error=str(exc))]
    raw = {"dockaudit": [asdict(s) for s in ours], "shellcheck": [asdict(s) for s in peer]}
    wall = Row(name, median(ours), median(peer), peer_name="shellcheck", max_ratio=0.25,
               note=f"{ours[0].stdout_lines} findings from dockaudit, {peer[0].stdout_lines} from "
                    f"shellcheck; per file {median(ours) / len(files) * 1000:.2f} ms against "
                    f"{median(peer) / len(files) * 1000:.1f} ms; CPU {median(ours, 'cpu'):.2f} s against "
                    f"{median(peer, 'cpu'):.2f} s",
               samples=raw)
    memory = Row(f"peak RSS, {label}", median(ours, "rss_mb"), median(peer, "rss_mb"), unit="MB",
                 peer_name="shellcheck", max_value=100)
    return [wall, memory]


# --- 5: growth --------------------------------------------------------------------


def bench_growth(sizes: Sequence[float], runs: int, dockaudit: str, shellcheck: str | None,
                 folder: Path) -> list[Row]:
    """Seconds per MB and peak RSS of one ever larger script: the cost should grow with the size."""
    rows: list[Row] = []
    rates: list[tuple[float, float]] = []  # (MB, CPU seconds per MB)
    for n, size in enumerate(sorted(sizes)):
        path = folder / f"fleet-{size:g}mb.sh"
        length = fleet.generate(path, size)
        megabytes = length / MB
        lines = path.read_bytes().count(b"\n")
        name = f"growth, {size:g} MB ({lines} lines)"
        argv = [dockaudit, "check", "--format", "parsable", "--fail-on", "never", str(path)]
        count = 1 if size >= GROWTH_ONCE_FROM else runs
        settle()
        try:
            if count > 1:  # CPUs left idle start slowly: the first run of a short one is not kept
                run_process(argv)
            ours = [run_process(argv) for _ in range(count)]
            peer = [run_process([shellcheck, "-f", "gcc", str(path)])] if shellcheck and n == 0 else []
        except BenchError as exc:
            rows.append(Row(name, None, error=str(exc)))
            continue
        rate = median(ours, "cpu") / megabytes
        rates.append((size, rate))
        note = (f"{median(ours) / megabytes:.2f} s/MB wall, {median(ours, 'cpu'):.2f} s CPU, "
                f"{ours[0].stdout_lines} findings, median of {count}")
        raw = {"dockaudit": [asdict(s) for s in ours]}
        if peer:
            note += (f"; shellcheck {peer[0].wall:.2f} s wall, {peer[0].cpu:.2f} s CPU, "
                     f"{peer[0].rss_mb:.0f} MB, {peer[0].stdout_lines} findings")
            raw["shellcheck"] = [asdict(s) for s in peer]
        rows.append(Row(name, rate, median(peer, "cpu") / megabytes if peer else None, unit="s/MB",
                        peer_name="shellcheck", note=note, samples=raw,
                        # the target is the largest size's: a small one's time is much start-up
                        max_value=GROWTH_MAX_RATE if size == max(sizes) else None))
        rows.append(Row(f"peak RSS, growth {size:g} MB", median(ours, "rss_mb"),
                        median(peer, "rss_mb") if peer else None, unit="MB", peer_name="shellcheck",
                        max_value=round(GROWTH_RSS_BASE + GROWTH_RSS_PER_BYTE * megabytes, 1)))
        path.unlink()
    if len(rates) >= 2:
        (small, first), (large, last) = rates[0], rates[-1]
        rows.append(Row(f"growth, s/MB at {large:g} MB against {small:g} MB", last / first, unit="x",
                        max_value=GROWTH_MAX_SLOWDOWN))
    return rows


# --- 2: one file, cold ----------------------------------------------------------


def bench_cold(runs: int, dockaudit: str, compose_lint: str) -> list[Row]:
    """Fresh processes on one small file: start-up dominates."""
    name = "one file, cold start"
    ours_argv = [dockaudit, "check", "--format", "parsable", "--fail-on", "never", str(DEPLOY_SH)]
    peer_argv = [compose_lint, str(COMPOSE_YML)]
    floor_argv = bare_python(dockaudit)
    try:
        run_process(ours_argv)  # the first start after an install writes .pyc files: not a user's case
        run_process(peer_argv)
        ours, peer = alternate(runs, lambda: run_process(ours_argv), lambda: run_process(peer_argv))
        floor = [run_process(floor_argv) for _ in range(runs)]
    except BenchError as exc:
        return [Row(name, None, error=str(exc))]
    raw = {"dockaudit": [asdict(s) for s in ours], "compose-lint": [asdict(s) for s in peer],
           "python": [asdict(s) for s in floor]}
    best = min(s.wall for s in ours), min(s.wall for s in peer)
    return [
        Row(name, median(ours), median(peer), peer_name="compose-lint", max_ratio=1.0,
            note=f"median of {runs} alternating starts each, deploy.sh against docker-compose.yml; "
                 f"fastest start {best[0] * 1000:.0f} ms against {best[1] * 1000:.0f} ms; "
                 f"CPU {median(ours, 'cpu') * 1000:.0f} ms against {median(peer, 'cpu') * 1000:.0f} ms",
            samples=raw),
        Row("python -c pass (start-up floor)", median(floor), median(peer), peer_name="compose-lint"),
    ]


# --- 3: live engine ---------------------------------------------------------------


def _load_test_engine() -> Any:
    path = REPO / "tests" / "engine.py"
    if not path.exists():
        raise BenchError(f"{path} is missing")
    spec = importlib.util.spec_from_file_location("dockaudit_bench_engine", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


IMAGE_NAMES = ["nginx:1.25", "postgres:15", "redis:7-alpine", "mysql:5.7", "alpine:3.19",
               "ghcr.io/example/api:1.4.2", "busybox", "ubuntu:14.04"]


def container_config(api: Any, index: int, image: str) -> dict[str, Any]:
    """A varied but deterministic create_container request for container *index*."""
    running = index % RUNNING_EVERY == 0
    kind = index % 7
    host: dict[str, Any] = {"restart_policy": {"Name": ["no", "always", "unless-stopped", "on-failure"][index % 4]}}
    if index % 4 == 3:
        host["restart_policy"]["MaximumRetryCount"] = 3
    if kind == 0:
        host.update(privileged=True)
    elif kind == 1:
        host.update(mem_limit="256m", cpu_quota=50000, pids_limit=100, read_only=True,
                    tmpfs={"/tmp": "size=64m"}, cap_drop=["ALL"], security_opt=["no-new-privileges"])
    elif kind == 2:
        host.update(cap_add=["NET_ADMIN", "SYS_PTRACE"], log_config={"Type": "json-file",
                                                                     "Config": {"max-size": "10m"}})
    elif kind == 3:
        host.update(binds=[f"bench-data-{index}:/var/lib/data"], shm_size="64m")
    elif kind == 4 and not running:
        # published ports only on containers that never start: nothing listens, nothing is sent
        host.update(port_bindings={80: ("127.0.0.1", 20000 + index), 443: 20000 + index + 5000})
    elif kind == 5 and not running:
        host.update(binds=["/var/run/docker.sock:/var/run/docker.sock", "/etc:/host-etc:ro"])
    environment = {"TZ": "UTC", "APP_INDEX": str(index)}
    if index % 3 == 0:
        environment["DB_PASSWORD"] = "not-a-real-secret"
    return {
        "image": image,
        "command": ["sleep", "3600"] if running else ["sh", "-c", "echo hello"],
        "name": f"bench-{index:04d}",
        "environment": environment,
        "labels": {"bench": "dockaudit", "tier": ["web", "db", "cache"][index % 3]},
        "user": "65534:65534" if index % 5 == 0 else None,
        "ports": [80, 443] if kind == 4 and not running else None,
        "host_config": api.create_host_config(**host),
    }


class Fleet:
    """Containers on the private engine, created and started concurrently over its socket."""

    def __init__(self, engine: Any, workers: int = 8) -> None:
        self.engine = engine
        self.workers = workers
        self.created = 0
        self.images = [engine.tag(name) for name in IMAGE_NAMES]

    def _client(self) -> Any:
        import docker

        return docker.APIClient(base_url=self.engine.url, version="1.41", timeout=120)

    def _fan_out(self, items: list[Any], work: Callable[[Any, Any], None]) -> None:
        """Call ``work(api, item)`` for every item, spread over worker threads with a client each."""
        chunks = [items[i::self.workers] for i in range(self.workers)]

        def run(chunk: list[Any]) -> None:
            api = self._client()
            try:
                for item in chunk:
                    work(api, item)
            finally:
                api.close()

        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(run, chunk) for chunk in chunks if chunk]:
                future.result()

    def grow(self, size: int) -> float:
        """Create containers until there are *size*; returns the seconds it took."""
        start = time.perf_counter()

        def make(api: Any, index: int) -> None:
            config = container_config(api, index, self.images[index % len(self.images)])
            cid = api.create_container(**config)["Id"]
            if index % RUNNING_EVERY == 0:
                api.start(cid)

        self._fan_out(list(range(self.created, size)), make)
        self.created = size
        return time.perf_counter() - start

    def remove_all(self) -> None:
        api = self._client()
        ids = [c["Id"] for c in api.containers(all=True)]
        api.close()

        def remove(api: Any, cid: str) -> None:
            try:
                api.remove_container(cid, force=True, v=True)
            except Exception:  # already gone
                pass

        self._fan_out(ids, remove)


def bench_live(sizes: Sequence[int], runs: int, dockaudit: str) -> list[Row]:
    try:
        engine_module = _load_test_engine()
        engine = engine_module.start_engine()
    except BenchError as exc:
        return [Row("live", None, error=str(exc))]
    except Exception as exc:  # EngineUnavailable and friends: no root, no dockerd, no busybox
        return [Row("live", None, error=f"no private engine: {exc}".splitlines()[0])]
    rows: list[Row] = []
    fleet = Fleet(engine)
    try:
        argv = [dockaudit, "live", "--all", "-H", engine.url, "--format", "parsable", "--fail-on", "never"]
        previous: tuple[int, float] | None = None
        for size in sorted(sizes):
            setup = fleet.grow(size)
            time.sleep(SETTLE)  # the engine finishes starting containers after the API answers
            name = f"live, {size} containers ({size // RUNNING_EVERY + (size % RUNNING_EVERY > 0)} running)"
            try:
                run_process(argv, env=user_env(engine.env()))  # warm-up
                samples = [run_process(argv, env=user_env(engine.env())) for _ in range(max(runs, LIVE_MIN_RUNS))]
            except BenchError as exc:
                rows.append(Row(name, None, error=str(exc)))
                continue
            wall = median(samples)
            note = (f"{size / wall:.0f} containers/s, CPU {median(samples, 'cpu'):.2f} s, "
                    f"peak RSS {median(samples, 'rss_mb'):.0f} MB")
            if previous:
                marginal = (wall - previous[1]) / (size - previous[0]) * 1000
                note += f", {marginal:+.2f} ms per container since {previous[0]}"
            note += f" (created in {setup:.1f} s)"
            rows.append(Row(name, wall, max_value=2.0 if size >= 500 else None, note=note,
                            samples={"dockaudit": [asdict(s) for s in samples]}))
            previous = (size, wall)
    finally:
        fleet.remove_all()
        engine.stop()
    return rows


def _engine_floor(engines: Sequence[Any], workers: int = 16, every: bool = True) -> float:
    """Seconds the engines take to answer what a live audit asks of them, without dockaudit: on every
    engine at once, the container list, then inspect of each container and ``top`` of each running
    one, over plain HTTP on the Unix sockets, by *workers* threads per engine. *every*: all
    containers, else the running ones (``dockaudit live`` without ``--all``)."""
    import http.client
    import socket as socket_module
    import threading

    class Connection(http.client.HTTPConnection):
        def __init__(self, path: str) -> None:
            super().__init__("localhost", timeout=60)
            self.path = path

        def connect(self) -> None:
            self.sock = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM)
            self.sock.connect(self.path)

    def read_engine(engine: Any) -> None:
        local = threading.local()

        def get(url: str) -> Any:
            conn = getattr(local, "conn", None) or Connection(str(engine.socket))
            local.conn = conn
            conn.request("GET", f"/v1.41{url}")
            return json.loads(conn.getresponse().read())

        summaries = get("/containers/json?all=1" if every else "/containers/json")

        def one(summary: dict) -> None:
            get(f"/containers/{summary['Id']}/json")
            if summary.get("State") == "running":
                get(f"/containers/{summary['Id']}/top")

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, summaries))

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(engines)) as pool:
        list(pool.map(read_engine, engines))
    return time.perf_counter() - start


def bench_fleet(total: int, runs: int, dockaudit: str) -> list[Row]:
    """``dockaudit live`` over FLEET_ENGINES private engines holding *total* containers between them,
    against the same run on each engine alone, and against the engines' own floor."""
    name = f"fleet, {total} containers on {FLEET_ENGINES} engines"
    try:
        engine_module = _load_test_engine()
    except BenchError as exc:
        return [Row(name, None, error=str(exc))]
    engines: list[Any] = []
    try:
        try:
            for _ in range(FLEET_ENGINES):
                engines.append(engine_module.start_engine())
        except Exception as exc:  # EngineUnavailable and friends
            return [Row(name, None, error=f"no private engines: {exc}".splitlines()[0])]
        fleets = [Fleet(engine) for engine in engines]
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(fleets)) as pool:
            list(pool.map(lambda f: f.grow(total // len(fleets)), fleets))
        setup = time.perf_counter() - start
        time.sleep(SETTLE)
        tail = ["--all", "--format", "parsable", "--fail-on", "never"]
        fleet_argv = [dockaudit, "live", *(arg for e in engines for arg in ("-H", e.url)), *tail]
        singles_argv = [[dockaudit, "live", "-H", e.url, *tail] for e in engines]
        env = user_env({k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")})
        count = max(runs, LIVE_MIN_RUNS)
        try:
            run_process(fleet_argv, env=env, ok_codes=(0, 1))  # warm-up
            fleet_samples: list[Sample] = []
            single_samples: list[list[Sample]] = [[] for _ in engines]
            floors: list[float] = []
            single_floors: list[list[float]] = [[] for _ in engines]
            for _ in range(count):
                fleet_samples.append(run_process(fleet_argv, env=env))
                for i, argv in enumerate(singles_argv):
                    single_samples[i].append(run_process(argv, env=env))
                floors.append(_engine_floor(engines))
                for i, engine in enumerate(engines):
                    single_floors[i].append(_engine_floor([engine]))
        except BenchError as exc:
            return [Row(name, None, error=str(exc))]
        wall = median(fleet_samples)
        singles = [median(s) for s in single_samples]
        floor = statistics.median(floors)
        single_floor = max(statistics.median(f) for f in single_floors)
        running = total // RUNNING_EVERY
        note = (f"{total / wall:.0f} containers/s ({running} running), CPU {median(fleet_samples, 'cpu'):.2f} s, "
                f"peak RSS {median(fleet_samples, 'rss_mb'):.0f} MB, engines' floor {floor:.2f} s "
                f"(created in {setup:.1f} s)")
        samples = {"dockaudit": [asdict(x) for x in fleet_samples],
                   **{f"engine {i}": [asdict(x) for x in s] for i, s in enumerate(single_samples)}}
        return [
            Row(name, wall, max_value=FLEET_MAX_SECONDS, note=note, samples=samples),
            Row("fleet against its slowest engine alone", wall, peer=max(singles), peer_name="slowest single",
                max_ratio=FLEET_MAX_RATIO,
                note="single engines: " + ", ".join(f"{_fmt(median(s), 's')} (CPU {median(s, 'cpu'):.2f} s)"
                                                    for s in single_samples)),
            Row("engines' own answers (floor, no dockaudit)", floor, peer=single_floor,
                peer_name="slowest engine's floor alone",
                note="list, inspect every container and top every running one, all engines at once; the ratio "
                     "is what sharing the machine's cores costs the engines themselves"),
        ]
    finally:
        for engine in engines:
            engine.stop()


def bench_versus_docker_bench(runs: int, dockaudit: str) -> list[Row]:
    """``dockaudit live`` against docker-bench-security's container runtime section (CIS 5) on the same
    PEER_RUNNING running containers of a private engine, with the engine's own floor for those reads."""
    name = f"live, {PEER_RUNNING} running containers"
    git_dir = Path(DOCKER_BENCH_GIT)
    if not git_dir.is_dir() or shutil.which("git") is None or shutil.which("docker") is None:
        return [Row(name, None, error=f"no docker-bench-security clone at {git_dir} (DOCKAUDIT_DOCKER_BENCH_GIT) "
                                      "or no git/docker CLI")]
    try:
        engine_module = _load_test_engine()
        engine = engine_module.start_engine()
    except BenchError as exc:
        return [Row(name, None, error=str(exc))]
    except Exception as exc:
        return [Row(name, None, error=f"no private engine: {exc}".splitlines()[0])]
    fleet = Fleet(engine)
    try:
        with tempfile.TemporaryDirectory(prefix="dockaudit-bench-dbs-") as tmp:
            archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "HEAD"], capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            # one container in RUNNING_EVERY runs; both tools look at the running ones only
            fleet.grow(PEER_RUNNING * RUNNING_EVERY)
            time.sleep(SETTLE)
            env = user_env(engine.env())
            ours_argv = [dockaudit, "live", "-H", engine.url, "--format", "parsable", "--fail-on", "never"]
            peer_argv = ["sh", "docker-bench-security.sh", "-b", "-c", "container_runtime", "-l", f"{tmp}/dbs.log"]

            def peer() -> Sample:
                cwd = os.getcwd()
                os.chdir(tmp)
                try:
                    return run_process(peer_argv, env=env, ok_codes=tuple(range(256)))
                finally:
                    os.chdir(cwd)

            run_process(ours_argv, env=env)  # warm-up
            ours: list[Sample] = []
            floors: list[float] = []
            starts: list[Sample] = []
            # each run of ours beside the engine's floor and a bare interpreter start: the same machine
            for _ in range(max(runs, LIVE_MIN_RUNS)):
                ours.append(run_process(ours_argv, env=env))
                floors.append(_engine_floor([engine], every=False))
                starts.append(run_process(bare_python(dockaudit), env=env))
            theirs = [peer() for _ in range(max(1, runs // 3))]
    except (BenchError, subprocess.CalledProcessError, OSError) as exc:
        return [Row(name, None, error=str(exc))]
    finally:
        fleet.remove_all()
        engine.stop()
    wall, floor, start = median(ours), statistics.median(floors), median(starts)
    note = (f"CPU {median(ours, 'cpu'):.2f} s; the engine's own answers (list, inspect and top of each) "
            f"{floor * 1000:.0f} ms; python -c pass {start * 1000:.0f} ms; docker-bench-security "
            f"container_runtime {median(theirs):.1f} s")
    return [
        Row(name, wall, peer=median(theirs), peer_name="docker-bench-security -c container_runtime",
            max_ratio=PEER_MAX_RATIO, note=note,
            samples={"dockaudit": [asdict(x) for x in ours], "docker-bench-security": [asdict(x) for x in theirs],
                     "python -c pass": [asdict(x) for x in starts]}),
        # What no client can go below: the engine answering those reads, plus starting the interpreter.
        Row("engine's answers + python -c pass (floor)", floor + start, peer=median(theirs),
            peer_name="docker-bench-security -c container_runtime",
            note=f"the engine's answers {floor * 1000:.0f} ms (list, inspect and top of each running container, "
                 f"16 at a time, plain HTTP) and python -c pass {start * 1000:.0f} ms, measured between the runs "
                 f"above; the target's {PEER_MAX_RATIO:g}x of docker-bench-security is "
                 f"{median(theirs) * PEER_MAX_RATIO * 1000:.0f} ms"),
    ]


# --- main ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark dockaudit against ShellCheck and compose-lint.")
    parser.add_argument("--corpus", type=Path, default=os.environ.get("DOCKAUDIT_CORPUS") or None,
                        help="folder holding scripts/ of the real corpus (default: $DOCKAUDIT_CORPUS)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per whole-corpus measurement, and per live size (at least 5; default 3)")
    parser.add_argument("--cold-runs", type=int, default=15,
                        help="process starts per tool for the one-file measurement (default 15)")
    parser.add_argument("--skip-live", action="store_true", help="leave out the live-engine measurements")
    parser.add_argument("--skip-synthetic", action="store_true",
                        help="leave out the synthetic corpus (when the real one is given)")
    parser.add_argument("--live-sizes", default=",".join(map(str, LIVE_SIZES)),
                        help="container counts for the live measurement (default 10,100,500)")
    parser.add_argument("--fleet-size", type=int, default=FLEET_SIZE,
                        help=f"containers over the {FLEET_ENGINES} engines of the fleet measurement (default {FLEET_SIZE})")
    parser.add_argument("--growth-sizes", default=",".join(f"{s:g}" for s in GROWTH_SIZES),
                        help="sizes in MB of the generated script for the growth series (default 0.25,1,4,16)")
    parser.add_argument("--only", choices=("corpus", "cold", "live", "fleet", "peer", "growth"), action="append",
                        help="run only this measurement (repeatable)")
    parser.add_argument("--dockaudit", choices=("venv", "current"), default="venv",
                        help="venv (default): measure dockaudit installed from this tree into the bench's "
                             "venv beside compose-lint; current: the dockaudit of this interpreter")
    parser.add_argument("--venv", type=Path, default=BENCH_VENV,
                        help=f"the bench's venv (default {BENCH_VENV})")
    parser.add_argument("--no-install", action="store_true",
                        help="install nothing: use what the bench's venv already holds")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every sample as JSON")
    args = parser.parse_args(argv)
    parts = set(args.only or ("corpus", "cold", "live", "fleet", "peer", "growth"))
    if args.skip_live:
        parts -= {"live", "fleet", "peer"}
    if args.runs < 1 or args.cold_runs < 1:
        parser.error("--runs and --cold-runs must be at least 1")
    try:
        sizes = [int(s) for s in args.live_sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--live-sizes takes numbers separated by commas")
    if any(s < 1 for s in sizes):
        parser.error("--live-sizes must be positive")
    try:
        growth_sizes = [float(s) for s in args.growth_sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--growth-sizes takes numbers separated by commas")
    if any(s <= 0 for s in growth_sizes):
        parser.error("--growth-sizes must be positive")

    venv = BenchVenv(args.venv)
    try:
        if args.dockaudit == "venv":
            dockaudit = venv.dockaudit(install=not args.no_install)
        else:
            dockaudit = current_dockaudit()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    meta: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "dockaudit": f"{tool_version([dockaudit, '--version'])} ({dockaudit})",
    }

    shellcheck: str | None = None
    if parts & {"corpus", "growth"}:
        try:
            shellcheck = find_shellcheck()
            meta["shellcheck"] = tool_version([shellcheck, "--version"])
        except BenchError as exc:
            rows.append(Row("whole corpus", None, error=str(exc)))
    if shellcheck and "corpus" in parts:
        corpus = args.corpus
        if corpus is not None and not corpus.is_dir():
            print(f"bench: corpus folder {corpus} does not exist", file=sys.stderr)
            return 2
        if corpus is not None:
            rows += bench_corpus("real corpus", corpus_files(corpus), args.runs, dockaudit, shellcheck)
        if corpus is None or not args.skip_synthetic:
            with tempfile.TemporaryDirectory(prefix="dockaudit-bench-synth-") as tmp:
                stats = synth.generate(Path(tmp))
                meta["synthetic"] = asdict(stats)
                rows += bench_corpus("synthetic corpus", corpus_files(Path(tmp)), args.runs,
                                     dockaudit, shellcheck)

    if "cold" in parts:
        try:
            compose_lint = venv.compose_lint(install=not args.no_install)
            meta["compose-lint"] = tool_version([compose_lint, "--version"])
            rows += bench_cold(args.cold_runs, dockaudit, compose_lint)
        except BenchError as exc:
            rows.append(Row("one file, cold start", None, error=str(exc)))

    # Before the engines: stopping one leaves the machine busy for a while after.
    if "growth" in parts:
        with tempfile.TemporaryDirectory(prefix="dockaudit-bench-growth-") as tmp:
            rows += bench_growth(growth_sizes, args.runs, dockaudit, shellcheck, Path(tmp))

    if "live" in parts:
        rows += bench_live(sizes, args.runs, dockaudit)
    if "fleet" in parts:
        rows += bench_fleet(args.fleet_size, args.runs, dockaudit)
    if "peer" in parts:
        rows += bench_versus_docker_bench(args.runs, dockaudit)

    print(", ".join(f"{k}: {v}" for k, v in meta.items() if k != "synthetic"))
    print()
    print_table(rows)
    if args.json:
        doc = {"meta": meta, "rows": [
            {**asdict(row), "ratio": row.ratio, "target": row.target, "result": row.verdict}
            for row in rows]}
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 1 if any(row.verdict in ("FAIL", "ERROR") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
