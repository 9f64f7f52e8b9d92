"""A deterministic fleet deploy script of any size, for measuring how the cost grows.

Fleet deploy scripts are long and regular: for every service a container is
removed and started again under its name with published ports, checked with
``docker exec``, its logs read, inside ``if … fi`` and functions. This
generator writes such a script up to a given size: named containers with
host ports (a few of them clashing), networks created and joined, links and
``--volumes-from`` between containers, ``docker exec``/``logs``/``stop``/
``rm`` on them, a typo now and then (a near-miss name), references to
containers made elsewhere, loops and ``case``. Every block names containers
of its own, so the number of names grows with the size, as in real fleets.

The same seed and size always write the same bytes.

    python bench/fleet.py OUT.sh --mb 1 [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

TEAMS = ["billing", "search", "payments", "identity", "catalog", "orders", "media", "ledger",
         "notify", "reports", "gateway", "profile", "inventory", "checkout", "shipping", "pricing"]
ROLES = ["api", "worker", "cache", "db", "proxy", "cron", "queue", "web", "indexer", "exporter"]
ENVS = ["prod", "stage", "canary", "eu", "us", "ap"]
IMAGES = {"api": "registry.example.com/{team}/api:{v}", "worker": "registry.example.com/{team}/worker:{v}",
          "cache": "redis:7-alpine", "db": "postgres:16", "proxy": "nginx:1.25", "cron": "alpine:3.19",
          "queue": "rabbitmq:3-management", "web": "registry.example.com/{team}/web:{v}",
          "indexer": "elasticsearch:8.13.0", "exporter": "prom/node-exporter:v1.7.0"}
CONTAINER_PORTS = {"api": 8080, "worker": 9000, "cache": 6379, "db": 5432, "proxy": 80, "cron": 0,
                   "queue": 5672, "web": 3000, "indexer": 9200, "exporter": 9100}


def _typo(rng: random.Random, name: str) -> str:
    """*name* with one slip of the fingers: a letter doubled, dropped or swapped."""
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return name[:i] + name[i] + name[i:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]


class FleetWriter:
    """Appends service blocks until the script reaches its size."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.parts: list[str] = []
        self.size = 0
        self.services = 0
        self.names: list[str] = []
        self.networks: list[str] = []

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode())

    def name(self) -> str:
        rng = self.rng
        n = self.services
        team = TEAMS[n % len(TEAMS)]
        role = ROLES[(n // len(TEAMS)) % len(ROLES)]
        env = ENVS[(n // (len(TEAMS) * len(ROLES))) % len(ENVS)]
        cycle = n // (len(TEAMS) * len(ROLES) * len(ENVS))
        # Most names carry the fleet's numbering; some are words only, as hand-named ones are.
        if cycle == 0 and rng.random() < 0.5:
            return f"{team}-{role}-{env}"
        return f"{team}-{role}-{env}-{cycle + 1}" if rng.random() < 0.7 else f"{team}{cycle + 1}-{env}-{role}"

    def network(self) -> str:
        if not self.networks or self.rng.random() < 0.02:
            name = f"{TEAMS[len(self.networks) % len(TEAMS)]}-net-{len(self.networks) + 1}"
            subnet = f"10.{(len(self.networks) // 250) % 250}.{len(self.networks) % 250}.0/24"
            self.emit(f"docker network create --driver bridge --subnet {subnet} {name} || true\n")
            self.networks.append(name)
        return self.rng.choice(self.networks[-8:])

    def service(self) -> None:
        rng = self.rng
        name = self.name()
        self.services += 1
        role = ROLES[((self.services - 1) // len(TEAMS)) % len(ROLES)]
        team = TEAMS[(self.services - 1) % len(TEAMS)]
        image = IMAGES[role].format(team=team, v=f"1.{self.services % 40}.{self.services % 7}")
        network = self.network()
        port = CONTAINER_PORTS[role]
        words = ["-d", f"--name {name}", f"--network {network}", "--restart unless-stopped"]
        if port:
            host_port = 10000 + (self.services * 7) % 50000
            if rng.random() < 0.01 and self.services > 10:
                host_port = 10000 + ((self.services - rng.randrange(1, 10)) * 7) % 50000  # a clash
            address = rng.choice(["", "127.0.0.1:", "0.0.0.0:"])
            words.append(f"-p {address}{host_port}:{port}")
        words += [f"-e SERVICE={name}", f'-e "TEAM={team}"', f"--label fleet.team={team}"]
        if role == "db":
            words.append(f"-v {name}-data:/var/lib/postgresql/data")
        if rng.random() < 0.3:
            words.append(f"--memory {rng.choice(['256m', '512m', '1g'])} --cpus {rng.choice(['0.5', '1', '2'])}")
        if self.names and rng.random() < 0.15:
            peer = rng.choice(self.names[-50:])
            words.append(f"--link {peer if rng.random() < 0.9 else _typo(rng, peer)}:upstream")
        if self.names and rng.random() < 0.05:
            words.append(f"--volumes-from {rng.choice(self.names[-50:])}")
        lines = [f"# {name}", f"deploy_{self.services}() {{",
                 f'  if docker inspect {name} >/dev/null 2>&1; then',
                 f"    docker rm -f {name}", "  fi"]
        run = " \\\n    ".join(["  docker run", *words, image])
        lines.append(run)
        lines.append("}")
        form = rng.random()
        if form < 0.5:
            lines.append(f'if [ "${{ONLY:-{team}}}" = "{team}" ]; then\n  deploy_{self.services}\nfi')
        elif form < 0.7:
            lines.append(f'case "${{ACTION:-up}}" in\n  up) deploy_{self.services} ;;\n'
                         f"  down) docker stop {name} ;;\nesac")
        else:
            lines.append(f"deploy_{self.services}")
        target = name if rng.random() < 0.97 else _typo(rng, name)
        lines.append(f"docker exec {target} sh -c 'test -f /tmp/ready' || echo \"{name} not ready\" >&2")
        if rng.random() < 0.3:
            lines.append(f"docker logs --tail 20 {name}")
        if rng.random() < 0.05:
            lines.append(f"docker exec {team}-sidecar-{self.services} true  # started by another job")
        if rng.random() < 0.05:
            lines.append(f"docker network connect {network} {name}")
        if rng.random() < 0.03:
            lines.append(f'for i in 1 2 3; do\n  docker exec {name} ping -c1 "{network}-gw-$i" || sleep 1\ndone')
        self.names.append(name)
        self.emit("\n".join(lines) + "\n\n")

    def script(self, size: int) -> str:
        self.emit("#!/bin/bash\n# Fleet deploy: every service removed and started again.\nset -euo pipefail\n\n")
        while self.size < size:
            self.service()
        return "".join(self.parts)


def generate(path: Path, megabytes: float, seed: int = 1) -> int:
    """Write a script of about *megabytes* MB to *path*; returns its size in bytes."""
    text = FleetWriter(seed).script(int(megabytes * 1024 * 1024))
    data = text.encode()
    path.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="file to write")
    parser.add_argument("--mb", type=float, default=1.0, help="size in MB (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.mb <= 0:
        parser.error("--mb must be positive")
    size = generate(args.out, args.mb, args.seed)
    print(f"{size} bytes in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
