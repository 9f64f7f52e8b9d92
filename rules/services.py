"""Checks only a Swarm service can fail: restart conditions, Swarm secrets, ingress ports, placement.

Each rule reads the `ServiceSpec` of a spec and stays silent for plain
containers; the container rules apply to services as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockaudit.model import ContainerSpec, Severity, known
from dockaudit.rulebase import BOTH, Rule, RuleContext, Violation
from dockaudit_rules._common import option
from dockaudit_rules.credentials import credential_shaped
from dockaudit_rules.stateful import stateful_data_dirs
from dockaudit_rules.storage import _STATEFUL_OPTION


class RestartAnyUnbounded(Rule):
    """A service restarts on any exit, with no limit on attempts.

    `--restart-condition any` is the default of `docker service create`: a
    task that exits, even successfully, is replaced, and one that crashes at
    start-up is replaced forever. The crash loop is hidden behind ever-new
    tasks (each with a new container and log), keeps pulling and scheduling,
    and never settles into a failed state anyone is alerted to. Bound the
    attempts, or restart only on failure.

    **Anti-pattern**
    ```bash
    docker service create --name api --limit-memory 256m registry.example.com/api:1.4
    ```

    **Best practice**
    ```bash
    docker service create --name api --limit-memory 256m --restart-condition on-failure --restart-max-attempts 5 registry.example.com/api:1.4
    ```
    """

    id = "DA311"
    name = "restart-any-unbounded"
    severity = Severity.INFO
    sources = BOTH
    theme = "lifecycle"

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        service = spec.service
        if service is None or spec.incomplete or service.mode not in ("replicated", "global"):
            return
        attempts = service.restart_max_attempts
        if service.restart_condition != "any" or not known(attempts) or (attempts or 0) > 0:
            return
        yield Violation(
            "the service's tasks are restarted on any exit, without a limit on attempts",
            spec.where("restart_condition") if "restart_condition" in spec.locations else None,
            "add --restart-max-attempts N (and --restart-condition on-failure for a task that may finish)",
        )


class SecretInServiceEnv(Rule):
    """A service takes a credential from its environment instead of a Swarm secret.

    A Swarm has `docker secret`: secrets are stored encrypted in the Raft log,
    sent only to the nodes that run the service's tasks, and mounted as files
    under `/run/secrets/`. A variable is stored in the service spec, shown by
    `docker service inspect` to anyone who can talk to a manager, copied into
    every task container's configuration, and inherited by every process.

    **Anti-pattern**
    ```bash
    docker service create --name db -e POSTGRES_PASSWORD="$PG_PASSWORD" postgres:16
    ```

    **Best practice**
    ```bash
    docker service create --name db --secret pg_password -e POSTGRES_PASSWORD_FILE=/run/secrets/pg_password postgres:16
    ```
    """

    id = "DA804"
    name = "secret-in-service-env"
    severity = Severity.WARNING
    sources = BOTH
    theme = "secrets"

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.service is None:
            return
        for var in spec.env:
            if known(var.key) and credential_shaped(var.key):
                yield Violation(
                    f"the service passes {var.key} as an environment variable, not as a Swarm secret",
                    var.loc or spec.where("env"),
                    f"docker secret create {var.key.lower()} FILE, then --secret {var.key.lower()} and "
                    f"{var.key}_FILE=/run/secrets/{var.key.lower()} where the image supports it",
                )


class IngressPublishedPort(Rule):
    """A service port is published in ingress mode: every node of the Swarm listens on it.

    With the routing mesh (`--publish 8080:80`, the default mode) the port is
    opened on every node, managers included, whether or not the node runs a
    task, and traffic is forwarded across the overlay. A port meant for one
    entry point, or an internal port published by habit, is then exposed on
    the whole cluster. Publish in host mode on the nodes that run the task,
    behind a load balancer you choose, or not at all and use an overlay network.

    **Anti-pattern**
    ```bash
    docker service create --name web --limit-memory 128m --publish 8080:80 nginx:1.25
    ```

    **Best practice**
    ```bash
    docker service create --name web --limit-memory 128m --mode global --publish mode=host,published=8080,target=80 nginx:1.25
    ```
    """

    id = "DA409"
    name = "ingress-published-port"
    severity = Severity.WARNING
    sources = BOTH
    theme = "network"

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.service is None:
            return
        ingress = set(spec.service.ingress_ports)
        for binding in spec.ports:
            port = f"{binding.host_port}:{binding.container_port}/{binding.protocol}"
            if port not in ingress:
                continue
            yield Violation(
                f"port {port} is published in ingress mode: every node of the Swarm listens on it",
                binding.loc or spec.where("ports"),
                "publish with mode=host on the nodes that run the task, or attach clients to an overlay network",
            )


class SingleReplicaUnpinned(Rule):
    """A stateful service runs one replica with no placement constraint.

    Its data is in a volume local to the node it runs on. When the node is
    drained, restarted or lost, Swarm reschedules the task on any other node,
    where the volume is new and empty: the database starts blank, or two
    copies of the data diverge. Pin the service to the node (or node label)
    that holds its data, or use a volume driver that follows the task.

    **Anti-pattern**
    ```bash
    docker service create --name db --replicas 1 --mount type=volume,source=pgdata,target=/var/lib/postgresql/data postgres:16
    ```

    **Best practice**
    ```bash
    docker service create --name db --replicas 1 --constraint node.labels.db==true --mount type=volume,source=pgdata,target=/var/lib/postgresql/data postgres:16
    ```
    """

    id = "DA211"
    name = "single-replica-unpinned"
    severity = Severity.WARNING
    sources = BOTH
    theme = "storage"
    options = {"extra-stateful-images": _STATEFUL_OPTION}

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        service = spec.service
        if service is None or spec.incomplete or service.mode != "replicated" or service.constraints:
            return
        if service.replicas not in (None, 1):
            return
        dirs = stateful_data_dirs(spec.image, option(self, ctx, "extra-stateful-images"), command=spec.command)
        if dirs is None:
            return
        yield Violation(
            f"{spec.image.raw} runs as one replica that Swarm may move to any node, away from its data in "
            f"{dirs[0]}",
            spec.where("replicas") if "replicas" in spec.locations else None,
            "add --constraint node.hostname==NODE (or node.labels.KEY==VALUE) for the node that holds the data",
        )
