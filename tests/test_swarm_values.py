"""Values of docker service create/update options, judged as the CLI (and then the daemon) judge them.

The CLI itself refuses a bad --mode or --publish before it talks to an engine:
the installed docker CLI, aimed at a socket that does not exist, says which
values it refuses, and dockaudit must refuse the same ones (DA003). The
daemon refuses the others (--restart-condition, failure actions, orders,
--endpoint-mode) when the service is created; their cases are in DA003's
rule cases.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from dockaudit.api import read_script

DOCKER = shutil.which("docker")


def problems(line: str) -> list[str]:
    [command] = read_script(line + "\n", "deploy.sh").commands
    return [p.message for p in command.command.problems if p.rule_id == "DA003"]


CLI_CHECKED = [
    ("--mode bogus", True),
    ("--mode replicated-job", False),
    ("--mode global", False),
    ("--publish mode=bogus,target=80", True),
    ("--publish published=8080,target=80,mode=host", False),
    ("--publish published=8080,target=99999", True),
    ("--publish protocol=icmp,target=80", True),
    ("--publish published=8080", True),
    ("-p 8080:http", True),
    ("-p 127.0.0.1:8080:80/udp", True),
    ("-p 8080:80/udp", False),
    ("-p 8080-8081:80-81", False),
]


@pytest.mark.parametrize(("value", "refused"), CLI_CHECKED)
def test_dockaudit_refuses_what_the_cli_refuses(value, refused):
    assert bool(problems(f"docker service create --name api {value} nginx:1.25")) == refused


@pytest.mark.skipif(DOCKER is None, reason="no docker CLI installed")
@pytest.mark.parametrize(("value", "refused"), CLI_CHECKED)
def test_the_installed_cli_agrees(value, refused, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=f"unix://{tmp_path}/none.sock", DOCKER_CONFIG=str(tmp_path / "config"))
    proc = subprocess.run([DOCKER, "service", "create", "--name", "api", *value.split(), "nginx:1.25"],
                          capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode != 0
    reached_the_engine = "Cannot connect to the Docker daemon" in proc.stderr
    assert reached_the_engine != refused, proc.stderr


@pytest.mark.parametrize(("line", "message"), [
    ("docker service create --restart-condition Always nginx:1.25",
     'invalid value "Always" for --restart-condition: invalid RestartCondition: "Always"'),
    ("docker service update --endpoint-mode VIP api", 'invalid value "VIP" for --endpoint-mode: invalid resolution mode: "VIP"'),
    ("docker service update --rollback-failure-action explode api",
     'invalid value "explode" for --rollback-failure-action: unrecognized update failure action explode'),
])
def test_the_daemon_checks_are_exact_and_name_the_value(line, message):
    assert problems(line) == [message]
