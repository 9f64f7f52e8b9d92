"""The authorization plugin on a real engine, through the real docker CLI and docker-compose.

A private dockerd runs with ``--authorization-plugin=`` a name of its own;
``dockaudit enforce serve`` runs as a process on the matching socket under
/run/docker/plugins/. Every request of the tests goes through it.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from enforce_plugin import PluginProcess
from engine import BASE_IMAGE, Engine, start_engine
from engine_plugin import _in_ci, started_or_skipped
from tests.system.test_parity import CASES, Case, create_argv, create_each

from dockaudit.api import check_text, default_rules
from dockaudit.config import DEFAULT_DENY, parse_config

pytestmark = pytest.mark.engine

DENY = (*DEFAULT_DENY, "DA105")
POLICY = "enforce:\n  deny: [" + ", ".join(DENY) + "]\n"
DENIED = re.compile(r"authorization denied by plugin [\w.-]+: (?P<message>.*)", re.S)
RULE_ID = re.compile(r"\bDA\d{3}\b")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Iterator[PluginProcess]:
    process = PluginProcess(tmp_path_factory.mktemp("enforce"), POLICY)

    def start() -> PluginProcess:
        try:
            process.start()
        except BaseException:
            process.stop()
            raise
        return process

    with started_or_skipped(start, "the plugin", (OSError, RuntimeError)) as started:
        yield started


@pytest.fixture(scope="module")
def engine(plugin) -> Iterator[Engine]:
    """A private engine that asks the plugin about every request."""
    with started_or_skipped(lambda: start_engine(extra_args=(f"--authorization-plugin={plugin.name}",))) as started:
        try:
            yield started
        finally:
            plugin.ensure()  # the engine asks the plugin while it removes what the tests left


@pytest.fixture
def enforcing(plugin, engine) -> PluginProcess:
    plugin.ensure()
    return plugin


def denial(proc: subprocess.CompletedProcess[str]) -> str:
    """The plugin's message in a refused command's output."""
    assert proc.returncode != 0, proc.stdout
    match = DENIED.search(proc.stderr)
    assert match, proc.stderr
    return match.group("message")


def container_names(engine: Engine) -> set[str]:
    return {name.lstrip("/") for c in engine.client().api.containers(all=True) for name in c["Names"]}


def test_privileged_run_is_denied_with_the_rule_and_the_fix(enforcing, engine):
    proc = engine.docker("run", "--rm", "--name", "enf-priv", "--privileged", BASE_IMAGE, "true", check=False)
    message = denial(proc)
    assert "DA501" in message and "remove --privileged" in message
    assert "enf-priv" not in container_names(engine)
    record = enforcing.decisions()[-1]
    assert record["decision"] == "deny" and record["container"] == "enf-priv"
    assert [f["rule"] for f in record["findings"] if f["action"] == "deny"] == ["DA501"]


def test_docker_socket_mount_is_denied(enforcing, engine):
    proc = engine.docker("create", "--name", "enf-sock", "-v", "/var/run/docker.sock:/var/run/docker.sock",
                         BASE_IMAGE, check=False)
    assert RULE_ID.findall(denial(proc)) == ["DA205", "DA205"]  # the rule and `dockaudit explain DA205`
    assert "enf-sock" not in container_names(engine)


def test_literal_password_is_denied_and_never_logged(enforcing, engine):
    proc = engine.docker("create", "--name", "enf-pass", "-e", "DB_PASSWORD=hunter2-secret", "-e",
                         "DATABASE_URL=postgres://app:url-secret@db/app", BASE_IMAGE, check=False)
    message = denial(proc)
    assert "DA801" in message and "DA802" in message and "-e DB_PASSWORD" in message
    log = enforcing.log.read_text()
    assert "hunter2-secret" not in log and "url-secret" not in log
    assert "DB_PASSWORD" in log  # the variable is named, its value is not


def test_compliant_run_is_allowed_and_logged(enforcing, engine):
    before = len(enforcing.records())
    proc = engine.docker("run", "--rm", "--memory", "64m", "--pids-limit", "64", "-e", "MODE=test", BASE_IMAGE,
                         "echo", "compliant", check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "compliant"
    created = [r for r in enforcing.decisions(before) if r["request"]["kind"] == "create"]
    assert [r["decision"] for r in created] == ["allow"]
    assert created[0]["image"] == BASE_IMAGE
    assert created[0]["duration_ms"] < 1000


def test_update_that_removes_a_limit_is_denied(enforcing, engine):
    engine.docker("create", "--name", "enf-upd", "--memory", "64m", BASE_IMAGE, "true")
    try:
        assert engine.docker("update", "--cpus", "0.5", "enf-upd", check=False).returncode == 0
        message = denial(engine.docker("update", "--memory-swap", "-1", "enf-upd", check=False))
        assert "DA105" in message
        before = len(enforcing.records())
        assert engine.docker("update", "--pids-limit", "-1", "enf-upd", check=False).returncode == 0
        logged = enforcing.decisions(before)[-1]
        assert logged["decision"] == "allow" and logged["request"]["kind"] == "update"
        assert [(f["rule"], f["action"]) for f in logged["findings"]] == [("DA103", "log")]
        limits = engine.client().api.inspect_container("enf-upd")["HostConfig"]
        assert limits["MemorySwap"] != -1 and limits["NanoCpus"] == 500_000_000
    finally:
        engine.remove_containers("enf-upd")


def test_privileged_exec_is_denied(enforcing, engine):
    engine.docker("run", "-d", "--name", "enf-exec", "--memory", "64m", BASE_IMAGE, "sleep", "300")
    try:
        message = denial(engine.docker("exec", "--privileged", "enf-exec", "true", check=False))
        assert "DA512" in message and "--privileged" in message
        proc = engine.docker("exec", "enf-exec", "echo", "inside", check=False)
        assert proc.returncode == 0 and proc.stdout.strip() == "inside", proc.stderr
    finally:
        engine.remove_containers("enf-exec")


def test_compose_file_with_one_bad_service_is_refused(enforcing, engine, tmp_path):
    compose = shutil.which("docker-compose")
    if compose is None:
        if _in_ci():
            pytest.fail("docker-compose is not installed (apt-get install docker-compose)")
        pytest.skip("docker-compose is not installed")
    (tmp_path / "docker-compose.yml").write_text(
        "version: '2.4'\n"
        "services:\n"
        "  web:\n"
        f"    image: {BASE_IMAGE}\n"
        "    command: ['sleep', '300']\n"
        "    mem_limit: 64m\n"
        "  agent:\n"
        f"    image: {BASE_IMAGE}\n"
        "    command: ['sleep', '300']\n"
        "    privileged: true\n"
    )
    argv = [compose, "--no-ansi", "-p", "enfcompose", "up", "-d"]
    proc = subprocess.run(argv, cwd=tmp_path, env=engine.env(), capture_output=True, text=True, timeout=180)
    try:
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, output
        assert "authorization denied by plugin" in output and "DA501" in output, output
        names = container_names(engine)
        assert not any("agent" in name for name in names), names
        refused = [r for r in enforcing.decisions() if r["decision"] == "deny" and "agent" in (r["container"] or "")]
        assert refused and [f["rule"] for f in refused[-1]["findings"] if f["action"] == "deny"] == ["DA501"]
        assert any("web" in name for name in names), names  # the compliant service was created
    finally:
        subprocess.run([compose, "--no-ansi", "-p", "enfcompose", "down", "-t", "1"], cwd=tmp_path,
                       env=engine.env(), capture_output=True, timeout=180)


def _post(engine: Engine, path: str, body: bytes) -> tuple[int, str]:
    """A raw API request on the engine's socket (what a client of its own might send)."""

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(60)
            self.sock.connect(str(engine.socket))

    connection = UnixConnection("localhost")
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_malformed_body_is_refused(enforcing, engine):
    status, text = _post(engine, "/v1.41/containers/create?name=enf-bad", b'{"Image": "x", "HostConfig": {')
    assert status == 403 and "cannot judge this request" in text and "not JSON" in text, (status, text)


def test_keys_in_any_case_are_read_as_the_engine_reads_them(enforcing, engine):
    body = json.dumps({"image": BASE_IMAGE, "hostconfig": {"privileged": True}}).encode()
    status, text = _post(engine, "/v1.41/containers/create?name=enf-case", body)
    assert status == 403 and "DA501" in text, (status, text)
    twice = ('{"Image": "' + BASE_IMAGE + '", "HostConfig": {"Privileged": false}, '
             '"hostConfig": {"Privileged": true}}').encode()
    status, text = _post(engine, "/v1.41/containers/create?name=enf-twice", twice)
    assert status == 403 and "HostConfig twice" in text, (status, text)
    assert not {"enf-case", "enf-twice"} & container_names(engine)


def test_a_start_that_would_make_the_container_privileged_is_refused(enforcing, engine):
    engine.docker("create", "--name", "enf-start", "--memory", "64m", BASE_IMAGE, "sleep", "300")
    try:
        status, text = _post(engine, "/v1.23/containers/enf-start/start", json.dumps({"Privileged": True}).encode())
        assert status == 403 and "API before 1.24" in text, (status, text)
        assert engine.docker("start", "enf-start", check=False).returncode == 0
        assert engine.client().api.inspect_container("enf-start")["HostConfig"]["Privileged"] is False
    finally:
        engine.remove_containers("enf-start")


def test_unknown_api_version_is_refused(enforcing, engine):
    body = json.dumps({"Image": BASE_IMAGE}).encode()
    status, text = _post(engine, "/v1.99/containers/create?name=enf-version", body)
    assert status == 403 and "API version v1.99" in text, (status, text)


def _free_port(kind: socket.SocketKind, low: int = 20000, high: int = 45000) -> int:
    """A port of *kind* nobody on this machine has bound, between *low* and *high*."""
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@pytest.fixture
def swarm(enforcing, engine) -> Iterator[Engine]:
    """The engine as a one-node Swarm manager: its own ports and its own host bridge for docker_gwbridge.

    Swarm would make a host bridge named docker_gwbridge, a name other engines on the
    machine may use: the network is made first under a bridge name of this engine's own.
    """
    gateway_bridge = engine.bridge + "g"
    engine.docker("network", "create", "--subnet", engine.free_subnet(), "--opt",
                  f"com.docker.network.bridge.name={gateway_bridge}", "--opt",
                  "com.docker.network.bridge.enable_ip_masquerade=false", "docker_gwbridge")
    try:
        engine.docker("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr",
                      f"127.0.0.1:{_free_port(socket.SOCK_STREAM)}", "--data-path-port",
                      str(_free_port(socket.SOCK_DGRAM)), "--default-addr-pool", engine.free_subnet(),
                      "--default-addr-pool-mask-length", "26", timeout=120)
        yield engine
    finally:
        engine.docker("swarm", "leave", "--force", check=False, timeout=120)
        engine.docker("network", "rm", "docker_gwbridge", check=False)
        subprocess.run(["ip", "link", "del", gateway_bridge], capture_output=True)


def test_swarm_service_create_and_update_are_judged(enforcing, swarm):
    image = swarm.tag("busybox:1.36")
    service = ["service", "create", "--detach", "--no-resolve-image", "--limit-memory", "64m"]
    message = denial(swarm.docker(*service, "--name", "enf-svc-bad", "--mount",
                                  "type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock",
                                  "--cap-add", "SYS_ADMIN", image, "sleep", "300", check=False))
    assert RULE_ID.findall(message)[:2] == ["DA205", "DA502"], message
    proc = swarm.docker(*service, "--name", "enf-svc", image, "sleep", "300", check=False)
    assert proc.returncode == 0, proc.stderr
    try:
        message = denial(swarm.docker("service", "update", "--detach", "--no-resolve-image", "--env-add",
                                      "API_TOKEN=tok-literal-value", "enf-svc", check=False))
        assert "DA801" in message and "tok-literal-value" not in enforcing.log.read_text()
        proc = swarm.docker("service", "update", "--detach", "--no-resolve-image", "--env-add", "MODE=x",
                            "enf-svc", check=False)
        assert proc.returncode == 0, proc.stderr
        kinds = [(r["request"]["kind"], r["decision"]) for r in enforcing.decisions()[-4:]]
        assert kinds == [("service-create", "deny"), ("service-create", "allow"), ("service-update", "deny"),
                         ("service-update", "allow")], kinds
    finally:
        swarm.docker("service", "rm", "enf-svc", check=False)


def test_dry_run_allows_and_logs_what_it_would_deny(plugin, engine):
    plugin.ensure("--dry-run")
    before = len(plugin.records())
    try:
        proc = engine.docker("create", "--name", "enf-dry", "--privileged", BASE_IMAGE, "true", check=False)
        assert proc.returncode == 0, proc.stderr
        record = [r for r in plugin.decisions(before) if r["container"] == "enf-dry"][-1]
        assert record["decision"] == "allow" and record["dry_run"] is True
        assert "DA501" in record["would_deny"]
    finally:
        engine.remove_containers("enf-dry")
        plugin.ensure()


def test_engine_refuses_requests_while_the_plugin_is_down(plugin, engine):
    assert plugin.stop() == 0
    assert json.loads(plugin.log.read_text().splitlines()[-1])["event"] == "stop"
    started = time.monotonic()
    proc = engine.docker("create", "--name", "enf-down", BASE_IMAGE, "true", check=False, timeout=120)
    assert proc.returncode != 0 and "500 Internal Server Error" in proc.stderr, proc.stderr  # even /_ping
    status, text = _post(engine, "/v1.41/containers/create?name=enf-down", json.dumps({"Image": BASE_IMAGE}).encode())
    assert status == 500 and plugin.name in text, (status, text)
    plugin.ensure()
    assert "enf-down" not in container_names(engine)
    assert time.monotonic() - started < 120


# --- parity: the plugin decides as the static check does ---------------------------


@pytest.fixture(scope="module")
def refusals(plugin, engine) -> dict[str, str]:
    """For each rule case: the plugin's message when it refused the create, "" when it was created.

    Cases the engine itself rejects are left out.
    """
    plugin.ensure()
    for case in CASES:
        image = str(case.command.operands[0].value)
        if "@" not in image:
            engine.tag(image)

    def create(case: Case) -> str | None:
        if "@" in str(case.command.operands[0].value):
            return None
        proc = subprocess.run(["docker", *create_argv(case.command)], capture_output=True, text=True,
                              env=engine.env(), timeout=120, cwd=engine.root)
        if proc.returncode == 0:
            engine.remove_containers(proc.stdout.strip().splitlines()[-1])
            return ""
        denied = DENIED.search(proc.stderr)
        return denied.group("message") if denied else None

    return {ident: message for ident, message in create_each(create).items() if message is not None}


def test_plugin_decides_as_the_static_check_over_the_rule_cases(refusals):
    # the static side as broad as the engine's door: every check on every container (profile cis)
    config = parse_config({"profile": "cis", "enforce": {"deny": list(DENY)}}, default_rules().rules, "policy")
    differences = []
    for case in CASES:
        if case.ident not in refusals:
            continue
        static = {f.rule_id for f in check_text(case.script, "case.sh", kind="shell", config=config)} & set(DENY)
        message = refusals[case.ident]
        plugin = set(RULE_ID.findall(message))
        if static != plugin:
            differences.append(f"{case.ident}: static {sorted(static)}, plugin {sorted(plugin)}")
    assert not differences, "\n".join(differences)
    assert len(refusals) >= 0.8 * len(CASES)
    assert sum(bool(message) for message in refusals.values()) >= 20  # the policy is tested on denials
