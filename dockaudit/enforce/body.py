"""Request bodies read as the engine reads them, so no spelling gets past the policy.

The engine decodes JSON with Go's ``encoding/json``: object keys match struct
fields without regard to case (``privileged`` sets ``Privileged``; so do the
Kelvin sign for ``k`` and the long s for ``s``), and a key given twice is
applied twice. Keys that name struct fields are put back into their canonical
spelling here, and a field given twice under any spelling makes the body
unreadable: the request is denied rather than read differently from the engine.
Keys of map fields (labels, sysctls, port bindings, …) are data and stay as sent.
"""

from __future__ import annotations

import json
from typing import Any

# Field names of the engine's request structs: Config, HostConfig (with Resources),
# NetworkingConfig and EndpointSettings, Mount, ExecConfig, UpdateConfig, ServiceSpec, and their parts.
STRUCT_FIELDS = """
Hostname Domainname User AttachStdin AttachStdout AttachStderr ExposedPorts Tty OpenStdin StdinOnce
Env Cmd Healthcheck ArgsEscaped Image Volumes WorkingDir Entrypoint NetworkDisabled MacAddress OnBuild
Labels StopSignal StopTimeout Shell HostConfig NetworkingConfig
Binds ContainerIDFile LogConfig NetworkMode PortBindings RestartPolicy AutoRemove VolumeDriver
VolumesFrom ConsoleSize Annotations CapAdd CapDrop CgroupnsMode Dns DnsOptions DnsSearch ExtraHosts
GroupAdd IpcMode Cgroup Links OomScoreAdj PidMode Privileged PublishAllPorts ReadonlyRootfs SecurityOpt
StorageOpt Tmpfs UTSMode UsernsMode ShmSize Sysctls Runtime Isolation CpuShares Memory NanoCpus
CgroupParent BlkioWeight BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps
BlkioDeviceWriteIOps CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime CpusetCpus CpusetMems
Devices DeviceCgroupRules DeviceRequests KernelMemory KernelMemoryTCP MemoryReservation MemorySwap
MemorySwappiness OomKillDisable PidsLimit Ulimits CpuCount CpuPercent IOMaximumIOps IOMaximumBandwidth
Mounts MaskedPaths ReadonlyPaths Init
EndpointsConfig IPAMConfig Aliases NetworkID EndpointID Gateway IPAddress IPPrefixLen IPv6Gateway
GlobalIPv6Address GlobalIPv6PrefixLen DriverOpts IPv4Address IPv6Address LinkLocalIPs DNSNames
Type Source Target ReadOnly Consistency BindOptions Propagation NonRecursive CreateMountpoint
VolumeOptions NoCopy DriverConfig Name Options TmpfsOptions SizeBytes Mode
Config MaximumRetryCount Test Interval Timeout StartPeriod StartInterval Retries HostIp HostPort
Soft Hard Path Rate Weight PathOnHost PathInContainer CgroupPermissions Driver Count DeviceIDs Capabilities
Detach DetachKeys
""".split()
# ServiceSpec and its parts; where a name differs from a container field only in case (TTY, NanoCPUs),
# the service's spelling holds in a service body
SERVICE_FIELDS = """
TaskTemplate ContainerSpec Command Args Dir Groups Privileges CredentialSpec SELinuxContext Disable Seccomp
AppArmor NoNewPrivileges TTY StopGracePeriod Hosts DNSConfig Nameservers Search Secrets Configs
CapabilityAdd CapabilityDrop Resources Limits Reservations NanoCPUs MemoryBytes Pids Condition Delay
MaxAttempts Window Placement Networks LogDriver EndpointSpec Ports Protocol TargetPort PublishedPort
PublishMode Replicated Replicas Global UpdateConfig RollbackConfig ForceUpdate PluginSpec
""".split()
_CONTAINER = {name.lower(): name for name in STRUCT_FIELDS}
_SERVICE = {**_CONTAINER, **{name.lower(): name for name in SERVICE_FIELDS}}
# fields whose value is a JSON object keyed by data, not by field names
MAP_FIELDS = {"Labels", "Sysctls", "StorageOpt", "Tmpfs", "ExposedPorts", "Volumes", "DriverOpts",
              "Options", "Annotations", "EndpointsConfig", "PortBindings"}
_GO_FOLD = {"\u017f": "s", "\u212a": "k"}  # non-ASCII letters Go folds onto ASCII ones


class UnreadableBody(Exception):
    """A body the plugin will not judge; the message says why."""


class _Pairs(list):
    """A JSON object as its key/value pairs, in order, duplicates kept."""


def read_body(raw: bytes, *, service: bool = False) -> dict[str, Any]:
    """The body as a dict with canonical field names; `UnreadableBody` when it cannot be read.

    *service*: the body is a Swarm service spec, else a container request.
    """
    if not raw:
        raise UnreadableBody("the request has no body (sent chunked, or larger than the engine passes on)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBody(f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise UnreadableBody(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise UnreadableBody("the body is nested too deeply") from None
    if not isinstance(data, _Pairs):
        raise UnreadableBody("the body is not a JSON object")
    return _canonical(data, None, _SERVICE if service else _CONTAINER)


def _canonical(node: Any, parent: str | None, names: dict[str, str]) -> Any:
    if isinstance(node, _Pairs):
        is_map = parent in MAP_FIELDS or parent == "LogConfig.Config"
        result: dict[str, Any] = {}
        for key, value in node:
            name = key if is_map else names.get(_fold(key), key)
            if name in result and not is_map:  # a map key given twice: the last counts, in Go too
                raise UnreadableBody(f"the body gives {name} twice")
            child = "LogConfig.Config" if parent == "LogConfig" and name == "Config" else name
            result[name] = _canonical(value, None if is_map else child, names)
        return result
    if isinstance(node, list):
        return [_canonical(item, None, names) for item in node]
    return node


def _fold(key: str) -> str:
    if key.isascii():
        return key.lower()
    return "".join(_GO_FOLD.get(ch, ch.lower() if ch.isascii() else ch) for ch in key)
