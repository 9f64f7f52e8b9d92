"""The `ContainerSpec` a ``docker run``/``create`` command would make.

`spec_from_command` takes a `DockerCommand` read by the grammar and fills the
model in the engine's own terms with the value parsers of `dockaudit.values`
(bytes, nano-CPUs, ``80/tcp``), each field with the location it was written
at, and `UNKNOWN` where a value depends on the environment.
"""

from __future__ import annotations

from typing import Any

from dockaudit.grammar import option_values
from dockaudit.model import (
    UNKNOWN,
    ContainerSpec,
    DeviceMapping,
    DockerCommand,
    EnvVar,
    Healthcheck,
    Link,
    Location,
    Mount,
    OptionUse,
    Origin,
    PortBinding,
    RestartPolicy,
    Source,
    ThrottleDevice,
    Ulimit,
    known,
)
from dockaudit.values import (
    THROTTLE_KINDS,
    Template,
    go_clean_path,
    network_endpoint_ips,
    normalize_capability,
    parse_add_host,
    parse_bytes,
    parse_device,
    parse_duration,
    parse_env,
    parse_expose,
    parse_go_bool,
    parse_image_ref,
    parse_int,
    parse_key_value,
    parse_link,
    parse_memory_swap,
    parse_mount_csv,
    parse_nano_cpus,
    parse_network,
    parse_port_spec,
    parse_restart_policy,
    parse_security_opt,
    parse_throttle_device,
    parse_tmpfs,
    parse_ulimit,
    parse_volume_spec,
    part,
    value_template,
)

_STRINGS = {
    "--name": "name", "--user": "user", "--workdir": "workdir", "--hostname": "hostname",
    "--mac-address": "mac_address", "--ip": "ip", "--ip6": "ip6", "--cpuset-cpus": "cpuset_cpus",
    "--cpuset-mems": "cpuset_mems", "--volume-driver": "volume_driver",
    "--log-driver": "log_driver", "--stop-signal": "stop_signal", "--pid": "pid_mode",
    "--ipc": "ipc_mode", "--uts": "uts_mode", "--userns": "userns_mode",
    "--cgroupns": "cgroupns_mode",
}
_BYTES = {"--memory": "memory", "--memory-reservation": "memory_reservation",
          "--kernel-memory": "kernel_memory", "--shm-size": "shm_size"}
_INTS = {"--memory-swappiness": "memory_swappiness", "--cpu-shares": "cpu_shares",
         "--cpu-period": "cpu_period", "--cpu-quota": "cpu_quota", "--pids-limit": "pids_limit",
         "--oom-score-adj": "oom_score_adj"}
_BOOLS = {"--interactive": "interactive", "--tty": "tty", "--rm": "auto_remove",
          "--privileged": "privileged", "--read-only": "read_only_rootfs",
          "--publish-all": "publish_all", "--oom-kill-disable": "oom_kill_disable",
          "--detach": "detach"}
_STRING_LISTS = {"--env-file": "env_files", "--volumes-from": "volumes_from", "--dns": "dns",
                 "--group-add": "group_add", "--device-cgroup-rule": "device_cgroup_rules",
                 "--network-alias": "network_aliases"}
_MAPS = {"--label": "labels", "--log-opt": "log_opts", "--storage-opt": "storage_opt",
         "--sysctl": "sysctls"}
_HEALTH = {"--health-interval": "interval_ns", "--health-timeout": "timeout_ns",
           "--health-start-period": "start_period_ns"}


def item_loc(use: OptionUse) -> Location:
    """Where one list item is written: its value word (the flag word for ``-v/x:/y``)."""
    return use.value.loc if use.value is not None else use.loc


class _SpecBuilder:
    """Collects ContainerSpec fields and their locations from a command's options."""

    def __init__(self, cmd: DockerCommand) -> None:
        self.cmd = cmd
        self.fields: dict[str, Any] = {}
        self.locations: dict[str, Location] = {}
        self.incomplete = cmd.incomplete
        self.given = frozenset(use.name for use in cmd.options)  # most fields are never set

    def set(self, field: str, value: Any, loc: Location | None) -> None:
        self.fields[field] = value
        if loc is not None:
            self.locations[field] = loc

    def append(self, field: str, items: tuple | list, use: OptionUse) -> None:
        """Add list items set by *use*; each item's location is its value word."""
        current = list(self.fields.get(field, ()))
        for item in items:
            self.locations[f"{field}[{len(current)}]"] = item_loc(use)
            current.append(item)
        self.fields[field] = tuple(current)
        self.locations[field] = use.loc

    def values(self, name: str) -> list[tuple[OptionUse, Template]]:
        if name not in self.given:
            return []
        return option_values(self.cmd, name)

    def scalar(self, name: str, parse: Any) -> tuple[OptionUse, Any] | None:
        """The last value of *name*, parsed; UNKNOWN when unknown or invalid."""
        values = self.values(name)
        if not values:
            return None
        use, template = values[-1]
        if not template.known:
            return use, UNKNOWN
        try:
            return use, parse(template.text)
        except ValueError:
            return use, UNKNOWN

    def flag(self, name: str) -> tuple[OptionUse, bool] | None:
        """A bool option: its last use and value; an unknown value makes the spec incomplete."""
        use = self.cmd.option(name)
        if use is None:
            return None
        if use.value_text is None:
            return use, True
        if not known(use.value_text):
            self.incomplete = True
            return use, False
        try:
            return use, parse_go_bool(use.value_text)
        except ValueError:
            self.incomplete = True
            return use, False

    def item(self, template: Template, parse: Any, fallback: Any) -> Any:
        """A composite value parsed from its template; *fallback* when that cannot be done."""
        try:
            return parse(template.text)
        except ValueError:
            return fallback


def _int_or_unknown(text: str) -> int:
    return parse_int(text, 64)


def spec_from_command(cmd: DockerCommand) -> ContainerSpec | None:
    """The container a ``run``/``create`` command would make; None for other subcommands."""
    if cmd.subcommand not in (("run",), ("create",)):
        return None
    b = _SpecBuilder(cmd)
    _identity(b)
    _resources(b)
    _storage(b)
    _network(b)
    _security(b)
    _lifecycle(b)
    inv = cmd.invocation
    return ContainerSpec(
        origin=Origin(Source.STATIC, inv.loc, tool=inv.program),
        subcommand=cmd.subcommand[0],
        incomplete=b.incomplete,
        locations=b.locations,
        **b.fields,
    )


def _identity(b: _SpecBuilder) -> None:
    cmd = b.cmd
    if cmd.operands:
        image = cmd.operands[0]
        ref: Any = UNKNOWN
        if image.is_known:
            ref = parse_image_ref(image.value) or UNKNOWN
        b.set("image", ref, image.loc)
        words = cmd.operands[1:]
        if words:
            b.set("command", tuple(w.value for w in words), Location(
                words[0].loc.path, words[0].loc.line, words[0].loc.column,
                words[-1].loc.end_line, words[-1].loc.end_column))
    entry = b.scalar("--entrypoint", lambda t: (t,) if t else ())
    if entry is not None:
        b.set("entrypoint", entry[1], entry[0].loc)
    for name, field in _BOOLS.items():
        got = b.flag(name)
        if got is not None:
            b.set(field, got[1], got[0].loc)
    init = b.flag("--init")
    if init is not None:
        b.set("init", init[1], init[0].loc)
    for name, field in _STRINGS.items():
        got = b.scalar(name, lambda t: t)
        if got is not None:
            value = got[1]
            if value == "":
                value = None  # the CLI sends an empty value as "not set"
            elif field == "workdir" and known(value) and value.startswith("/"):
                value = go_clean_path(value)  # the engine cleans the path at create
            b.set(field, value, got[0].loc)
    for use, template in b.values("--env"):
        iloc = item_loc(use)
        b.append("env", [b.item(template, lambda t, loc=iloc: parse_env(t, loc),
                                EnvVar(UNKNOWN, UNKNOWN, iloc))], use)
    for name, field in _STRING_LISTS.items():
        for use, template in b.values(name):
            b.append(field, [part(template.text)], use)
    for name, field in _MAPS.items():
        mapping: dict[Any, Any] = dict(b.fields.get(field, {}))
        for use, template in b.values(name):
            if name == "--label" and "=" not in template.text and template.known:
                key, value = template.text, ""
            else:
                key, value = b.item(template, parse_key_value, (UNKNOWN, UNKNOWN))
            if not known(key):
                b.incomplete = True  # an unknown key may be any setting
            mapping[key] = value
            b.set(field, mapping, use.loc)


def _resources(b: _SpecBuilder) -> None:
    for name, field in _BYTES.items():
        got = b.scalar(name, parse_bytes)
        if got is not None:
            b.set(field, got[1], got[0].loc)
    swap = b.scalar("--memory-swap", parse_memory_swap)
    if swap is not None:  # without it the engine stores 2 x memory: "not set", as inspect reads it
        b.set("memory_swap", swap[1], swap[0].loc)
    for name, field in _INTS.items():
        got = b.scalar(name, _int_or_unknown)
        if got is not None:
            value = got[1]
            if field == "pids_limit" and known(value) and value <= 0:
                value = None  # the engine stores 0 and -1 as "unlimited" (null)
            if field == "memory_swappiness" and value == -1:
                value = None
            b.set(field, value, got[0].loc)
    cpus = b.scalar("--cpus", parse_nano_cpus)
    if cpus is not None:
        b.set("nano_cpus", cpus[1], cpus[0].loc)
    ulimits: dict[Any, Ulimit] = {}
    for use, template in b.values("--ulimit"):
        limit = b.item(template, parse_ulimit, Ulimit(UNKNOWN, UNKNOWN, UNKNOWN))
        ulimits[limit.name if known(limit.name) else id(use)] = limit
        b.locations["ulimits"] = use.loc
    if ulimits:
        b.fields["ulimits"] = tuple(sorted(ulimits.values(),
                                           key=lambda u: u.name if known(u.name) else ""))
    for name, kind in THROTTLE_KINDS.items():
        for use, template in b.values(name):
            iloc = item_loc(use)
            b.append("blkio_throttles", [b.item(
                template, lambda t, k=kind, loc=iloc: parse_throttle_device(t, k, loc),
                ThrottleDevice(kind, UNKNOWN, UNKNOWN, iloc))], use)


def _storage(b: _SpecBuilder) -> None:
    driver = b.fields.get("volume_driver")
    found: list[tuple[Mount, OptionUse]] = []
    for use in b.cmd.options:
        if use.name not in ("--volume", "--mount", "--tmpfs"):
            continue
        template = value_template(use)
        if template is None:
            continue
        loc = item_loc(use)
        local = driver in (None, "local")
        if use.name == "--volume":
            mount = b.item(template, lambda t, loc=loc, tpl=template, local=local: parse_volume_spec(
                t, loc, template=tpl, local_driver=local),
                Mount(UNKNOWN, UNKNOWN, UNKNOWN, loc=loc))
        elif use.name == "--mount":
            mount = b.item(template, lambda t, loc=loc: parse_mount_csv(t, loc),
                           Mount(UNKNOWN, UNKNOWN, UNKNOWN, flag="--mount", loc=loc))
        else:
            mount = b.item(template, lambda t, loc=loc: parse_tmpfs(t, loc),
                           Mount("tmpfs", UNKNOWN, None, flag="--tmpfs", loc=loc))
        found.append((mount, use))
    # an anonymous -v on a path another mount takes is overridden by it (the engine keeps one)
    taken = {m.target for m, _ in found if not (m.anonymous and m.flag == "--volume")}
    for mount, use in found:
        if mount.anonymous and mount.flag == "--volume" and known(mount.target) and \
                mount.target in taken:
            continue
        b.append("mounts", [mount], use)


def _network(b: _SpecBuilder) -> None:
    aliases: list[Any] = []
    endpoint_ips: dict[str, Any] = {}
    for use, template in b.values("--network"):
        name, csv_aliases = b.item(template, parse_network, (UNKNOWN, ()))
        if "network_mode" not in b.fields:
            b.set("network_mode", name, use.loc)
            endpoint_ips = b.item(template, network_endpoint_ips, {})
        b.append("networks", [name], use)
        aliases.extend(csv_aliases)
    if aliases:
        b.fields["network_aliases"] = tuple(aliases) + tuple(b.fields.get("network_aliases", ()))
    for key, value in endpoint_ips.items():  # --ip/--ip6 win over the CSV form, as in the CLI
        if key not in b.fields:
            b.set(key, value, b.locations.get("network_mode"))
    for use, template in b.values("--link"):
        iloc = item_loc(use)
        b.append("links", [b.item(template, lambda t, loc=iloc: parse_link(t, loc),
                                  Link(UNKNOWN, UNKNOWN, iloc))], use)
    expose: list[str] = []
    published: set[str] = set()
    for use, template in b.values("--publish"):
        iloc = item_loc(use)
        bindings = b.item(template, lambda t, loc=iloc: parse_port_spec(t, loc),
                          (PortBinding(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, iloc),))
        b.append("ports", bindings, use)
        published.update(p.key for p in bindings if known(p.container_port) and known(p.protocol))
    for use, template in b.values("--expose"):
        if template.known:
            try:
                expose.extend(parse_expose(template.text))
            except ValueError:
                pass
        b.locations["expose"] = use.loc
    # the engine exposes published ports too; like the inspect reader, expose lists the others
    expose = [key for key in dict.fromkeys(expose) if key not in published]
    if expose:
        b.fields["expose"] = tuple(expose)
    for use, template in b.values("--add-host"):
        b.append("extra_hosts", [b.item(template, lambda t: part(parse_add_host(t)), UNKNOWN)],
                 use)


def _security(b: _SpecBuilder) -> None:
    for name, field in (("--cap-add", "cap_add"), ("--cap-drop", "cap_drop")):
        for use, template in b.values(name):
            value = normalize_capability(template.text) if template.known else UNKNOWN
            b.append(field, [value], use)
    for use, template in b.values("--security-opt"):
        value: Any = UNKNOWN
        if template.known:
            try:
                value = parse_security_opt(template.text)
                if template.text == "no-new-privileges" or "=" in template.text:
                    value = template.text  # stored as given
            except ValueError:
                value = template.text
        b.append("security_opt", [value], use)
    for use, template in b.values("--device"):
        iloc = item_loc(use)
        b.append("devices", [b.item(template, lambda t, loc=iloc: parse_device(t, loc),
                                    DeviceMapping(UNKNOWN, UNKNOWN, UNKNOWN, iloc))], use)


def _lifecycle(b: _SpecBuilder) -> None:
    restart = b.scalar("--restart", parse_restart_policy)
    if restart is not None:
        policy = restart[1] if known(restart[1]) else RestartPolicy(UNKNOWN, UNKNOWN)
        b.set("restart_policy", policy, restart[0].loc)
    disabled = b.flag("--no-healthcheck")
    if disabled is not None and disabled[1]:
        b.set("healthcheck", Healthcheck(("NONE",)), disabled[0].loc)
        return
    health: dict[str, Any] = {}
    loc: Location | None = None
    command = b.scalar("--health-cmd", lambda t: ("CMD-SHELL", t))
    if command is not None:
        health["test"], loc = command[1], command[0].loc
    for name, field in _HEALTH.items():
        got = b.scalar(name, parse_duration)
        if got is not None:
            health[field] = got[1]
            loc = loc or got[0].loc
    retries = b.scalar("--health-retries", _int_or_unknown)
    if retries is not None:
        health["retries"] = retries[1]
        loc = loc or retries[0].loc
    if health:
        health.setdefault("test", UNKNOWN)  # the image's own test, not visible here
        b.set("healthcheck", Healthcheck(**health), loc)
