"""DA4xx: network and ports — links, publishing, host network, the default bridge."""

from __future__ import annotations

from typing import Iterable, Iterator

from dockaudit.model import ContainerSpec, Location, PortBinding, Severity, Source, known
from dockaudit.rulebase import BOTH, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import for_subject, option

THEME = "network"

_ALL_INTERFACES = frozenset({"", "0.0.0.0", "::"})


def _mode(spec: ContainerSpec) -> str | None:
    """The network mode, lower-case, when known and set."""
    mode = spec.network_mode
    if not known(mode) or mode is None:
        return None
    return str(mode).lower()


def _ports_ignored(spec: ContainerSpec) -> bool:
    """True when published ports have no effect (host or none network), or the mode is unknown."""
    if not known(spec.network_mode):
        return True
    return _mode(spec) in ("host", "none")


def _host_ip(binding: PortBinding) -> str | None:
    if not known(binding.host_ip):
        return None
    ip = binding.host_ip.strip()
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    return ip


def _on_all_interfaces(binding: PortBinding) -> bool:
    return _host_ip(binding) in _ALL_INTERFACES


def _port_range(text: str) -> tuple[int, int] | None:
    """``"80"`` → (80, 80), ``"8000-8002"`` → (8000, 8002); None when not numeric."""
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        return None
    return first, last


def _by_flag(spec: ContainerSpec) -> Iterator[tuple[Location | None, list[PortBinding]]]:
    """Port bindings grouped by the -p word that made them (a range makes several)."""
    groups: dict[Location | None, list[PortBinding]] = {}
    for binding in spec.ports:
        groups.setdefault(binding.loc or spec.where("ports"), []).append(binding)
    yield from groups.items()


def _shown(binding: PortBinding) -> str:
    """The binding as a -p value: ``127.0.0.1:8080:80``, ``8080:80``, ``80/udp``."""
    ip = _host_ip(binding)
    host_port = binding.host_port if known(binding.host_port) else "?"
    target = binding.container_port if known(binding.container_port) else "?"
    if known(binding.protocol) and binding.protocol and binding.protocol != "tcp":
        target = f"{target}/{binding.protocol}"
    if ip:
        host = f"[{ip}]" if ":" in ip else ip
        return f"{host}:{host_port}:{target}"
    return f"{host_port}:{target}" if host_port else target


class LegacyLink(Rule):
    """`--link` is a legacy feature.

    Links work only on the default bridge, inject environment variables that
    leak the linked container's settings, and break when the linked
    container is recreated. On a user-defined network containers reach each
    other by name.

    **Anti-pattern**
    ```bash
    docker run -d --name web --link db:mysql myorg/web:1
    ```

    **Best practice**
    ```bash
    docker run -d --name web --network app-net myorg/web:1
    ```
    """

    id = "DA401"
    name = "legacy-link"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        for link in spec.links:
            name = link.container if known(link.container) else "a container"
            yield Violation(
                f"--link {name}: links are a legacy feature of the default bridge",
                link.loc or spec.where("links"),
                "put both containers on a user-defined network (docker network create) and use "
                "the container name",
            )


class PortsIgnored(Rule):
    """Ports published on a container with the host or no network.

    With `--network host` the engine discards `-p`/`-P` (the service listens
    on the host's interfaces directly); with `--network none` there is
    nothing to publish to. The flags suggest an isolation that does not
    exist, or a reachability that does not either.

    **Anti-pattern**
    ```bash
    docker run -d --network host -p 8080:80 nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --network app-net -p 127.0.0.1:8080:80 nginx:1.25
    ```
    """

    id = "DA402"
    name = "ports-ignored"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        mode = _mode(spec)
        if mode not in ("host", "none"):
            return
        effect = "discarded" if mode == "host" else "without effect"
        for loc, bindings in _by_flag(spec):
            yield Violation(
                f"-p {_shown(bindings[0])} is {effect} with --network {mode}",
                loc,
                "remove -p, or use a bridge network" if mode == "host" else "remove -p",
            )
        if spec.publish_all:
            yield Violation(
                f"-P is {effect} with --network {mode}",
                spec.where("publish_all"),
                "remove -P",
            )


class PortAllInterfaces(Rule):
    """A port is published on every interface of the host.

    `-p 8080:80` (or `0.0.0.0:`, `[::]:`, `-P`) opens the port to every
    network the host is on, and Docker's iptables rules bypass host
    firewalls such as ufw. Bind to the interface that needs it, usually
    `127.0.0.1` behind a reverse proxy.

    **Anti-pattern**
    ```bash
    docker run -d -p 8080:80 nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d -p 127.0.0.1:8080:80 nginx:1.25
    ```
    """

    id = "DA403"
    name = "port-all-interfaces"
    severity = Severity.WARNING
    purposes = frozenset({"deploy", "dev", "doc"})  # a CI runner's published port lives for minutes
    services_only_in = frozenset({"doc", "dev"})
    sources = BOTH
    cis = "5.14"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if _ports_ignored(spec):
            return
        for loc, bindings in _by_flag(spec):
            public = [b for b in bindings if _on_all_interfaces(b)]
            if not public:
                continue
            shown = _shown(public[0])
            yield Violation(
                f"{for_subject(spec, '-p', '--publish')} {shown} publishes port {public[0].container_port} "
                f"on {_where_published(spec, public[0])}",
                loc,
                for_subject(spec, f"bind it to one address, e.g. -p 127.0.0.1:{_host_side(public[0])}"
                                  f"{public[0].container_port}", _SERVICE_FIX),
            )
        if spec.publish_all:
            yield Violation(
                "-P publishes every exposed port on all interfaces of the host, on random ports",
                spec.where("publish_all"),
                "publish only the ports needed, bound to one address: -p 127.0.0.1:8080:80",
            )


_SERVICE_FIX = ("a service cannot publish on one address: leave the port unpublished and reach the service "
                "over an overlay network, or publish a proxy in front of it")


def _where_published(spec: ContainerSpec, binding: PortBinding) -> str:
    """All interfaces of what: the host, or for a service every node (ingress) or the task's node."""
    if spec.service is None:
        return "all interfaces of the host"
    ingress = f"{_host_side(binding).rstrip(':')}:{binding.key}" in spec.service.ingress_ports
    return "all interfaces of every node" if ingress else "all interfaces of the node that runs the task"


def _host_side(binding: PortBinding) -> str:
    port = binding.host_port
    return f"{port}:" if known(port) and port else ""


_DEFAULT_SENSITIVE_PORTS = [
    21, 22, 23, 445, 1433, 1521, 2181, 2375, 2376, 2379, 2380, 3306, 3389, 5432, 5601, 5672,
    5900, 5984, 6379, 6443, 8086, 8500, 9042, 9092, 9200, 9300, 10250, 11211, 15672, 27017,
    27018, 28017,
]


class SensitivePortPublic(Rule):
    """A database or administration port is published on all interfaces.

    Databases (MySQL 3306, PostgreSQL 5432, Redis 6379, MongoDB 27017,
    Elasticsearch 9200, memcached 11211, …), SSH (22) and the Docker API
    (2375/2376) are scanned for on every public address within minutes. The
    port counts whether it is the container port or the host port.

    **Anti-pattern**
    ```bash
    docker run -d -p 6379:6379 redis:7.2
    ```

    **Best practice**
    ```bash
    docker run -d -p 127.0.0.1:6379:6379 redis:7.2
    ```
    """

    id = "DA405"
    name = "sensitive-port-public"
    severity = Severity.WARNING
    purposes = frozenset({"deploy", "dev", "doc"})  # a CI runner's test database is gone in minutes
    services_only_in = frozenset({"doc", "dev"})
    sources = BOTH
    theme = THEME
    options = {
        "ports": Option(_DEFAULT_SENSITIVE_PORTS, list,
                        "ports of databases and administration services", item_type=int),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if _ports_ignored(spec):
            return
        sensitive = set(option(self, ctx, "ports"))
        for loc, bindings in _by_flag(spec):
            for binding in bindings:
                if not _on_all_interfaces(binding):
                    continue
                port = _sensitive_in(binding, sensitive)
                if port is not None:
                    yield Violation(
                        f"{for_subject(spec, '-p', '--publish')} {_shown(binding)} publishes port {port} "
                        f"(a database or administration port) on {for_subject(spec, 'all interfaces', _where_published(spec, binding))}",
                        loc,
                        for_subject(spec, f"bind it to 127.0.0.1, or do not publish it: -p 127.0.0.1:"
                                          f"{_host_side(binding)}{binding.container_port}", _SERVICE_FIX),
                    )
                    break
        if spec.publish_all:
            for exposed in spec.expose:
                port_text = exposed.split("/", 1)[0]
                bounds = _port_range(port_text)
                hit = _first_in(bounds, sensitive) if bounds else None
                if hit is not None:
                    yield Violation(
                        f"-P publishes the exposed port {hit} (a database or administration "
                        "port) on all interfaces",
                        spec.where("publish_all"),
                        "drop -P and publish only what is needed on 127.0.0.1",
                    )
                    break


def _first_in(bounds: tuple[int, int], ports: set[int]) -> int | None:
    low, high = bounds
    return next((p for p in sorted(ports) if low <= p <= high), None)


def _sensitive_in(binding: PortBinding, ports: set[int]) -> int | None:
    for text in (binding.container_port, binding.host_port):
        if not known(text) or not text:
            continue
        bounds = _port_range(text)
        if bounds is not None:
            hit = _first_in(bounds, ports)
            if hit is not None:
                return hit
    return None


class PrivilegedPort(Rule):
    """A host port below 1024 is published.

    Ports below 1024 are privileged on the host: binding them from a
    container needs the daemon's root rights and collides with host
    services (ssh, web servers). Publish a high port and let a reverse
    proxy or load balancer own 80/443.

    **Anti-pattern**
    ```bash
    docker run -d -p 127.0.0.1:80:8080 myorg/web:1
    ```

    **Best practice**
    ```bash
    docker run -d -p 127.0.0.1:8080:8080 myorg/web:1
    ```
    """

    id = "DA404"
    name = "privileged-port"
    severity = Severity.INFO
    profile = "cis"  # a web server on 80 and 443 is the usual case, not a finding
    sources = BOTH
    cis = "5.8"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if _ports_ignored(spec):
            return
        for loc, bindings in _by_flag(spec):
            for binding in bindings:
                port = binding.host_port
                if not known(port) or not port:
                    continue
                bounds = _port_range(port)
                if bounds is None or not 0 < bounds[0] < 1024:
                    continue
                yield Violation(
                    f"-p {_shown(binding)} publishes the privileged host port {bounds[0]}",
                    loc,
                    "publish a port of 1024 or above and put a reverse proxy in front",
                )
                break


class HostNetwork(Rule):
    """The container shares the host's network stack.

    With `--network host` the container sees every interface of the host,
    can bind any port on it (including services meant for localhost only)
    and is not isolated by the engine's firewall rules.

    **Anti-pattern**
    ```bash
    docker run -d --network host myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --network app-net -p 127.0.0.1:8080:8080 myorg/api:3.2
    ```
    """

    id = "DA406"
    name = "host-network"
    severity = Severity.WARNING
    profile = "cis"  # host networking is a deliberate choice, not a mistake to fix
    sources = BOTH
    cis = "5.10"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if _mode(spec) == "host":
            yield Violation(
                "--network host shares the host's network stack with the container",
                spec.where("network_mode"),
                "use a user-defined bridge network and publish only the ports needed",
            )


class DefaultBridge(Rule):
    """A long-running container is on the default bridge network.

    On the default bridge containers cannot reach each other by name (only
    through `--link`), and every container on the host shares it. A
    user-defined network gives name resolution and isolates one application
    from the others.

    **Anti-pattern**
    ```bash
    docker run -d --name api myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker network create app-net
    docker run -d --name api --network app-net myorg/api:3.2
    ```
    """

    id = "DA407"
    name = "default-bridge"
    severity = Severity.INFO
    profile = "cis"
    sources = BOTH
    cis = "5.30"
    theme = THEME
    service_only = True

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if not known(spec.network_mode):
            return
        mode = _mode(spec)
        if mode is None:
            if spec.networks or spec.incomplete:
                return
            yield Violation(
                "no --network: the container is on the default bridge, without name resolution",
                None,
                "create a network (docker network create app-net) and add --network app-net",
            )
        elif mode in ("bridge", "default"):
            loc = None if spec.origin.source is Source.LIVE else spec.where("network_mode")
            yield Violation(
                f"--network {mode} is the default bridge, without name resolution",
                loc,
                "create a network (docker network create app-net) and use --network app-net",
            )


class RandomHostPort(Rule):
    """A port is published without a host port.

    `-p 80` publishes the container port on a random host port that changes
    every time the container starts: clients and firewall rules cannot rely
    on it. Name the host port.

    **Anti-pattern**
    ```bash
    docker run -d -p 127.0.0.1::80 nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d -p 127.0.0.1:8080:80 nginx:1.25
    ```
    """

    id = "DA408"
    name = "random-host-port"
    severity = Severity.INFO
    purposes = frozenset({"deploy"})  # tests and examples want a free port
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if _ports_ignored(spec):
            return
        for loc, bindings in _by_flag(spec):
            random = [b for b in bindings if known(b.host_port) and b.host_port == ""]
            if random:
                port = random[0].container_port
                yield Violation(
                    f"-p {_shown(random[0])} publishes port {port} on a random host port that "
                    "changes on every start",
                    loc,
                    f"name the host port, e.g. -p 127.0.0.1:{port}:{port}",
                )
