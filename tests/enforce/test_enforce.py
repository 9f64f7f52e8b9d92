"""The authorization plugin without an engine: bodies, routes, decisions, the log, the protocol, the CLI."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from test_cli import COMMAND

from dockaudit.api import default_rules
from dockaudit.config import DEFAULT_DENY, Config, ConfigError, parse_config
from dockaudit.enforce.body import UnreadableBody, read_body
from dockaudit.enforce.judge import MESSAGE_LIMIT, Policy, judge, route
from dockaudit.enforce.log import DecisionLog, redact
from dockaudit.enforce.server import PluginServer, SocketInUse, socket_answers

RULES = default_rules().rules


def policy(enforce: dict[str, Any] | None = None, **switches: bool) -> Policy:
    config = parse_config({"enforce": enforce}, RULES, "policy") if enforce is not None else Config()
    return Policy.from_config(RULES, config, **switches)


def request(uri: str, body: Any = None, *, raw: bytes | None = None, method: str = "POST") -> dict[str, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return {"RequestMethod": method, "RequestUri": uri, "User": "alice",
            "RequestBody": base64.b64encode(data).decode() if data else None}


def create(body: dict[str, Any], name: str = "web", version: str = "v1.41") -> dict[str, Any]:
    return request(f"/{version}/containers/create?name={name}", body)


def denied_ids(decision) -> list[str]:
    return [f["rule"] for f in decision.record["findings"] if f["action"] == "deny"]


# --- bodies ----------------------------------------------------------------------------


def test_body_keys_are_matched_as_the_engines_json_decoder_matches_them():
    body = read_body(b'{"image": "nginx", "HOSTCONFIG": {"privileged": true, "\\u017fecurityOpt": ["x"]},'
                     b' "Labels": {"privileged": "kept as sent"}}')
    assert body == {"Image": "nginx", "HostConfig": {"Privileged": True, "SecurityOpt": ["x"]},
                    "Labels": {"privileged": "kept as sent"}}
    assert read_body('{"\u212aernelMemory": 1}'.encode()) == {"KernelMemory": 1}


@pytest.mark.parametrize("raw, why", [
    (b'{"HostConfig": {"Privileged": false}, "hostconfig": {"Privileged": true}}', "HostConfig twice"),
    (b'{"HostConfig": {"Privileged": false, "privileged": true}}', "Privileged twice"),
    (b"", "no body"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"Image": ', "not JSON"),
    (b'{"Image": "\xff"}', "not UTF-8"),
    (b"[" * 100000, "nested too deeply"),
])
def test_bodies_the_plugin_will_not_read(raw, why):
    with pytest.raises(UnreadableBody, match=why):
        read_body(raw)


def test_a_label_given_twice_is_data_not_an_ambiguity():
    assert read_body(b'{"Labels": {"a": "1", "a": "2", "A": "3"}}') == {"Labels": {"a": "2", "A": "3"}}


# --- routes and versions ------------------------------------------------------------


@pytest.mark.parametrize("method, uri, expected", [
    ("POST", "/v1.41/containers/create?name=x", ("create", None, "1.41")),
    ("POST", "/containers/create", ("create", None, "")),
    ("POST", "/v1.41/%63ontainers/create", ("create", None, "1.41")),
    ("post", "/v1.41/containers//create", ("create", None, "1.41")),
    ("POST", "/v1.41/containers/abc/update", ("update", "abc", "1.41")),
    ("POST", "/v1.41/containers/my%20app/exec", ("exec", "my app", "1.41")),
    ("GET", "/v1.41/containers/json", None),
    ("POST", "/v1.41/containers/abc/start", ("start", "abc", "1.41")),
    ("POST", "/v1.41/containers/abc/kill", None),
    ("POST", "/v1.41/images/create?fromImage=busybox", None),
])
def test_routes(method, uri, expected):
    found = route(method, uri)
    assert (found[:3] if found else None) == expected


@pytest.mark.parametrize("version", ["v1.99", "v1.11", "v2.0", "v1.41.1", "vx"])
def test_unknown_api_versions_are_refused(version):
    decision = judge(policy(), create({"Image": "nginx:1.25"}, version=version))
    assert not decision.allow and "API version" in decision.message and "refused" in decision.message


def test_other_requests_are_allowed_without_a_record():
    decision = judge(policy(), request("/v1.41/containers/json", method="GET"))
    assert decision.allow and decision.record is None
    decision = judge(policy(), request("/v1.41/images/create", raw=b"not json"))
    assert decision.allow and decision.record is None


# --- decisions ----------------------------------------------------------------------------


def test_create_denied_by_each_default_rule_with_its_fix():
    body = {"Image": "nginx:1.25", "Env": ["DB_PASSWORD=hunter2"],
            "HostConfig": {"Privileged": True, "Binds": ["/var/run/docker.sock:/var/run/docker.sock"],
                           "PidMode": "host", "CapAdd": ["SYS_ADMIN"], "SecurityOpt": ["seccomp=unconfined"]}}
    decision = judge(policy(), create(body))
    assert not decision.allow
    assert sorted(set(denied_ids(decision))) == ["DA205", "DA501", "DA502", "DA504", "DA507", "DA801"]
    assert "remove --privileged" in decision.message and "-e DB_PASSWORD" in decision.message
    assert "hunter2" not in json.dumps(decision.record)
    assert decision.record["decision"] == "deny" and decision.record["request"]["user"] == "alice"


def test_compliant_create_is_allowed_and_its_advice_logged():
    decision = judge(policy(), create({"Image": "nginx:1.25", "HostConfig": {"Memory": 67108864}}))
    assert decision.allow and decision.record["decision"] == "allow"
    assert "DA103" in {f["rule"] for f in decision.record["findings"]}  # logged, not denied
    assert all(f["action"] == "log" for f in decision.record["findings"])


def test_the_enforce_section_chooses_what_denies_and_what_is_logged():
    strict = policy({"deny": ["DA101"], "log": ["DA103"]})
    decision = judge(strict, create({"Image": "nginx:1.25", "HostConfig": {"Privileged": True}}))
    assert not decision.allow and denied_ids(decision) == ["DA101"]
    assert {f["rule"] for f in decision.record["findings"]} == {"DA101", "DA103"}  # DA501 is not judged


def test_a_label_of_the_request_cannot_waive_the_policy():
    body = {"Image": "nginx:1.25", "Labels": {"dockaudit.ignore": "DA501"}, "HostConfig": {"Privileged": True}}
    assert not judge(policy(), create(body)).allow


def test_update_is_judged_by_what_it_changes():
    strict = policy({"deny": [*DEFAULT_DENY, "DA105", "DA305"]})
    swap = judge(strict, request("/v1.41/containers/web/update", {"Memory": 0, "MemorySwap": -1}))
    assert not swap.allow and denied_ids(swap) == ["DA105"]
    restart = judge(strict, request("/v1.41/containers/web/update",
                                    {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 50}}))
    assert not restart.allow and denied_ids(restart) == ["DA305"]
    cpus = judge(strict, request("/v1.41/containers/web/update",
                                 {"NanoCpus": 500000000, "RestartPolicy": {"Name": ""}, "PidsLimit": None}))
    assert cpus.allow and cpus.record["findings"] == []
    pids = judge(strict, request("/v1.41/containers/web/update", {"PidsLimit": -1}))
    assert pids.allow and [f["rule"] for f in pids.record["findings"]] == ["DA103"]


def test_exec_is_judged_only_when_privileged():
    assert judge(policy(), request("/v1.41/containers/web/exec", {"Cmd": ["sh"], "User": "root"})).record is None
    decision = judge(policy(), request("/v1.41/containers/web/exec", {"Cmd": ["sh"], "privileged": True}))
    assert not decision.allow and denied_ids(decision) == ["DA512"]
    assert decision.record["container"] == "web"
    odd = judge(policy(), request("/v1.41/containers/web/exec", {"Privileged": "yes"}))
    assert not odd.allow and "Privileged is not true or false" in odd.message


def test_a_start_is_allowed_unless_it_carries_settings_that_replace_the_created_ones():
    assert judge(policy(), request("/v1.41/containers/web/start")).allow
    decision = judge(policy(), request("/v1.23/containers/web/start", {"Privileged": True}))
    assert not decision.allow and "API before 1.24" in decision.message


def test_dry_run_allows_and_records_what_it_would_deny():
    decision = judge(policy(dry_run=True), create({"Image": "x:1", "HostConfig": {"Privileged": True}}))
    assert decision.allow and decision.record["dry_run"] is True and "DA501" in decision.record["would_deny"]
    broken = judge(policy(dry_run=True), create({"Image": "x:1"}, version="v9.9"))
    assert broken.allow and "API version" in broken.record["would_deny"]


def test_fail_open_is_explicit_and_written_at_every_decision_it_changes():
    lenient = policy({"fail-open": True})
    unreadable = judge(lenient, request("/v1.41/containers/create", raw=b"{oops"))
    assert unreadable.allow and unreadable.record["fail_open"] is True and "not JSON" in unreadable.record["error"]
    judged = judge(lenient, create({"Image": "x:1", "HostConfig": {"Privileged": True}}))
    assert not judged.allow  # only what cannot be judged is let through
    assert not judge(policy(), request("/v1.41/containers/create", raw=b"{oops")).allow


def test_a_denying_rule_that_fails_denies_and_a_logged_one_is_logged(monkeypatch):
    from dockaudit_rules.privileges import Privileged, RootUser

    def broken(self, spec, ctx):
        raise KeyError("boom")

    monkeypatch.setattr(Privileged, "check_container", broken)
    monkeypatch.setattr(RootUser, "check_container", broken)
    decision = judge(policy(), create({"Image": "x:1"}))
    assert not decision.allow and "internal error" in decision.message and "DA501" in decision.message
    lenient = judge(policy({"deny": ["DA205"]}), create({"Image": "x:1"}))
    assert lenient.allow and any("DA510" in error for error in lenient.record["errors"])


@pytest.mark.parametrize("bad", [{}, {"RequestMethod": "POST"}, {"RequestMethod": "POST", "RequestUri": 3}, []])
def test_an_authorization_request_without_method_and_uri_is_refused(bad):
    assert not judge(policy(), bad).allow


def test_a_body_that_is_not_base64_is_refused():
    decision = judge(policy(), {"RequestMethod": "POST", "RequestUri": "/containers/create", "RequestBody": "%%%"})
    assert not decision.allow and "base64" in decision.message


def test_denial_messages_stay_short():
    body = {"Image": "x:1", "Env": [f"TOKEN_{i}=v{i}-literal-secret-value" for i in range(40)]}
    message = judge(policy(), create(body)).message
    assert len(message) <= MESSAGE_LIMIT and "DA801" in message


# --- the log ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, shown", [
    ("postgres://app:s3cret@db/app", "postgres://app:****@db/app"),
    ("/v1.41/containers/create?name=x&API_TOKEN=abc123", "/v1.41/containers/create?name=x&API_TOKEN=****"),
    ("-e DB_PASSWORD=… passes a literal credential", "-e DB_PASSWORD=… passes a literal credential"),
    ("--memory 64m", "--memory 64m"),
])
def test_redaction(text, shown):
    assert redact(text) == shown


def test_the_log_writes_whole_lines_from_many_threads(tmp_path):
    log = DecisionLog(str(tmp_path / "decisions.jsonl"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: log.write({"n": i, "pad": "x" * 5000}), range(400)))
    log.close()
    lines = (tmp_path / "decisions.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["n"] for line in lines) == list(range(400))


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("section, message", [
    ({"deny": ["DA999"]}, "unknown rule id 'DA999'"),
    ({"deny": "DA501"}, "expected a list of rule ids"),
    ({"log": ["privileged"]}, "unknown rule id 'privileged'"),
    ({"fail-open": "yes"}, "fail-open must be true or false"),
    ({"failopen": True}, "unknown key 'failopen'"),
    (["DA501"], "enforce must be a mapping"),
])
def test_enforce_section_errors(section, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"enforce": section}, RULES, "policy")


def test_the_effective_configuration_shows_the_enforce_section():
    shown = parse_config({"enforce": {"deny": ["DA501"], "log-file": "/var/log/x"}}, RULES, "p").to_dict(RULES)
    assert shown["enforce"] == {"deny": ["DA501"], "log": "all", "fail-open": False, "log-file": "/var/log/x"}
    assert Config().to_dict(RULES)["enforce"]["deny"] == list(DEFAULT_DENY)


# --- the protocol -------------------------------------------------------------------------


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(str(self.path))


def call(connection: _Unix, method: str, payload: Any) -> tuple[int, dict[str, Any]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    connection.request("POST", method, body, {"Content-Type": "application/vnd.docker.plugins.v1.2+json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Path, Path]]:
    path, log_path = tmp_path / "p.sock", tmp_path / "decisions.jsonl"
    server = PluginServer(str(path), policy(), DecisionLog(str(log_path)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield path, log_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert not path.exists()


def test_the_plugin_protocol(served):
    path, log_path = served
    connection = _Unix(path)  # one connection for every call, as the engine keeps it open
    assert call(connection, "/Plugin.Activate", b"") == (200, {"Implements": ["authz"]})
    status, answer = call(connection, "/AuthZPlugin.AuthZReq", create({"Image": "x:1", "HostConfig": {"Privileged": True}}))
    assert status == 200 and answer["Allow"] is False and "DA501" in answer["Msg"]
    assert call(connection, "/AuthZPlugin.AuthZReq", create({"Image": "x:1"})) == (200, {"Allow": True})
    assert call(connection, "/AuthZPlugin.AuthZRes", {"ResponseStatusCode": 200}) == (200, {"Allow": True})
    assert call(connection, "/AuthZPlugin.AuthZReq", b"{not json")[1]["Allow"] is False
    status, answer = call(connection, "/VolumeDriver.Create", {})
    assert status == 404 and "unknown plugin method" in answer["Err"]
    connection.close()
    decisions = [json.loads(line)["decision"] for line in log_path.read_text().splitlines()]
    assert decisions == ["deny", "allow", "deny"]


def test_the_plugin_answers_many_callers_at_once(served):
    path, _ = served

    def ask(i: int) -> bool:
        connection = _Unix(path)
        try:
            body = {"Image": "x:1", "HostConfig": {"Privileged": i % 2 == 0}}
            return call(connection, "/AuthZPlugin.AuthZReq", create(body, name=f"c{i}"))[1]["Allow"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, range(200)))
    assert answers == [i % 2 == 1 for i in range(200)]


def test_a_socket_in_use_is_not_taken_and_a_stale_one_is(served, tmp_path):
    path, _ = served
    with pytest.raises(SocketInUse):
        PluginServer(str(path), policy(), DecisionLog(str(tmp_path / "other.jsonl")))
    stale = tmp_path / "stale.sock"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(stale))
    leftover.close()  # the file stays, nobody listens
    assert stale.exists() and not socket_answers(stale)
    server = PluginServer(str(stale), policy(), DecisionLog(str(tmp_path / "stale.jsonl")))
    server.server_close()


# --- the command ---------------------------------------------------------------------------


def test_serve_with_a_broken_configuration_exits_2(tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text("enforce:\n  deny: [DA5011]\n")
    proc = subprocess.run([*COMMAND, "enforce", "serve", "--socket", str(tmp_path / "p.sock"), "--config",
                           str(config)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown rule id 'DA5011'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "p.sock").exists()
    assert subprocess.run([*COMMAND, "enforce"], capture_output=True, timeout=60).returncode == 2


def test_serve_reloads_on_sighup_and_keeps_the_old_policy_when_the_new_one_is_broken(tmp_path):
    config, sock, log_path = tmp_path / "policy.yaml", tmp_path / "p.sock", tmp_path / "decisions.jsonl"
    config.write_text("enforce:\n  deny: [DA501]\n")
    process = subprocess.Popen([*COMMAND, "enforce", "serve", "--socket", str(sock), "--config", str(config),
                                "--log", str(log_path)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not socket_answers(sock) and time.monotonic() < deadline:
            time.sleep(0.05)

        def events() -> list[dict[str, Any]]:
            return [json.loads(line) for line in log_path.read_text().splitlines()]

        def privileged_allowed() -> bool:
            connection = _Unix(sock)
            try:
                return call(connection, "/AuthZPlugin.AuthZReq",
                            create({"Image": "x:1", "HostConfig": {"Privileged": True}}))[1]["Allow"]
            finally:
                connection.close()

        def hup_and_wait(event: str) -> None:
            process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while not any(e.get("event") == event for e in events()) and time.monotonic() < deadline:
                time.sleep(0.05)

        assert events()[0]["event"] == "start" and events()[0]["deny"] == ["DA501"]
        assert not privileged_allowed()
        config.write_text("enforce:\n  deny: [DA50]\n")
        hup_and_wait("reload-failed")
        assert "unknown rule id 'DA50'" in events()[-1]["error"]
        assert not privileged_allowed()  # the old policy still holds
        config.write_text("enforce:\n  deny: [DA801]\n")
        hup_and_wait("reloaded")
        assert events()[-1]["deny"] == ["DA801"] and privileged_allowed()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert events()[-1]["event"] == "stop" and not sock.exists()
    assert os.path.exists(log_path)


# --- Swarm services ------------------------------------------------------------------------


SERVICE = {
    "Name": "cache",
    "TaskTemplate": {
        "ContainerSpec": {
            "Image": "redis:7.2", "Args": ["redis-server"], "Env": ["TZ=UTC"], "TTY": False,
            "Hosts": ["10.0.0.5 db primary"], "Privileges": {"Seccomp": {"Mode": "unconfined"}},
            "Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/var/run/docker.sock"}],
        },
        "Resources": {"Limits": {"NanoCPUs": 500000000, "MemoryBytes": 67108864, "Pids": 100}},
        "RestartPolicy": {"Condition": "on-failure", "MaxAttempts": 3},
        "LogDriver": {"Name": "json-file", "Options": {"max-size": "10m"}},
    },
    "EndpointSpec": {"Ports": [{"Protocol": "tcp", "TargetPort": 6379, "PublishedPort": 6379}]},
}


def test_a_service_spec_is_read_as_the_create_body_of_its_containers():
    from dockaudit.enforce.service import create_body_of_service

    name, body = create_body_of_service(read_body(json.dumps(SERVICE).encode(), service=True))
    host = body["HostConfig"]
    assert name == "cache" and body["Image"] == "redis:7.2" and body["Cmd"] == ["redis-server"]
    assert host["NanoCpus"] == 500000000 and host["Memory"] == 67108864 and host["PidsLimit"] == 100
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["ExtraHosts"] == ["db:10.0.0.5", "primary:10.0.0.5"]
    assert host["SecurityOpt"] == ["seccomp=unconfined"]
    assert host["PortBindings"] == {"6379/tcp": [{"HostIp": "", "HostPort": "6379"}]}
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m"}}


def test_service_create_and_update_are_judged_whole():
    for uri in ("/v1.41/services/create", "/v1.41/services/abc/update?version=12"):
        decision = judge(policy(), request(uri, SERVICE))
        assert not decision.allow and sorted(set(denied_ids(decision))) == ["DA205", "DA507"]
        assert decision.record["container"] == "cache" and decision.record["image"] == "redis:7.2"
        found = {f["rule"] for f in decision.record["findings"]}
        assert {"DA405", "DA403"} <= found and not {"DA101", "DA102", "DA103", "DA601"} & found
    plugin_service = {"Name": "p", "TaskTemplate": {"PluginSpec": {"Name": "vieux/sshfs"}, "Runtime": "plugin"}}
    decision = judge(policy(), request("/v1.41/services/create", plugin_service))
    assert not decision.allow and "no container spec" in decision.message


def test_the_systemd_unit_runs_the_command_as_documented():
    import shlex

    from dockaudit.cli import build_parser
    from dockaudit.enforce.server import DEFAULT_SOCKET

    unit = (Path(__file__).resolve().parents[2] / "contrib" / "systemd" / "dockaudit-enforce.service").read_text()
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    program, *arguments = shlex.split(settings["ExecStart"])
    assert program.endswith("/dockaudit")
    args = build_parser().parse_args(arguments)
    assert args.func.__name__ == "cmd_serve" and args.socket == DEFAULT_SOCKET and not args.dry_run
    writable = settings["ReadWritePaths"].split()
    assert str(Path(args.socket).parent) in writable and str(Path(args.log).parent) in writable
    assert "docker.service" in settings["Before"] and "docker.service" in settings["WantedBy"]
