"""The engine as oracle: every command of reference/verified.md, read by the grammar.

verified.md records what a real Docker CLI and engine did with ~180 commands:
which were accepted, which were refused (and by whom), and what `docker
inspect` showed. Each refused command must give the usage problem named here
(or be listed as one the linter cannot judge without the engine); each
accepted one must give none of DA002-DA005; and the inspect excerpts must
match the ContainerSpec built from the command.

The reference lives outside the package; without it these tests skip.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from dockaudit.model import known
from dockaudit.spec import spec_from_command
from test_grammar_helpers import parse

REFERENCE = Path(os.environ.get("DOCKAUDIT_REFERENCE", "/work/shared/reference"))
VERIFIED = REFERENCE / "verified.md"

# Refused commands: the problem the grammar must report, or None with the
# reason the refusal cannot be seen in the command alone.
REFUSED: dict[str, str | None] = {
    "memswap-without-memory": "DA005",
    "memswap-lt-memory": "DA005",
    "mem-MB-is-binary": "DA003",  # reservation of 1000000 bytes is below 6 MB
    "mem-too-small": "DA003",
    "mem-bad-suffix": "DA003",
    "memory-reservation-gt-memory": "DA005",
    "cpus-plus-quota": "DA005",
    "cpus-plus-period": "DA005",
    "cpus-too-many": None,  # depends on the host's CPU count
    "cpus-too-precise": "DA003",
    "oom-score-out-of-range": "DA003",
    "swappiness-out-of-range": "DA003",
    "ulimit-bad": "DA003",
    "ulimit-bad-name": "DA003",
    "windows-only-cpu-count": None,  # depends on the daemon's OS
    "windows-only-io-maxiops": None,
    "p-invalid": "DA003",
    "p-comma": "DA003",
    "expose-bad": "DA003",
    "net-container-p": "DA005",
    "net-container-h": "DA005",
    "net-container-dns": "DA005",
    "net-container-mac": "DA005",
    "net-container-addhost": "DA005",
    "net-container-expose": "DA005",
    "net-container-P": "DA005",
    "net-host-link": "DA005",
    "net-host-alias": "DA005",
    "net-two-builtin": "DA005",
    "net-alias-default-bridge": "DA005",
    "mac-default-net": None,  # the API version the client negotiates
    "user-net-alias-ip-link": None,  # idem (--mac-address per network needs API 1.44)
    "link-missing": None,  # containers that exist on the engine
    "v-relative-nodot": "DA003",
    "v-too-many-parts": "DA003",
    "mount-bind-missing": None,  # the host's filesystem
    "mount-bind-recursive": "DA003",
    "dup-mountpoint-binds": "DA005",
    "dup-mountpoint-mount-v": "DA005",
    "volumes-from-missing": None,
    "storage-opt": None,  # the engine's storage driver
    "cap-bogus": "DA003",
    "cap-comma": "DA003",
    "seccomp-missing-file": None,
    "security-opt-bad": "DA003",
    "pid-invalid": "DA003",
    "uts-invalid": "DA003",
    "userns-keepid": "DA003",
    "env-file-bad": None,
    "env-file-missing": None,
    "restart-always-count": "DA003",
    "restart-bogus": "DA003",
    "rm-restart": "DA005",
    "no-healthcheck-conflict": "DA005",
    "health-start-interval": None,  # API version gate
    "health-interval-small": "DA003",
    "annotation": None,  # API version gate
    "log-opt-unknown": None,  # which keys a log driver takes is DA603's business
    "log-none-opts": "DA005",
    "stop-signal-bad": "DA003",
    "name-invalid": "DA003",
    "create-itd": "DA002",
    "attach-detach-conflict-run": "DA005",
    "bool-false-positional": None,  # "false" is a valid image name that does not exist
    "single-dash-long": "DA002",
    "no-command": None,  # the image's own config
    "unknown-flag": "DA002",
    "run-only-flag-on-create": "DA002",
    "global-after-subcommand": "DA002",
    "global-context-after": "DA002",
    "pull-never-missing": None,
    "disable-content-trust": None,  # a notary lookup failed; the flag itself is DA006
}
# Accepted at create, refused at start for a reason the command shows.
FAILS_AT_START = {"ip-default-bridge": "DA005", "sysctl-net-host": "DA005"}
# Problems that do not make a command fail (DA004: the flags become the command).
NOT_FATAL = {"DA004", "DA006", "DA007"}

_CASE = re.compile(r"### `([^`]+)`\n\n```\n\$ (.*?)\n```\nResult: exit (\d+)(.*?)(?=\n### |\n## |\Z)",
                   re.S)


def _cases() -> list[tuple[str, str, int, dict[str, Any]]]:
    if not VERIFIED.exists():
        return []
    out = []
    for m in _CASE.finditer(VERIFIED.read_text(encoding="utf-8")):
        name, command, rc, rest = m.groups()
        excerpt: dict[str, Any] = {}
        j = re.search(r"inspect excerpt:\n```json\n(.*?)\n```", rest, re.S)
        if j:
            excerpt = json.loads(j.group(1))
        out.append((name, command, int(rc), excerpt))
    return out


CASES = _cases()
needs_reference = pytest.mark.skipif(not CASES, reason=f"{VERIFIED} is not available")


@needs_reference
def test_every_refused_case_is_classified() -> None:
    refused = {name for name, _, rc, _ in CASES if rc != 0}
    assert refused - set(REFUSED) == set()
    assert len(CASES) > 150


@needs_reference
@pytest.mark.parametrize("name,command,rc,excerpt", CASES, ids=[c[0] for c in CASES])
def test_verdict_matches_the_engine(name: str, command: str, rc: int, excerpt: dict) -> None:
    cmd = parse(command)
    fatal = {p.rule_id for p in cmd.problems} - NOT_FATAL
    assert ("DA004" in {p.rule_id for p in cmd.problems}) == (name == "flags-after-image")
    if rc == 0:
        assert fatal == ({FAILS_AT_START[name]} if name in FAILS_AT_START else set()), \
            [p.message for p in cmd.problems]
    elif REFUSED[name] is None:
        assert fatal == set(), [p.message for p in cmd.problems]
    else:
        assert REFUSED[name] in fatal, [p.message for p in cmd.problems]


def _ports(spec: Any) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for p in spec.ports:
        out.setdefault(p.key, []).append({"HostIp": p.host_ip, "HostPort": p.host_port})
    return out


def _throttles(kind: str) -> Any:
    def of(spec: Any) -> Any:
        found = [{"Path": t.path, "Rate": t.rate} for t in spec.blkio_throttles if t.kind == kind]
        return found or None
    return of


# inspect field -> what the spec says it is (None: the field is not compared)
COMPARE: dict[str, Any] = {
    "HostConfig.Memory": lambda s: s.memory or 0,
    "HostConfig.MemorySwap": lambda s: s.memory_swap or 2 * (s.memory or 0),  # 2 x: not set
    "HostConfig.MemoryReservation": lambda s: s.memory_reservation or 0,
    "HostConfig.KernelMemory": lambda s: s.kernel_memory or 0,
    "HostConfig.NanoCpus": lambda s: s.nano_cpus or 0,
    "HostConfig.CpuPeriod": lambda s: s.cpu_period or 0,
    "HostConfig.CpuQuota": lambda s: s.cpu_quota or 0,
    "HostConfig.CpuShares": lambda s: s.cpu_shares or 0,
    "HostConfig.CpusetCpus": lambda s: s.cpuset_cpus or "",
    "HostConfig.CpusetMems": lambda s: s.cpuset_mems or "",
    "HostConfig.PidsLimit": lambda s: s.pids_limit,
    "HostConfig.OomKillDisable": lambda s: s.oom_kill_disable,
    "HostConfig.OomScoreAdj": lambda s: s.oom_score_adj or 0,
    "HostConfig.MemorySwappiness": lambda s: s.memory_swappiness,
    "HostConfig.ShmSize": lambda s: s.shm_size or 67108864,
    "HostConfig.PortBindings": _ports,
    "Config.ExposedPorts": lambda s: {k: {} for k in (*s.expose, *(p.key for p in s.ports))}
    or None,
    "HostConfig.PublishAllPorts": lambda s: s.publish_all,
    "HostConfig.CapAdd": lambda s: list(s.cap_add) or None,
    "HostConfig.CapDrop": lambda s: list(s.cap_drop) or None,
    "HostConfig.Privileged": lambda s: s.privileged,
    "HostConfig.AutoRemove": lambda s: s.auto_remove,
    "HostConfig.ReadonlyRootfs": lambda s: s.read_only_rootfs,
    "HostConfig.Init": lambda s: s.init,
    "Config.Tty": lambda s: s.tty,
    "Config.OpenStdin": lambda s: s.interactive,
    "Config.Cmd": lambda s: list(s.command) or None,
    "Config.User": lambda s: s.user or "",
    "Config.WorkingDir": lambda s: s.workdir or "",
    "Config.StopSignal": lambda s: s.stop_signal,
    "Config.Entrypoint": lambda s: list(s.entrypoint) if s.entrypoint else None,
    "HostConfig.RestartPolicy": lambda s: {
        "Name": s.restart_policy.name if s.restart_policy else "no",
        "MaximumRetryCount": s.restart_policy.max_retries if s.restart_policy else 0},
    "HostConfig.Ulimits": lambda s: [{"Name": u.name, "Hard": u.hard, "Soft": u.soft}
                                     for u in s.ulimits] or None,
    "HostConfig.Sysctls": lambda s: dict(s.sysctls) or None,
    "HostConfig.GroupAdd": lambda s: list(s.group_add) or None,
    "HostConfig.Dns": lambda s: list(s.dns),
    "HostConfig.ExtraHosts": lambda s: list(s.extra_hosts) or None,
    "HostConfig.DeviceCgroupRules": lambda s: list(s.device_cgroup_rules) or None,
    "HostConfig.VolumesFrom": lambda s: list(s.volumes_from) or None,
    "HostConfig.VolumeDriver": lambda s: s.volume_driver or "",
    "HostConfig.UsernsMode": lambda s: s.userns_mode or "",
    "HostConfig.UTSMode": lambda s: s.uts_mode or "",
    "HostConfig.Tmpfs": lambda s: {m.target: ",".join(m.options) for m in s.mounts
                                   if m.flag == "--tmpfs"} or None,
    "HostConfig.Binds": lambda s: [f"{m.source}:{m.target}" + (
        ":" + ",".join(m.options) if m.options else "") for m in s.mounts
        if m.flag == "--volume" and m.source is not None] or None,
    "Config.Volumes": lambda s: {m.target: {} for m in s.mounts
                                 if m.flag == "--volume" and m.source is None} or None,
    "HostConfig.Devices": lambda s: [{"PathOnHost": d.host_path,
                                      "PathInContainer": d.container_path,
                                      "CgroupPermissions": d.permissions}
                                     for d in s.devices] or None,
    "Config.Healthcheck": lambda s: None if s.healthcheck is None else {
        k: v for k, v in {
            "Test": list(s.healthcheck.test) if known(s.healthcheck.test) else None,
            "Interval": s.healthcheck.interval_ns, "Timeout": s.healthcheck.timeout_ns,
            "StartPeriod": s.healthcheck.start_period_ns, "Retries": s.healthcheck.retries,
        }.items() if v is not None},
    **{f"HostConfig.BlkioDevice{flag}": _throttles(kind)
       for flag, kind in (("ReadBps", "read-bps"), ("WriteBps", "write-bps"),
                          ("ReadIOps", "read-iops"), ("WriteIOps", "write-iops"))},
}
# Engine-side rewrites the static spec does not make (ids, inlined files, added defaults).
SKIP = {
    ("HostConfig.SecurityOpt", None), ("HostConfig.Dns", "baseline"),
    ("HostConfig.VolumesFrom", "volumes-from"),
    ("HostConfig.Binds", "v-relative-dot"),  # the client absolutises ./ against its own cwd
}


def _excerpt_cases() -> list[tuple[str, str, str, Any]]:
    out = []
    for name, command, rc, excerpt in CASES:
        if rc != 0:
            continue
        for key, expected in excerpt.items():
            if key in COMPARE and (key, name) not in SKIP:
                out.append((name, command, key, expected))
    return out


EXCERPTS = _excerpt_cases()


@needs_reference
@pytest.mark.parametrize("name,command,key,expected", EXCERPTS,
                         ids=[f"{c[0]}:{c[2]}" for c in EXCERPTS])
def test_spec_matches_inspect(name: str, command: str, key: str, expected: Any) -> None:
    spec = spec_from_command(parse(command))
    assert spec is not None
    if key == "HostConfig.Memory" and name == "baseline":
        assert spec.memory is None
    if key in ("Config.Healthcheck",) and expected.get("Test") is None:
        expected = {k: v for k, v in expected.items() if k != "Test"}
    if key == "HostConfig.Ulimits":
        expected = sorted(expected, key=lambda u: u["Name"])
    if key == "HostConfig.BlkioWeightDevice":
        return
    assert COMPARE[key](spec) == expected
