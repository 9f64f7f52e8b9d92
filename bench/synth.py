"""A deterministic synthetic corpus of shell scripts shaped like the real one.

The benchmark's whole-corpus measurement needs 460 real scripts fetched from
public repositories; machines without them use this generator instead. It
writes scripts whose sizes, number of ``docker run``/``docker create``
invocations and surrounding shell follow the real corpus: most files short
(median about 40 lines), a long tail up to ~1,600 lines, one or two
invocations in most files, continuation lines in half of them, invocations
inside functions, ``if`` and ``case`` branches, captured with ``$(…)``,
behind ``sudo``; around them variables, ``[[ ]]`` tests, arrays, heredocs,
loops and command substitutions.

The same ``--seed`` always writes the same files, byte for byte.

    python bench/synth.py OUT_DIR [--count 460] [--lines 35461] [--invocations 770] [--seed 1]
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
from dataclasses import dataclass
from pathlib import Path

# Quantiles of lines per file in the real corpus (scripts.tsv): (quantile, lines).
LINE_QUANTILES = [
    (0.0, 3), (0.1, 9), (0.25, 14), (0.5, 38), (0.75, 73),
    (0.9, 154), (0.97, 420), (0.99, 914), (1.0, 1646),
]
# Invocations per file in the real corpus: (invocations, files).
INVOCATION_COUNTS = [
    (1, 306), (2, 100), (3, 29), (4, 9), (5, 1), (6, 4), (7, 2), (8, 2),
    (13, 1), (14, 1), (15, 1), (18, 2), (21, 1), (99, 1),
]

OVERRUN = 0.96

IMAGES = [
    "nginx:1.25", "postgres:15", "mysql:5.7", "redis", "redis:7-alpine", "alpine:3.19",
    "ubuntu:22.04", "debian:bookworm-slim", "busybox", "node:20-alpine", "python:3.12-slim",
    "golang:1.22", "ruby:3.0", "mariadb:10.11", "mongo:6", "registry:2", "traefik:v2.11",
    "ghcr.io/example/api:1.4.2", "quay.io/coreos/etcd:v3.5.12", "docker.io/library/httpd:2.4",
    "$IMAGE", "${IMAGE}:${TAG}", "\"$REGISTRY/$NAME:$VERSION\"", "${image}", "localhost:5000/app:latest",
    "centos:7", "jenkins/jenkins:lts", "elasticsearch:7.17.18", "rabbitmq:3-management",
]
COMMANDS = [
    [], [], [], ["sh", "-c", "'echo ready && sleep 5'"], ["bash", "-ec", '"make test"'],
    ["sleep", "3600"], ["npm", "test"], ["python", "-m", "pytest", "-q"], ["--version"],
    ["redis-server", "--appendonly", "yes"], ["$@"], ["\"$cmd\""], ["cat", "/etc/os-release"],
]
# Options as they appear in real scripts; a value of None marks a flag without argument.
OPTIONS: list[tuple[str, list[str] | None]] = [
    ("-d", None), ("--rm", None), ("-it", None), ("-i", None), ("-t", None),
    ("--name", ["\"$NAME\"", "web", "db", "${CONTAINER_NAME}", "registry", "\"${name}-test\""]),
    ("-p", ["8080:80", "127.0.0.1:5432:5432", "\"$PORT\":3000", "443:443", "5000:5000", "9090"]),
    ("--publish", ["0.0.0.0:8443:8443", "127.0.0.1:6379:6379/tcp"]),
    ("-v", ["\"$PWD\":/src", "/var/run/docker.sock:/var/run/docker.sock", "data:/var/lib/postgresql/data",
            "\"${REPO_ROOT}:${REPO_ROOT}\"", "$HOME/.ssh:/root/.ssh:ro", "/etc/localtime:/etc/localtime:ro",
            "\"$(pwd)/conf\":/etc/nginx/conf.d:ro", "/:/host"]),
    ("--volume", ["\"$TMPDIR:/tmp/work\"", "cache:/root/.cache"]),
    ("--mount", ["type=bind,source=\"$PWD\",target=/app,readonly", "type=tmpfs,destination=/run"]),
    ("-e", ["FOO=bar", "\"PASSWORD=$DB_PASSWORD\"", "HOME=/tmp", "MYSQL_ROOT_PASSWORD=secret",
            "POSTGRES_PASSWORD_FILE=/run/secrets/pg", "DEBUG", "\"GIT_SHA=$(git rev-parse HEAD)\""]),
    ("--env-file", [".env", "\"$ENV_FILE\""]),
    ("-w", ["/src", "/app", "\"$WORKDIR\""]),
    ("-u", ["\"$(id -u):$(id -g)\"", "1000:1000", "root", "`id -u`"]),
    ("--network", ["\"$NETWORK\"", "host", "none", "backend"]),
    ("--net", ["host"]),
    ("--memory", ["512m", "2g", "${MEM:-1g}"]),
    ("-m", ["256m"]),
    ("--cpus", ["1.5", "2"]),
    ("--pids-limit", ["200"]),
    ("--restart", ["unless-stopped", "always", "on-failure:5"]),
    ("--privileged", None), ("--read-only", None), ("--init", None),
    ("--cap-add", ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE"]),
    ("--cap-drop", ["ALL"]),
    ("--security-opt", ["no-new-privileges", "seccomp=unconfined", "apparmor=unconfined"]),
    ("--tmpfs", ["/tmp", "/run:rw,size=64m"]),
    ("--health-cmd", ["'curl -fsS http://localhost/ || exit 1'", "\"pg_isready -U postgres\""]),
    ("--health-interval", ["10s"]),
    ("--log-driver", ["json-file", "syslog", "none"]),
    ("--log-opt", ["max-size=10m", "max-file=3"]),
    ("--link", ["db:db", "\"$DB_CONTAINER\":mysql"]),
    ("--entrypoint", ["sh", "\"\"", "/bin/bash"]),
    ("--hostname", ["\"$HOST\"", "node1"]),
    ("--add-host", ["host.docker.internal:host-gateway"]),
    ("--ulimit", ["nofile=65536:65536"]),
    ("--pid", ["host"]), ("--ipc", ["host"]), ("--userns", ["host"]),
    ("--device", ["/dev/fuse", "/dev/kvm"]),
    ("--label", ["com.example.role=web", "\"traefik.enable=true\""]),
    ("--platform", ["linux/amd64"]),
    ("--pull", ["always"]),
    ("--shm-size", ["1g"]),
    ("--sysctl", ["net.core.somaxconn=1024"]),
    ("-h", ["localhost"]),
]
SPLICES = ["$OPTS", "$DOCKER_OPTS", "\"${args[@]}\"", "${EXTRA_ARGS}", "$*"]
FILLER = [
    'echo "==> ${FUNCNAME[0]:-main}: $*"',
    'mkdir -p "$WORKDIR/logs"',
    'cd "$(dirname "$0")"',
    'export PATH="$HOME/.local/bin:$PATH"',
    'sleep 2',
    'rm -rf "${TMPDIR:?}"/*',
    'curl -fsSL "https://example.invalid/$VERSION/install.sh" -o install.sh',
    'grep -q "ready" "$LOG" || true',
    'sed -i "s/VERSION=.*/VERSION=$VERSION/" .env',
    'chmod +x ./bin/*',
    'docker ps --filter "name=$NAME" --format "{{.ID}}"',
    'docker logs "$cid" 2>&1 | tail -n 20',
    'docker rm -f "$NAME" >/dev/null 2>&1 || true',
    'docker build -t "$IMAGE" .',
    'docker network create "$NETWORK" || true',
    'docker pull "$IMAGE"',
    'count=$((count + 1))',
    'result="$(jq -r .status < status.json)"',
    'printf "%s\\n" "${images[@]}"',
    'trap cleanup EXIT',
    'read -r -p "Continue? [y/N] " answer',
    'shift',
    'local_ip=$(hostname -I | awk \'{print $1}\')',
    'ls -la "$OUT" | wc -l',
    'tar -czf "backup-$(date +%F).tar.gz" data/',
    ': "${NAME:=app}"',
    'git clone --depth 1 "$REPO" src',
    'wait "$pid"',
]


@dataclass
class SynthStats:
    files: int = 0
    lines: int = 0
    invocations: int = 0


def _quantile_lines(q: float) -> int:
    qs = [p for p, _ in LINE_QUANTILES]
    i = max(1, bisect.bisect_left(qs, q))
    (q0, l0), (q1, l1) = LINE_QUANTILES[i - 1], LINE_QUANTILES[i]
    return max(3, round(l0 + (l1 - l0) * (q - q0) / (q1 - q0)))


def _plan(rng: random.Random, count: int, total_lines: int, total_invocations: int
          ) -> list[tuple[int, int]]:
    """(lines, invocations) for each file: invocations paired with size by rank, with noise."""
    # Stratified quantiles: the sizes follow the real distribution, tail included.
    sizes = [_quantile_lines((i + 0.5) / count) for i in range(count)]
    rng.shuffle(sizes)
    # Blocks overrun a file's budget by a line or two; aim a little lower to compensate.
    scale = OVERRUN * total_lines / sum(sizes)
    sizes = [max(3, round(s * scale)) for s in sizes]
    population = [n for n, files in INVOCATION_COUNTS for _ in range(files)]
    invocations = [rng.choice(population) for _ in range(count)]
    while sum(invocations) > total_invocations:
        i = rng.randrange(count)
        if invocations[i] > 1:
            invocations[i] -= 1
    while sum(invocations) < total_invocations:
        invocations[rng.randrange(count)] += 1
    by_size = sorted(range(count), key=lambda i: (sizes[i] * rng.uniform(0.5, 1.5), i))
    ordered = sorted(invocations)
    plan = [(0, 0)] * count
    for rank, i in enumerate(by_size):
        plan[i] = (sizes[i], ordered[rank])
    return plan


class ScriptWriter:
    """Builds one script out of shell constructs until it reaches its planned size."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines: list[str] = []
        self.functions = 0

    def emit(self, text: str, indent: int = 0) -> None:
        pad = "  " * indent
        self.lines.extend(pad + line if line else line for line in text.split("\n"))

    def filler(self, indent: int, n: int = 1) -> None:
        for _ in range(n):
            self.emit(self.rng.choice(FILLER), indent)

    # --- docker run --------------------------------------------------------

    def docker_run(self, indent: int) -> None:
        rng = self.rng
        words: list[str] = []
        for _ in range(rng.choice([1, 2, 2, 3, 3, 4, 5, 6, 8, 11])):
            flag, values = rng.choice(OPTIONS)
            if values is None:
                words.append(flag)
            elif flag.startswith("--") and rng.random() < 0.25:
                words.append(f"{flag}={rng.choice(values)}")
            else:
                words.append(f"{flag} {rng.choice(values)}")
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(SPLICES))
        words.append(rng.choice(IMAGES))
        words.extend(rng.choice(COMMANDS))
        verb = "create" if rng.random() < 0.08 else "run"
        head = rng.choices(["docker", "sudo docker", "$DOCKER", "docker container"],
                           weights=[85, 8, 4, 3])[0]
        if rng.random() < 0.5 and len(words) > 2:
            # continuation lines, one or a few words per line
            parts = [f"{head} {verb}"]
            step = rng.choice([1, 1, 2, 3])
            for i in range(0, len(words), step):
                parts.append("  " + " ".join(words[i:i + step]))
            body = " \\\n".join(parts)
        else:
            body = f"{head} {verb} " + " ".join(words)
        form = rng.random()
        if form < 0.15:
            body = f'cid="$({body})"'
        elif form < 0.20:
            body += " >/dev/null 2>&1 || fail \"cannot start\""
        elif form < 0.24:
            body += " | tee run.log"
        elif form < 0.27:
            body = f"exec {body}"
        self.emit(body, indent)

    # --- surrounding constructs --------------------------------------------

    def block_if(self, indent: int, inner) -> None:
        cond = self.rng.choice([
            '[[ -n "${CI:-}" ]]', '[ "$#" -gt 0 ]', '[[ "$MODE" == prod* ]]',
            '! docker inspect "$NAME" >/dev/null 2>&1', '[[ -f .env && -r .env ]]',
            'command -v docker >/dev/null', '[ -z "$(docker ps -q -f name="$NAME")" ]',
        ])
        self.emit(f"if {cond}; then", indent)
        inner(indent + 1)
        if self.rng.random() < 0.4:
            self.emit("else", indent)
            self.filler(indent + 1, self.rng.randint(1, 2))
        self.emit("fi", indent)

    def block_case(self, indent: int, inner) -> None:
        self.emit('case "${1:-}" in', indent)
        self.emit("start|up)", indent + 1)
        inner(indent + 2)
        self.emit(";;", indent + 2)
        self.emit("stop)", indent + 1)
        self.emit('docker stop "$NAME"', indent + 2)
        self.emit(";;", indent + 2)
        self.emit("*)", indent + 1)
        self.emit('echo "usage: $0 start|stop" >&2; exit 1', indent + 2)
        self.emit(";;", indent + 2)
        self.emit("esac", indent)

    def block_function(self, indent: int, inner) -> None:
        self.functions += 1
        name = self.rng.choice(["start", "run_tests", "deploy", "launch", "setup", "up"])
        style = self.rng.random()
        header = f"{name}_{self.functions}() {{" if style < 0.7 else f"function {name}_{self.functions} {{"
        self.emit(header, indent)
        self.emit('local name="${1:-app}"', indent + 1)
        inner(indent + 1)
        self.emit("}", indent)

    def block_loop(self, indent: int, inner) -> None:
        if self.rng.random() < 0.5:
            self.emit('for svc in "${services[@]}"; do', indent)
            end = "done"
        else:
            self.emit("while read -r line; do", indent)
            end = "done < list.txt"
        inner(indent + 1)
        self.emit(end, indent)

    def variables(self, indent: int) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 4)):
            self.emit(rng.choice([
                'NAME="${NAME:-app}"', 'IMAGE="${IMAGE:-nginx:1.25}"', 'VERSION=1.4.2',
                'PORT=${PORT:-8080}', 'OPTS="--rm -e TZ=UTC"', 'NETWORK=backend',
                'DOCKER=${DOCKER:-docker}', 'REPO_ROOT="$(git rev-parse --show-toplevel)"',
                'readonly TAG="$(date +%Y%m%d)"', 'declare -a args=(--rm -i)',
                'services=(web db cache)', 'args+=(-e "USER=$USER")',
                'export COMPOSE_PROJECT_NAME=demo',
            ]), indent)

    def heredoc(self, indent: int) -> None:
        rng = self.rng
        delim = rng.choice(["EOF", "'EOF'", "END"])
        dash = rng.random() < 0.3
        self.emit(f"cat {'<<-' if dash else '<<'}{delim} > config.env", indent)
        for _ in range(rng.randint(2, 6)):
            self.lines.append(rng.choice(["KEY=value", "HOST=$HOST", "# comment", "",
                                          "PORT=${PORT}", "USER=app", "LOG_LEVEL=info"]))
        self.lines.append(delim.strip("'"))

    def heredoc_with_docker_text(self, indent: int) -> None:
        """A usage message mentioning docker run: text, not a command."""
        self.emit("usage() {", indent)
        self.emit("cat <<EOF", indent + 1)
        self.lines.append("Usage: $0 [options]")
        self.lines.append("  runs: docker run --rm -p 8080:80 $IMAGE")
        self.lines.append("EOF")
        self.emit("}", indent)

    def comment(self, indent: int) -> None:
        self.emit(self.rng.choice([
            "# start the service", "# see the README for details",
            "# shellcheck disable=SC2086", "# TODO: pin the image digest",
            "# wait for the database to come up",
        ]), indent)

    def invocation(self, indent: int) -> None:
        """One docker run/create, sometimes wrapped in a function, if, case or loop."""
        rng = self.rng
        wrappers = [self.block_function, self.block_if, self.block_case, self.block_loop]
        weights = [29, 21, 8, 6]
        if rng.random() < 0.55 and indent < 3:
            wrapper = rng.choices(wrappers, weights=weights)[0]

            def inner(level: int) -> None:
                if rng.random() < 0.5:
                    self.filler(level)
                self.docker_run(level)

            wrapper(indent, inner)
        else:
            self.docker_run(indent)

    def noise(self, indent: int) -> None:
        """A stretch of shell without docker run."""
        rng = self.rng
        choice = rng.random()
        if choice < 0.35:
            self.filler(indent, rng.randint(1, 4))
        elif choice < 0.5:
            self.variables(indent)
        elif choice < 0.6:
            self.heredoc(indent)
        elif choice < 0.7:
            self.comment(indent)
        elif choice < 0.8:
            self.block_if(indent, lambda level: self.filler(level, rng.randint(1, 3)))
        elif choice < 0.88:
            self.block_function(indent, lambda level: self.filler(level, rng.randint(2, 6)))
        elif choice < 0.94:
            self.block_loop(indent, lambda level: self.filler(level, rng.randint(1, 3)))
        else:
            self.block_case(indent, lambda level: self.filler(level, 1))
        if rng.random() < 0.25:
            self.lines.append("")

    def script(self, lines: int, invocations: int) -> str:
        rng = self.rng
        self.emit(rng.choice(["#!/bin/bash", "#!/usr/bin/env bash", "#!/bin/sh", "#!/bin/bash -e"]))
        if rng.random() < 0.6:
            self.emit(rng.choice(["set -euo pipefail", "set -e", "set -eo pipefail", "set -ex"]))
        self.lines.append("")
        # Spread the invocations over the file: pick line budgets at which each goes in.
        if rng.random() < 0.1:
            self.heredoc_with_docker_text(0)
        marks = sorted(rng.uniform(0.05, 0.95) * lines for _ in range(invocations))
        for mark in marks:
            while len(self.lines) < mark:
                self.noise(0)
            self.invocation(0)
        while len(self.lines) < lines:
            self.noise(0)
        return "\n".join(self.lines) + "\n"


def generate(out_dir: Path, count: int = 460, total_lines: int = 35461,
             total_invocations: int = 770, seed: int = 1) -> SynthStats:
    """Write *count* scripts into *out_dir* (created if missing); the same seed writes the same files."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = SynthStats()
    for index, (lines, invocations) in enumerate(_plan(rng, count, total_lines, total_invocations)):
        writer = ScriptWriter(random.Random(rng.getrandbits(64)))
        text = writer.script(lines, invocations)
        (out_dir / f"synth-{index:04d}.sh").write_text(text, encoding="utf-8")
        stats.files += 1
        stats.lines += text.count("\n")
        stats.invocations += invocations
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the scripts into")
    parser.add_argument("--count", type=int, default=460, help="number of scripts (default 460)")
    parser.add_argument("--lines", type=int, default=35461, help="about this many lines in all")
    parser.add_argument("--invocations", type=int, default=770,
                        help="docker run/create invocations in all (default 770)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.count < 1 or args.invocations < 0 or args.lines < args.count:
        parser.error("need --count >= 1, --invocations >= 0 and --lines >= --count")
    stats = generate(args.out_dir, args.count, args.lines, args.invocations, args.seed)
    print(f"{stats.files} scripts, {stats.lines} lines, {stats.invocations} invocations "
          f"in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
