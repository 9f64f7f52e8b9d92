"""A Swarm service spec (``POST /services/create``, ``/services/{id}/update``) as a container create body.

The task template's container spec holds what ``docker run`` spells with
other names (``Command`` is the entrypoint, ``Args`` the command, ``Dir`` the
working directory, ``Privileges`` the security options, ``Hosts`` "IP name"
lines); limits, the restart condition, the log driver and the published ports
sit beside it. Each becomes the create body field it corresponds to, and the
body is read like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockaudit.enforce.body import UnreadableBody

# service container spec field -> create body field, same value shape
_SAME_SHAPE = {
    "Image": "Image", "Labels": "Labels", "Command": "Entrypoint", "Args": "Cmd", "Hostname": "Hostname",
    "Env": "Env", "Dir": "WorkingDir", "User": "User", "TTY": "Tty", "OpenStdin": "OpenStdin",
    "StopSignal": "StopSignal", "Healthcheck": "Healthcheck",
}
_SAME_SHAPE_HOST = {
    "Groups": "GroupAdd", "ReadOnly": "ReadonlyRootfs", "Mounts": "Mounts", "Sysctls": "Sysctls",
    "CapabilityAdd": "CapAdd", "CapabilityDrop": "CapDrop", "Ulimits": "Ulimits", "Init": "Init",
}
_LIMITS = {"NanoCPUs": "NanoCpus", "MemoryBytes": "Memory", "Pids": "PidsLimit"}
_RESTART = {"any": "always", "on-failure": "on-failure", "none": "no"}


def create_body_of_service(spec: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(service name, the create body its tasks' containers correspond to)."""
    template = _mapping(spec.get("TaskTemplate"), "TaskTemplate")
    container = template.get("ContainerSpec")
    if not isinstance(container, Mapping):
        raise UnreadableBody("the service has no container spec (a plugin or network attachment service)")
    body: dict[str, Any] = {new: container[old] for old, new in _SAME_SHAPE.items() if old in container}
    host: dict[str, Any] = {new: container[old] for old, new in _SAME_SHAPE_HOST.items() if old in container}
    host["SecurityOpt"] = _security_options(_mapping(container.get("Privileges"), "Privileges"))
    hosts = container.get("Hosts")
    if isinstance(hosts, list):  # "10.0.0.1 db cache" -> "db:10.0.0.1", "cache:10.0.0.1"
        host["ExtraHosts"] = [f"{name}:{line.split()[0]}" for line in hosts if isinstance(line, str) and line.split()
                              for name in line.split()[1:]]
    dns = _mapping(container.get("DNSConfig"), "DNSConfig")
    if "Nameservers" in dns:
        host["Dns"] = dns["Nameservers"]
    limits = _mapping(_mapping(template.get("Resources"), "Resources").get("Limits"), "Limits")
    host.update({new: limits[old] for old, new in _LIMITS.items() if old in limits})
    restart = _mapping(template.get("RestartPolicy"), "RestartPolicy")
    if isinstance(restart.get("Condition"), str):
        host["RestartPolicy"] = {"Name": _RESTART.get(restart["Condition"], restart["Condition"]),
                                 "MaximumRetryCount": restart.get("MaxAttempts") or 0}
    log_driver = _mapping(template.get("LogDriver"), "LogDriver")
    if log_driver:
        host["LogConfig"] = {"Type": log_driver.get("Name"), "Config": log_driver.get("Options")}
    host["PortBindings"] = _published(_mapping(spec.get("EndpointSpec"), "EndpointSpec").get("Ports"))
    networks = template.get("Networks") or spec.get("Networks")
    if isinstance(networks, list) and networks and isinstance(networks[0], Mapping):
        host["NetworkMode"] = networks[0].get("Target")
    body["HostConfig"] = host
    name = spec.get("Name")
    return (name if isinstance(name, str) and name else None), body


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UnreadableBody(f"{field} is not a JSON object")
    return value


def _security_options(privileges: Mapping[str, Any]) -> list[str]:
    options = []
    if _mapping(privileges.get("SELinuxContext"), "SELinuxContext").get("Disable") is True:
        options.append("label=disable")
    if _mapping(privileges.get("Seccomp"), "Seccomp").get("Mode") == "unconfined":
        options.append("seccomp=unconfined")
    if _mapping(privileges.get("AppArmor"), "AppArmor").get("Mode") == "disabled":
        options.append("apparmor=unconfined")
    if privileges.get("NoNewPrivileges") is True:
        options.append("no-new-privileges")
    return options


def _published(ports: Any) -> dict[str, list[dict[str, str]]]:
    """Published ports: the routing mesh (and host mode) listen on every interface."""
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in ports if isinstance(ports, list) else []:
        if not isinstance(port, Mapping) or not isinstance(port.get("TargetPort"), int):
            continue
        key = f"{port['TargetPort']}/{port.get('Protocol') or 'tcp'}"
        published = port.get("PublishedPort")
        bindings.setdefault(key, []).append({"HostIp": "", "HostPort": str(published) if published else ""})
    return bindings
