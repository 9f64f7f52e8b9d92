"""Every option of the shipped table, exercised: kind, value behaviour, spec field.

The cases are generated from dockaudit/data/options.json, so a flag added to
the table is tested without anyone writing a case for it. That the table is
the one generated from dockaudit/data/options.yaml is tests/test_generate.py's
business.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockaudit.options import FlagSpec, grammar_for
from dockaudit.spec import spec_from_command
from test_grammar_helpers import parse

ROOT = Path(__file__).resolve().parent.parent
TABLE = json.loads((ROOT / "dockaudit" / "data" / "options.json").read_text())

# A valid value per kind, and per option where the kind says too little.
VALID_BY_KIND = {
    "string": "value1", "list": "value1", "bytes": "64m", "int": "10", "int64": "10",
    "uint16": "500", "uint64": "10", "decimal": "1.5", "duration": "30s", "ip": "10.0.0.5",
    "map": "k=v", "cidr": "10.0.0.0/24", "ulimit": "nofile=1024:2048", "port": "8080:80",
    "network": "mynet", "volume": "/data", "mount": "type=volume,dst=/data",
    "gpu-request": "all", "throttle-device": "/dev/sda:1mb", "weight-device": "/dev/sda:200",
}
VALID_BY_NAME = {
    "--restart": "on-failure:3", "--cap-add": "NET_ADMIN", "--cap-drop": "ALL",
    "--security-opt": "no-new-privileges", "--pid": "host", "--ipc": "shareable",
    "--uts": "host", "--userns": "host", "--cgroupns": "private", "--env": "A=1",
    "--add-host": "db:10.0.0.1", "--dns": "1.1.1.1", "--expose": "80", "--link": "db:db",
    "--mac-address": "02:42:ac:11:00:02", "--device": "/dev/null",
    "--device-cgroup-rule": "c 1:3 mr", "--sysctl": "net.ipv4.ip_forward=1",
    "--log-opt": "max-size=10m", "--storage-opt": "size=1G", "--tmpfs": "/run",
    "--volumes-from": "other", "--name": "web1", "--stop-signal": "SIGTERM",
    "--signal": "SIGTERM", "--workdir": "/app", "--cpuset-cpus": "0-1", "--cpuset-mems": "0",
    "--pull": "always", "--attach": "stdout", "--memory-reservation": "256m",
    "--memory": "512m", "--memory-swap": "1g", "--ip6": "fd00::5", "--ip": "10.1.0.5",
    "--link-local-ip": "169.254.1.1", "--memory-swappiness": "10", "--oom-score-adj": "100",
    "--entrypoint": "/bin/sh", "--gateway": "10.0.0.1", "--kernel-memory": "64m",
    "--device-read-iops": "/dev/sda:100", "--device-write-iops": "/dev/sda:100",
}
# A value each checked kind must refuse.
INVALID_BY_KIND = {
    "int": "ten", "int64": "1.5", "uint16": "70000", "uint64": "-1", "bytes": "12q",
    "decimal": "one", "duration": "5", "ip": "1.2.3", "ulimit": "nofile", "port": "99999",
    "volume": "/a:/b:ro:x", "mount": "type=bind", "map": "novalue", "gpu-request": "count=x",
    "throttle-device": "sda:1", "weight-device": "sda:1", "network": "container:",
}
# Options with no value check of their kind in some subcommand (judged elsewhere).
UNCHECKED = {("network create", "--gateway"), ("network create", "--aux-address")}

# The ContainerSpec field each run/create option sets.
FIELD = {
    "--name": "name", "--user": "user", "--workdir": "workdir", "--hostname": "hostname",
    "--mac-address": "mac_address", "--ip": "ip", "--ip6": "ip6",
    "--cpuset-cpus": "cpuset_cpus", "--cpuset-mems": "cpuset_mems",
    "--volume-driver": "volume_driver", "--log-driver": "log_driver",
    "--stop-signal": "stop_signal", "--pid": "pid_mode", "--ipc": "ipc_mode",
    "--uts": "uts_mode", "--userns": "userns_mode", "--cgroupns": "cgroupns_mode",
    "--memory": "memory", "--memory-reservation": "memory_reservation",
    "--kernel-memory": "kernel_memory", "--shm-size": "shm_size",
    "--memory-swap": "memory_swap", "--memory-swappiness": "memory_swappiness",
    "--cpu-shares": "cpu_shares", "--cpu-period": "cpu_period", "--cpu-quota": "cpu_quota",
    "--pids-limit": "pids_limit", "--oom-score-adj": "oom_score_adj", "--cpus": "nano_cpus",
    "--interactive": "interactive", "--tty": "tty", "--rm": "auto_remove",
    "--privileged": "privileged", "--read-only": "read_only_rootfs",
    "--publish-all": "publish_all", "--oom-kill-disable": "oom_kill_disable",
    "--detach": "detach", "--init": "init", "--env-file": "env_files",
    "--volumes-from": "volumes_from", "--dns": "dns", "--group-add": "group_add",
    "--device-cgroup-rule": "device_cgroup_rules", "--network-alias": "network_aliases",
    "--net-alias": "network_aliases", "--label": "labels", "--log-opt": "log_opts",
    "--storage-opt": "storage_opt", "--sysctl": "sysctls", "--env": "env",
    "--ulimit": "ulimits", "--volume": "mounts", "--mount": "mounts", "--tmpfs": "mounts",
    "--network": "network_mode", "--net": "network_mode", "--link": "links",
    "--publish": "ports", "--expose": "expose", "--add-host": "extra_hosts",
    "--cap-add": "cap_add", "--cap-drop": "cap_drop", "--security-opt": "security_opt",
    "--device": "devices", "--restart": "restart_policy", "--no-healthcheck": "healthcheck",
    "--health-cmd": "healthcheck", "--health-interval": "healthcheck",
    "--health-timeout": "healthcheck", "--health-start-period": "healthcheck",
    "--health-retries": "healthcheck", "--entrypoint": "entrypoint",
    "--device-read-bps": "blkio_throttles", "--device-write-bps": "blkio_throttles",
    "--device-read-iops": "blkio_throttles", "--device-write-iops": "blkio_throttles",
}

SYNTAX = {  # how to complete a command after its options
    "run": "alpine:3.19 true", "create": "alpine:3.19 true", "exec": "web sh",
    "network create": "net1", "volume create": "vol1", "network connect": "net1 web",
    "network disconnect": "net1 web",
}


def _flags() -> list[tuple[str, FlagSpec]]:
    out = []
    for sub in TABLE["commands"]:
        grammar = grammar_for("docker", tuple(sub.split()))
        assert grammar is not None
        out.extend((sub, spec) for spec in grammar.flags.values() if spec.name != "--help")
    return out


FLAGS = _flags()
VALUE_FLAGS = [(s, f) for s, f in FLAGS if f.takes_value]
BOOL_FLAGS = [(s, f) for s, f in FLAGS if not f.takes_value]


def _valid(spec: FlagSpec) -> str:
    return VALID_BY_NAME.get(spec.canonical, VALID_BY_KIND[spec.kind])


def _cmd(sub: str, options: str) -> str:
    return f"docker {sub} {options} {SYNTAX.get(sub, 'target1')}"


def _usage(cmd) -> list[str]:
    return [p.message for p in cmd.problems if p.rule_id in ("DA002", "DA003", "DA004")]


def test_table_covers_the_subcommands() -> None:
    assert {"run", "create", "update", "exec", "rm", "stop", "start", "ps", "network create",
            "network connect", "network disconnect", "volume create", "volume prune",
            "container prune", "system prune"} <= set(TABLE["commands"])
    run = grammar_for("docker", ("run",))
    assert run is not None and len(run.flags) == 107
    create = grammar_for("docker", ("create",))
    assert create is not None and len(create.flags) == 104


@pytest.mark.parametrize("sub,spec", VALUE_FLAGS, ids=[f"{s}:{f.name}" for s, f in VALUE_FLAGS])
def test_valid_value_is_read(sub: str, spec: FlagSpec) -> None:
    value = _valid(spec)
    forms = [f"{spec.name} '{value}'", f"{spec.name}='{value}'"]
    if spec.short:
        forms += [f"-{spec.short} '{value}'", f"-{spec.short}'{value}'",
                  f"-{spec.short}='{value}'"]
    for form in forms:
        cmd = parse(_cmd(sub, form))
        assert _usage(cmd) == [], form
        use = cmd.option(spec.canonical)
        assert use is not None and use.value_text == value, form
        assert cmd.subcommand == tuple(sub.split())
        if sub in ("run", "create"):
            assert [w.value for w in cmd.operands] == ["alpine:3.19", "true"]
            spec_ = spec_from_command(cmd)
            assert spec_ is not None
            if spec.name in FIELD:
                assert spec_.locations[FIELD[spec.name]] == use.loc


@pytest.mark.parametrize("sub,spec", [(s, f) for s, f in VALUE_FLAGS
                                      if f.kind in INVALID_BY_KIND and (s, f.name) not in UNCHECKED],
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_invalid_value_is_da003(sub: str, spec: FlagSpec) -> None:
    cmd = parse(_cmd(sub, f"{spec.name} '{INVALID_BY_KIND[spec.kind]}'"))
    problems = [p for p in cmd.problems if p.rule_id == "DA003"]
    assert len(problems) == 1
    assert spec.name.split("=")[0] in problems[0].message or (spec.short or "?") in \
        problems[0].message


@pytest.mark.parametrize("sub,spec", VALUE_FLAGS, ids=[f"{s}:{f.name}" for s, f in VALUE_FLAGS])
def test_missing_value_at_the_end_is_da003(sub: str, spec: FlagSpec) -> None:
    cmd = parse(f"docker {sub} {spec.name}")
    assert [p.rule_id for p in cmd.problems if p.rule_id != "DA007"] == ["DA003"]
    assert "needs a value" in cmd.problems[-1].message


@pytest.mark.parametrize("sub,spec", BOOL_FLAGS, ids=[f"{s}:{f.name}" for s, f in BOOL_FLAGS])
def test_bool_never_takes_the_next_word(sub: str, spec: FlagSpec) -> None:
    cmd = parse(f"docker {sub} {spec.name} false target1")
    assert cmd.option(spec.canonical) is not None
    assert [w.value for w in cmd.operands][:1] == ["false"]
    negated = parse(f"docker {sub} {spec.name}=false target1")
    use = negated.option(spec.canonical)
    assert use is not None and use.value_text == "false"
    assert [w.value for w in negated.operands][:1] == ["target1"]
    assert "DA003" in [p.rule_id for p in parse(f"docker {sub} {spec.name}=maybe x").problems]
    if spec.short:
        clustered = parse(f"docker {sub} -{spec.short}{spec.short} target1")
        assert len(clustered.all(spec.canonical)) == 2


@pytest.mark.parametrize("sub,spec", FLAGS, ids=[f"{s}:{f.name}" for s, f in FLAGS])
def test_unknown_in_another_subcommand(sub: str, spec: FlagSpec) -> None:
    """An option is DA002 exactly where the table does not list it (run vs create)."""
    for other in ("run", "create"):
        grammar = grammar_for("docker", (other,))
        assert grammar is not None
        value = f" '{_valid(spec)}'" if spec.takes_value else ""
        cmd = parse(f"docker {other} {spec.name}{value} alpine:3.19 true")
        unknown = [p for p in cmd.problems if p.rule_id == "DA002"]
        assert bool(unknown) == (spec.name not in grammar.flags)

