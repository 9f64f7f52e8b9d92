"""DA5xx: privileges and isolation — privileged mode, capabilities, namespaces, LSMs, users, devices."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from dockaudit.model import ContainerSpec, DockerCommand, Location, Severity, Source, known
from dockaudit.rulebase import BOTH, STATIC, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import for_subject, option

THEME = "privileges"


def normalize_capability(name: str) -> str:
    """``net_admin``, ``CAP_NET_ADMIN`` → ``CAP_NET_ADMIN``; ``all`` → ``ALL``."""
    upper = name.strip().upper()
    if upper == "ALL":
        return "ALL"
    return upper if upper.startswith("CAP_") else f"CAP_{upper}"


def security_options(spec: ContainerSpec) -> tuple[tuple[str, str], ...] | None:
    """``--security-opt`` values as (key, value) pairs; ``:`` and ``=`` both separate.

    None when one of them is unknown: rules about a *missing* option must stay silent.
    """
    pairs: list[tuple[str, str]] = []
    for item in spec.security_opt:
        if not known(item):
            return None
        key, _, value = _split_opt(item)
        pairs.append((key.strip().lower(), value.strip()))
    return tuple(pairs)


def _split_opt(item: str) -> tuple[str, str, str]:
    match = re.search(r"[=:]", item)
    if match is None:
        return item, "", ""
    return item[: match.start()], match.group(), item[match.end():]


def has_no_new_privileges(spec: ContainerSpec) -> bool | None:
    """Whether ``no-new-privileges`` is set (``:true``/``=true`` forms too); None if unknowable."""
    pairs = security_options(spec)
    if pairs is None:
        return None
    return any(key == "no-new-privileges" and value.lower() in ("", "true", "1") for key, value in pairs)


def _host_mode(value: Any) -> bool:
    return known(value) and isinstance(value, str) and value.lower() == "host"


def by_design(spec: ContainerSpec, ctx: RuleContext) -> bool:
    """Under the default profile, privileges the container needs by what it is.

    In a developer's own set-up, a container that joins the host's process or
    network namespace is a host tool (a firewall, a monitor, a packet capture);
    in tests and CI, the image under test (named by a variable, as harnesses
    do: `docker run --privileged "$image"`) gets what that image is built to
    need, a Docker-in-Docker or binfmt image its privileges.
    """
    if ctx.broad:
        return False
    if ctx.purpose == "ci-test" and spec.image_origin == "variable":
        return True
    return host_tool(spec, ctx)


def host_tool(spec: ContainerSpec, ctx: RuleContext) -> bool:
    """Under the default profile, in a developer's own set-up: a container that joins the
    host's process or network namespace is a host tool (a firewall, a monitor, a packet
    capture) that needs its privileges by design; its owner runs it on purpose."""
    return (not ctx.broad and ctx.purpose == "dev"
            and (_host_mode(spec.pid_mode) or _host_mode(spec.network_mode)))


class Privileged(Rule):
    """The container runs privileged.

    `--privileged` gives the container every capability, every host device
    and lifts the seccomp, AppArmor and SELinux confinement: root in such a
    container is root on the host (mounting the host disk is one command).

    **Anti-pattern**
    ```bash
    docker run -d --privileged --name agent myorg/agent:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --cap-add NET_ADMIN --name agent myorg/agent:3.2
    ```
    """

    id = "DA501"
    name = "privileged"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.5"
    references = ("CIS Docker Benchmark 5.5",)
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.privileged is True and not by_design(spec, ctx):
            yield Violation(
                "--privileged gives the container every capability and all host devices, "
                "with no seccomp or AppArmor confinement",
                spec.where("privileged"),
                "remove --privileged; grant only what is needed with --cap-add or --device",
            )


DANGEROUS_CAPABILITIES = (
    "ALL",
    "CAP_SYS_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_PTRACE",
    "CAP_SYS_BOOT",
    "CAP_SYS_TIME",
    "CAP_DAC_READ_SEARCH",
    "CAP_NET_ADMIN",
    "CAP_BPF",
    "CAP_PERFMON",
    "CAP_MAC_ADMIN",
    "CAP_MAC_OVERRIDE",
    "CAP_SYSLOG",
    "CAP_LINUX_IMMUTABLE",
)


# Capabilities over a network namespace: on the container's own namespace (any
# network mode but host) they reach no further than the container.
_NETWORK_CAPABILITIES = frozenset({"CAP_NET_ADMIN", "CAP_NET_RAW"})


class DangerousCapability(Rule):
    """The container is granted a capability that reaches beyond it.

    Capabilities such as `SYS_ADMIN` (mount, namespaces, much of what root can
    do), `SYS_MODULE` (load kernel modules), `SYS_PTRACE`, `DAC_READ_SEARCH`
    (the "shocker" escape) or `NET_ADMIN` break the isolation that makes a
    container a container. `ALL` is `--privileged` without the devices.

    **Anti-pattern**
    ```bash
    docker run -d --cap-add SYS_ADMIN --name fuse myorg/fuse-mounter:1.4
    ```

    **Best practice**
    ```bash
    docker run -d --cap-drop ALL --cap-add NET_BIND_SERVICE --name web myorg/web:2.0
    ```
    """

    id = "DA502"
    name = "dangerous-capability"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.4"
    references = ("CIS Docker Benchmark 5.4",)
    theme = THEME
    options: ClassVar[Mapping[str, Option]] = {
        "capabilities": Option(
            list(DANGEROUS_CAPABILITIES),
            list,
            "capabilities that must not be added (any case, with or without CAP_)",
            item_type=str,
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if not ctx.broad and (spec.privileged is True or by_design(spec, ctx)):
            return  # --privileged already grants every capability: one decision, DA501
        dangerous = {normalize_capability(c) for c in option(self, ctx, "capabilities")}
        own_network = known(spec.network_mode) and not _host_mode(spec.network_mode)
        for cap in spec.cap_add:
            if not known(cap):
                continue
            normalized = normalize_capability(cap)
            if normalized not in dangerous:
                continue
            if normalized in _NETWORK_CAPABILITIES and own_network and not ctx.broad:
                continue  # it administers the container's own network namespace only
            shown = "ALL" if normalized == "ALL" else normalized.removeprefix("CAP_")
            what = "every capability" if normalized == "ALL" else f"{normalized}"
            yield Violation(
                f"--cap-add {shown} grants {what}, which lets the container reach the host",
                spec.where("cap_add"),
                "drop it, or replace it with the narrow capability the program really needs",
            )


class CapabilitiesNotDropped(Rule):
    """The container keeps Docker's default capabilities.

    Docker grants a default set (`CHOWN`, `DAC_OVERRIDE`, `NET_RAW`, `SETUID`,
    …) that most programs never use. `--cap-drop ALL` and adding back only
    what is needed leaves an attacker less to work with.

    **Anti-pattern**
    ```bash
    docker run -d --name api myorg/api:1.8
    ```

    **Best practice**
    ```bash
    docker run -d --cap-drop ALL --cap-add NET_BIND_SERVICE --name api myorg/api:1.8
    ```
    """

    id = "DA503"
    name = "capabilities-not-dropped"
    severity = Severity.INFO
    sources = BOTH
    theme = THEME
    service_only = True
    enabled_by_default = False

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.incomplete or spec.privileged is True:
            return
        if any(not known(cap) for cap in spec.cap_drop):
            return
        if any(normalize_capability(cap) == "ALL" for cap in spec.cap_drop):
            return
        yield Violation(
            "the default capabilities are not dropped (no --cap-drop ALL)",
            None,
            "add --cap-drop ALL and --cap-add only the capabilities the program needs",
        )


class _HostNamespaceRule(Rule):
    """Shared check: a namespace mode field set to ``host``."""

    fields: ClassVar[tuple[tuple[str, str], ...]] = ()  # (spec field, flag)
    consequence: ClassVar[str] = ""

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if by_design(spec, ctx):
            return
        for field_name, flag in self.fields:
            if _host_mode(getattr(spec, field_name)):
                yield Violation(
                    f"{flag} host {self.consequence_for(flag)}",
                    spec.where(field_name),
                    f"remove {flag} host",
                )

    def consequence_for(self, flag: str) -> str:
        return self.consequence


class HostPid(_HostNamespaceRule):
    """The container shares the host's process namespace.

    With `--pid host` the container sees every process of the host and, as
    root, can signal or trace them, or read their environment and memory
    through `/proc`.

    **Anti-pattern**
    ```bash
    docker run -d --pid host --name monitor myorg/monitor:1.0
    ```

    **Best practice**
    ```bash
    docker run -d --name monitor myorg/monitor:1.0
    ```
    """

    id = "DA504"
    name = "host-pid"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.16"
    references = ("CIS Docker Benchmark 5.16",)
    theme = THEME
    fields = (("pid_mode", "--pid"),)
    consequence = "shares the host's process namespace: every host process is visible and reachable"


class HostIpc(_HostNamespaceRule):
    """The container shares the host's IPC namespace.

    With `--ipc host` the container can read and write the host's shared
    memory segments, semaphores and message queues, including those of other
    processes' databases and caches.

    **Anti-pattern**
    ```bash
    docker run -d --ipc host --name cache myorg/cache:2.2
    ```

    **Best practice**
    ```bash
    docker run -d --ipc private --name cache myorg/cache:2.2
    ```
    """

    id = "DA505"
    name = "host-ipc"
    severity = Severity.WARNING
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.17"
    references = ("CIS Docker Benchmark 5.17",)
    theme = THEME
    fields = (("ipc_mode", "--ipc"),)
    consequence = "shares the host's shared memory, semaphores and message queues"


class HostNamespace(_HostNamespaceRule):
    """The container shares the host's UTS, user or cgroup namespace.

    `--uts host` lets the container change the host's hostname;
    `--userns host` turns off user-namespace remapping for it, so its root is
    the host's root; `--cgroupns host` shows it the host's cgroup tree.

    **Anti-pattern**
    ```bash
    docker run -d --uts host --name agent myorg/agent:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --hostname agent --name agent myorg/agent:3.2
    ```
    """

    id = "DA506"
    name = "host-namespace"
    severity = Severity.INFO
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.21"
    references = ("CIS Docker Benchmark 5.21", "CIS Docker Benchmark 5.31")
    theme = THEME
    fields = (("uts_mode", "--uts"), ("userns_mode", "--userns"), ("cgroupns_mode", "--cgroupns"))
    _consequences: ClassVar[Mapping[str, str]] = {
        "--uts": "shares the host's hostname and domain name: the container can change them",
        "--userns": "disables user-namespace remapping: root in the container is root on the host",
        "--cgroupns": "shows the container the host's whole cgroup hierarchy",
    }

    def consequence_for(self, flag: str) -> str:
        return self._consequences[flag]


def _security_opt_hits(spec: ContainerSpec, wanted: Mapping[tuple[str, str], str]
                       ) -> list[tuple[str, Location | None]]:
    """The ``--security-opt`` values in *wanted*, each with the location of its own word."""
    found: list[tuple[str, Location | None]] = []
    for index, item in enumerate(spec.security_opt):
        if not known(item):
            continue
        key, _, value = _split_opt(item)
        if (key.strip().lower(), value.strip().lower()) in wanted:
            found.append((item, spec.where(f"security_opt[{index}]")))
    return found


class SeccompDisabled(Rule):
    """The container runs without a seccomp profile.

    Docker's default seccomp profile blocks some 50 system calls that
    containers have no business making (`kexec_load`, `open_by_handle_at`,
    `bpf`, `keyctl`, …); several container escapes needed one of them.

    **Anti-pattern**
    ```bash
    docker run -d --security-opt seccomp=unconfined --name app myorg/app:1.0
    ```

    **Best practice**
    ```bash
    docker run -d --security-opt seccomp=/etc/docker/seccomp/app.json --name app myorg/app:1.0
    ```
    """

    id = "DA507"
    name = "seccomp-disabled"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.22"
    references = ("CIS Docker Benchmark 5.22",)
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if by_design(spec, ctx):
            return
        for item, where in _security_opt_hits(spec, {("seccomp", "unconfined"): ""}):
            yield Violation(
                f"--security-opt {item} turns off the seccomp filter: every system call is allowed",
                where,
                "keep the default profile, or pass a custom one that allows only the extra calls needed",
            )


class MacDisabled(Rule):
    """The container runs without AppArmor/SELinux confinement or with unmasked /proc paths.

    `apparmor=unconfined` and `label=disable` turn off the mandatory access
    control that still stands between a compromised container and the host
    when everything else fails; `systempaths=unconfined` unmasks `/proc/kcore`,
    `/proc/sysrq-trigger` and their kind.

    **Anti-pattern**
    ```bash
    docker run -d --security-opt apparmor=unconfined --name app myorg/app:1.0
    ```

    **Best practice**
    ```bash
    docker run -d --security-opt apparmor=docker-default --name app myorg/app:1.0
    ```
    """

    id = "DA508"
    name = "mac-disabled"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.2"
    references = ("CIS Docker Benchmark 5.2", "CIS Docker Benchmark 5.3")
    theme = THEME
    _what: ClassVar[Mapping[tuple[str, str], str]] = {
        ("apparmor", "unconfined"): "turns off AppArmor confinement",
        ("label", "disable"): "turns off SELinux labelling",
        ("systempaths", "unconfined"): "unmasks /proc and /sys paths such as /proc/kcore",
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if by_design(spec, ctx):
            return
        for item, where in _security_opt_hits(spec, self._what):
            key, _, value = _split_opt(item)
            yield Violation(
                f"--security-opt {item} {self._what[(key.strip().lower(), value.strip().lower())]}",
                where,
                f"remove --security-opt {item}; write a profile that allows what the program needs",
            )


class NoNewPrivileges(Rule):
    """Processes in the container may gain privileges through setuid binaries.

    Without `--security-opt no-new-privileges`, a setuid-root binary in the
    image (`su`, `passwd`, `ping` on old images) lets a process become root
    inside the container. The daemon option `--no-new-privileges` sets it for
    every container.

    **Anti-pattern**
    ```bash
    docker run -d --restart unless-stopped --name web nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped --security-opt no-new-privileges --name web nginx:1.25
    ```
    """

    id = "DA509"
    name = "no-new-privileges"
    severity = Severity.INFO
    purposes = frozenset({"deploy", "doc"})
    sources = BOTH
    cis = "5.26"
    references = ("CIS Docker Benchmark 5.26",)
    theme = THEME
    service_only = True

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.incomplete:
            return
        if spec.origin.source is Source.LIVE and ctx.host is not None and ctx.host.no_new_privileges:
            return
        if has_no_new_privileges(spec) is not False:
            return
        yield Violation(
            for_subject(spec, "no --security-opt no-new-privileges: setuid binaries can raise privileges in the "
                              "container",
                        "no no-new-privileges: setuid binaries can raise privileges in the service's tasks"),
            None,
            for_subject(spec, "add --security-opt no-new-privileges (or set no-new-privileges in the daemon "
                              "configuration)",
                        "docker service create has no --security-opt: set \"no-new-privileges\": true in "
                        "daemon.json on every node"),
        )


ROOT_NAMES = frozenset({"0", "root"})


def _user_part(user: str) -> str:
    return user.split(":", 1)[0].strip()


class RootUser(Rule):
    """The container runs as root.

    A process running as root in the container is root on the host's kernel;
    one escape or one writable host mount and it owns the host. Run as an
    unprivileged user (`-u 1000:1000`, or a `USER` in the image).

    **Anti-pattern**
    ```bash
    docker run -d -u root --name app myorg/app:1.0
    ```

    **Best practice**
    ```bash
    docker run -d -u 1000:1000 --name app myorg/app:1.0
    ```
    """

    id = "DA510"
    name = "root-user"
    severity = Severity.WARNING
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "4.1"
    references = ("CIS Docker Benchmark 4.1",)
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        user = spec.user
        if not known(user) or (spec.is_task and not ctx.broad):
            return  # a one-off run as root (a chown of a volume) is chosen, and ends
        if user not in (None, ""):
            if _user_part(user).lower() in ROOT_NAMES:
                yield Violation(
                    for_subject(spec, f"-u {user} runs the container as root",
                                f"--user {user} runs the service's tasks as root"),
                    spec.where("user"),
                    for_subject(spec, "run as an unprivileged user, e.g. -u 1000:1000",
                                "run as an unprivileged user, e.g. --user 1000:1000"),
                )
            return
        if spec.origin.source is not Source.LIVE or spec.runtime is None:
            return  # statically, the image's USER is not known
        effective = spec.runtime.effective_user
        if effective is None:
            return
        if effective == "" or _user_part(effective).lower() in ROOT_NAMES:
            shown = effective or "the image default, root"
            yield Violation(
                for_subject(spec, f"the container runs as root ({shown}): neither it nor its image sets a user",
                            f"the service's tasks run as root ({shown}): neither it nor its image sets a user"),
                None,
                for_subject(spec, "set USER in the image or run with -u <uid>:<gid>",
                            "set USER in the image or create the service with --user <uid>:<gid>"),
            )


BLOCK_DEVICE = re.compile(
    r"^/dev/(?:sd[a-z]+\d*|hd[a-z]+\d*|vd[a-z]+\d*|xvd[a-z]+\d*|nvme\d+(?:n\d+(?:p\d+)?)?"
    r"|mmcblk\d+(?:p\d+)?|dm-\d+|loop\d+|md\d+|mapper/.+|disk/.+)$"
)
KERNEL_DEVICES = frozenset({"/dev/mem", "/dev/kmem", "/dev/kmsg", "/dev/port", "/dev"})


def device_is_critical(path: str) -> bool:
    """Block devices and kernel memory/log devices: full host compromise or data access."""
    path = path.rstrip("/") or "/"
    return path in KERNEL_DEVICES or BLOCK_DEVICE.match(path) is not None


_CGROUP_RULE = re.compile(r"^\s*([abc])\s+(\*|\d+):(\*|\d+)\s*([rwm]*)\s*$")


def permissive_cgroup_rule(rule: str) -> Severity | None:
    """The severity of a device cgroup rule that allows whole device classes, else None."""
    match = _CGROUP_RULE.match(rule)
    if match is None:
        stripped = rule.strip()
        return Severity.ERROR if stripped.startswith("a") else None
    kind, major, minor, _perms = match.groups()
    if kind == "a":
        return Severity.ERROR
    if kind == "b" and (major == "*" or minor == "*"):
        return Severity.ERROR
    if major == "*":
        return Severity.WARNING
    return None


class HostDevice(Rule):
    """A host device is passed into the container.

    `--device` gives the container direct access to host hardware. A block
    device (`/dev/sda`, `/dev/nvme0n1`) means raw access to the host's disks
    and every file on them; `/dev/mem` and `/dev/kmsg` expose kernel memory
    and the kernel log. Wildcard `--device-cgroup-rule`s allow whole device
    classes to be created with `mknod`.

    **Anti-pattern**
    ```bash
    docker run -d --device /dev/sda --name backup myorg/backup:1.0
    ```

    **Best practice**
    ```bash
    docker run -d -v backup-data:/data --name backup myorg/backup:1.0
    ```
    """

    id = "DA511"
    name = "host-device"
    severity = Severity.WARNING
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.18"
    references = ("CIS Docker Benchmark 5.18",)
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        for device in spec.devices:
            path = device.host_path
            if not known(path):
                continue
            loc = device.loc or spec.where("devices")
            critical = device_is_critical(path)
            if not critical and not ctx.broad:
                continue  # a sound card, GPU, camera or USB key: what the program is for
            if critical:
                yield Violation(
                    f"--device {path} gives the container raw access to a host disk or kernel memory",
                    loc,
                    "mount the data it needs as a volume instead of the device",
                    severity=Severity.ERROR,
                )
            else:
                yield Violation(
                    f"--device {path} gives the container direct access to host hardware",
                    loc,
                    "pass only the device nodes the program needs, with the least permissions (e.g. :r)",
                )
        for rule in spec.device_cgroup_rules:
            if not known(rule):
                continue
            severity = permissive_cgroup_rule(rule)
            if severity is None:
                continue
            yield Violation(
                f"--device-cgroup-rule '{rule}' allows a whole class of host devices",
                spec.where("device_cgroup_rules"),
                "allow only specific major:minor numbers, e.g. 'c 10:200 rwm'",
                severity=severity,
            )


def _bool_flag_set(command: DockerCommand, name: str) -> bool:
    use = command.option(name)
    if use is None:
        return False
    value = use.value_text
    if value is None:
        return True
    return known(value) and str(value).lower() in ("true", "1")


class ExecPrivileged(Rule):
    """`docker exec` runs a command privileged or as root.

    `docker exec --privileged` gives the new process every capability even in
    an unprivileged container; `-u root` undoes the image's unprivileged user.
    Both turn a maintenance command into a way around the container's limits.

    **Anti-pattern**
    ```bash
    docker exec --privileged -u root web sh -c 'apt-get update'
    ```

    **Best practice**
    ```bash
    docker exec web nginx -s reload
    ```
    """

    id = "DA512"
    name = "exec-privileged"
    severity = Severity.WARNING
    sources = STATIC
    cis = "5.23"
    references = ("CIS Docker Benchmark 5.23", "CIS Docker Benchmark 5.24")
    theme = THEME
    subcommands = frozenset({("exec",)})

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        if command.subcommand != ("exec",):
            return
        if _bool_flag_set(command, "--privileged"):
            use = command.option("--privileged")
            assert use is not None
            yield Violation(
                "docker exec --privileged runs the command with every capability",
                use.loc,
                "drop --privileged from docker exec",
            )
        user = command.option("--user")
        if user is not None and known(user.value_text) and user.value_text is not None:
            if _user_part(user.value_text).lower() in ROOT_NAMES:
                yield Violation(
                    f"docker exec {user.spelled} {user.value_text} runs the command as root",
                    user.flag.loc,
                    "run it as the container's own user; if root is really needed, say why in a comment",
                )
