"""DA1xx: resource limits — memory, CPU, PIDs, swap, block I/O, disk size."""

from __future__ import annotations

from typing import Any, Iterable

from dockaudit.model import ContainerSpec, Severity, Source, known
from dockaudit.rulebase import BOTH, STATIC, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import for_subject, option

THEME = "resources"


def _unset(value: Any) -> bool:
    """True for a known "no limit": not given, or given as 0."""
    return known(value) and (value is None or value == 0)


class MemoryUnlimited(Rule):
    """The container has no memory limit.

    Without `-m/--memory` a container may take all the host's memory: one
    leak or traffic spike and the kernel's OOM killer picks victims across
    the whole host, other containers and the daemon included.

    **Anti-pattern**
    ```bash
    docker run -d --restart unless-stopped --name web nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped --name web -m 256m nginx:1.25
    ```
    """

    id = "DA101"
    name = "memory-unlimited"
    severity = Severity.WARNING
    sources = BOTH
    cis = "5.11"
    theme = THEME
    service_only = True

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if not _unset(spec.memory):
            return
        if spec.memory is None and "memory" not in spec.locations:
            if spec.incomplete:
                return
            yield Violation(
                for_subject(spec, "no memory limit: the container may use all of the host's memory",
                            "no --limit-memory: the service's tasks may use all of a node's memory"),
                None,
                for_subject(spec, "add -m/--memory sized for the workload, e.g. -m 512m",
                            "add --limit-memory sized for the workload, e.g. --limit-memory 512m"),
            )
        else:
            flag = for_subject(spec, "--memory", "--limit-memory")
            yield Violation(
                f"{flag} 0 means no memory limit: "
                + for_subject(spec, "the container may use all of the host's memory",
                              "the service's tasks may use all of a node's memory"),
                spec.where("memory"),
                f"give a real limit, e.g. {flag} 512m",
            )


class CpuUnlimited(Rule):
    """The container has no CPU limit or weight.

    Without `--cpus`, `--cpu-quota`, `--cpu-shares` or `--cpuset-cpus` a busy
    container competes equally for every CPU of the host and can starve the
    other containers on it.

    **Anti-pattern**
    ```bash
    docker run -d --restart unless-stopped --name worker myorg/worker:2.1
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped --name worker --cpus 1.5 myorg/worker:2.1
    ```
    """

    id = "DA102"
    name = "cpu-unlimited"
    severity = Severity.INFO
    purposes = frozenset({"deploy", "doc"})  # advice for services a reader deploys
    sources = BOTH
    cis = "5.12"
    theme = THEME
    service_only = True

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        values = (spec.nano_cpus, spec.cpu_quota, spec.cpu_shares, spec.cpuset_cpus)
        if not all(known(v) for v in values):
            return
        nano_cpus, quota, shares, cpuset = values
        limited = (
            (nano_cpus is not None and nano_cpus > 0)
            or (quota is not None and quota > 0)
            or (shares is not None and shares > 0)
            or bool(cpuset)
        )
        if limited or spec.incomplete:
            return
        yield Violation(
            for_subject(spec, "no CPU limit (--cpus, --cpu-quota, --cpu-shares or --cpuset-cpus): "
                              "the container competes for every CPU of the host",
                        "no CPU limit (--limit-cpu): the service's tasks compete for every CPU of a node"),
            None,
            for_subject(spec, "add --cpus with the share of CPUs it needs, e.g. --cpus 1",
                        "add --limit-cpu with the share of CPUs it needs, e.g. --limit-cpu 1"),
        )


class PidsUnlimited(Rule):
    """The container has no limit on the number of processes.

    Without `--pids-limit`, a fork bomb or a runaway worker pool inside the
    container exhausts the host's process table and takes other containers
    down with it.

    **Anti-pattern**
    ```bash
    docker run -d --restart unless-stopped --name api myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped --name api --pids-limit 200 myorg/api:3.2
    ```
    """

    id = "DA103"
    name = "pids-unlimited"
    severity = Severity.INFO
    purposes = frozenset({"deploy", "doc"})
    sources = BOTH
    cis = "5.29"
    theme = THEME
    service_only = True

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        limit = spec.pids_limit
        if not known(limit):
            return
        flag = for_subject(spec, "--pids-limit", "--limit-pids")
        if limit is None and "pids_limit" in spec.locations:  # -1 or 0, stored as no limit
            yield Violation(
                f"{flag} without a positive value means no limit on the number of processes",
                spec.where("pids_limit"),
                f"give a positive limit, e.g. {flag} 200",
            )
        elif limit is None:
            if not spec.incomplete:
                yield Violation(
                    for_subject(spec, "no --pids-limit: a fork bomb in the container can exhaust the host's "
                                      "process table",
                                "no --limit-pids: a fork bomb in a task can exhaust its node's process table"),
                    None,
                    f"add {flag}, e.g. {flag} 200",
                )
        elif limit <= 0:
            yield Violation(
                f"{flag} {limit} means no limit on the number of processes",
                spec.where("pids_limit"),
                f"give a positive limit, e.g. {flag} 200",
            )


class OomKillDisabledUnbounded(Rule):
    """`--oom-kill-disable` without a memory limit.

    With the OOM killer disabled and no `-m`, a container that runs out of
    memory is not killed: the host's OOM killer kills other processes
    instead, or the whole host hangs.

    **Anti-pattern**
    ```bash
    docker run -d --oom-kill-disable myorg/cache:1.4
    ```

    **Best practice**
    ```bash
    docker run -d -m 1g --oom-kill-disable myorg/cache:1.4
    ```
    """

    id = "DA104"
    name = "oom-kill-disabled-unbounded"
    severity = Severity.ERROR
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.oom_kill_disable is not True or not _unset(spec.memory):
            return
        if spec.memory is None and spec.incomplete:
            return
        yield Violation(
            "--oom-kill-disable without a memory limit: when the container runs out of memory "
            "the host's processes are killed instead",
            spec.where("oom_kill_disable"),
            "add -m/--memory, or drop --oom-kill-disable",
        )


class SwapUnlimited(Rule):
    """`--memory-swap -1` lets the container swap without limit.

    The memory limit then only bounds RAM: a leaking container keeps growing
    in swap, slowing down the whole host before anything is killed.

    **Anti-pattern**
    ```bash
    docker run -d -m 512m --memory-swap -1 myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d -m 512m --memory-swap 1g myorg/api:3.2
    ```
    """

    id = "DA105"
    name = "swap-unlimited"
    severity = Severity.INFO
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if known(spec.memory_swap) and spec.memory_swap == -1:
            yield Violation(
                "--memory-swap -1 allows unlimited swap: the memory limit no longer bounds "
                "what the container takes",
                spec.where("memory_swap"),
                "set --memory-swap to a size (memory + swap), e.g. twice -m",
            )


_THROTTLE_FLAGS = {
    "read-bps": "--device-read-bps",
    "write-bps": "--device-write-bps",
    "read-iops": "--device-read-iops",
    "write-iops": "--device-write-iops",
}


class BlkioBufferedOnly(Rule):
    """Block-I/O throttles only limit direct I/O.

    `--device-read-bps`, `--device-write-bps` and the `-iops` variants are
    enforced by the blkio controller on I/O that reaches the device directly
    (O_DIRECT). On cgroup v1 ordinary buffered writes go through the page
    cache and are not throttled, so the limit is often much weaker than it
    looks.

    **Anti-pattern**
    ```bash
    docker run -d --device-write-bps /dev/sda:10mb myorg/etl:1.0
    ```

    **Best practice**
    ```bash
    docker run -d --cpus 1 -m 1g myorg/etl:1.0
    ```
    """

    id = "DA106"
    name = "blkio-buffered-only"
    severity = Severity.INFO
    sources = STATIC
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        seen = set()
        for throttle in spec.blkio_throttles:
            loc = throttle.loc or spec.where("blkio_throttles")
            if loc in seen:
                continue
            seen.add(loc)
            flag = _THROTTLE_FLAGS.get(throttle.kind, f"--device-{throttle.kind}")
            device = throttle.path if known(throttle.path) else "the device"
            yield Violation(
                f"{flag} on {device} throttles only direct I/O: buffered writes through the "
                "page cache are not limited",
                loc,
                "do not rely on it alone; measure with buffered I/O, or use cgroup v2 io.max",
            )


class StorageOptSize(Rule):
    """`--storage-opt size=` is honoured only by some storage drivers.

    The writable-layer size limit works with overlay2 on xfs mounted with
    `pquota`, btrfs, zfs, devicemapper and windowsfilter. Other set-ups reject
    the container at create time ("--storage-opt is supported only for
    overlay over xfs with 'pquota' mount option"), so a script that works on
    one host fails on the next. On a live host the daemon's driver is known:
    the finding is a warning when that driver cannot honour the size, and is
    not reported when it can.

    **Anti-pattern**
    ```bash
    docker run -d --storage-opt size=10G myorg/builder:5
    ```

    **Best practice**
    ```bash
    docker run -d --mount type=volume,source=build-cache,target=/cache myorg/builder:5
    ```
    """

    id = "DA107"
    name = "storage-opt-size"
    severity = Severity.INFO
    sources = BOTH
    theme = THEME
    options = {
        "capable-drivers": Option(
            ["overlay2", "btrfs", "zfs", "devicemapper", "windowsfilter"],
            list,
            "storage drivers that enforce size= (a live container created with one of them "
            "has its limit in force)",
            item_type=str,
        ),
        "incapable-drivers": Option(
            ["aufs", "overlay", "fuse-overlayfs"],
            list,
            "storage drivers that do not support size=",
            item_type=str,
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if "size" not in spec.storage_opt:
            return
        size = spec.storage_opt["size"]
        shown = f"size={size}" if known(size) else "size="
        loc = spec.where("storage_opt")
        driver = ctx.host.storage_driver if ctx.host is not None else None
        if spec.origin.source is Source.LIVE and driver:
            if driver in option(self, ctx, "capable-drivers"):
                return
            if driver in option(self, ctx, "incapable-drivers"):
                yield Violation(
                    f"--storage-opt {shown}: the daemon's storage driver {driver} does not "
                    "support a size limit",
                    loc,
                    "limit disk use with a volume on a size-limited filesystem instead",
                    severity=Severity.WARNING,
                )
                return
        yield Violation(
            f"--storage-opt {shown} works only with overlay2 on xfs with pquota, btrfs, zfs "
            "or devicemapper: elsewhere the container is rejected",
            loc,
            "check the daemon's storage driver (docker info), or limit disk use with a volume",
        )
