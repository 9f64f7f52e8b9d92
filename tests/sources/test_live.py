"""audit_host against the private engine: real containers in real states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from dockaudit.sources.live import LiveError, LiveResult, audit_host
from engine import wait_for

pytest_plugins = ["engine_plugin"]
pytestmark = pytest.mark.engine

PREFIX = "live-"


@pytest.fixture(scope="module")
def states(engine) -> Iterator[dict]:
    """Containers in the states a live audit must see, and a dangling volume."""
    api = engine.client().api
    for image in ("busybox:1.36", "ubuntu:22.04", "stale:1"):
        engine.tag(image)
    run = ["run", "-d", "--pull", "never"]
    engine.docker(*run, "--name", f"{PREFIX}oom", "-m", "16m", "busybox:1.36",
                  "sh", "-c", "sleep 2; head -c 200m /dev/zero | tail")
    engine.docker(*run, "--name", f"{PREFIX}unhealthy", "--health-cmd", "false", "--health-interval", "1s",
                  "--health-retries", "1", "busybox:1.36", "sleep", "100000")
    engine.docker(*run, "--name", f"{PREFIX}loop", "--restart", "always", "busybox:1.36", "sh", "-c", "exit 1")
    engine.docker(*run, "--name", f"{PREFIX}multi", "-l", "team=infra", "busybox:1.36",
                  "sh", "-c", "sleep 1000 & sleep 1000 & wait")
    engine.docker(*run, "--name", f"{PREFIX}shell", "ubuntu:22.04")
    engine.docker(*run, "--name", f"{PREFIX}netc", "--network", f"container:{PREFIX}multi",
                  "busybox:1.36", "sleep", "100000")
    # privileged containers cannot be started on these machines: created only
    engine.docker("create", "--pull", "never", "--name", f"{PREFIX}priv", "--privileged", "busybox:1.36", "true")
    # stale: the tag moves to a new image after the container was made
    engine.docker("create", "--pull", "never", "--name", f"{PREFIX}stale", "stale:1", "sleep", "1")
    api.commit(f"{PREFIX}stale", repository="stale", tag="1", changes=['LABEL rebuilt="yes"'])
    # an image with a USER, for the effective user
    api.commit(f"{PREFIX}stale", repository="withuser", tag="1", changes=["USER nobody"])
    engine.docker("create", "--pull", "never", "--name", f"{PREFIX}user", "withuser:1", "sleep", "1")
    engine.docker("volume", "create", f"{PREFIX}orphan")
    engine.docker("create", "--pull", "never", "--name", f"{PREFIX}volume-user", "-v", f"{PREFIX}used:/data",
                  "busybox:1.36", "true")

    def state(name: str) -> dict:
        return api.inspect_container(f"{PREFIX}{name}")["State"]

    wait_for(lambda: state("oom")["OOMKilled"] and not state("oom")["Running"], what="the OOM kill")
    wait_for(lambda: state("unhealthy").get("Health", {}).get("Status") == "unhealthy", what="unhealthy")
    wait_for(lambda: api.inspect_container(f"{PREFIX}loop")["RestartCount"] >= 2, what="restarts")
    wait_for(lambda: state("shell")["Status"] == "exited", what="the shell to exit")
    wait_for(lambda: len(api.top(f"{PREFIX}multi")["Processes"]) >= 3, what="three processes")
    yield {"api": api}
    names = [c["Id"] for c in api.containers(all=True, filters={"name": PREFIX})]
    engine.remove_containers(*names)
    for volume in (f"{PREFIX}orphan", f"{PREFIX}used"):
        try:
            api.remove_volume(volume, force=True)
        except Exception:
            pass


@pytest.fixture(scope="module")
def audit(engine, states) -> LiveResult:
    return audit_host(engine.url, all=True, names=[PREFIX], labels=[], timeout=10)


def by_name(result: LiveResult) -> dict:
    return {s.name: s for s in result.specs}


def test_oom_kill(audit):
    r = by_name(audit)[f"{PREFIX}oom"].runtime
    assert r.oom_killed is True and r.status == "exited" and r.exit_code == 137


def test_unhealthy(audit):
    r = by_name(audit)[f"{PREFIX}unhealthy"].runtime
    assert r.health_status == "unhealthy" and r.running


def test_restart_loop(audit):
    spec = by_name(audit)[f"{PREFIX}loop"]
    assert spec.restart_policy.name == "always"
    assert spec.runtime.restart_count >= 2
    assert spec.runtime.status in {"restarting", "running", "exited"}


def test_processes_of_a_multi_process_container(audit):
    processes = by_name(audit)[f"{PREFIX}multi"].runtime.processes
    commands = [p.command for p in processes]
    assert len(processes) == 3
    assert commands.count("sleep 1000") == 2 and any(c.startswith("sh -c") for c in commands)
    assert all(p.pid.isdigit() and p.user == "root" for p in processes)


def test_processes_are_not_read_for_stopped_containers(audit):
    assert by_name(audit)[f"{PREFIX}shell"].runtime.processes is None


def test_detached_shell_exited_at_once(audit):
    spec = by_name(audit)[f"{PREFIX}shell"]
    assert spec.command == ("sh",) and not spec.interactive
    assert (spec.runtime.status, spec.runtime.exit_code) == ("exited", 0)


def test_created_privileged_container(audit):
    spec = by_name(audit)[f"{PREFIX}priv"]
    assert spec.privileged and spec.security_opt == () and spec.runtime.status == "created"


def test_container_network_mode_by_name(audit):
    assert by_name(audit)[f"{PREFIX}netc"].network_mode == f"container:{PREFIX}multi"


def test_stale_image(audit):
    runtime = by_name(audit)[f"{PREFIX}stale"].runtime
    assert runtime.image_id and runtime.tag_image_id and runtime.image_id != runtime.tag_image_id
    current = by_name(audit)[f"{PREFIX}multi"].runtime
    assert current.tag_image_id == current.image_id


def test_effective_user(audit):
    specs = by_name(audit)
    assert specs[f"{PREFIX}user"].runtime.effective_user == "nobody"
    assert specs[f"{PREFIX}multi"].runtime.effective_user == "root"


def test_dangling_volumes(audit):
    assert audit.host.volumes_read
    assert f"{PREFIX}orphan" in audit.host.dangling_volumes
    assert f"{PREFIX}used" not in audit.host.dangling_volumes


def test_daemon_defaults(audit):
    host = audit.host
    assert host.default_log_driver == "json-file"
    assert host.storage_driver in {"overlay2", "vfs"}
    assert any(opt.startswith("name=seccomp") for opt in host.security_options)
    assert host.default_log_opts == {} and host.no_new_privileges is False


def test_filters(engine, states):
    only = audit_host(engine.url, all=True, names=[f"{PREFIX}multi"], labels=[], timeout=10)
    assert [s.name for s in only.specs] == [f"{PREFIX}multi"]
    labelled = audit_host(engine.url, all=True, names=[], labels=["team=infra"], timeout=10)
    assert [s.name for s in labelled.specs] == [f"{PREFIX}multi"]
    running = audit_host(engine.url, all=False, names=[PREFIX], labels=[], timeout=10)
    assert f"{PREFIX}shell" not in {s.name for s in running.specs}
    assert f"{PREFIX}multi" in {s.name for s in running.specs}


def test_audit_changes_nothing(engine, states):
    api = states["api"]
    # these containers make events of their own (restarts, health probes)
    busy = {api.inspect_container(f"{PREFIX}{name}")["Id"] for name in ("loop", "unhealthy")}
    before = {c["Id"]: c["State"] for c in api.containers(all=True) if c["Id"] not in busy}
    def images() -> list:
        return sorted(api.images(), key=lambda image: image["Id"])

    def volumes() -> list:
        return sorted(api.volumes()["Volumes"], key=lambda volume: volume["Name"])

    images_before, volumes_before = images(), volumes()
    start = time.time()
    audit_host(engine.url, all=True, names=[], labels=[], timeout=10)
    time.sleep(1.1)
    events = [
        e for e in api.events(since=start, until=time.time(), decode=True)
        if e.get("Actor", {}).get("ID") not in busy
        and e.get("Actor", {}).get("Attributes", {}).get("container") not in busy
    ]
    # reading processes is logged as a "top" event; anything else would be a change
    assert [e for e in events if e.get("Action") != "top"] == []
    running = {c["Id"] for c in api.containers()} - busy
    assert {e["Actor"]["ID"] for e in events} == running
    assert {c["Id"]: c["State"] for c in api.containers(all=True) if c["Id"] not in busy} == before
    assert images() == images_before and volumes() == volumes_before


def test_removed_between_list_and_inspect_is_a_note(engine, states, monkeypatch):
    from dockaudit.sources import live

    real = live._SocketReader.containers

    def with_a_ghost(self, *args, **kwargs):
        listed = real(self, *args, **kwargs)
        return [*listed, {"Id": "0" * 64, "Names": ["/ghost"], "ImageID": "sha256:" + "0" * 64}]

    monkeypatch.setattr(live._SocketReader, "containers", with_a_ghost)
    result = audit_host(engine.url, all=True, names=[f"{PREFIX}multi"], labels=[], timeout=10)
    assert [s.name for s in result.specs] == [f"{PREFIX}multi"]
    assert result.notes == ["container 000000000000 was removed while it was being read; skipped"]


def test_wrong_socket_fails_fast(tmp_path):
    start = time.monotonic()
    with pytest.raises(LiveError) as info:
        audit_host(f"unix://{tmp_path}/nothing.sock", all=True, names=[], labels=[], timeout=10)
    assert time.monotonic() - start < 5
    assert "cannot connect to the Docker engine" in info.value.message
    assert "nothing.sock" in info.value.message


def test_not_a_socket_fails_fast(tmp_path):
    path = tmp_path / "plain-file"
    path.write_text("")
    start = time.monotonic()
    with pytest.raises(LiveError):
        audit_host(f"unix://{path}", all=True, names=[], labels=[], timeout=10)
    assert time.monotonic() - start < 5


def test_silent_tcp_peer_times_out_within_five_seconds():
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts connections, never answers
    try:
        start = time.monotonic()
        with pytest.raises(LiveError):
            audit_host(f"tcp://127.0.0.1:{server.getsockname()[1]}", all=True, names=[], labels=[], timeout=30)
        assert time.monotonic() - start < 6
    finally:
        server.close()


# --- end to end: the command line on the engine ----------------------------------------


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([sys.executable, "-m", "dockaudit.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def cli_findings(engine, states) -> tuple[int, dict[str | None, list[str]]]:
    proc = run_cli("live", "--all", "--host", engine.url, "--name", PREFIX, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    found: dict[str | None, list[str]] = {}
    for finding in report["findings"]:
        container = finding["container"]["name"] if finding["container"] else None
        found.setdefault(container, []).append(finding["rule"])
    return proc.returncode, found


@pytest.mark.parametrize(("rule", "container"), [
    ("DA310", "oom"),
    ("DA308", "unhealthy"),
    ("DA309", "loop"),
    ("DA303", "shell"),
    ("DA301", "multi"),
    ("DA501", "priv"),
    ("DA705", "stale"),
])
def test_cli_reports_each_state_once_under_its_container(cli_findings, rule, container):
    code, found = cli_findings
    assert code == 1
    assert found[f"{PREFIX}{container}"].count(rule) == 1
    others = [name for name, rules in found.items() if rule in rules and name != f"{PREFIX}{container}"]
    assert others == []


def test_cli_reports_the_dangling_volume_on_the_host(cli_findings):
    _, found = cli_findings
    assert found[None].count("DA210") >= 1
    assert all(rule == "DA210" for rule in found[None])


def test_cli_dangling_volume_message_names_it(engine, states):
    proc = run_cli("live", "--all", "--host", engine.url, "--name", PREFIX, "--format", "json")
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"] if f["rule"] == "DA210"]
    assert any(f"{PREFIX}orphan" in m for m in messages)
    assert not any(f"{PREFIX}used" in m for m in messages)


def test_cli_without_an_engine_exits_2_quickly(tmp_path):
    start = time.monotonic()
    proc = run_cli("live", "--host", f"unix://{tmp_path}/none.sock", "--format", "json")
    assert proc.returncode == 2
    assert time.monotonic() - start < 10  # interpreter start-up included
    assert "cannot connect to the Docker engine" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_socket_and_sdk_readers_agree(engine, states):
    from dockaudit.sources.live import _inspect, _SdkReader, _SocketReader

    api = engine.client().api
    socket_reader = _SocketReader(str(engine.socket), 10, 5)
    sdk_reader = _SdkReader(api)
    try:
        for reader in (socket_reader, sdk_reader):
            doc, top, why = _inspect(reader, f"{PREFIX}multi", True)
            assert doc["Name"] == f"/{PREFIX}multi" and why == ""
            assert len(top) == 3
            assert _inspect(reader, "0" * 64, True) == (None, None, "was removed while it was being read")
    finally:
        socket_reader.close()
