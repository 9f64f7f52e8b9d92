"""Compose 1.29 as the oracle of the Compose source: what it creates is what dockaudit reads.

A Compose project (by default fixtures/compose/oracle) is copied to a scratch
folder with a ``.env`` that names the project and gives its network a free
subnet; ``docker-compose --compatibility -p NAME up --no-start`` (Debian's
docker-compose 1.29, the Python implementation) creates its containers on a
private engine (tests/engine.py), the images being the test busybox tagged
under each service's image name. Each container, read back from ``docker
inspect`` (what ``dockaudit show --inspect`` prints), is compared field by
field with the service as ``dockaudit show`` reads it from the file, with the
comparison of tools/differential.py and its stated equivalences.

What Compose 1.29 does that is its own and not the container's definition,
so is left out of the comparison (``COMPOSE_OWN``):

| field | what Compose 1.29 adds | why it is not compared |
|---|---|---|
| labels | ``com.docker.compose.*`` (project, service, config hash, version, …) | Compose's bookkeeping, not the file's |
| network_aliases | the service name and the container's short id on each network | Compose's own aliases for service discovery |
| links | none at all under ``up --no-start`` (1.29 sets them when it connects the networks at start) | a step of starting, which the oracle does not take |
| network_mode, networks, pid_mode, ipc_mode | ``default``/unset for ``service:NAME`` | 1.29 resolves ``service:NAME`` to the service's *running* container; under ``--no-start`` there is none, and it falls back to the default |
| volumes_from | the container id where the file names a service | the same container: Compose passes ids, the CLI names |

``--compatibility`` makes 1.29 apply ``deploy.resources`` and
``deploy.restart_policy`` as Compose v2 always does; the source reads them so.

Usage (needs root, docker.io and docker-compose)::

    python tools/compose_oracle.py [PROJECT_DIR]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests"))

import differential as D  # noqa: E402

from dockaudit.sources.compose import read_compose  # noqa: E402
from dockaudit.sources.inspect import spec_from_inspect  # noqa: E402
from dockaudit.specjson import spec_to_dict  # noqa: E402

FIXTURE = REPO / "fixtures" / "compose" / "oracle"
# What only the file says, never the engine: not compared.
STATIC_ONLY = {
    "lifecycle": "what the service is for (service, background, one-shot), read from the whole file",
    "image_origin": "whether the project builds the image, read from the whole file",
}
COMPOSE_LABEL = "com.docker.compose."


@dataclass
class ServiceResult:
    service: str
    diffs: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)


def _compose_own(static: dict[str, Any], live: dict[str, Any], service: str, container: str,
                 names: dict[str, str], notes: list[str]) -> dict[str, Any]:
    """*live* without what Compose 1.29 adds of its own (see the table above)."""
    live = dict(live)
    labels = {k: v for k, v in (live.get("labels") or {}).items() if not k.startswith(COMPOSE_LABEL)}
    if labels != live.get("labels"):
        notes.append("labels: Compose's com.docker.compose.* bookkeeping")
    live["labels"] = labels
    aliases = [a for a in live.get("network_aliases") or [] if a != service and not
               (len(a) == 12 and container.startswith(a))]
    if aliases != (live.get("network_aliases") or []):
        notes.append("network_aliases: the service name and the short id Compose adds")
    live["network_aliases"] = aliases
    if static.get("links") and not live.get("links"):
        notes.append("links: set by Compose 1.29 only when it starts the container")
        live["links"] = static["links"]
    for key in ("network_mode", "pid_mode", "ipc_mode"):
        mode = static.get(key)
        if isinstance(mode, str) and mode.startswith("container:") and live.get(key) is None:
            notes.append(f"{key} {mode}: service: modes need the service running under Compose 1.29")
            live[key] = mode
            if key == "network_mode":
                live["networks"] = static.get("networks")
    by_id = {ident: name for ident, name in names.items()}
    volumes_from = []
    for item in live.get("volumes_from") or []:
        ident, sep, mode = item.partition(":")
        if ident in by_id:
            notes.append("volumes_from: Compose passes the container id")
            item = by_id[ident] + sep + mode
        volumes_from.append(item)
    live["volumes_from"] = volumes_from
    return live


def compose_up(engine: Any, project_dir: Path, name: str) -> subprocess.CompletedProcess[str]:
    env = engine.env()
    env.pop("COMPOSE_PROJECT_NAME", None)
    return subprocess.run(
        ["docker-compose", "--compatibility", "-p", name, "up", "--no-start"],
        cwd=project_dir, env=env, capture_output=True, text=True, timeout=300)


def compose_down(engine: Any, project_dir: Path, name: str) -> None:
    subprocess.run(["docker-compose", "-p", name, "down", "-v", "--remove-orphans"],
                   cwd=project_dir, env=engine.env(), capture_output=True, text=True, timeout=300)


def run_oracle(engine: Any, scratch: Path, fixture: Path = FIXTURE) -> list[ServiceResult]:
    """Create the project on *engine* with Compose and compare every service."""
    name = f"daorc{uuid.uuid4().hex[:8]}"
    project_dir = scratch / name
    shutil.copytree(fixture, project_dir)
    (project_dir / ".env").write_text(
        f"COMPOSE_PROJECT_NAME={name}\nORACLE_SUBNET={engine.free_subnet()}\n", encoding="utf-8")
    compose_file = project_dir / "docker-compose.yml"
    read = read_compose(compose_file.read_text(encoding="utf-8"), str(compose_file))
    statics = {service: {k: v for k, v in spec_to_dict(entry.spec).items() if k not in STATIC_ONLY}
               for service, entry in zip(read.services, read.script.commands, strict=True)}
    for spec in (entry.spec for entry in read.script.commands):
        if spec is not None and spec.image is not None:
            engine.tag(spec.image.raw)
    try:
        created = compose_up(engine, project_dir, name)
        if created.returncode != 0:
            raise RuntimeError(f"docker-compose up failed: {created.stderr}")
        api = engine.client().api
        containers = api.containers(all=True, filters={"label": f"com.docker.compose.project={name}"})
        documents = [api.inspect_container(c["Id"]) for c in containers]
        names = {doc["Id"]: doc["Name"].lstrip("/") for doc in documents}
        results = []
        for doc in documents:
            service = doc["Config"]["Labels"]["com.docker.compose.service"]
            live = spec_to_dict(spec_from_inspect(doc, names=names))
            result = ServiceResult(service)
            live = _compose_own(statics[service], live, service, doc["Id"], names, result.expected)
            diffs, expected = D.compare(statics[service], live, project_dir, _cgroupns(engine))
            result.diffs += diffs
            result.expected += expected
            results.append(result)
        missing = set(statics) - {r.service for r in results}
        results += [ServiceResult(s, [f"Compose created no container for {s}"]) for s in sorted(missing)]
        return sorted(results, key=lambda r: r.service)
    finally:
        compose_down(engine, project_dir, name)


def _cgroupns(engine: Any) -> str:
    info = engine.client().api.info()
    return "private" if str(info.get("CgroupVersion")) == "2" else "host"


def report(results: Iterable[ServiceResult]) -> str:
    lines = []
    for result in results:
        lines.append(f"{result.service}: {'agree' if not result.diffs else 'DISAGREE'}")
        lines += [f"  - {d}" for d in result.diffs]
        lines += [f"  (expected) {e}" for e in sorted(set(result.expected))]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import tempfile

    from engine import start_engine

    fixture = Path(argv[0]) if argv else FIXTURE
    engine = start_engine()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            results = run_oracle(engine, Path(scratch), fixture)
    finally:
        engine.stop()
    print(report(results))
    print(json.dumps({"services": len(results), "disagree": sum(bool(r.diffs) for r in results)}))
    return 1 if any(r.diffs for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
