"""docker stack deploy -c FILE STACK in scripts: the stack's Compose files read as Swarm services.

Real files in a temporary folder: a deploy script, the Compose files it names
beside it, and the command line run on them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockaudit.api import read_script
from dockaudit.sources.stack import deployed_stacks, stack_deploys

STACK = """\
version: "3.8"
services:
  web:
    image: nginx:1.25
    ports:
      - "127.0.0.1:8080:80"
    environment:
      DB_PASSWORD: hunter2
    deploy:
      replicas: 2
  db:
    image: postgres:15
    ports:
      - target: 5432
        published: 5432
        mode: host
    volumes:
      - data:/var/lib/postgresql/data
    deploy:
      mode: global
      restart_policy:
        condition: on-failure
    secrets:
      - db_pw
volumes:
  data: {}
secrets:
  db_pw:
    external: true
"""
PROD = """\
services:
  web:
    deploy:
      resources:
        limits:
          memory: 256M
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "stack.yml").write_text(STACK)
    (folder / "prod.yml").write_text(PROD)
    # docker compose would merge this override; docker stack deploy does not
    (folder / "docker-compose.override.yml").write_text("services:\n  web:\n    privileged: true\n")
    return folder


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockaudit.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"})


def services_of(script_path: Path) -> dict:
    script = read_script(script_path.read_text(), str(script_path))
    [stack] = deployed_stacks(script, str(script_path), set())
    assert stack.notes == []
    return {c.spec.name: c.spec for c in stack.script.commands}


@pytest.mark.parametrize("line", [
    "docker stack deploy -c stack.yml -c prod.yml shop",
    "docker stack deploy --compose-file stack.yml --compose-file=prod.yml --with-registry-auth shop",
    "docker stack deploy -c stack.yml,prod.yml --prune --resolve-image never shop",
    "docker -H ssh://ops@manager stack deploy -cstack.yml -c prod.yml -- shop",
])
def test_the_files_and_the_stack_a_deploy_names(line):
    [deploy] = stack_deploys(read_script(line + "\n", "deploy.sh"))
    assert deploy.stack == "shop"
    assert deploy.files == ("stack.yml", "prod.yml")


def test_services_are_swarm_services_of_the_stack(project):
    script = project / "release.sh"
    script.write_text("#!/bin/sh\nset -e\ndocker stack deploy -c stack.yml -c prod.yml shop\n")
    services = services_of(script)
    assert set(services) == {"shop_web", "shop_db"}
    web, db = services["shop_web"], services["shop_db"]
    assert web.service.mode == "replicated" and web.service.replicas == 2
    assert web.memory == 256 * 1024 * 1024  # merged from the second -c file
    assert not web.privileged  # the override file beside it is not read by docker stack deploy
    assert [(p.host_ip, p.host_port, p.container_port) for p in web.ports] == [("", "8080", "80")]
    assert web.service.ingress_ports == ("8080:80/tcp",)
    assert db.service.mode == "global" and db.service.replicas is None
    assert db.service.ingress_ports == ()  # mode: host
    assert db.service.restart_condition == "on-failure" and db.restart_policy.name == "on-failure"
    assert db.service.secrets == ("db_pw",)
    assert "shop_data" in {m.source for m in db.mounts}  # volumes take the stack's name


def test_findings_point_into_the_compose_file_once(project):
    (project / "release.sh").write_text("#!/bin/sh\ndocker stack deploy -c stack.yml -c prod.yml shop\n")
    (project / "rollback.sh").write_text("#!/bin/sh\ndocker stack deploy -c stack.yml,prod.yml shop\n")
    proc = run_cli("check", "--format", "json", "release.sh", "rollback.sh", cwd=project)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    found = [(f["rule"], f["path"], f["line"]) for f in report["findings"]]
    assert all(path == "stack.yml" for _, path, _ in found)
    assert found.count(("DA409", "stack.yml", 6)) == 1  # web's ingress port, once for both scripts
    assert ("DA804", "stack.yml", 8) in found  # a password in the environment where secrets exist
    assert ("DA101", "stack.yml", 3) not in found  # prod.yml limits web's memory
    assert ("DA101", "stack.yml", 11) in found  # db has no limit
    assert not [f for f in report["findings"] if f["rule"] == "DA409" and f["line"] == 14]  # db: mode host
    messages = {f["rule"]: f["message"] for f in report["findings"] if f["line"] == 6}
    assert "every node" in messages["DA403"] and "127.0.0.1" not in messages["DA403"]


def test_a_missing_compose_file_is_a_notification_and_the_rest_is_checked(project):
    (project / "release.sh").write_text(
        "#!/bin/sh\n"
        "docker stack deploy -c gone.yml other\n"
        "docker stack deploy -c \"$STACK_FILE\" third\n"
        "docker stack deploy -c stack.yml shop\n"
        "docker run -d --privileged busybox:1.36 sleep 1\n")
    proc = run_cli("check", "--format", "json", "release.sh", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    notes = [(n["path"], n["level"], n["message"]) for n in report["notifications"]]
    assert ("gone.yml", "warning", "cannot read the Compose file of stack other (deployed at release.sh:2): "
                                   "no such file or directory") in notes
    assert any(path == "release.sh" and "variable" in message for path, _, message in notes)
    paths = {f["path"] for f in report["findings"]}
    assert paths == {"release.sh", "stack.yml"}


def test_an_unreadable_compose_file_is_a_notification(project):
    (project / "broken.yml").write_text("services: [\n")
    (project / "release.sh").write_text("#!/bin/sh\ndocker stack deploy -c broken.yml shop\n")
    proc = run_cli("check", "--format", "json", "release.sh", cwd=project)
    assert proc.returncode == 0, proc.stderr
    [note] = json.loads(proc.stdout)["notifications"]
    assert note["path"] == "broken.yml" and note["level"] == "warning"
    assert note["message"].startswith("not read as the Compose file of stack shop:")


def test_paths_are_relative_to_the_script_folder(project, tmp_path):
    (project / "release.sh").write_text("#!/bin/sh\ndocker stack deploy -c stack.yml shop\n")
    proc = run_cli("check", "--format", "json", "deploy/release.sh", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert report["notifications"] == []
    assert {f["path"] for f in report["findings"]} == {"deploy/stack.yml"}
