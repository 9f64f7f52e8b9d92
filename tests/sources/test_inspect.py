"""spec_from_inspect on inspect documents recorded from a real engine (fixtures/inspect)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockaudit.model import (
    ContainerRef,
    DeviceMapping,
    EnvVar,
    Healthcheck,
    HostInfo,
    Link,
    Mount,
    PortBinding,
    RestartPolicy,
    Source,
    ThrottleDevice,
    Ulimit,
)
from dockaudit.sources.inspect import InspectError, load_inspect_documents, spec_from_inspect

INSPECT = Path(__file__).resolve().parents[2] / "fixtures" / "inspect"


def doc(name: str) -> dict:
    return json.loads((INSPECT / f"{name}.json").read_text())


def spec(name: str, **kwargs):
    return spec_from_inspect(doc(name), **kwargs)


def test_every_fixture_has_its_command():
    names = sorted(p.stem for p in INSPECT.glob("*.json"))
    assert len(names) >= 20
    for name in names:
        command = (INSPECT / f"{name}.cmd").read_text()
        assert command.startswith("docker ") and f"--name {name} " in command


def test_baseline_is_all_defaults():
    s = spec("baseline")
    d = doc("baseline")
    assert s.origin.source is Source.LIVE
    assert s.origin.container == ContainerRef(id=d["Id"], name="baseline")
    assert (s.subcommand, s.detach, s.is_service) == ("create", True, True)
    assert s.name == "baseline"
    assert (s.image.repository, s.image.tag) == ("library/busybox", "1.36")
    assert s.command == ("sleep", "100000") and s.entrypoint is None
    # engine defaults read as "not set"
    assert d["HostConfig"]["ShmSize"] == 64 * 1024 * 1024 and s.shm_size is None
    assert d["HostConfig"]["IpcMode"] == "private" and s.ipc_mode is None
    assert d["HostConfig"]["NetworkMode"] == "default" and s.network_mode is None
    assert d["HostConfig"]["CgroupnsMode"] == "host" and s.cgroupns_mode is None
    assert d["Config"]["Hostname"] == d["Id"][:12] and s.hostname is None
    assert d["HostConfig"]["RestartPolicy"]["Name"] == "no" and s.restart_policy is None
    assert s.memory is None and s.memory_swap is None and s.nano_cpus is None and s.pids_limit is None
    assert s.mounts == () and s.ports == () and s.expose == () and s.networks == ()
    assert s.security_opt == () and s.cap_add == () and not s.privileged
    assert s.healthcheck is None and s.init is None and s.user is None
    assert s.log_driver == "json-file" and dict(s.log_opts) == {}
    assert s.runtime.status == "created" and s.runtime.image_id == d["Image"]
    assert s.runtime.started_at is None and s.runtime.health_status is None


def test_privileged_drops_the_engine_added_label_disable():
    d = doc("privileged")
    assert d["HostConfig"]["SecurityOpt"] == ["label=disable"]
    s = spec_from_inspect(d)
    assert s.privileged is True
    assert s.security_opt == ()


def test_namespaces_host_and_their_label_disable():
    d = doc("namespaces")
    assert "label=disable" in d["HostConfig"]["SecurityOpt"]
    s = spec_from_inspect(d)
    assert (s.pid_mode, s.ipc_mode, s.uts_mode, s.userns_mode) == ("host", "host", "host", "host")
    assert "label=disable" not in s.security_opt
    # cgroup v1 engine: host is the default and says nothing about what was asked
    assert s.cgroupns_mode is None
    # on a daemon whose default is private, host was asked for
    v2 = HostInfo(security_options=("name=seccomp,profile=default", "name=cgroupns"))
    assert spec_from_inspect(d, v2).cgroupns_mode == "host"


def test_label_disable_given_alone_is_kept():
    s = spec("security-colon")
    assert s.security_opt == ("seccomp=unconfined", "label=disable")  # colon form normalised


def test_security_opts_and_systempaths():
    d = doc("security-opts")
    assert "systempaths=unconfined" not in d["HostConfig"]["SecurityOpt"]
    assert d["HostConfig"]["MaskedPaths"] == [] and d["HostConfig"]["ReadonlyPaths"] == []
    assert spec_from_inspect(d).security_opt == (
        "seccomp=unconfined", "apparmor=unconfined", "no-new-privileges", "systempaths=unconfined")


def test_capabilities():
    s = spec("caps")
    assert s.cap_add == ("CAP_NET_ADMIN", "CAP_SYS_ADMIN")
    assert s.cap_drop == ("ALL",)


def test_ports_keys_ranges_addresses():
    s = spec("ports")
    assert set(s.ports) == {
        PortBinding("80", "tcp", "", ""),
        PortBinding("80", "udp", "127.0.0.1", "8080"),
        PortBinding("8000", "tcp", "", "8000"),
        PortBinding("8001", "tcp", "", "8001"),
        PortBinding("8002", "tcp", "", "8002"),
        PortBinding("9090", "tcp", "", "9000-9010"),
        PortBinding("443", "tcp", "::1", "8443"),
        PortBinding("22", "tcp", "0.0.0.0", "2222"),
    }
    assert len(s.ports) == 8
    assert s.expose == ("7000/tcp",)  # published ports are not repeated as exposed
    assert s.publish_all is False


def test_publish_all_and_expose():
    s = spec("publish-all")
    assert s.publish_all is True and s.ports == ()
    assert s.expose == ("53/udp", "7000/tcp")


def test_binds_read_only_propagation_and_mount_flag():
    mounts = {m.target: m for m in spec("binds").mounts}
    assert mounts["/etc/app"] == Mount("bind", "/etc/app", "/srv/app/config", True, "rprivate", ("ro",), "--volume")
    sock = mounts["/var/run/docker.sock"]
    assert (sock.type, sock.source, sock.read_only) == ("bind", "/var/run/docker.sock", False)
    assert mounts["/data"].propagation == "rshared"
    etc = mounts["/host-etc"]
    assert (etc.type, etc.source, etc.read_only, etc.flag) == ("bind", "/etc", True, "--mount")


def test_named_and_anonymous_volumes():
    s = spec("volumes")
    mounts = {m.target: m for m in s.mounts}
    assert set(mounts) == {"/var/lib/app", "/cache", "/scratch-volume", "/ro-data"}  # not /shared
    assert mounts["/var/lib/app"].source == "appdata" and not mounts["/var/lib/app"].anonymous
    assert mounts["/cache"].anonymous and mounts["/cache"].flag == "--volume"
    assert mounts["/scratch-volume"].anonymous and mounts["/scratch-volume"].flag == "--mount"
    assert mounts["/ro-data"].read_only and mounts["/ro-data"].source == "appdata"
    assert s.volumes_from == ("volsrc:ro",)  # its volumes are the other container's, not listed


def test_image_volumes_are_told_apart_when_the_image_is_known():
    d = doc("volumes")
    image = {"Config": {"Volumes": {"/cache": {}}}}
    mounts = {m.target: m for m in spec_from_inspect(d, image=image).mounts}
    assert mounts["/cache"].flag == "image" and mounts["/cache"].anonymous


def test_tmpfs_options_and_read_only_rootfs():
    s = spec("tmpfs")
    assert s.read_only_rootfs is True
    mounts = {m.target: m for m in s.mounts}
    assert mounts["/run"] == Mount("tmpfs", "/run", None, False, None, ("exec", "size=64m"), "--tmpfs")
    assert mounts["/tmp"].options == () and mounts["/tmp"].flag == "--tmpfs"
    assert mounts["/scratch"].options == ("tmpfs-size=1048576", "tmpfs-mode=1777")
    assert mounts["/scratch"].flag == "--mount"


def test_resources():
    s = spec("resources")
    assert s.memory == 512 * 1024**2
    assert s.memory_swap is None  # the engine stored 2 x memory: nothing was asked
    assert doc("resources")["HostConfig"]["MemorySwap"] == 2 * s.memory
    assert s.memory_reservation == 256 * 1024**2
    assert s.nano_cpus == 1_500_000_000 and s.cpu_shares == 512
    assert s.pids_limit == 100 and s.shm_size == 128 * 1024**2 and s.oom_score_adj == 100
    assert s.ulimits == (Ulimit("nofile", 1024, 2048),)
    assert s.blkio_throttles == (ThrottleDevice("read-bps", "/dev/vda", 1048576),)


def test_unlimited_swap_and_oom_kill_disable():
    s = spec("swap-unlimited")
    assert (s.memory, s.memory_swap, s.oom_kill_disable) == (256 * 1024**2, -1, True)


def test_memory_swap_different_from_the_default_is_kept():
    d = doc("resources")
    d["HostConfig"]["MemorySwap"] = 3 * d["HostConfig"]["Memory"]
    assert spec_from_inspect(d).memory_swap == 3 * 512 * 1024**2


def test_restart_policy():
    assert spec("restart-on-failure").restart_policy == RestartPolicy("on-failure", 10)
    assert spec("running").restart_policy == RestartPolicy("unless-stopped", 0)


def test_healthcheck_durations_and_disabled():
    assert spec("healthcheck").healthcheck == Healthcheck(
        ("CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"),
        30_000_000_000, 5_000_000_000, 10_000_000_000, 3)
    assert spec("no-healthcheck").healthcheck.disabled


def test_logging():
    s = spec("logging")
    assert s.log_driver == "json-file" and dict(s.log_opts) == {"max-size": "10m", "max-file": "3"}
    assert spec("logging-none").log_driver == "none"


def test_log_driver_falls_back_to_the_daemon_default():
    d = doc("baseline")
    del d["HostConfig"]["LogConfig"]
    assert spec_from_inspect(d).log_driver is None
    assert spec_from_inspect(d, HostInfo(default_log_driver="journald")).log_driver == "journald"


def test_mysql_env_ports_and_image_command():
    s = spec("mysql")
    assert (s.image.name, s.image.tag) == ("mysql", "5.7")
    assert s.env == (EnvVar("MYSQL_ROOT_PASSWORD", "secret"), EnvVar("MYSQL_DATABASE", "app"))
    assert s.ports == (PortBinding("3306", "tcp", "", "3306"),)
    assert s.mounts == ()
    assert s.command == ("sh",)  # the image's CMD: inspect shows the merged config


def test_users():
    assert spec("user-root").user == "root"
    s = spec("user-uid")
    assert (s.user, s.workdir, s.group_add) == ("1000:1000", "/srv", ("audio",))


def test_network_host_keeps_ports_and_drops_the_daemon_hostname():
    d = doc("net-host")
    s = spec_from_inspect(d, daemon_hostname=d["Config"]["Hostname"])
    assert (s.network_mode, s.networks) == ("host", ("host",))
    assert s.ports == (PortBinding("80", "tcp", "", "80"),)
    assert s.hostname is None


def test_network_container_by_name():
    d = doc("net-container")
    target = d["HostConfig"]["NetworkMode"].split(":", 1)[1]
    assert len(target) == 64
    assert spec_from_inspect(d).network_mode == f"container:{target}"
    assert spec_from_inspect(d, names={target: "db"}).network_mode == "container:db"
    assert spec_from_inspect(d, names={target: "db"}).hostname is None


def test_links_on_the_default_bridge():
    d = doc("links")
    assert sorted(d["HostConfig"]["Links"]) == ["/db:/links/database", "/volsrc:/links/volsrc"]
    assert spec_from_inspect(d).links == (Link("db", "database"), Link("volsrc", "volsrc"))


def test_user_defined_network_alias_ip_and_links():
    s = spec("user-network")
    assert (s.network_mode, s.networks, s.network_aliases) == ("appnet", ("appnet",), ("web",))
    assert s.ip is not None and s.ip.endswith(".10")
    assert s.links == (Link("db", "database"),)


def test_alias_of_the_short_id_is_dropped():
    d = doc("user-network")
    d["NetworkSettings"]["Networks"]["appnet"]["Aliases"].append(d["Id"][:12])
    assert spec_from_inspect(d).network_aliases == ("web",)


def test_devices_sysctls():
    s = spec("devices")
    assert s.devices == (DeviceMapping("/dev/null", "/dev/mynull", "rw"),)
    assert s.device_cgroup_rules == ("c 1:3 mr",)
    assert dict(s.sysctls) == {"net.ipv4.ip_forward": "1"}


def test_misc_config():
    s = spec("misc")
    assert (s.interactive, s.tty, s.auto_remove, s.init) == (True, True, True, True)
    assert s.entrypoint == ("/bin/sh",) and s.command == ("-c", "sleep 100000")
    assert s.hostname == "web01" and s.dns == ("9.9.9.9",) and s.extra_hosts == ("db:10.0.0.5",)
    assert dict(s.labels) == {"com.example.team": "infra"}
    assert s.env == (EnvVar("APP_MODE", "prod"), EnvVar("HTTP_PROXY", None))
    assert s.stop_signal == "SIGINT"


def test_image_without_tag():
    s = spec("image-latest")
    assert (s.image.name, s.image.tag) == ("nginx", None)


# --- runtime states --------------------------------------------------------


def test_oom_killed():
    r = spec("oom-killed").runtime
    assert (r.status, r.oom_killed, r.exit_code, r.running) == ("exited", True, 137, False)
    assert r.started_at and r.finished_at


def test_unhealthy():
    r = spec("unhealthy").runtime
    assert (r.status, r.running, r.health_status) == ("running", True, "unhealthy")


def test_restart_loop():
    r = spec("restart-loop").runtime
    assert r.status == "restarting" and r.restart_count >= 1 and r.exit_code == 1


def test_detached_shell_exits_at_once():
    r = spec("exited-shell").runtime
    assert (r.status, r.exit_code) == ("exited", 0)
    assert r.finished_at is not None


def test_effective_user_comes_from_the_image():
    d = doc("running")
    assert spec_from_inspect(d).runtime.effective_user is None  # image unknown: say nothing
    assert spec_from_inspect(d, image={"Config": {"User": "app"}}).runtime.effective_user == "app"
    assert spec_from_inspect(d, image={"Config": {"User": ""}}).runtime.effective_user == "root"
    assert spec_from_inspect(doc("user-uid"), image={"Config": {}}).runtime.effective_user == "1000:1000"


# --- reading documents -----------------------------------------------------


def test_load_array_and_single_object():
    one = (INSPECT / "baseline.json").read_text()
    assert load_inspect_documents(one, "a.json") == [doc("baseline")]
    both = json.dumps([doc("baseline"), doc("caps")])
    assert [d["Name"] for d in load_inspect_documents(both, "b.json")] == ["/baseline", "/caps"]


@pytest.mark.parametrize(("text", "message"), [
    ("", "x.json: empty input"),
    ('[{"Id": 1,}]', "x.json:1:11: invalid JSON"),
    ("[1]", "x.json: item 1: expected a JSON object, got a number"),
    ('"text"', "x.json: expected a JSON object, got a string"),
    ('[{"Id": "sha256:1", "RepoTags": ["a:1"], "Config": {}}]', "item 1: not a container"),
    ('{"Name": "x"}', "x.json: not a container"),
])
def test_load_errors(text, message):
    with pytest.raises(InspectError) as info:
        load_inspect_documents(text, "x.json")
    assert message in info.value.message


def test_load_deeply_nested_input_is_an_error_not_a_crash():
    with pytest.raises(InspectError):
        load_inspect_documents("[" * 100_000, "deep.json")


# --- robustness ----------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_keys = st.sampled_from([
    "Config", "HostConfig", "State", "NetworkSettings", "Mounts", "Name", "Id", "Image", "RestartCount",
])
_sub_keys = st.sampled_from([
    "Binds", "Mounts", "Tmpfs", "PortBindings", "Links", "NetworkMode", "SecurityOpt", "Memory",
    "MemorySwap", "RestartPolicy", "LogConfig", "Volumes", "ExposedPorts", "Env", "Healthcheck",
    "Networks", "Ulimits", "Devices", "Health", "Status", "Cmd", "Entrypoint", "Image", "Hostname",
    "PidMode", "IpcMode", "BlkioDeviceReadBps", "MaskedPaths", "ReadonlyPaths", "Labels", "User",
])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, st.dictionaries(_sub_keys, _json, max_size=6) | _json, max_size=8))
def test_never_raises_on_odd_documents(document):
    spec_from_inspect(document)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(p.stem for p in INSPECT.glob("*.json"))), _sub_keys, _json)
def test_never_raises_when_one_recorded_field_is_replaced(name, key, value):
    d = copy.deepcopy(doc(name))
    for section in ("HostConfig", "Config", "State"):
        d[section][key] = value
    spec_from_inspect(d)


def test_not_a_dict_gives_an_empty_spec():
    s = spec_from_inspect([])  # type: ignore[arg-type]
    assert s.name is None and s.runtime is None


# --- end to end: dockaudit inspect on the recorded documents ---------------------------


def run_inspect(*args: str, stdin: str | None = None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "dockaudit.cli", "inspect", *args], capture_output=True,
                          text=True, input=stdin, timeout=120)


def test_cli_inspect_reports_runtime_states_under_their_containers():
    files = [str(INSPECT / f"{name}.json") for name in ("oom-killed", "unhealthy", "restart-loop", "privileged")]
    proc = run_inspect(*files, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    found: dict[str, list[str]] = {}
    for finding in json.loads(proc.stdout)["findings"]:
        found.setdefault(finding["container"]["name"], []).append(finding["rule"])
    assert found["oom-killed"].count("DA310") == 1
    assert found["unhealthy"].count("DA308") == 1
    assert found["restart-loop"].count("DA309") == 1
    assert found["privileged"].count("DA501") == 1
    assert "DA508" not in found["privileged"]  # the engine's own label=disable is not reported again
    assert not any("DA310" in rules for name, rules in found.items() if name != "oom-killed")


def test_cli_inspect_reads_standard_input():
    proc = run_inspect("-", "--format", "json", stdin=(INSPECT / "privileged.json").read_text())
    assert proc.returncode == 1, proc.stderr
    assert "DA501" in {f["rule"] for f in json.loads(proc.stdout)["findings"]}


def test_cli_inspect_invalid_json_is_a_message_and_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"Id": "x",}]')
    proc = run_inspect(str(bad))
    assert proc.returncode == 2
    output = proc.stdout + proc.stderr
    assert f"{bad}:1:13: invalid JSON" in output
    assert "Traceback" not in output
