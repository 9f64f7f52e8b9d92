"""Compose files as a source: services read as Compose creates them, findings in the YAML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockaudit.api import check_text, default_rules
from dockaudit.config import Config
from dockaudit.engine import Engine
from dockaudit.model import UNKNOWN, Finding
from dockaudit.sources.compose import read_compose
from dockaudit.sources.compose_load import ComposeError, Variables, interpolate, read_env_file
from dockaudit.sources.compose_names import is_compose_name
from tests.conftest import FIXTURES
from tests.test_cli import run

STACK = FIXTURES / "compose" / "stack"


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def shown(folder: Path, name: str) -> str:
    """The file as a user names it from the project's parent: no word of the test's own folder
    (pytest-…/test_…) may make it read as a test file."""
    return f"{folder.name}/{name}"


def compose_findings(folder: Path, name: str = "compose.yaml", config: Config | None = None) -> list[Finding]:
    path = folder / name
    read = read_compose(path.read_text(encoding="utf-8"), shown(folder, name), base_dir=folder)
    result = Engine(default_rules().rules, config or Config()).check_script(read.script)
    assert result.errors == []
    return result.findings


def specs(folder: Path, name: str = "compose.yaml") -> dict:
    path = folder / name
    read = read_compose(path.read_text(encoding="utf-8"), shown(folder, name), base_dir=folder)
    return {service: entry.spec for service, entry in zip(read.services, read.script.commands, strict=True)}


def active(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.suppressed is None]


# --- which files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("compose.yaml", True), ("compose.yml", True), ("docker-compose.yml", True),
    ("docker-compose.yaml", True), ("docker-compose.prod.yml", True), ("compose.dev.yaml", True),
    ("Docker-Compose.yml", True), ("compose.json", False), ("docker-compose", False),
    ("my-compose.yml", False), ("values.yaml", False),
])
def test_compose_file_names(name, expected):
    assert is_compose_name(name) is expected


def test_check_of_a_folder_reads_its_compose_file_and_the_override_with_it():
    result = run("check", "-f", "json", str(STACK.relative_to(STACK.parents[2])))
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    paths = {f["path"] for f in findings}
    assert paths == {"fixtures/compose/stack/docker-compose.yml", "fixtures/compose/stack/docker-compose.override.yml"}
    by_rule = {(f["rule"], f["line"]) for f in findings if f["path"].endswith("docker-compose.yml")}
    assert ("DA801", 6) in by_rule  # the literal root password
    assert ("DA405", 9) in by_rule  # 3306 on every interface
    assert ("DA205", 17) in by_rule  # the docker socket
    assert ("DA703", 4) in by_rule  # mysql 5.7 from the .env file
    override = [f for f in findings if f["path"].endswith("override.yml")]
    assert [(f["rule"], f["line"], f["column"]) for f in override] == [("DA501", 3, 5)]


def test_compose_option_and_kind_read_any_file_name(tmp_path):
    write(tmp_path, {"stack.yml": "services:\n  web:\n    image: nginx\n    privileged: true\n"})
    for args in (["--compose", "stack.yml"], ["--kind", "compose", "stack.yml"]):
        result = run("check", "-f", "json", *args, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert {f["rule"] for f in json.loads(result.stdout)["findings"]} >= {"DA501", "DA701"}
    # without either, a .yml file of another name is not read
    result = run("check", "-f", "json", ".", cwd=tmp_path)
    assert json.loads(result.stdout)["findings"] == []


def test_config_glob_reads_files_as_compose(tmp_path):
    write(tmp_path, {
        ".dockaudit.yaml": "compose: ['deploy/*.yml']\n",
        ".git": "",
    })
    write(tmp_path / "deploy", {"stack.yml": "services:\n  web:\n    image: nginx:1.27\n    pid: host\n"})
    result = run("check", "-f", "json", ".", cwd=tmp_path)
    assert [f["rule"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "DA504"] == ["DA504"]


def test_show_prints_each_service(tmp_path):
    write(tmp_path / "shop", {"compose.yaml": (
        "services:\n  web:\n    image: nginx:1.27\n    mem_limit: 512m\n    cpus: 1.5\n"
        "  cache:\n    image: redis:7.2\n    container_name: shop-cache\n")})
    result = run("show", "-f", "json", str(tmp_path / "shop" / "compose.yaml"))
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [e["service"] for e in entries] == ["web", "cache"]
    web, cache = (e["spec"] for e in entries)
    assert (web["name"], web["memory"], web["nano_cpus"]) == ("shop_web_1", 536870912, 1500000000)
    assert (web["network_mode"], web["service"]) == ("shop_default", True)
    assert cache["name"] == "shop-cache"


# --- the spec, in the engine's terms -----------------------------------------------------------


def test_values_in_engine_terms(tmp_path):
    folder = write(tmp_path / "App_1", {"compose.yaml": """\
services:
  api:
    image: registry.example.com/team/api:2.3
    deploy:
      resources:
        limits: {cpus: "0.25", memory: 128M, pids: 100}
        reservations: {memory: 64M}
      restart_policy: {condition: on-failure, max_attempts: 3}
    ports:
      - "127.0.0.1:8080:80"
      - 9000
      - target: 53
        published: "5353"
        protocol: udp
        host_ip: 10.0.0.1
    volumes:
      - data:/data
      - ./conf:/etc/app:ro
      - type: bind
        source: /srv/logs
        target: /logs
        bind: {propagation: rshared}
      - /scratch
    tmpfs: /run
    cap_add: [net_admin]
    environment: [A=1, B]
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 64}
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      retries: 3
    shm_size: 1gb
    networks: [front, outside]
volumes:
  data:
networks:
  front:
  outside:
    external: true
"""})
    spec = specs(folder)["api"]
    assert (spec.memory, spec.memory_reservation, spec.nano_cpus, spec.pids_limit) == (
        128 * 1024**2, 64 * 1024**2, 250_000_000, 100)
    assert (spec.restart_policy.name, spec.restart_policy.max_retries) == ("on-failure", 3)
    ports = {(p.host_ip, p.host_port, p.key) for p in spec.ports}
    assert ports == {("127.0.0.1", "8080", "80/tcp"), ("", "", "9000/tcp"), ("10.0.0.1", "5353", "53/udp")}
    mounts = {(m.type, m.source, m.target, m.read_only, m.propagation) for m in spec.mounts}
    assert mounts == {
        ("volume", "app_1_data", "/data", False, None),
        ("bind", "./conf", "/etc/app", True, "rprivate"),
        ("bind", "/srv/logs", "/logs", False, "rshared"),
        ("volume", None, "/scratch", False, None),
        ("tmpfs", None, "/run", False, None),
    }
    assert spec.cap_add == ("CAP_NET_ADMIN",)
    assert [(e.key, e.value) for e in spec.env] == [("A", "1"), ("B", None)]
    assert {(u.name, u.soft, u.hard) for u in spec.ulimits} == {("nofile", 1024, 2048), ("nproc", 64, 64)}
    assert spec.healthcheck.test == ("CMD-SHELL", "curl -f http://localhost/")
    assert (spec.healthcheck.interval_ns, spec.healthcheck.retries) == (90 * 10**9, 3)
    assert spec.shm_size == 1024**3
    assert spec.networks == ("app_1_front", "outside")
    assert spec.name == "app_1_api_1"


def test_anchors_merge_keys_and_extends(tmp_path):
    folder = write(tmp_path / "p", {
        "compose.yaml": """\
x-base: &base
  restart: unless-stopped
  read_only: true
services:
  a:
    <<: *base
    image: alpine:3.20
    read_only: false
  b:
    extends: a
    mem_limit: 1g
  c:
    extends: {file: other.yaml, service: shared}
""",
        "other.yaml": "services:\n  shared:\n    image: busybox:1.36\n    privileged: true\n",
    })
    got = specs(folder)
    assert (got["a"].restart_policy.name, got["a"].read_only_rootfs) == ("unless-stopped", False)
    assert (got["b"].image.raw, got["b"].restart_policy.name, got["b"].memory) == ("alpine:3.20", "unless-stopped", 1 << 30)
    assert (got["c"].image.raw, got["c"].privileged) == ("busybox:1.36", True)


def test_interpolation_as_compose_does_it():
    env = read_env_file("A=1\nexport B='x$y'\nC=\"${A}2\"\nEMPTY=\n# note\n", ".env")
    cases = {
        "$A": "1", "${A}": "1", "$$A": "$A", "${B}": "x$y", "${C}": "12", "${NOPE:-d}": "d",
        "${EMPTY:-d}": "d", "${EMPTY-d}": "", "${A:+set}": "set", "${NOPE:+set}": "", "a$": "a$",
        "${NOPE:-${A}}": "1",
    }
    for text, expected in cases.items():
        got = interpolate(text, env)
        assert got.known and got.text == expected, text
    for text in ("$NOPE", "${NOPE}", "${NOPE?err}", "${NOPE:?err}", "x${NOPE}y"):
        assert not interpolate(text, env).known, text
    assert interpolate("${A", env).error


def test_unknown_variables_are_unknown_never_a_violation(tmp_path):
    folder = write(tmp_path / "p", {"compose.yaml": """\
services:
  db:
    image: postgres:${PG_TAG}
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD}
    ports:
      - "${BIND_IP}:5432:5432"
    mem_limit: ${MEMORY}
    user: ${RUN_AS}
"""})
    spec = specs(folder)["db"]
    assert spec.image is UNKNOWN and spec.memory is UNKNOWN and spec.user is UNKNOWN
    assert spec.ports[0].host_ip is UNKNOWN and spec.ports[0].host_port == "5432"
    rules = {f.rule_id for f in compose_findings(folder)}
    assert not rules & {"DA701", "DA801", "DA403", "DA405", "DA101", "DA510", "DA003"}


def test_interpolation_loop_in_env_is_a_message(tmp_path):
    folder = write(tmp_path / "p", {".env": "A=${B}\nB=x${A}\n", "compose.yaml": "services:\n  w:\n    image: x:${A}\n"})
    with pytest.raises(ComposeError, match="interpolation loop: A -> B -> A"):
        specs(folder)


def test_exponential_env_values_are_cut_short(tmp_path):
    lines = ["V0=" + "x" * 100] + [f"V{i}=${{V{i - 1}}}${{V{i - 1}}}" for i in range(1, 40)]
    variables = Variables(read_env_file("\n".join(lines), ".env").raw)
    with pytest.raises(ComposeError, match="grows beyond"):
        interpolate("${V39}", variables)


# --- positions and suppression -------------------------------------------------------------------


def test_findings_point_at_the_key_or_value_or_the_service(tmp_path):
    folder = write(tmp_path / "p", {"compose.yaml": """\
services:
  web:
    image: nginx
    privileged: true
    ports:
      - "0.0.0.0:2375:2375"
    restart: always
"""})
    where = {f.rule_id: (f.location.line, f.location.column, f.location.end_column) for f in compose_findings(folder)}
    assert where["DA701"] == (3, 12, 17)  # the image value
    assert where["DA501"][:2] == (4, 5)  # the key privileged
    assert where["DA405"] == (6, 9, 28)  # the port entry
    assert where["DA101"] == (2, 3, 6)  # missing: the service's key


def test_inline_suppression_with_yaml_comments(tmp_path):
    folder = write(tmp_path / "p", {"compose.yaml": """\
services:
  # dockaudit ignore=DA101,DA701 -- sized by the orchestrator
  web:
    image: nginx
    # dockaudit ignore=DA501 -- needs the GPU
    privileged: true
    pid: host  # dockaudit ignore=DA504 -- a process monitor
    restart: always
  other:
    image: nginx
    privileged: true
    restart: always
    # dockaudit ignore=DA403 -- nothing follows this comment in the service
"""})
    findings = compose_findings(folder)
    web = [f for f in findings if f.location.line <= 8]
    suppressed = {(f.rule_id, f.suppressed) for f in web if f.suppressed}
    assert suppressed >= {("DA101", "sized by the orchestrator"), ("DA701", "sized by the orchestrator"),
                          ("DA501", "needs the GPU"), ("DA504", "a process monitor")}
    other = {f.rule_id for f in active(findings) if f.location.line >= 9}
    assert {"DA101", "DA701", "DA501", "DA008"} <= other


def test_suppressions_stay_in_their_file(tmp_path):
    folder = write(tmp_path / "p", {
        "docker-compose.yml": "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n",
        "docker-compose.override.yml": "services:\n  web:\n    # dockaudit ignore=DA501\n    pid: host\n",
    })
    findings = compose_findings(folder, "docker-compose.yml")
    privileged = [f for f in findings if f.rule_id == "DA501"]
    assert privileged and privileged[0].suppressed is None
    assert any(f.rule_id == "DA008" and f.location.path.endswith("override.yml") for f in findings)


# --- project-wide checks ---------------------------------------------------------------------------


def test_project_wide_checks(tmp_path):
    folder = write(tmp_path / "p", {"compose.yaml": """\
services:
  blue:
    image: myorg/web:1.0
    container_name: web
    ports: ["8080:80"]
  green:
    image: myorg/web:1.1
    container_name: web
    ports: ["8080:80"]
    depends_on: [bleu]
    links: [db]
  worker:
    image: myorg/worker:1.0
    volumes_from: [gren]
    network_mode: "service:blue"
    pid: "service:blu"
"""})
    findings = active(compose_findings(folder))
    got = {(f.rule_id, f.location.line) for f in findings if f.rule_id in ("DA901", "DA904", "DA003")}
    assert got == {("DA901", 8), ("DA904", 9), ("DA003", 10), ("DA003", 11), ("DA003", 14), ("DA003", 16)}
    messages = {f.location.line: f.message for f in findings if f.rule_id == "DA003"}
    assert 'did you mean "blue"?' in messages[10] and 'did you mean "green"?' in messages[14]
    assert 'no service "db"' in messages[11] and "did you mean" not in messages[11]


def test_a_service_others_wait_to_finish_is_a_one_shot(tmp_path):
    folder = write(tmp_path / "p", {"compose.yaml": """\
services:
  migrate:
    image: myorg/app:1.0
    command: ["migrate"]
  app:
    image: myorg/app:1.0
    depends_on:
      migrate: {condition: service_completed_successfully}
    restart: always
  worker:
    image: myorg/app:1.0
    command: ["worker"]
"""})
    got = specs(folder)
    assert (got["migrate"].lifecycle, got["app"].lifecycle, got["worker"].lifecycle) == (
        "one-shot", "service", "background")
    assert not got["migrate"].is_service and got["app"].is_service and got["worker"].is_service
    lines = {f.location.line for f in compose_findings(folder) if f.rule_id == "DA101"}
    assert lines == {5}  # the default profile: services the file keeps running after a reboot
    cis = {f.location.line for f in compose_findings(folder, config=Config(profile="cis")) if f.rule_id == "DA101"}
    assert cis == {5, 10}  # cis: every container that may keep running


# --- the same findings as the docker run script ------------------------------------------------------

EQUIVALENTS = [
    ("""docker run -d --name web -p 80:80 -v /var/run/docker.sock:/var/run/docker.sock \\
  -e DB_PASSWORD=secret --cap-add SYS_ADMIN --restart on-failure nginx""",
     """services:
  web:
    image: nginx
    container_name: web
    ports: ["80:80"]
    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]
    environment: {DB_PASSWORD: secret}
    cap_add: [SYS_ADMIN]
    restart: on-failure
    network_mode: bridge
"""),
    ("""docker run -d --network host --pid host --privileged --user root --read-only -m 256m \\
  --log-driver syslog --log-opt max-size=10m --security-opt seccomp=unconfined mysql:5.7""",
     """services:
  db:
    image: mysql:5.7
    network_mode: host
    pid: host
    privileged: true
    user: root
    read_only: true
    mem_limit: 256m
    logging: {driver: syslog, options: {max-size: 10m}}
    security_opt: [seccomp=unconfined]
"""),
]


@pytest.mark.parametrize("script, compose", EQUIVALENTS)
def test_compose_file_and_docker_run_give_the_same_findings(tmp_path, script, compose):
    script_rules = sorted(f.rule_id for f in check_text(script + "\n", "run.sh"))
    folder = write(tmp_path / "p", {"compose.yaml": compose})
    assert sorted(f.rule_id for f in compose_findings(folder)) == script_rules


# --- bad input -----------------------------------------------------------------------------------


BAD = {
    "invalid": ("services:\n  web: [\n", "invalid YAML: line 3"),
    "list": ("- a\n- b\n", "must be a mapping"),
    "string-service": ("services:\n  web: nginx\n", "service 'web' must be a mapping"),
    "not-compose": ("name: x\nitems: [1]\n", "no services: key"),
    "self-alias": ("a: &a\n  - *a\nservices: {}\n", "undefined alias|contains it"),
    "extends-loop": ("services:\n  a: {extends: b, image: x}\n  b: {extends: a}\n", "extends loops"),
    "bomb": ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
        + "services:\n  w:\n    image: nginx\n    command: *i\n", "alias bomb"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_compose_files_are_messages(tmp_path, name):
    text, message = BAD[name]
    folder = write(tmp_path / name, {"compose.yaml": text})
    with pytest.raises(ComposeError, match=message):
        specs(folder)


def test_bad_files_exit_2_and_the_others_are_still_checked(tmp_path):
    for name, (text, _) in BAD.items():
        write(tmp_path / name, {"compose.yaml": text})
    big = "services:\n  web:\n    image: nginx:1.27\n    labels:\n" + "".join(
        f"      l{i}: '{'x' * 40}'\n" for i in range(200_000))
    write(tmp_path / "big", {"compose.yaml": big})
    write(tmp_path / "good", {"compose.yaml": "services:\n  web:\n    image: nginx\n    restart: always\n"})
    result = run("check", "-f", "json", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    envelope = json.loads(result.stdout)
    failed = {Path(n["path"]).parent.name for n in envelope["notifications"] if n["level"] == "error"}
    assert failed == {*BAD, "big"}
    assert any("larger than 2 MB" in n["message"] for n in envelope["notifications"])
    assert {f["rule"] for f in envelope["findings"] if f["path"].startswith("good/")} >= {"DA701", "DA101"}


def test_shell_check_does_not_import_compose_support(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("docker run -d nginx:1.27\n", encoding="utf-8")
    code = (f"import sys; from dockaudit.cli import main; main(['check', '-f', 'json', {str(script)!r}]); "
            "print(sorted(m for m in sys.modules if 'compose' in m or m == 'yaml'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    # no YAML, no Compose reader, not even the file-name patterns
    assert out.strip().splitlines()[-1] == "[]"
