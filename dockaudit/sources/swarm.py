"""Swarm services as `ContainerSpec`s: one per service, standing for all its task containers.

A service's ``Spec`` (``docker service inspect``) holds what its tasks' containers
are made from: ``TaskTemplate.ContainerSpec`` (image, command, environment,
mounts, user, capabilities, …), ``Resources``, ``RestartPolicy``, ``Placement``,
``Networks`` and ``LogDriver``, with ``Mode`` and ``EndpointSpec`` beside it.
They become the container fields the rules already read, and the rest a
`ServiceSpec`. ``docker service create/update`` commands of a script become the
same spec. Pure: the engine is read in `sources.live`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from dockaudit.model import (
    UNKNOWN,
    ContainerRef,
    ContainerSpec,
    DockerCommand,
    Origin,
    PortBinding,
    RestartPolicy,
    ServiceSpec,
    Source,
    known,
)
from dockaudit.sources.inspect import (
    _api_mount,
    _bool,
    _dict,
    _env,
    _healthcheck,
    _image_ref,
    _int,
    _list,
    _positive,
    _str,
    _str_map,
    _strings,
    _ulimits,
    _words,
)

SERVICE_ID_LABEL = "com.docker.swarm.service.id"  # on every task container of a service

# Swarm's restart conditions as the container restart policies that act the same way.
_RESTART_AS_POLICY = {"any": "always", "on-failure": "on-failure", "none": "no"}


def task_service_id(spec: ContainerSpec) -> str | None:
    """The id of the service whose task *spec* is, from the label Swarm puts on task containers."""
    value = spec.labels.get(SERVICE_ID_LABEL)
    return value if isinstance(value, str) and value else None


def drop_tasks(specs: Iterable[ContainerSpec], service_ids: set[str]) -> list[ContainerSpec]:
    """*specs* without the task containers of the services in *service_ids*: those are reported once,
    under their service."""
    return [s for s in specs if task_service_id(s) not in service_ids]


def spec_from_service(doc: Mapping[str, Any], network_names: Mapping[str, str] | None = None) -> ContainerSpec:
    """The `ContainerSpec` of one service document of the Engine API (``GET /services``).

    *network_names* maps network ids to names (the spec names its networks by id).
    """
    doc = doc if isinstance(doc, Mapping) else {}
    spec = _dict(doc.get("Spec"))
    template = _dict(spec.get("TaskTemplate"))
    container = _dict(template.get("ContainerSpec"))
    resources = _dict(template.get("Resources"))
    limits, reservations = _dict(resources.get("Limits")), _dict(resources.get("Reservations"))
    privileges = _dict(container.get("Privileges"))
    service_id = _str(doc.get("ID")) or ""
    name = _str(spec.get("Name")) or service_id[:12]
    names = network_names if isinstance(network_names, Mapping) else {}
    networks = tuple(
        names.get(target, target)
        for target in (_str(_dict(n).get("Target")) for n in _list(template.get("Networks")) or _list(spec.get("Networks")))
        if target
    )
    aliases = tuple(a for n in _list(template.get("Networks")) for a in _strings(_dict(n).get("Aliases")))
    restart = _dict(template.get("RestartPolicy"))
    condition = _str(restart.get("Condition")) or "any"
    attempts = _int(restart.get("MaxAttempts"))
    log_driver = _dict(template.get("LogDriver"))
    dns = _dict(container.get("DNSConfig"))
    mode, replicas = _mode(_dict(spec.get("Mode")))
    ports, ingress = _ports(_dict(spec.get("EndpointSpec")))
    security_opt = []
    if _bool(privileges.get("NoNewPrivileges")):
        security_opt.append("no-new-privileges")
    seccomp = _dict(privileges.get("Seccomp"))
    if _str(seccomp.get("Mode")) == "unconfined":
        security_opt.append("seccomp=unconfined")
    if _str(_dict(privileges.get("AppArmor")).get("Mode")) == "disabled":
        security_opt.append("apparmor=unconfined")
    if _bool(_dict(privileges.get("SELinuxContext")).get("Disable")):
        security_opt.append("label=disable")
    return ContainerSpec(
        origin=Origin(source=Source.LIVE, container=ContainerRef(id=service_id, name=name, kind="service")),
        subcommand="create",
        detach=True,
        name=name,
        image=_image_ref(container.get("Image")),
        entrypoint=_words(container.get("Command")),
        command=_words(container.get("Args")) or (),
        user=_str(container.get("User")) or None,
        workdir=_str(container.get("Dir")) or None,
        env=_env(container.get("Env")),
        labels=_str_map(container.get("Labels")),
        memory=_positive(limits.get("MemoryBytes")),
        memory_reservation=_positive(reservations.get("MemoryBytes")),
        nano_cpus=_positive(limits.get("NanoCPUs")),
        pids_limit=_positive(limits.get("Pids")),
        ulimits=_ulimits(container.get("Ulimits")),
        mounts=tuple(m for m in (_api_mount(_dict(item)) for item in _list(container.get("Mounts"))) if m),
        read_only_rootfs=_bool(container.get("ReadOnly")),
        network_mode=networks[0] if networks else None,
        networks=networks,
        network_aliases=aliases,
        ports=ports,
        hostname=_str(container.get("Hostname")) or None,
        dns=_strings(dns.get("Nameservers")),
        extra_hosts=_strings(container.get("Hosts")),
        cap_add=tuple(_capability(c) for c in _strings(container.get("CapabilityAdd"))),
        cap_drop=tuple(_capability(c) for c in _strings(container.get("CapabilityDrop"))),
        security_opt=tuple(security_opt),
        sysctls=_str_map(container.get("Sysctls")),
        group_add=_strings(container.get("Groups")),
        restart_policy=RestartPolicy(name=_RESTART_AS_POLICY.get(condition, condition), max_retries=attempts or 0),
        healthcheck=_healthcheck(container.get("Healthcheck")),
        init=_bool(container.get("Init")) if container.get("Init") is not None else None,
        log_driver=_str(log_driver.get("Name")) or None,
        log_opts=_str_map(log_driver.get("Options")),
        stop_signal=_str(container.get("StopSignal")) or None,
        service=ServiceSpec(
            mode=mode,
            replicas=replicas,
            constraints=_strings(_dict(template.get("Placement")).get("Constraints")),
            restart_condition=condition,
            restart_max_attempts=attempts,
            secrets=tuple(s for s in (_str(_dict(x).get("SecretName")) for x in _list(container.get("Secrets"))) if s),
            configs=tuple(c for c in (_str(_dict(x).get("ConfigName")) for x in _list(container.get("Configs"))) if c),
            ingress_ports=ingress,
        ),
    )


def _capability(name: str) -> str:
    upper = name.upper()
    return upper if upper == "ALL" or upper.startswith("CAP_") else f"CAP_{upper}"


def _mode(mode: Mapping[str, Any]) -> tuple[str, int | None]:
    if "Global" in mode:
        return "global", None
    if "ReplicatedJob" in mode:
        return "replicated-job", None
    if "GlobalJob" in mode:
        return "global-job", None
    replicas = _int(_dict(mode.get("Replicated")).get("Replicas"))
    return "replicated", replicas if replicas is not None else 1


def _ports(endpoint: Mapping[str, Any]) -> tuple[tuple[PortBinding, ...], tuple[str, ...]]:
    """Published ports as bindings on all interfaces, and the ingress ones as ``published:target/proto``."""
    bindings, ingress = [], []
    for item in _list(endpoint.get("Ports")):
        item = _dict(item)
        target = _int(item.get("TargetPort"))
        if target is None:
            continue
        protocol = _str(item.get("Protocol")) or "tcp"
        published = _int(item.get("PublishedPort"))
        bindings.append(PortBinding(container_port=str(target), protocol=protocol, host_ip="",
                                    host_port=str(published) if published else ""))
        if (_str(item.get("PublishMode")) or "ingress") == "ingress":
            ingress.append(f"{published or ''}:{target}/{protocol}")
    return tuple(bindings), tuple(ingress)


# --- docker service create / update in scripts ------------------------------------

# Service options that set what a container option sets, by the container option's name: the
# task's container is built from them as `docker run` builds a container from its own.
_AS_CONTAINER_OPTION = {
    "--env": "--env", "--env-file": "--env-file", "--mount": "--mount", "--container-label": "--label",
    "--limit-memory": "--memory", "--reserve-memory": "--memory-reservation", "--limit-cpu": "--cpus",
    "--limit-pids": "--pids-limit", "--memory-swap": "--memory-swap", "--memory-swappiness": "--memory-swappiness",
    "--user": "--user", "--workdir": "--workdir", "--hostname": "--hostname", "--entrypoint": "--entrypoint",
    "--cap-add": "--cap-add", "--cap-drop": "--cap-drop", "--dns": "--dns", "--dns-option": "--dns-option",
    "--dns-search": "--dns-search", "--host": "--add-host", "--group": "--group-add", "--init": "--init",
    "--sysctl": "--sysctl", "--ulimit": "--ulimit", "--read-only": "--read-only", "--stop-signal": "--stop-signal",
    "--tty": "--tty", "--health-cmd": "--health-cmd", "--health-interval": "--health-interval",
    "--health-timeout": "--health-timeout", "--health-retries": "--health-retries",
    "--health-start-period": "--health-start-period", "--health-start-interval": "--health-start-interval",
    "--no-healthcheck": "--no-healthcheck", "--log-driver": "--log-driver", "--log-opt": "--log-opt",
    "--network": "--network", "--oom-score-adj": "--oom-score-adj",
    # docker service update adds with -add
    "--env-add": "--env", "--mount-add": "--mount", "--container-label-add": "--label", "--network-add": "--network",
    "--group-add": "--group-add", "--host-add": "--add-host", "--dns-add": "--dns", "--dns-option-add": "--dns-option",
    "--dns-search-add": "--dns-search", "--sysctl-add": "--sysctl", "--ulimit-add": "--ulimit",
}
SERVICE_COMMANDS = (("service", "create"), ("service", "update"))


def spec_from_service_command(cmd: DockerCommand) -> ContainerSpec | None:
    """The service a ``docker service create`` (or the part of one an ``update``) command describes.

    An update sets only what it names: its spec is marked incomplete, so that
    rules about a missing setting stay silent on it.
    """
    if cmd.subcommand not in SERVICE_COMMANDS:
        return None
    from dockaudit.grammar import option_values
    from dockaudit.spec import spec_from_command
    from dockaudit.values import part

    update = cmd.subcommand == ("service", "update")
    options = tuple(dataclasses.replace(use, name=_AS_CONTAINER_OPTION[use.name])
                    for use in cmd.options if use.name in _AS_CONTAINER_OPTION)
    operands = cmd.operands
    if update:
        image = cmd.option("--image")
        operands = (image.value,) if image is not None and image.value is not None else ()
    as_container = dataclasses.replace(cmd, subcommand=("create",), options=options, operands=operands)
    spec = spec_from_command(as_container)
    if spec is None:  # not reached: spec_from_command builds every create
        return None
    locations = dict(spec.locations)

    def value(name: str) -> tuple[Any, Any] | None:
        use = cmd.option(name)
        if use is None or use.value_text is None:
            return None
        locations[name.lstrip("-").replace("-", "_")] = use.loc
        return use, use.value_text

    mode: Any = "replicated"
    if (got := value("--mode")) is not None:
        mode = got[1]
    replicas: Any = None
    if (got := value("--replicas")) is not None:
        replicas = _uint(got[1])
    elif mode == "replicated" and not update:
        replicas = 1
    condition: Any = "any"
    if (got := value("--restart-condition")) is not None:
        condition = got[1]
    attempts: Any = None
    if (got := value("--restart-max-attempts")) is not None:
        attempts = _uint(got[1])
    ports, ingress = [], []
    for name in ("--publish", "--publish-add"):
        for use, template in option_values(cmd, name):
            binding, is_ingress = _service_port(template.text if template.known else None)
            if binding is None:
                continue
            ports.append(dataclasses.replace(binding, loc=use.loc))
            locations.setdefault("ports", use.loc)
            if is_ingress:
                ingress.append(f"{binding.host_port}:{binding.container_port}/{binding.protocol}")
    names = {"secrets": ("--secret", "--secret-add"), "configs": ("--config", "--config-add"),
             "constraints": ("--constraint", "--constraint-add")}
    lists: dict[str, tuple] = {}
    for field_name, flags in names.items():
        items = []
        for name in flags:
            for use, template in option_values(cmd, name):
                text = template.text
                items.append(part(_csv_source(text)) if field_name != "constraints" else part(text))
                locations.setdefault(field_name, use.loc)
        lists[field_name] = tuple(items)
    restart = RestartPolicy(name=_RESTART_AS_POLICY.get(condition, condition) if known(condition) else UNKNOWN,
                            max_retries=attempts if not known(attempts) else attempts or 0)
    return dataclasses.replace(
        spec,
        subcommand="create",
        detach=True,
        incomplete=spec.incomplete or update,
        name=spec.name if spec.name is not None else (
            part(cmd.option("--name").value_text) if cmd.option("--name") and cmd.option("--name").value_text
            else (cmd.operands[0].value if update and cmd.operands else None)),
        ports=tuple(ports) if ports else spec.ports,
        restart_policy=restart,
        service=ServiceSpec(mode=mode, replicas=replicas, constraints=lists["constraints"],
                            restart_condition=condition, restart_max_attempts=attempts,
                            secrets=lists["secrets"], configs=lists["configs"], ingress_ports=tuple(ingress)),
        locations=locations,
    )


def _uint(text: Any) -> Any:
    if not known(text):
        return UNKNOWN
    try:
        return int(text)
    except ValueError:
        return UNKNOWN


def _csv_source(text: str) -> str:
    """The secret or config a ``--secret`` value names: ``NAME`` or ``source=NAME,target=…``."""
    if "=" not in text:
        return text
    fields = dict(f.partition("=")[::2] for f in text.split(","))
    return fields.get("source") or fields.get("src") or text


def _service_port(text: str | None) -> tuple[PortBinding | None, bool]:
    """A ``--publish`` value (``8080:80/udp`` or ``published=8080,target=80,mode=host``) and whether it
    publishes in ingress mode; None for a value that cannot be read."""
    if text is None:
        return None, False
    if "=" in text:
        fields = dict(f.partition("=")[::2] for f in text.split(","))
        target = fields.get("target")
        if not target:
            return None, False
        binding = PortBinding(container_port=target, protocol=fields.get("protocol") or "tcp", host_ip="",
                              host_port=fields.get("published") or "")
        return binding, (fields.get("mode") or "ingress") == "ingress"
    spec, _, protocol = text.partition("/")
    published, sep, target = spec.rpartition(":")
    if not sep:
        published, target = "", spec
    return PortBinding(container_port=target, protocol=protocol or "tcp", host_ip="", host_port=published), True
