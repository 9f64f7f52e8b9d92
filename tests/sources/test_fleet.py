"""dockaudit live over several engines: -H repeated, contexts from the CLI's store, failures per engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockaudit.sources import live
from dockaudit.sources.contexts import Endpoint, context_endpoint, context_names, resolve_endpoints
from dockaudit.sources.live import audit_fleet
from engine import free_port

pytest_plugins = ["engine_plugin", "fleet_plugin"]
pytestmark = pytest.mark.engine

PREFIX = "fleet-"


@pytest.fixture(scope="module")
def containers(fleet) -> Iterator[list[str]]:
    """On each engine a running container without limits, named after its engine."""
    names = []
    for index, engine in enumerate(fleet.engines):
        engine.tag("busybox:1.36")
        name = f"{PREFIX}{index}"
        engine.docker("run", "-d", "--pull", "never", "--name", name, "busybox:1.36", "sleep", "100000")
        names.append(name)
    yield names
    for engine, name in zip(fleet.engines, names, strict=True):
        engine.remove_containers(name)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([sys.executable, "-m", "dockaudit.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**base, **(env or {})})


@pytest.fixture(scope="module")
def store(fleet, tmp_path_factory) -> dict[str, str]:
    """A Docker CLI config folder with a context per engine and one naming a socket that does not exist."""
    config = tmp_path_factory.mktemp("docker-config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(config)
    hosts = {f"e{i}": engine.url for i, engine in enumerate(fleet.engines)}
    hosts["missing"] = f"unix://{config}/none.sock"
    for name, host in hosts.items():
        subprocess.run(["docker", "context", "create", name, "--docker", f"host={host}"], env=env, check=True,
                       capture_output=True)
    return {"DOCKER_CONFIG": str(config), **{f"host:{k}": v for k, v in hosts.items()}}


def findings_by_engine(report: dict) -> dict[str, list[tuple[str, str | None]]]:
    found: dict[str, list[tuple[str, str | None]]] = {}
    for finding in report["findings"]:
        container = finding["container"]["name"] if finding["container"] else None
        found.setdefault(finding["engine"]["name"], []).append((finding["rule"], container))
    return found


def test_contexts_are_read_as_docker_context_ls_lists_them(store):
    env = {"DOCKER_CONFIG": store["DOCKER_CONFIG"]}
    listed = subprocess.run(["docker", "context", "ls", "--format", "{{.Name}}"], env=env, capture_output=True,
                            text=True, check=True).stdout.split()
    assert context_names(env) == sorted(listed, key=lambda n: (n != "default", n))
    for name in ("e0", "e1", "e2", "missing"):
        assert context_endpoint(name, env).host == store[f"host:{name}"]
        assert context_endpoint(name, env).tls is None


def test_tls_material_of_a_context_is_found(tmp_path):
    ca, cert, key = (tmp_path / f"{stem}.pem" for stem in ("ca", "cert", "key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=fleet",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    ca.write_bytes(cert.read_bytes())
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}, "DOCKER_CONFIG": str(tmp_path / "c")}
    subprocess.run(["docker", "context", "create", "secure", "--docker",
                    f"host=tcp://127.0.0.1:2376,ca={ca},cert={cert},key={key}"], env=env, check=True,
                   capture_output=True)
    endpoint = context_endpoint("secure", env)
    assert endpoint.host == "tcp://127.0.0.1:2376" and endpoint.tls is not None and endpoint.tls.verify
    assert Path(endpoint.tls.ca).read_bytes() == ca.read_bytes()
    assert Path(endpoint.tls.cert).read_bytes() == cert.read_bytes()
    assert Path(endpoint.tls.key).read_bytes() == key.read_bytes()


def test_engines_resolved_from_hosts_contexts_and_the_environment(store):
    env = {"DOCKER_CONFIG": store["DOCKER_CONFIG"]}
    endpoints, problems = resolve_endpoints(["unix:///a.sock"], ["e1", "nope", "e1"], False, env)
    assert [(e.name, e.host) for e in endpoints] == [("unix:///a.sock", "unix:///a.sock"), ("e1", store["host:e1"])]
    assert [name for name, _ in problems] == ["nope"]
    # nothing asked: DOCKER_HOST, else the current context, else the local socket
    assert resolve_endpoints([], [], False, {**env, "DOCKER_HOST": "unix:///b.sock"})[0][0].host == "unix:///b.sock"
    assert resolve_endpoints([], [], False, {**env, "DOCKER_CONTEXT": "e2"})[0][0].host == store["host:e2"]
    assert resolve_endpoints([], [], False, env)[0][0].host == "unix:///var/run/docker.sock"


def test_all_contexts_in_one_run(fleet, containers, store):
    start = time.monotonic()
    proc = run_cli("live", "--all-contexts", "--name", PREFIX, "--format", "json",
                   env={"DOCKER_CONFIG": store["DOCKER_CONFIG"], "DOCKER_HOST": store["host:e0"]})
    assert time.monotonic() - start < 30
    assert proc.returncode == 2, proc.stderr  # the context naming no socket could not be read
    report = json.loads(proc.stdout)
    found = findings_by_engine(report)
    # default is DOCKER_HOST, the engine of e0: read once, under the first name
    assert set(found) == {"default", "e1", "e2"}
    assert ("DA101", f"{PREFIX}0") in found["default"]
    assert ("DA101", f"{PREFIX}1") in found["e1"] and ("DA101", f"{PREFIX}2") in found["e2"]
    assert all(c in (None, f"{PREFIX}{i}") for i, name in enumerate(("default", "e1", "e2")) for _, c in found[name])
    engines = {f["engine"]["name"]: f["engine"]["endpoint"] for f in report["findings"]}
    assert engines == {"default": store["host:e0"], "e1": store["host:e1"], "e2": store["host:e2"]}
    [note] = [n for n in report["notifications"] if n.get("engine")]
    assert note["engine"] == {"name": "missing", "endpoint": store["host:missing"]}
    assert note["level"] == "error" and "no such file or directory" in note["message"]


def test_repeated_hosts_and_named_contexts(fleet, containers, store):
    proc = run_cli("live", "-H", fleet.engines[0].url, "--host", fleet.engines[1].url, "--context", "e2",
                   "--name", PREFIX, "--format", "json", env={"DOCKER_CONFIG": store["DOCKER_CONFIG"]})
    assert proc.returncode == 1, proc.stderr
    found = findings_by_engine(json.loads(proc.stdout))
    assert set(found) == {fleet.engines[0].url, fleet.engines[1].url, "e2"}


def test_an_unknown_context_is_an_error_and_the_rest_is_audited(fleet, containers, store):
    proc = run_cli("live", "--context", "nope", "--context", "e1", "--name", PREFIX, "--format", "json",
                   env={"DOCKER_CONFIG": store["DOCKER_CONFIG"]})
    assert proc.returncode == 2
    assert "context nope" in proc.stderr and "does not exist" in proc.stderr
    assert set(findings_by_engine(json.loads(proc.stdout))) == {"e1"}


def test_text_sarif_parsable_and_github_name_the_engine(fleet, containers, store, shared):
    env = {"DOCKER_CONFIG": store["DOCKER_CONFIG"]}
    args = ("live", "--context", "e1", "--context", "e2", "--name", PREFIX)
    text = run_cli(*args, "--format", "text", env=env).stdout
    assert f"engine e1 ({store['host:e1']})" in text and f"engine e2 ({store['host:e2']})" in text
    assert text.index("engine e1") < text.index(f"container/{PREFIX}1") < text.index("engine e2")
    assert text.index("engine e2") < text.index(f"container/{PREFIX}2")
    parsable = run_cli(*args, "--format", "parsable", env=env).stdout
    assert f"container/{PREFIX}1@e1: warning:" in parsable and f"container/{PREFIX}2@e2: warning:" in parsable
    github = run_cli(*args, "--format", "github", env=env).stdout
    assert f"(container {PREFIX}1 on e1)" in github
    sarif = json.loads(run_cli(*args, "--format", "sarif", env=env).stdout)
    import jsonschema

    schema = json.loads((shared / "reference" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    results = sarif["runs"][0]["results"]
    names = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in results}
    assert f"engine/e1/container/{PREFIX}1" in names and f"engine/e2/container/{PREFIX}2" in names
    parents = {r["locations"][0]["logicalLocations"][1]["name"] for r in results}
    assert parents == {"e1", "e2"}
    prints = [r["partialFingerprints"] for r in results]
    assert len({json.dumps(p) for p in prints}) == len(prints)


def test_an_engine_that_stops_answering_is_reported_and_the_others_audited(fleet, containers, store):
    frozen = fleet.engines[1]
    frozen.process.send_signal(signal.SIGSTOP)
    try:
        start = time.monotonic()
        proc = run_cli("live", "--all-contexts", "--name", PREFIX, "--format", "json", "--timeout", "3",
                       env={"DOCKER_CONFIG": store["DOCKER_CONFIG"], "DOCKER_HOST": store["host:e0"]})
        elapsed = time.monotonic() - start
    finally:
        frozen.process.send_signal(signal.SIGCONT)
    assert elapsed < 15
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert set(findings_by_engine(report)) == {"default", "e2"}
    failed = {n["engine"]["name"]: n["message"] for n in report["notifications"] if n.get("engine")}
    assert set(failed) == {"e1", "missing"} and "timed out" in failed["e1"]


def test_an_engine_stopped_in_the_middle_of_a_run(fleet, containers, monkeypatch):
    """The second engine stops (SIGSTOP) once its containers are listed, before they are inspected."""
    stopped = fleet.engines[1]
    real = live._inspect

    def stop_then_inspect(reader, container_id, processes):
        if getattr(reader, "path", None) == str(stopped.socket):
            stopped.process.send_signal(signal.SIGSTOP)
        return real(reader, container_id, processes)

    monkeypatch.setattr(live, "_inspect", stop_then_inspect)
    endpoints = [Endpoint(f"e{i}", engine.url) for i, engine in enumerate(fleet.engines)]
    try:
        start = time.monotonic()
        audits = audit_fleet(endpoints, all=True, names=[PREFIX], labels=[], timeout=3)
        elapsed = time.monotonic() - start
    finally:
        stopped.process.send_signal(signal.SIGCONT)
    assert elapsed < 10
    assert [a.endpoint.name for a in audits] == ["e0", "e1", "e2"]
    assert audits[1].result is None and "timed out" in audits[1].error
    assert [s.name for s in audits[0].result.specs] == [f"{PREFIX}0"]
    assert [s.name for s in audits[2].result.specs] == [f"{PREFIX}2"]


def test_a_fleet_run_changes_nothing_on_any_engine(fleet, containers, store):
    start = time.time()
    proc = run_cli("live", "--all-contexts", "--all", "--format", "json",
                   env={"DOCKER_CONFIG": store["DOCKER_CONFIG"], "DOCKER_HOST": store["host:e0"]})
    assert proc.returncode in (1, 2), proc.stderr
    time.sleep(1.1)
    for engine in fleet.engines:
        api = engine.client().api
        events = list(api.events(since=start, until=time.time(), decode=True))
        ours = {c["Id"] for c in api.containers(filters={"name": PREFIX})}
        # reading processes is logged as "top"; the containers of other tests' modules make their own events
        assert [e for e in events if e.get("Actor", {}).get("ID") in ours and e.get("Action") != "top"] == []
        assert [e for e in events if e.get("Type") not in ("container",)] == []


def test_an_engine_over_ssh_with_the_system_ssh_client(fleet, containers, ssh_engine, store):
    """ssh://HOST runs the system's ssh (with its config: the alias, key and known host come from it)."""
    env = {"PATH": f"{ssh_engine.bin_dir}:{os.environ['PATH']}", "DOCKER_CONFIG": store["DOCKER_CONFIG"]}
    proc = run_cli("live", "-H", f"ssh://{ssh_engine.host}", "--context", "e2", "--name", PREFIX, "--format", "json",
                   env=env)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    found = findings_by_engine(report)
    assert ("DA101", f"{PREFIX}1") in found[f"ssh://{ssh_engine.host}"]
    assert all(c in (None, f"{PREFIX}1") for _, c in found[f"ssh://{ssh_engine.host}"])
    assert ("DA101", f"{PREFIX}2") in found["e2"]


def test_an_ssh_context(fleet, containers, ssh_engine, tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}, "DOCKER_CONFIG": str(tmp_path)}
    subprocess.run(["docker", "context", "create", "remote", "--docker", f"host=ssh://{ssh_engine.host}"], env=env,
                   check=True, capture_output=True)
    proc = run_cli("live", "--context", "remote", "--name", PREFIX, "--format", "json",
                   env={"PATH": f"{ssh_engine.bin_dir}:{os.environ['PATH']}", "DOCKER_CONFIG": str(tmp_path)})
    assert proc.returncode == 1, proc.stderr
    assert set(findings_by_engine(json.loads(proc.stdout))) == {"remote"}


def test_an_ssh_host_that_refuses_is_a_notification(fleet, containers, ssh_engine):
    env = {"PATH": f"{ssh_engine.bin_dir}:{os.environ['PATH']}"}
    start = time.monotonic()
    proc = run_cli("live", "-H", f"ssh://root@127.0.0.1:{free_port()}", "-H", fleet.engines[0].url,
                   "--name", PREFIX, "--format", "json", env=env)
    assert time.monotonic() - start < 20
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert set(findings_by_engine(report)) == {fleet.engines[0].url}
    assert [n for n in report["notifications"] if n.get("engine", {}).get("name", "").startswith("ssh://")]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls_engine(fleet, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The third engine behind TLS on loopback: a proxy that asks for a client certificate signed by the
    test's CA and passes the stream on to the engine's socket."""
    import socket
    import ssl
    import threading

    root = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=fleet-ca",
             "-keyout", str(root / "ca-key.pem"), "-out", str(root / "ca.pem"))
    for name, extra in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", str(root / f"{name}-key.pem"),
                 "-out", str(root / f"{name}.csr"))
        (root / f"{name}.ext").write_text(extra + "\n")
        _openssl("x509", "-req", "-in", str(root / f"{name}.csr"), "-CA", str(root / "ca.pem"), "-CAkey",
                 str(root / "ca-key.pem"), "-CAcreateserial", "-days", "2", "-extfile", str(root / f"{name}.ext"),
                 "-out", str(root / f"{name}.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(root / "ca.pem"))
    context.load_cert_chain(str(root / "server.pem"), str(root / "server-key.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    target = str(fleet.engines[2].socket)

    def pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                tls = context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(target)
            threading.Thread(target=pipe, args=(tls, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, tls), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield {"url": f"tcp://127.0.0.1:{port}", "certs": str(root)}
    listener.close()


def test_tcp_with_tls_from_the_environment(fleet, containers, tls_engine, tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    for mine, theirs in (("ca.pem", "ca.pem"), ("client.pem", "cert.pem"), ("client-key.pem", "key.pem")):
        (certs / theirs).write_bytes((Path(tls_engine["certs"]) / mine).read_bytes())
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    proc = run_cli("live", "-H", tls_engine["url"], "--name", PREFIX, "--format", "json", env=env)
    assert proc.returncode == 1, proc.stderr
    assert ("DA101", f"{PREFIX}2") in findings_by_engine(json.loads(proc.stdout))[tls_engine["url"]]
    # without the client certificate the server refuses: an error for that engine
    proc = run_cli("live", "-H", tls_engine["url"], "--format", "json")
    assert proc.returncode == 2 and "cannot connect" in proc.stderr


def test_tcp_with_tls_from_a_context(fleet, containers, tls_engine, tmp_path):
    certs = Path(tls_engine["certs"])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}, "DOCKER_CONFIG": str(tmp_path)}
    subprocess.run(["docker", "context", "create", "secure", "--docker",
                    f"host={tls_engine['url']},ca={certs / 'ca.pem'},cert={certs / 'client.pem'},"
                    f"key={certs / 'client-key.pem'}"], env=env, check=True, capture_output=True)
    proc = run_cli("live", "--context", "secure", "--name", PREFIX, "--format", "json",
                   env={"DOCKER_CONFIG": str(tmp_path)})
    assert proc.returncode == 1, proc.stderr
    assert ("DA101", f"{PREFIX}2") in findings_by_engine(json.loads(proc.stdout))["secure"]
