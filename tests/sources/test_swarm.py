"""Swarm services on a real manager: one spec per service, its tasks reported under it, service-only rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from dockaudit.sources import live
from dockaudit.sources.inspect import spec_from_inspect
from dockaudit.sources.live import audit_host
from engine import free_port, wait_for

pytest_plugins = ["engine_plugin", "fleet_plugin"]
pytestmark = pytest.mark.engine

PREFIX = "swarm-"


def running_tasks(manager, service: str) -> int:
    tasks = manager.client().api.tasks(filters={"service": service, "desired-state": "running"})
    return sum(1 for t in tasks if t.get("Status", {}).get("State") == "running")


@pytest.fixture(scope="module")
def services(fleet) -> Iterator[dict[str, str]]:
    """Services in the shapes the rules look for; each replicated one runs a task."""
    manager = fleet.manager
    for image in ("busybox:1.36", "postgres:16"):
        manager.tag(image)
    manager.docker("network", "create", "--driver", "overlay", f"{PREFIX}back")
    ingress_port, host_port = free_port(), free_port()
    create = ["service", "create", "--detach", "--no-resolve-image"]
    commands = {
        "web": [*create, "--name", f"{PREFIX}web", "--replicas", "2", "--publish", f"{ingress_port}:80",
                "-e", "API_TOKEN=abc123def456", "--network", f"{PREFIX}back", "busybox:1.36", "sleep", "100000"],
        "db": [*create, "--name", f"{PREFIX}db", "--replicas", "1", "--limit-memory", "64m",
               "--mount", "type=volume,source=pgdata,target=/var/lib/postgresql/data",
               "postgres:16", "sleep", "100000"],
        "pinned": [*create, "--name", f"{PREFIX}pinned", "--replicas", "1", "--constraint", "node.role==manager",
                   "--limit-memory", "64m", "--restart-condition", "on-failure", "--restart-max-attempts", "3",
                   "--publish", f"mode=host,published={host_port},target=80", "--secret", f"{PREFIX}pw",
                   "-e", "DB_PASSWORD_FILE=/run/secrets/pw", "--read-only",
                   "--mount", "type=volume,source=pgdata2,target=/var/lib/postgresql/data",
                   "postgres:16", "sleep", "100000"],
    }
    subprocess.run(["docker", "secret", "create", f"{PREFIX}pw", "-"], input="s3cret", text=True, check=True,
                   capture_output=True, env=manager.env())
    for argv in commands.values():
        manager.docker(*argv)
    for name, replicas in (("web", 2), ("db", 1), ("pinned", 1)):
        try:
            wait_for(lambda n=name, r=replicas: running_tasks(manager, f"{PREFIX}{n}") == r, timeout=90,
                     what=f"the tasks of {name}")
        except AssertionError as exc:
            states = manager.docker("service", "ps", "--no-trunc", f"{PREFIX}{name}", check=False)
            raise AssertionError(f"{exc}\n{states.stdout}{states.stderr}") from None
    yield {name: " ".join(["docker", *argv]) for name, argv in commands.items()}
    for name in commands:
        manager.docker("service", "rm", f"{PREFIX}{name}", check=False)
    wait_for(lambda: not manager.client().api.containers(all=True, filters={"label": "com.docker.swarm.service.id"}),
             what="the tasks to go")
    manager.docker("secret", "rm", f"{PREFIX}pw", check=False)
    manager.docker("network", "rm", f"{PREFIX}back", check=False)


@pytest.fixture(scope="module")
def audit(fleet, services):
    return audit_host(fleet.manager.url, all=True, timeout=10)


def by_name(specs) -> dict:
    return {s.name: s for s in specs}


def test_each_service_is_one_spec_and_its_tasks_are_not_containers(fleet, audit):
    names = sorted(s.name for s in audit.services)
    assert names == [f"{PREFIX}db", f"{PREFIX}pinned", f"{PREFIX}web"]
    assert all(s.container.kind == "service" for s in audit.services)
    tasks = fleet.manager.client().api.containers(all=True, filters={"label": "com.docker.swarm.service.id"})
    assert len(tasks) == 4  # two of web, one each of db and pinned
    assert not {t["Id"] for t in tasks} & {s.container.id for s in audit.specs}


def test_service_fields_become_container_fields(audit):
    specs = by_name(audit.services)
    web, db, pinned = specs[f"{PREFIX}web"], specs[f"{PREFIX}db"], specs[f"{PREFIX}pinned"]
    assert web.image.repository == "library/busybox" and web.command == ("sleep", "100000")
    assert web.memory is None and db.memory == 64 * 1024 * 1024
    assert web.networks == (f"{PREFIX}back",)
    assert web.service.replicas == 2 and web.service.mode == "replicated"
    assert [(p.container_port, p.host_ip) for p in web.ports] == [("80", "")]
    assert len(web.service.ingress_ports) == 1 and pinned.service.ingress_ports == ()
    assert web.service.restart_condition == "any" and web.restart_policy.name == "always"
    assert pinned.service.restart_condition == "on-failure" and pinned.restart_policy.max_retries == 3
    assert pinned.service.constraints == ("node.role==manager",) and pinned.service.secrets == (f"{PREFIX}pw",)
    assert pinned.read_only_rootfs and [m.target for m in db.mounts] == ["/var/lib/postgresql/data"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([sys.executable, "-m", "dockaudit.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.fixture(scope="module")
def cli_report(fleet, services) -> dict:
    proc = run_cli("live", "-H", fleet.manager.url, "--all", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def rules_of(report: dict, name: str) -> list[str]:
    return [f["rule"] for f in report["findings"] if f["container"] and f["container"]["name"] == name]


def test_service_only_rules_on_a_real_swarm(cli_report):
    web, db, pinned = (rules_of(cli_report, f"{PREFIX}{n}") for n in ("web", "db", "pinned"))
    assert "DA409" in web and "DA409" not in pinned  # ingress vs host mode
    assert "DA804" in web and "DA804" not in pinned  # API_TOKEN vs a secret and a _FILE variable
    assert "DA311" in web and "DA311" not in pinned
    assert "DA211" in db and "DA211" not in pinned  # one stateful replica, pinned or not
    assert "DA101" in web and "DA101" not in db  # container rules apply to services
    assert "DA801" in web  # the literal token, readable with docker service inspect


def test_tasks_are_reported_once_under_their_service(cli_report):
    subjects = {(f["container"]["kind"], f["container"]["name"]) for f in cli_report["findings"] if f["container"]}
    assert (("service", f"{PREFIX}web")) in subjects
    assert not [name for _, name in subjects if name.startswith(PREFIX) and "." in name]
    assert rules_of(cli_report, f"{PREFIX}web").count("DA101") == 1


def read_as_worker(manager, monkeypatch) -> None:
    """A worker lists task containers but no services: the engine read as ``worker`` is the manager
    with its services hidden."""
    real = live.audit_host

    def as_worker(endpoint, **options):
        result = real(endpoint, **options)
        if endpoint.name == "worker":
            listed = {s.container.id for s in result.specs}
            api = manager.client().api
            tasks = api.containers(all=True, filters={"label": "com.docker.swarm.service.id"})
            docs = [api.inspect_container(t["Id"]) for t in tasks if t["Id"] not in listed]
            result.specs.extend(spec_from_inspect(d) for d in docs)
            result.services = []
        return result

    monkeypatch.setattr(live, "audit_host", as_worker)


def test_a_worker_engine_in_the_same_run_does_not_repeat_tasks(fleet, services, monkeypatch):
    """The task containers of a service read on the manager are dropped from the worker's containers."""
    manager = fleet.manager
    read_as_worker(manager, monkeypatch)
    endpoints = [live.Endpoint("manager", manager.url), live.Endpoint("worker", manager.url)]
    worker_alone = live.audit_fleet(endpoints[1:], all=True, timeout=10)[0].result
    assert len([s for s in worker_alone.specs if s.labels.get("com.docker.swarm.service.id")]) == 4
    both = live.audit_fleet(endpoints, all=True, timeout=10)
    assert [s for a in both for s in a.result.specs if s.labels.get("com.docker.swarm.service.id")] == []
    assert len(both[0].result.services) == 3


def test_a_worker_in_the_same_cli_run_reports_nothing_twice(fleet, services, monkeypatch, tmp_path):
    """Through ``dockaudit live``: no finding names a task container of the worker, and the services
    count once."""
    from dockaudit.cli import main
    from dockaudit.sources import contexts

    manager = fleet.manager
    read_as_worker(manager, monkeypatch)
    endpoints = [live.Endpoint("manager", manager.url), live.Endpoint("worker", manager.url)]
    monkeypatch.setattr(contexts, "resolve_endpoints", lambda *args: (endpoints, []))
    out = tmp_path / "report.json"
    assert main(["live", "--all", "--format", "json", "--output-file", str(out)]) == 1
    subjects = [(f["engine"]["name"], (f["container"] or {}).get("kind"), (f["container"] or {}).get("name"),
                 f["rule"]) for f in json.loads(out.read_text())["findings"]]
    assert [s for s in subjects if s[0] == "worker" and s[1] is not None] == []  # it runs nothing but tasks
    assert [s for s in subjects if s[2] == f"{PREFIX}web" and s[3] == "DA101"] == [
        ("manager", "service", f"{PREFIX}web", "DA101")]


def test_a_service_removed_while_it_is_read(fleet, services, monkeypatch):
    """The service goes after its task container is listed, before the services are: the task is a note,
    the rest is audited."""
    manager = fleet.manager
    manager.docker("service", "create", "--detach", "--no-resolve-image", "--name", f"{PREFIX}brief",
                   "busybox:1.36", "sleep", "100000")
    wait_for(lambda: running_tasks(manager, f"{PREFIX}brief") == 1, timeout=90, what="the brief task")
    real = live._SocketReader.services

    def remove_then_list(self, *args, **kwargs):
        manager.docker("service", "rm", f"{PREFIX}brief", check=False)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(live._SocketReader, "services", remove_then_list)
    result = audit_host(manager.url, all=True, timeout=10)
    assert f"{PREFIX}brief" not in {s.name for s in result.services}
    assert {f"{PREFIX}web", f"{PREFIX}db", f"{PREFIX}pinned"} <= {s.name for s in result.services}
    assert not [s for s in result.specs if (s.name or "").startswith(f"{PREFIX}brief")]
    assert [n for n in result.notes if "removed while it was being read" in n]
    wait_for(lambda: not manager.client().api.containers(all=True, filters={"name": f"{PREFIX}brief"}),
             what="the brief task to go")


def test_reading_services_changes_nothing(fleet, services):
    api = fleet.manager.client().api
    before = {s["ID"]: s["Version"]["Index"] for s in api.services()}
    start = time.time()
    run_cli("live", "-H", fleet.manager.url, "--all", "--format", "json")
    time.sleep(1.1)
    events = list(api.events(since=start, until=time.time(), decode=True))
    assert [e for e in events if e.get("Type") != "container" or e.get("Action") != "top"] == []
    assert {s["ID"]: s["Version"]["Index"] for s in api.services()} == before


def test_a_service_create_command_and_the_service_it_made_give_the_same_findings(services, cli_report):
    """Parity: the rules that read both sources say the same of the command and of the live service."""
    from dockaudit.api import check_text, default_rules
    from dockaudit.model import Source

    both = {rule_id for rule_id, rule in default_rules().rules.items() if rule.sources >= {Source.STATIC, Source.LIVE}}
    # live, DA306 also reports no healthcheck at all, which statically the image may define: as for containers
    both.discard("DA306")
    for name, command in services.items():
        static = {f.rule_id for f in check_text(command + "\n", "deploy.sh") if f.rule_id in both}
        live = {rule for rule in rules_of(cli_report, f"{PREFIX}{name}") if rule in both}
        assert static == live, f"{name}: only static {sorted(static - live)}, only live {sorted(live - static)}"
