"""`docker inspect` JSON to `ContainerSpec`, normalised like a parsed script.

An engine stores more than was asked: defaults it filled in, entries it added
itself, values copied from the image. A rule must give the same verdict on a
container as on the command that created it, so the mapping undoes what it
can (see ``shared/reference/verified.md`` for what engine 20.10 stores):

- ``0``, ``""``, ``null`` and the engine's own defaults mean "not set" (None):
  ``NetworkMode "default"``, ``IpcMode "private"``/``"shareable"``, ``PidMode ""``,
  ``RestartPolicy "no"``, ``ShmSize`` 64 MiB, ``PidsLimit`` 0/-1, the
  ``CgroupnsMode`` the daemon uses by default (``host`` on cgroup v1,
  ``private`` when ``docker info`` lists ``name=cgroupns``).
- ``MemorySwap`` equal to twice ``Memory`` is what the engine stores when no
  ``--memory-swap`` is given: it becomes None (an explicit ``--memory-swap``
  of exactly twice ``-m`` looks the same and is read as unset). ``-1`` stays.
- ``label=disable`` in ``SecurityOpt`` is added by the engine for
  ``--privileged``, ``--pid host`` and ``--ipc host``; it is dropped when one of
  those is set, so the one flag is not reported twice.
- ``systempaths=unconfined`` is not stored as a security option but as empty
  ``MaskedPaths`` and ``ReadonlyPaths``; it is put back.
- ``Config.Hostname`` is the short container id unless ``-h`` was given; with
  ``--network container:X`` it is X's, and with ``--network host`` the
  daemon's host name. Only a chosen name is kept.
- ``container:<64-hex id>`` (network, pid, ipc) is turned back into the
  container's name when a name map is given.
- Network aliases: engine 20.10 adds the short id after start; it is dropped.

What cannot be undone, because inspect shows the merged result: the image's
``Env``, ``Labels``, ``Cmd``, ``ExposedPorts``, ``Volumes``, ``Healthcheck`` and
``StopSignal`` are part of the container's config. ``--env-file`` lines are
in ``env``. ``--log-driver`` is the daemon default when none was given.

`spec_from_inspect` never raises: missing keys give defaults, a value of the
wrong type is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dockaudit.model import (
    ContainerRef,
    ContainerSpec,
    DeviceMapping,
    EnvVar,
    Healthcheck,
    HostInfo,
    ImageRef,
    Link,
    Mount,
    Origin,
    PortBinding,
    RestartPolicy,
    RuntimeState,
    Source,
    ThrottleDevice,
    Ulimit,
)
from dockaudit.values import (
    SENTINEL,
    normalize_capability,
    parse_image_ref,
    parse_security_opt,
    parse_volume_spec,
)

DEFAULT_SHM_SIZE = 64 * 1024 * 1024
ZERO_TIME = "0001-01-01T00:00:00Z"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PROPAGATIONS = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}
_THROTTLES = (
    ("BlkioDeviceReadBps", "read-bps"),
    ("BlkioDeviceWriteBps", "write-bps"),
    ("BlkioDeviceReadIOps", "read-iops"),
    ("BlkioDeviceWriteIOps", "write-iops"),
)


class InspectError(Exception):
    """Input that is not `docker inspect` output of containers."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- reading documents -----------------------------------------------------


def load_inspect_documents(text: str, path: str) -> list[dict]:
    """The container documents of ``docker inspect`` output: a JSON array, or one object.

    Raises `InspectError` with a message naming *path* (and the line and column
    of a JSON syntax error) for anything else.
    """
    if not text.strip():
        raise InspectError(f"{path}: empty input, expected docker inspect JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InspectError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise InspectError(f"{path}: invalid JSON: nested too deeply") from None
    items = data if isinstance(data, list) else [data]
    documents: list[dict] = []
    for index, item in enumerate(items, 1):
        where = f"{path}: item {index}" if isinstance(data, list) else path
        if not isinstance(item, dict):
            raise InspectError(f"{where}: expected a JSON object, got {_json_type(item)}")
        if not any(key in item for key in ("HostConfig", "Config", "State")) or "RepoTags" in item:
            raise InspectError(f"{where}: not a container (no Config, HostConfig or State); "
                               "was this the inspect output of an image, volume or network?")
        documents.append(item)
    return documents


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


# --- typed access that never raises ---------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _positive(value: Any) -> int | None:
    """An int above zero; 0, negatives and non-ints mean "not set"."""
    number = _int(value)
    return number if number is not None and number > 0 else None


def _bool(value: Any) -> bool:
    return value is True


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(item for item in _list(value) if isinstance(item, str))


def _str_map(value: Any) -> dict[str, str]:
    return {k: v for k, v in _dict(value).items() if isinstance(k, str) and isinstance(v, str)}


def _words(value: Any) -> tuple[str, ...] | None:
    """An argv list (Entrypoint, Cmd); a bare string is one word; None when absent."""
    if isinstance(value, str):
        return (value,) if value else None
    if isinstance(value, list):
        words = tuple(item for item in value if isinstance(item, str))
        return words or None
    return None


# --- the mapping -------------------------------------------------------------


def spec_from_inspect(
    doc: Mapping[str, Any],
    host: HostInfo | None = None,
    *,
    names: Mapping[str, str] | None = None,
    image: Mapping[str, Any] | None = None,
    daemon_hostname: str | None = None,
) -> ContainerSpec:
    """The `ContainerSpec` of one ``docker inspect`` container document.

    *host* gives daemon facts (default log driver, security options) that
    decide which stored values are only defaults. *names* maps container ids
    to names, to show ``container:<id>`` modes by name. *image* is the
    ``inspect_image`` document of the container's image, when known (live):
    it tells image volumes from ``-v`` ones and gives the effective user.
    *daemon_hostname* is the engine host's name, stored as the hostname of
    ``--network host`` containers.
    """
    if not isinstance(doc, Mapping):
        doc = {}
    config = _dict(doc.get("Config"))
    hc = _dict(doc.get("HostConfig"))
    settings = _dict(doc.get("NetworkSettings"))
    image_config = _dict(_dict(image).get("Config")) if image is not None else None
    container_id = doc.get("Id") if isinstance(doc.get("Id"), str) else ""
    name = (_str(doc.get("Name")) or "").lstrip("/") or container_id[:12]
    names = names if isinstance(names, Mapping) else {}

    privileged = _bool(hc.get("Privileged"))
    network_mode = _mode(hc.get("NetworkMode"), {"default"}, names)
    pid_mode = _mode(hc.get("PidMode"), set(), names)
    ipc_mode = _mode(hc.get("IpcMode"), {"private", "shareable"}, names)
    memory = _positive(hc.get("Memory"))
    ports = _ports(hc.get("PortBindings"))
    published = {p.key for p in ports}

    return ContainerSpec(
        origin=Origin(source=Source.LIVE, container=ContainerRef(id=container_id, name=name)),
        subcommand="create",
        detach=True,
        name=name or None,
        image=_image_ref(config.get("Image")),
        entrypoint=_words(config.get("Entrypoint")),
        command=_words(config.get("Cmd")) or (),
        interactive=_bool(config.get("OpenStdin")),
        tty=_bool(config.get("Tty")),
        auto_remove=_bool(hc.get("AutoRemove")),
        user=_str(config.get("User")),
        workdir=_str(config.get("WorkingDir")),
        env=_env(config.get("Env")),
        labels=_str_map(config.get("Labels")),
        memory=memory,
        memory_swap=_memory_swap(hc.get("MemorySwap"), memory),
        memory_reservation=_positive(hc.get("MemoryReservation")),
        kernel_memory=_positive(hc.get("KernelMemory")),
        memory_swappiness=_swappiness(hc.get("MemorySwappiness")),
        nano_cpus=_positive(hc.get("NanoCpus")),
        cpu_shares=_positive(hc.get("CpuShares")),
        cpu_period=_positive(hc.get("CpuPeriod")),
        cpu_quota=_positive(hc.get("CpuQuota")),
        cpuset_cpus=_str(hc.get("CpusetCpus")),
        cpuset_mems=_str(hc.get("CpusetMems")),
        pids_limit=_positive(hc.get("PidsLimit")),
        ulimits=_ulimits(hc.get("Ulimits")),
        blkio_throttles=_throttles(hc),
        oom_kill_disable=_bool(hc.get("OomKillDisable")),
        oom_score_adj=_int(hc.get("OomScoreAdj")) or None,
        shm_size=_shm_size(hc.get("ShmSize")),
        storage_opt=_str_map(hc.get("StorageOpt")),
        mounts=_mounts(hc, config, image_config),
        volumes_from=_strings(hc.get("VolumesFrom")),
        read_only_rootfs=_bool(hc.get("ReadonlyRootfs")),
        volume_driver=_str(hc.get("VolumeDriver")),
        network_mode=network_mode,
        networks=_networks(network_mode, settings),
        network_aliases=_aliases(settings, container_id),
        ip=_requested_ip(settings, network_mode, "IPv4Address"),
        ip6=_requested_ip(settings, network_mode, "IPv6Address"),
        links=_links(hc.get("Links"), settings),
        ports=ports,
        publish_all=_bool(hc.get("PublishAllPorts")),
        expose=tuple(sorted(k for k in _dict(config.get("ExposedPorts")) if k not in published)),
        hostname=_hostname(config.get("Hostname"), container_id, network_mode, daemon_hostname),
        dns=_strings(hc.get("Dns")),
        extra_hosts=_strings(hc.get("ExtraHosts")),
        mac_address=_str(config.get("MacAddress")),
        privileged=privileged,
        cap_add=tuple(normalize_capability(c) for c in _strings(hc.get("CapAdd"))),
        cap_drop=tuple(normalize_capability(c) for c in _strings(hc.get("CapDrop"))),
        security_opt=_security_opt(hc, privileged, pid_mode, ipc_mode),
        pid_mode=pid_mode,
        ipc_mode=ipc_mode,
        uts_mode=_str(hc.get("UTSMode")),
        userns_mode=_str(hc.get("UsernsMode")),
        cgroupns_mode=_cgroupns(hc.get("CgroupnsMode"), host),
        devices=_devices(hc.get("Devices")) + _cdi_devices(hc.get("DeviceRequests")),
        device_cgroup_rules=_strings(hc.get("DeviceCgroupRules")),
        sysctls=_str_map(hc.get("Sysctls")),
        group_add=_strings(hc.get("GroupAdd")),
        restart_policy=_restart(hc.get("RestartPolicy")),
        healthcheck=_healthcheck(config.get("Healthcheck")),
        init=hc.get("Init") if isinstance(hc.get("Init"), bool) else None,
        log_driver=_str(_dict(hc.get("LogConfig")).get("Type")) or (host.default_log_driver if host else None),
        log_opts=_str_map(_dict(hc.get("LogConfig")).get("Config")),
        stop_signal=_str(config.get("StopSignal")),
        runtime=_runtime(doc, config, image_config),
    )


def spec_from_create_body(body: Mapping[str, Any], name: str | None = None) -> ContainerSpec:
    """The `ContainerSpec` of a ``POST /containers/create`` request body.

    The body is the container's ``Config`` with ``HostConfig`` and
    ``NetworkingConfig`` beside it; *name* comes from the request's ``?name=``.
    It is read by the same mapping as inspect output. A request holds only what
    the client asked for, so nothing in it is an engine default to undo, except
    that an explicit ``--cgroupns`` is kept whatever the daemon's default.
    """
    config = {key: value for key, value in body.items() if key not in ("HostConfig", "NetworkingConfig")}
    endpoints = _dict(_dict(body.get("NetworkingConfig")).get("EndpointsConfig"))
    document = {
        "Name": name or "",
        "Config": config,
        "HostConfig": _dict(body.get("HostConfig")),
        "NetworkSettings": {"Networks": endpoints},
    }
    return spec_from_inspect(document, _REQUESTED)


_REQUESTED = HostInfo(security_options=("name=cgroupns",))  # host stays host: nothing is a default


def _image_ref(value: Any) -> ImageRef | None:
    text = _str(value)
    if text is None or SENTINEL in text:
        return None
    try:
        return parse_image_ref(text)
    except Exception:  # a parser bug must not lose the whole container
        return None


def _mode(value: Any, defaults: set[str], names: Mapping[str, str]) -> str | None:
    """A namespace or network mode: engine defaults become None, container ids names."""
    mode = _str(value)
    if mode is None or mode in defaults:
        return None
    if mode.startswith("container:"):
        target = mode.split(":", 1)[1]
        return f"container:{_container_name(target, names)}"
    return mode


def _container_name(ident: str, names: Mapping[str, str]) -> str:
    if ident in names:
        return names[ident]
    if len(ident) >= 12:
        for key, value in names.items():
            if isinstance(key, str) and key.startswith(ident) and isinstance(value, str):
                return value
    return ident


def _memory_swap(value: Any, memory: int | None) -> int | None:
    swap = _int(value)
    if swap is None or swap == 0:
        return None
    if swap == -1:
        return -1
    if memory is not None and swap == 2 * memory:
        return None  # what the engine stores when --memory-swap is not given
    return swap if swap > 0 else None


def _swappiness(value: Any) -> int | None:
    number = _int(value)
    return number if number is not None and number >= 0 else None


def _shm_size(value: Any) -> int | None:
    size = _positive(value)
    return None if size == DEFAULT_SHM_SIZE else size


def _env(value: Any) -> tuple[EnvVar, ...]:
    result = []
    for item in _strings(value):
        key, sep, val = item.partition("=")
        result.append(EnvVar(key=key, value=val if sep else None))
    return tuple(result)


def _ulimits(value: Any) -> tuple[Ulimit, ...]:
    result = []
    for item in _list(value):
        item = _dict(item)
        name, soft, hard = _str(item.get("Name")), _int(item.get("Soft")), _int(item.get("Hard"))
        if name is not None and soft is not None and hard is not None:
            result.append(Ulimit(name=name, soft=soft, hard=hard))
    return tuple(result)


def _throttles(hc: Mapping[str, Any]) -> tuple[ThrottleDevice, ...]:
    result = []
    for key, kind in _THROTTLES:
        for item in _list(hc.get(key)):
            item = _dict(item)
            path, rate = _str(item.get("Path")), _int(item.get("Rate"))
            if path is not None and rate is not None:
                result.append(ThrottleDevice(kind=kind, path=path, rate=rate))
    return tuple(result)


def _devices(value: Any) -> tuple[DeviceMapping, ...]:
    result = []
    for item in _list(value):
        item = _dict(item)
        host_path = _str(item.get("PathOnHost"))
        if host_path is None:
            continue
        result.append(DeviceMapping(
            host_path=host_path,
            container_path=_str(item.get("PathInContainer")) or host_path,
            permissions=_str(item.get("CgroupPermissions")) or "rwm",
        ))
    return tuple(result)


def _cdi_devices(value: Any) -> tuple[DeviceMapping, ...]:
    """``--device vendor.com/class=name``: the client sends CDI names as device requests."""
    result = []
    for item in _list(value):
        item = _dict(item)
        if item.get("Driver") == "cdi":
            result.extend(DeviceMapping(host_path=name, container_path=name)
                          for name in _strings(item.get("DeviceIDs")))
    return tuple(result)


def _restart(value: Any) -> RestartPolicy | None:
    policy = _dict(value)
    name = _str(policy.get("Name"))
    if name is None or name == "no":
        return None
    return RestartPolicy(name=name, max_retries=_int(policy.get("MaximumRetryCount")) or 0)


def _healthcheck(value: Any) -> Healthcheck | None:
    if not isinstance(value, dict):
        return None
    return Healthcheck(
        test=_strings(value.get("Test")),
        interval_ns=_positive(value.get("Interval")),
        timeout_ns=_positive(value.get("Timeout")),
        start_period_ns=_positive(value.get("StartPeriod")),
        retries=_positive(value.get("Retries")),
    )


def _cgroupns(value: Any, host: HostInfo | None) -> str | None:
    mode = _str(value)
    private_by_default = host is not None and any(
        isinstance(opt, str) and opt.startswith("name=cgroupns") for opt in host.security_options
    )
    default = "private" if private_by_default else "host"
    return None if mode is None or mode == default else mode


def _security_opt(hc: Mapping[str, Any], privileged: bool, pid_mode: str | None,
                  ipc_mode: str | None) -> tuple[str, ...]:
    options = [_security_option(opt) for opt in _strings(hc.get("SecurityOpt"))]
    if privileged or pid_mode == "host" or ipc_mode == "host":
        options = [opt for opt in options if opt != "label=disable"]
    masked, readonly = hc.get("MaskedPaths"), hc.get("ReadonlyPaths")
    if not privileged and masked == [] and readonly == [] and "systempaths=unconfined" not in options:
        options.append("systempaths=unconfined")
    return tuple(options)


def _security_option(text: str) -> str:
    """The spelling a script's option is normalised to (``seccomp:x`` -> ``seccomp=x``)."""
    if SENTINEL in text or text.startswith("seccomp={"):  # an inlined profile stays as stored
        return text
    try:
        return parse_security_opt(text)
    except ValueError:
        return text


def _hostname(value: Any, container_id: str, network_mode: str | None,
              daemon_hostname: str | None) -> str | None:
    hostname = _str(value)
    if hostname is None or (container_id and hostname == container_id[:12]):
        return None
    if network_mode is not None and network_mode.startswith("container:"):
        return None  # the engine refuses -h here; the stored name is the other container's
    if network_mode == "host" and hostname == daemon_hostname:
        return None
    return hostname


# --- ports and networks --------------------------------------------------------


def _ports(value: Any) -> tuple[PortBinding, ...]:
    result = []
    for key, bindings in sorted(_dict(value).items(), key=lambda kv: _port_sort_key(kv[0])):
        if not isinstance(key, str):
            continue
        port, _, proto = key.partition("/")
        if not port:
            continue
        for binding in _list(bindings):
            binding = _dict(binding)
            host_ip = binding.get("HostIp") if isinstance(binding.get("HostIp"), str) else ""
            host_port = binding.get("HostPort") if isinstance(binding.get("HostPort"), str) else ""
            result.append(PortBinding(container_port=port, protocol=proto or "tcp",
                                      host_ip=host_ip, host_port=host_port))
    return tuple(result)


def _port_sort_key(key: Any) -> tuple[int, str]:
    if not isinstance(key, str):
        return (0, "")
    port = key.partition("/")[0].partition("-")[0]
    return (int(port) if port.isdigit() else 0, key)


def _networks(network_mode: str | None, settings: Mapping[str, Any]) -> tuple[str, ...]:
    if network_mode is None:
        return ()
    others = sorted(k for k in _dict(settings.get("Networks")) if isinstance(k, str) and k != network_mode)
    return (network_mode, *others)


def _endpoints(settings: Mapping[str, Any]) -> Iterable[tuple[str, dict]]:
    for net, endpoint in _dict(settings.get("Networks")).items():
        if isinstance(net, str) and isinstance(endpoint, dict):
            yield net, endpoint


def _aliases(settings: Mapping[str, Any], container_id: str) -> tuple[str, ...]:
    short_id = container_id[:12]
    aliases: list[str] = []
    for _, endpoint in _endpoints(settings):
        for alias in _strings(endpoint.get("Aliases")):
            if alias != short_id and alias not in aliases:
                aliases.append(alias)
    return tuple(aliases)


def _requested_ip(settings: Mapping[str, Any], network_mode: str | None, key: str) -> str | None:
    wanted = network_mode or "bridge"
    for net, endpoint in _endpoints(settings):
        if net == wanted:
            return _str(_dict(endpoint.get("IPAMConfig")).get(key))
    return None


def _links(value: Any, settings: Mapping[str, Any]) -> tuple[Link, ...]:
    result = []
    for item in _strings(value):  # "/target:/self/alias" (default bridge)
        target, sep, alias_path = item.partition(":")
        if not sep:
            continue
        result.append(Link(container=target.lstrip("/"), alias=alias_path.rsplit("/", 1)[-1]))
    for _, endpoint in _endpoints(settings):  # "target:alias" (user-defined networks)
        for item in _strings(endpoint.get("Links")):
            target, sep, alias = item.partition(":")
            result.append(Link(container=target, alias=alias if sep and alias else target))
    return tuple(sorted(set(result), key=lambda link: (link.container, link.alias)))


# --- storage -----------------------------------------------------------------


def _mounts(hc: Mapping[str, Any], config: Mapping[str, Any],
            image_config: Mapping[str, Any] | None) -> tuple[Mount, ...]:
    mounts: list[Mount] = []
    for bind in _strings(hc.get("Binds")):
        mount = _bind_mount(bind)
        if mount is not None:
            mounts.append(mount)
    for item in _list(hc.get("Mounts")):
        mount = _api_mount(_dict(item))
        if mount is not None:
            mounts.append(mount)
    for target, opts in sorted(_dict(hc.get("Tmpfs")).items()):
        if not isinstance(target, str) or not target:
            continue
        options = tuple(o for o in opts.split(",") if o) if isinstance(opts, str) else ()
        mounts.append(Mount(type="tmpfs", target=target, source=None, read_only="ro" in options,
                            options=options, flag="--tmpfs"))
    taken = {m.target for m in mounts}
    image_volumes = _dict(image_config.get("Volumes")) if image_config is not None else {}
    for target in sorted(_dict(config.get("Volumes"))):
        if isinstance(target, str) and target and target not in taken:
            flag = "image" if target in image_volumes else "--volume"
            mounts.append(Mount(type="volume", target=target, source=None, flag=flag))
    return tuple(mounts)


def _bind_mount(spec: str) -> Mount | None:
    """One ``HostConfig.Binds`` entry, ``source:target[:mode]`` as the client sent it."""
    if SENTINEL not in spec:
        try:
            return parse_volume_spec(spec)
        except ValueError:
            pass  # accepted by some engine or client, but not by the CLI grammar: read it plainly
    parts = spec.replace(SENTINEL, "").split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    modes = tuple(m for m in (parts[2] if len(parts) > 2 else "").split(",") if m)
    kind = "bind" if parts[0].startswith("/") else "volume"
    propagation = next((m for m in modes if m in _PROPAGATIONS), "rprivate" if kind == "bind" else None)
    return Mount(type=kind, target=parts[1], source=parts[0], read_only="ro" in modes,
                 propagation=propagation, options=modes, flag="--volume")


def _api_mount(item: Mapping[str, Any]) -> Mount | None:
    """One ``HostConfig.Mounts`` entry (``--mount``)."""
    kind, target = _str(item.get("Type")) or "volume", _str(item.get("Target"))
    if target is None:
        return None
    options: list[str] = []
    propagation = None
    if kind == "bind":
        propagation = _str(_dict(item.get("BindOptions")).get("Propagation")) or "rprivate"
    elif kind == "tmpfs":
        tmpfs = _dict(item.get("TmpfsOptions"))
        size, mode = _positive(tmpfs.get("SizeBytes")), _int(tmpfs.get("Mode"))
        if size is not None:
            options.append(f"tmpfs-size={size}")
        if mode is not None and mode > 0:
            options.append(f"tmpfs-mode={mode:o}")
    elif kind == "volume":
        volume = _dict(item.get("VolumeOptions"))
        if _bool(volume.get("NoCopy")):
            options.append("volume-nocopy")
        for key, value in sorted(_str_map(_dict(volume.get("DriverConfig")).get("Options")).items()):
            options.append(f"volume-opt={key}={value}")
    source = _str(item.get("Source")) if kind in {"bind", "volume"} else None
    return Mount(type=kind, target=target, source=source, read_only=_bool(item.get("ReadOnly")),
                 propagation=propagation, options=tuple(options), flag="--mount")


# --- runtime -----------------------------------------------------------------


def _runtime(doc: Mapping[str, Any], config: Mapping[str, Any],
             image_config: Mapping[str, Any] | None) -> RuntimeState | None:
    state = doc.get("State")
    if not isinstance(state, dict):
        return None
    health = _dict(state.get("Health"))
    effective_user = None
    if image_config is not None:  # Config.User already holds the image's USER when -u was not given
        effective_user = _str(config.get("User")) or _str(image_config.get("User")) or "root"
    return RuntimeState(
        status=_str(state.get("Status")) or "unknown",
        running=_bool(state.get("Running")),
        exit_code=_int(state.get("ExitCode")),
        started_at=_time(state.get("StartedAt")),
        finished_at=_time(state.get("FinishedAt")),
        oom_killed=_bool(state.get("OOMKilled")),
        restart_count=_int(doc.get("RestartCount")) or 0,
        health_status=_str(health.get("Status")),
        image_id=_str(doc.get("Image")),
        effective_user=effective_user,
    )


def _time(value: Any) -> str | None:
    text = _str(value)
    return None if text is None or text == ZERO_TIME or text.startswith("0001-01-01") else text
