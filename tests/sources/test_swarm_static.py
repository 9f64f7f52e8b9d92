"""docker service create/update in scripts: the CLI's grammar for them, and the service spec they describe."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockaudit.api import check_text, read_script

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "dockaudit" / "data" / "service_options.json"
FACTS = REPO / "dockaudit" / "data" / "service_options.yaml"
CLI_SOURCE = Path(os.environ.get("DOCKAUDIT_CLI_SOURCE", "/work/.mirror/docker+cli/repo"))


def spec_of(line: str):
    [command] = read_script(line + "\n", "deploy.sh").commands
    return command.spec


def problems(line: str) -> list[tuple[str, int, str]]:
    [command] = read_script(line + "\n", "deploy.sh").commands
    return [(p.rule_id, p.loc.column, p.message) for p in command.command.problems]


def test_the_service_option_facts_are_reviewable_and_name_their_source():
    """service_options.yaml is the reviewed form: one flag a line, sorted, with the CLI commit and version."""
    text = FACTS.read_text(encoding="utf-8")
    facts = yaml.safe_load(text)
    assert facts["docker_cli"]["repository"] == "github.com/docker/cli"
    assert re.fullmatch(r"[0-9a-f]{40}", facts["docker_cli"]["commit"]) and facts["docker_cli"]["version"]
    for name, command in facts["commands"].items():
        names = [flag["name"] for flag in command["flags"]]
        assert names == sorted(names) and len(names) == len(set(names))
        assert all(f"- {{name: {flag}," in text for flag in names), name
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert table["source"] == f"github.com/docker/cli@{facts['docker_cli']['commit']}"


@pytest.mark.skipif(not CLI_SOURCE.is_dir(), reason=f"no docker/cli clone at {CLI_SOURCE} (DOCKAUDIT_CLI_SOURCE)")
def test_the_option_table_is_what_the_cli_source_gives():
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "gen_service_options.py"), str(CLI_SOURCE), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_table_agrees_with_the_installed_docker_cli_help():
    """Every option `docker service create --help` lists is in the table (the installed CLI may be older)."""
    import shutil

    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    table = json.loads(TABLE.read_text(encoding="utf-8"))["commands"]
    for command in ("create", "update"):
        help_text = subprocess.run(["docker", "service", command, "--help"], capture_output=True, text=True).stdout
        listed = set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", help_text, re.M))
        assert len(listed) > 50, help_text
        known = {flag["name"] for flag in table[f"service {command}"]["flags"]}
        assert listed - known == set(), command


def test_usage_errors_of_service_commands():
    assert problems("docker service create --limit-memorx 3 nginx:1.27") == [
        ("DA002", 23, "unknown option --limit-memorx for 'service create'; did you mean --limit-memory?")]
    [(rule, column, message)] = problems("docker service create --replicas abc nginx:1.27")
    assert (rule, column) == ("DA003", 23) and "--replicas" in message
    [(rule, _, message)] = problems("docker service create --limit-memory 12q nginx:1.27")
    assert rule == "DA003" and "--limit-memory" in message
    [(rule, _, message)] = problems("docker service create --name web")
    assert rule == "DA003" and "needs an image" in message
    assert problems("docker service update --env-add A=1 --image nginx:1.28 web") == []
    [(rule, _, _)] = problems("docker service update --publish 80:80 web")  # create's spelling
    assert rule == "DA002"


def test_options_stop_at_the_image_as_the_cli_says():
    spec = spec_of("docker service create nginx:1.27 --replicas 3")
    assert spec.command == ("--replicas", "3") and spec.service.replicas == 1
    assert [p[0] for p in problems("docker service create nginx:1.27 --replicas 3")] == ["DA004"]


def test_service_fields():
    spec = spec_of("docker service create --name web --mode global --limit-memory 64m --limit-cpu 0.5 "
                   "--restart-condition on-failure --restart-max-attempts 3 --constraint node.role==worker "
                   "--secret source=pw,target=db --config app -p 8080:80 --publish mode=host,published=81,target=81 "
                   "--container-label team=web -l svc=1 --network back -e A=1 --mount source=data,target=/d "
                   "registry.example.com/web:1.2 serve --port 80")
    service = spec.service
    assert (spec.name, spec.memory, spec.nano_cpus) == ("web", 64 * 1024 * 1024, 500_000_000)
    assert (service.mode, service.replicas, service.constraints) == ("global", None, ("node.role==worker",))
    assert (service.restart_condition, service.restart_max_attempts) == ("on-failure", 3)
    assert spec.restart_policy.name == "on-failure" and spec.restart_policy.max_retries == 3
    assert (service.secrets, service.configs) == (("pw",), ("app",))
    assert service.ingress_ports == ("8080:80/tcp",)
    assert [(p.host_port, p.container_port) for p in spec.ports] == [("8080", "80"), ("81", "81")]
    assert dict(spec.labels) == {"team": "web"}  # the container's labels, not the service's
    assert spec.networks == ("back",) and [m.target for m in spec.mounts] == ["/d"]
    assert spec.command == ("serve", "--port", "80") and spec.is_service and not spec.incomplete


def test_an_update_is_partial():
    spec = spec_of("docker service update --image nginx:1.28 --env-add DB_PASSWORD=x --replicas 1 web")
    assert spec.incomplete and spec.name == "web" and spec.image.raw == "nginx:1.28"
    assert spec.service.replicas == 1 and [e.key for e in spec.env] == ["DB_PASSWORD"]
    # nothing is said about what an update leaves as it is
    assert [f.rule_id for f in check_text("docker service update --image nginx:1.28 web\n", "u.sh")] == []


def test_other_service_subcommands_are_not_specs():
    assert spec_of("docker service rm web") is None
    assert spec_of("docker service scale web=3") is None
