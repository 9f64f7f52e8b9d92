"""DA9xx: the script as a whole — names, networks and ports across commands, host-wide removals.

These rules read a script's docker commands in order and keep track of what
it creates and removes. Whatever they cannot see (a name from a variable, a
removal of ``$(…)``) makes them forget rather than guess: a removal nobody can
read may have removed anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from dockaudit.model import (
    ContainerSpec,
    DockerCommand,
    Location,
    Mount,
    OptionUse,
    PortBinding,
    Script,
    ScriptCommand,
    Severity,
    Word,
    known,
)
from dockaudit.rulebase import STATIC, Option, Rule, RuleContext, Violation, substituted_commands
from dockaudit.spelling import SpellingIndex, closest
from dockaudit_rules._common import option
from dockaudit_rules.stateful import stateful_data_dirs

THEME = "script"

CREATES = (("run",), ("create",))
# Subcommands whose operands are all container names, and those with one container first.
ALL_OPERANDS_CONTAINERS = frozenset({
    ("start",), ("stop",), ("restart",), ("kill",), ("rm",), ("wait",), ("pause",), ("unpause",),
})
FIRST_OPERAND_CONTAINER = frozenset({("exec",), ("logs",), ("attach",), ("top",), ("port",)})
REMOVES = ("rm",)
STOPS = frozenset({("stop",), ("kill",)})
CONTAINER_PRUNE = frozenset({("container", "prune"), ("prune",)})
SYSTEM_PRUNE = ("system", "prune")
SPECIAL_NETWORKS = frozenset({"host", "none", "bridge", "default"})


# --- small helpers -------------------------------------------------------


_TRAILING_NUMBER = re.compile(r"\d+$")


def numbered_siblings(name: str, candidate: str) -> bool:
    """Whether two names differ only in their number (web1/web2): different containers on purpose."""
    return _TRAILING_NUMBER.sub("", candidate) == _TRAILING_NUMBER.sub("", name)


def near_miss(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate *name* was probably meant to be: a typo away, not a sibling (web1/web2)."""
    return closest(name, candidates, skip=numbered_siblings)


def container_name(value: Any) -> str | None:
    """A known container name as the engine keys it (no leading slash)."""
    if value is None or not known(value):
        return None
    name = str(value).strip().lstrip("/")
    return name or None


def word_value(word: Word) -> str | None:
    return word.value if word.is_known and not word.splits else None


def option_value(use: OptionUse) -> str | None:
    value = use.value_text
    return str(value) if value is not None and known(value) else None


def is_create(entry: ScriptCommand) -> bool:
    return entry.command.subcommand in CREATES and entry.spec is not None


def spec_name(spec: ContainerSpec) -> str | None:
    return container_name(spec.name)


def removed_names(command: DockerCommand) -> tuple[set[str], bool]:
    """Names a ``docker rm`` (or ``stop``/``kill`` for --rm containers) acts on, and whether
    some operand could not be read (then it may have acted on anything)."""
    names: set[str] = set()
    unreadable = command.incomplete
    for word in command.operands:
        value = word_value(word)
        if value is None:
            unreadable = True
        else:
            names.add(value.lstrip("/"))
    return names, unreadable


@dataclass
class _Tracked:
    """A container the script has created and not yet removed."""

    name: str | None
    spec: ContainerSpec
    command: DockerCommand
    order: int = 0  # creation order among the script's containers


class ContainerLedger:
    """Which containers exist at each point of a script, as far as it can be told.

    Containers are kept by creation order and by name, so every command costs
    what it touches, not what the script created before it.
    """

    def __init__(self) -> None:
        self._alive: dict[int, _Tracked] = {}  # by creation order
        self._named: dict[str, list[int]] = {}  # name -> the alive containers under it, oldest first
        self._auto_remove: dict[int, _Tracked] = {}
        self._created = 0

    @property
    def alive(self) -> Iterable[_Tracked]:
        """The containers alive now, oldest first."""
        return self._alive.values()

    def by_name(self, name: str) -> _Tracked | None:
        orders = self._named.get(name)
        return self._alive[orders[0]] if orders else None

    def added(self, tracked: _Tracked) -> None:
        """Called when *tracked* starts to exist; subclasses index it further."""

    def dropped(self, tracked: _Tracked) -> None:
        """Called when *tracked* is removed."""

    def _add(self, tracked: _Tracked) -> None:
        self._created += 1
        tracked.order = self._created
        self._alive[tracked.order] = tracked
        if tracked.name is not None:
            self._named.setdefault(tracked.name, []).append(tracked.order)
        if tracked.spec.auto_remove:
            self._auto_remove[tracked.order] = tracked
        self.added(tracked)

    def _drop(self, tracked: _Tracked) -> None:
        del self._alive[tracked.order]
        self._auto_remove.pop(tracked.order, None)
        if tracked.name is not None:
            orders = self._named[tracked.name]
            orders.remove(tracked.order)
            if not orders:
                del self._named[tracked.name]
        self.dropped(tracked)

    def clear(self) -> None:
        for tracked in list(self._alive.values()):
            self._drop(tracked)

    def forget(self, names: set[str], everything: bool) -> None:
        if everything:
            self.clear()
            return
        for name in names:
            for order in list(self._named.get(name, ())):
                self._drop(self._alive[order])

    def _rename(self, tracked: _Tracked, new: str | None) -> None:
        if tracked.name is not None:
            orders = self._named[tracked.name]
            orders.remove(tracked.order)
            if not orders:
                del self._named[tracked.name]
        tracked.name = new
        if new is not None:
            orders = self._named.setdefault(new, [])
            orders.append(tracked.order)
            orders.sort()

    def apply(self, entry: ScriptCommand) -> None:
        """Update the ledger after *entry* ran."""
        command = entry.command
        sub = command.subcommand
        if is_create(entry):
            spec = entry.spec
            assert spec is not None
            # A foreground --rm run removes itself before the next command runs.
            if not (spec.auto_remove and spec.subcommand == "run" and not spec.detach):
                self._add(_Tracked(spec_name(spec), spec, command))
        elif sub == REMOVES:
            names, unreadable = removed_names(command)
            self.forget(names, unreadable)
        elif sub in STOPS:
            names, unreadable = removed_names(command)
            if unreadable:
                for tracked in list(self._auto_remove.values()):
                    self._drop(tracked)
            else:
                for name in names:
                    for order in list(self._named.get(name, ())):
                        if order in self._auto_remove:
                            self._drop(self._alive[order])
        elif sub in CONTAINER_PRUNE or sub == SYSTEM_PRUNE:
            self.clear()  # stopped ones are gone; which ones were stopped is unknown
        elif sub == ("rename",) and len(command.operands) == 2:
            old, new = (word_value(w) for w in command.operands)
            tracked = self.by_name(old.lstrip("/")) if old else None
            if tracked is not None:
                self._rename(tracked, new.lstrip("/") if new else None)


def _line_of(command: DockerCommand) -> int:
    return command.loc.line


# --- DA901 ---------------------------------------------------------------


class DuplicateName(Rule):
    """A container name is used twice with no removal in between.

    The second `docker run --name web` fails with "Conflict. The container
    name "/web" is already in use" while the first container exists, stopped
    or not. Remove it first (`docker rm -f web`), or give each its own name.

    **Anti-pattern**
    ```bash
    docker run -d --name web nginx:1.25
    docker run -d --name web -p 8080:80 nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --name web nginx:1.25
    docker rm -f web
    docker run -d --name web -p 8080:80 nginx:1.25
    ```
    """

    id = "DA901"
    name = "duplicate-name"
    severity = Severity.ERROR
    sources = STATIC
    theme = THEME

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        ledger = ContainerLedger()
        for entry in script.commands:
            if is_create(entry):
                assert entry.spec is not None
                name = spec_name(entry.spec)
                earlier = ledger.by_name(name) if name else None
                if earlier is not None:
                    use = entry.command.option("--name")
                    yield Violation(
                        f'--name {name}: a container named "{name}" was already created on line '
                        f"{_line_of(earlier.command)} and not removed since, so this command fails",
                        use.loc if use is not None else entry.spec.where("name"),
                        f"remove the first one before (docker rm -f {name}) or use another name",
                    )
            ledger.apply(entry)


# --- DA902 ---------------------------------------------------------------


def _created_names(script: Script) -> SpellingIndex:
    names = (name for e in script.commands if is_create(e) and (name := spec_name(e.spec)))
    return SpellingIndex(names, skip=numbered_siblings)


def container_references(command: DockerCommand) -> Iterator[tuple[str, str, Location]]:
    """(what, container name, location) for every container *command* names."""
    sub = command.subcommand
    if sub in CREATES:
        for use in command.all("--link"):
            value = option_value(use)
            if value:
                yield "--link", value.split(":", 1)[0].lstrip("/"), use.loc
        for use in command.all("--volumes-from"):
            value = option_value(use)
            if value:
                yield "--volumes-from", value.split(":", 1)[0], use.loc
        for flag in ("--network", "--pid", "--ipc"):
            for use in command.all(flag):
                value = option_value(use)
                if value and value.startswith("container:"):
                    yield f"{flag} container:", value.split(":", 1)[1], use.loc
    elif sub in ALL_OPERANDS_CONTAINERS or sub in FIRST_OPERAND_CONTAINER:
        operands = command.operands if sub in ALL_OPERANDS_CONTAINERS else command.operands[:1]
        for word in operands:
            value = word_value(word)
            if value:
                yield f"docker {' '.join(sub)}", value.lstrip("/"), word.loc
    elif sub in (("network", "connect"), ("network", "disconnect")) and len(command.operands) >= 2:
        word = command.operands[1]
        value = word_value(word)
        if value:
            yield f"docker {' '.join(sub)}", value, word.loc


_CONTAINER_ID = re.compile(r"^[0-9a-f]{12,64}$")


class UnknownContainer(Rule):
    """A command names a container the script never creates, next to one it does.

    `--link wordpresdb` when the script created `wordpressdb` is a typo that
    only shows when the script runs: "No such container". Reported only when
    a created name is within an edit or two, so containers made elsewhere are
    left alone.

    **Anti-pattern**
    ```bash
    docker run -d --name wordpressdb mysql:8.0
    docker run -d --link wordpresdb:mysql --name wordpress wordpress:6.4
    ```

    **Best practice**
    ```bash
    docker run -d --name wordpressdb mysql:8.0
    docker run -d --link wordpressdb:mysql --name wordpress wordpress:6.4
    ```
    """

    id = "DA902"
    name = "unknown-container"
    severity = Severity.WARNING
    sources = STATIC
    theme = THEME

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        created = _created_names(script)
        if not created:
            return
        for entry in script.commands:
            for what, name, loc in container_references(entry.command):
                if name in created or _CONTAINER_ID.match(name):
                    continue
                guess = created.closest(name)
                if guess is None:
                    continue
                yield Violation(
                    f'{what} {name}: no container "{name}" is created in this script; did you mean "{guess}"?',
                    loc,
                    f'use "{guess}"',
                )


# --- DA903 ---------------------------------------------------------------


def network_create_name(command: DockerCommand) -> tuple[str | None, Word | None]:
    if command.subcommand != ("network", "create") or not command.operands:
        return None, None
    word = command.operands[-1]
    return word_value(word), word


def network_references(command: DockerCommand) -> Iterator[tuple[str, str, Location]]:
    if command.subcommand in CREATES:
        for use in command.all("--network"):
            value = option_value(use)
            if value and ":" not in value and value not in SPECIAL_NETWORKS:
                yield "--network", value, use.loc
    elif command.subcommand in (("network", "connect"), ("network", "disconnect")) and command.operands:
        word = command.operands[0]
        value = word_value(word)
        if value and value not in SPECIAL_NETWORKS:
            yield f"docker {' '.join(command.subcommand)}", value, word.loc


class UnknownNetwork(Rule):
    """A command names a network the script never creates, next to one it does.

    `--network app_net` when the script created `app-net` is a typo the
    engine reports only when the container starts: "network app_net not
    found". Reported only when a created network is within an edit or two of
    the name used, so networks made elsewhere are left alone.

    **Anti-pattern**
    ```bash
    docker network create app-net
    docker run -d --network app_net --name api myorg/api:1.8
    ```

    **Best practice**
    ```bash
    docker network create app-net
    docker run -d --network app-net --name api myorg/api:1.8
    ```
    """

    id = "DA903"
    name = "unknown-network"
    severity = Severity.WARNING
    sources = STATIC
    theme = THEME

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        created = SpellingIndex(
            (name for e in script.commands if (name := network_create_name(e.command)[0])),
            skip=numbered_siblings,
        )
        if not created:
            return
        for entry in script.commands:
            for what, name, loc in network_references(entry.command):
                if name in created:
                    continue
                guess = created.closest(name)
                if guess is None:
                    continue
                yield Violation(
                    f'{what} {name}: no network "{name}" is created in this script; did you mean "{guess}"?',
                    loc,
                    f'use "{guess}"',
                )


# --- DA904 ---------------------------------------------------------------


def port_range(text: str) -> tuple[int, int] | None:
    try:
        low, _, high = text.partition("-")
        start = int(low)
        end = int(high) if high else start
    except ValueError:
        return None
    return (start, end) if start <= end else None


def _ip_family(host_ip: str) -> str:
    """"" (every address), or "4"/"6"."""
    if host_ip in ("",):
        return ""
    return "6" if ":" in host_ip else "4"


def addresses_overlap(a: str, b: str) -> bool:
    a, b = a.strip("[]"), b.strip("[]")
    if a == b or a == "" or b == "":
        return True
    if _ip_family(a) != _ip_family(b):
        return False
    wildcard = {"0.0.0.0", "::"}
    return a in wildcard or b in wildcard


def bindings_clash(a: PortBinding, b: PortBinding) -> bool:
    if a.protocol != b.protocol or not addresses_overlap(a.host_ip, b.host_ip):
        return False
    ra, rb = port_range(a.host_port), port_range(b.host_port)
    if ra is None or rb is None:
        return False
    if ra[0] != ra[1] and rb[0] != rb[1]:
        return False  # two ranges: the engine picks a free port from each
    return ra[0] <= rb[1] and rb[0] <= ra[1]


def fixed_bindings(spec: ContainerSpec) -> list[PortBinding]:
    """Published ports with a known, fixed host port."""
    return [
        p for p in spec.ports
        if known(p.host_ip) and known(p.host_port) and p.host_port != "" and port_range(p.host_port)
    ]


def _address(binding: PortBinding) -> str:
    ip = binding.host_ip or "0.0.0.0"
    ip = f"[{ip.strip('[]')}]" if ":" in ip else ip
    return f"{ip}:{binding.host_port}/{binding.protocol}"


class DuplicateHostPort(Rule):
    """Two containers publish the same host address and port.

    Only one socket can listen on an address and port: the second container
    is created but fails to start with "port is already allocated". A
    foreground container frees its ports when it exits; a removal frees them too.

    **Anti-pattern**
    ```bash
    docker run -d -p 8080:80 --name blue myorg/web:1.0
    docker run -d -p 8080:80 --name green myorg/web:1.1
    ```

    **Best practice**
    ```bash
    docker run -d -p 8080:80 --name blue myorg/web:1.0
    docker run -d -p 8081:80 --name green myorg/web:1.1
    ```
    """

    id = "DA904"
    name = "duplicate-host-port"
    severity = Severity.ERROR
    sources = STATIC
    theme = THEME

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        ledger = PublishedPorts()
        for entry in script.commands:
            spec = entry.spec
            if is_create(entry) and spec is not None:
                for binding in fixed_bindings(spec):
                    clash = ledger.first_clash(binding)
                    if clash is None:
                        continue
                    tracked, other = clash
                    who = f'"{tracked.name}"' if tracked.name else "another container"
                    yield Violation(
                        f"host port {_address(binding)} is already published by {who} "
                        f"(line {_line_of(tracked.command)}, {_address(other)}): this container fails to start",
                        binding.loc or spec.where("ports"),
                        "publish another host port, or remove the other container first",
                    )
            ledger.apply(entry)


def _holds_ports(spec: ContainerSpec) -> bool:
    """Containers still holding ports when the next command runs: detached runs and creates
    (a created container takes its ports when it starts)."""
    return spec.subcommand == "create" or spec.detach


_Published = tuple[_Tracked, int, PortBinding]  # container, place among its bindings, binding


class PublishedPorts(ContainerLedger):
    """The ledger, with the fixed host ports its containers hold indexed by protocol and port."""

    def __init__(self) -> None:
        super().__init__()
        self._single: dict[tuple[str, int], list[_Published]] = {}  # one host port
        self._ranges: dict[int, list[_Published]] = {}  # a host port range, by container

    def added(self, tracked: _Tracked) -> None:
        if not _holds_ports(tracked.spec):
            return
        for place, binding in enumerate(fixed_bindings(tracked.spec)):
            low, high = port_range(binding.host_port) or (0, 0)
            if low == high:
                self._single.setdefault((binding.protocol, low), []).append((tracked, place, binding))
            else:
                self._ranges.setdefault(tracked.order, []).append((tracked, place, binding))

    def dropped(self, tracked: _Tracked) -> None:
        if not _holds_ports(tracked.spec):
            return
        self._ranges.pop(tracked.order, None)
        for binding in fixed_bindings(tracked.spec):
            low, high = port_range(binding.host_port) or (0, 0)
            key = (binding.protocol, low)
            if low == high and key in self._single:
                self._single[key] = [p for p in self._single[key] if p[0] is not tracked]
                if not self._single[key]:
                    del self._single[key]

    def _near(self, binding: PortBinding) -> Iterator[_Published]:
        """Published ports that may clash with *binding*: the same port, or a range around it."""
        low, high = port_range(binding.host_port) or (0, 0)
        if low == high:
            yield from self._single.get((binding.protocol, low), ())
        elif high - low < len(self._single):
            for port in range(low, high + 1):
                yield from self._single.get((binding.protocol, port), ())
        else:
            for (protocol, port), published in self._single.items():
                if protocol == binding.protocol and low <= port <= high:
                    yield from published
        for published in self._ranges.values():
            yield from published

    def first_clash(self, binding: PortBinding) -> tuple[_Tracked, PortBinding] | None:
        """The port of the oldest alive container that *binding* clashes with, if any."""
        clashes = [(t.order, place, t, other) for t, place, other in self._near(binding)
                   if bindings_clash(binding, other)]
        if not clashes:
            return None
        _, _, tracked, other = min(clashes, key=lambda c: c[:2])
        return tracked, other


# --- DA905 ---------------------------------------------------------------

# Filters that pick the script's own containers (by what it named or made: a label, a name,
# an image, a volume, a network, a published port); status=, before=, since=, … still reach
# everyone's.
OWNING_FILTERS = ("label", "name", "id", "ancestor", "volume", "network", "publish", "expose")


def _owning_filter(value: str) -> bool:
    return value.split("=", 1)[0].lower() in OWNING_FILTERS


def lists_every_container(word: Word) -> bool:
    """Whether a ``$(docker ps …)`` word lists other people's containers too.

    The ``docker ps`` (``container ls``) inside is read by the grammar: a filter
    that selects the script's own containers, one that cannot be seen (``$F``),
    ``--last``/``--latest``, or output piped on (``| grep web``) narrow the list.
    """
    for command, after in substituted_commands(word):
        if command.subcommand != ("ps",) or command.incomplete or after.lstrip(" \t").startswith("|"):
            continue
        if command.option("--last") or command.option("--latest"):
            continue
        filters = [use.value_text for use in command.all("--filter")]
        if any(value is not None and (not known(value) or _owning_filter(value)) for value in filters):
            continue
        return True
    return False


def _label_filtered(command: DockerCommand) -> bool:
    """Whether a prune is narrowed to containers or volumes carrying a label of the script's."""
    return any(
        (value := option_value(use)) is not None and value.startswith("label")
        for use in command.all("--filter")
    )


class RemovesAllContainers(Rule):
    """The script stops or removes every container on the host, not only its own.

    `docker rm -f $(docker ps -aq)` and `docker container prune` reach
    containers other scripts, other users and other services started. Name
    the containers, or select them by a label the script sets.

    **Anti-pattern**
    ```bash
    docker rm -f $(docker ps -aq)
    ```

    **Best practice**
    ```bash
    docker rm -f $(docker ps -aq --filter label=com.example.stack=ci)
    ```
    """

    id = "DA905"
    name = "removes-all-containers"
    severity = Severity.WARNING
    purposes = frozenset({"deploy", "ci-test", "build", "doc"})  # a dev cleanup helper means it
    sources = STATIC
    theme = THEME
    subcommands = frozenset({("rm",), ("stop",), ("kill",), *CONTAINER_PRUNE, SYSTEM_PRUNE})

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        sub = command.subcommand
        if sub in (("rm",), ("stop",), ("kill",)):
            for word in command.operands:
                if lists_every_container(word):
                    verb = {"rm": "removes", "stop": "stops", "kill": "kills"}[sub[0]]
                    yield Violation(
                        f"docker {sub[0]} {word.text} {verb} every container on the host",
                        word.loc,
                        "name the containers, or select them with --filter label=… set by this script",
                    )
        elif (sub in CONTAINER_PRUNE or sub == SYSTEM_PRUNE) and not _label_filtered(command):
            yield Violation(
                f"docker {' '.join(sub)} removes every stopped container on the host, not only this script's",
                None,
                "remove the script's own containers by name, or add --filter label=… set by this script",
            )


# --- DA906 ---------------------------------------------------------------


def _bool_option(command: DockerCommand, name: str) -> OptionUse | None:
    use = command.option(name)
    if use is None:
        return None
    value = use.value_text
    if value is None or (known(value) and str(value).lower() in ("true", "1")):
        return use
    return None


def unmounted_data_dirs(spec: ContainerSpec, dirs: Iterable[str]) -> list[str] | None:
    """Data directories of *spec* not on a named volume or bind mount; None if unknowable."""
    persistent: list[Mount] = []
    for mount in spec.mounts:
        if not known(mount.target):
            return None
        if mount.type in ("bind", "volume") and not mount.anonymous:
            persistent.append(mount)
    missing = []
    for directory in dirs:
        covered = any(
            directory == m.target.rstrip("/") or directory.startswith(m.target.rstrip("/") + "/")
            for m in persistent
        )
        if not covered:
            missing.append(directory)
    return missing


class RemovesVolumes(Rule):
    """The script deletes volumes, and the data in them.

    `docker volume prune` and `docker system prune --volumes` delete every
    unused volume on the host; `docker rm -v` deletes a container's anonymous
    volumes, which for a database started without a named volume is the
    database.

    **Anti-pattern**
    ```bash
    docker run -d --name db postgres:16
    docker rm -fv db
    ```

    **Best practice**
    ```bash
    docker run -d --name db -v pgdata:/var/lib/postgresql/data postgres:16
    docker rm -f db
    ```
    """

    id = "DA906"
    name = "removes-volumes"
    severity = Severity.WARNING
    sources = STATIC
    theme = THEME
    options: ClassVar[Mapping[str, Option]] = {
        "extra-stateful-images": Option(
            {}, dict, "more stateful images: image name -> data directories", item_type=list
        ),
    }

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        extra = option(self, ctx, "extra-stateful-images")
        ledger = ContainerLedger()
        for entry in script.commands:
            command = entry.command
            sub = command.subcommand
            if sub == ("volume", "prune") and not _label_filtered(command):
                yield Violation(
                    "docker volume prune deletes every unused volume on the host, with its data",
                    command.loc,
                    "remove the script's own volumes by name (docker volume rm NAME)",
                )
            elif sub == SYSTEM_PRUNE:
                use = _bool_option(command, "--volumes")
                if use is not None:
                    yield Violation(
                        "docker system prune --volumes deletes every unused volume on the host, with its data",
                        use.loc,
                        "drop --volumes; remove the script's own volumes by name",
                    )
            elif sub == REMOVES:
                use = _bool_option(command, "--volumes")
                if use is not None:
                    yield from self._rm_volumes(command, use, ledger, extra)
            ledger.apply(entry)

    def _rm_volumes(
        self, command: DockerCommand, use: OptionUse, ledger: ContainerLedger, extra: Mapping[str, Any]
    ) -> Iterator[Violation]:
        for word in command.operands:
            name = word_value(word)
            tracked = ledger.by_name(name.lstrip("/")) if name else None
            if tracked is None:
                continue
            dirs = stateful_data_dirs(tracked.spec.image, extra, command=_known_words(tracked.spec.command))
            if dirs is None:
                continue
            missing = unmounted_data_dirs(tracked.spec, dirs)
            if not missing:
                continue
            yield Violation(
                f"docker rm {use.spelled} {name} deletes the anonymous volume holding the data of "
                f"{tracked.spec.image.raw} ({', '.join(missing)})",
                use.loc,
                "drop -v, and give the container a named volume for its data",
            )


def _known_words(words: tuple[Any, ...]) -> list[str] | None:
    return [str(w) for w in words] if all(known(w) for w in words) else None


# --- DA907 ---------------------------------------------------------------


class NetworkCreateInvalid(Rule):
    """`docker network create` with addresses that do not fit together.

    `--ip-range` and `--gateway` must lie inside a `--subnet`; a subnet must
    be a valid CIDR with no host bits; and subnets of two networks must not
    overlap. The engine refuses such a network ("no matching subnet",
    "Pool overlaps with other one on this address space").

    **Anti-pattern**
    ```bash
    docker network create --subnet 172.28.0.0/16 --gateway 172.29.0.1 backend
    ```

    **Best practice**
    ```bash
    docker network create --subnet 172.28.0.0/16 --ip-range 172.28.5.0/24 --gateway 172.28.5.254 backend
    ```
    """

    id = "DA907"
    name = "network-create-invalid"
    severity = Severity.ERROR
    sources = STATIC
    theme = THEME

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        created: dict[str, list[tuple[Any, int]]] = {}  # network -> [(subnet, line)]
        for entry in script.commands:
            command = entry.command
            if command.subcommand == ("network", "rm"):
                names, unreadable = removed_names(command)
                if unreadable:
                    created.clear()
                for name in names:
                    created.pop(name, None)
                continue
            if command.subcommand != ("network", "create"):
                continue
            name, _ = network_create_name(command)
            subnets: list[Any] = []
            for use in command.all("--subnet"):
                value = option_value(use)
                if value is None:
                    continue
                subnet, problem = parse_subnet(value)
                if problem:
                    yield Violation(f"--subnet {value}: {problem}", use.loc, _subnet_fix(value, subnet))
                if subnet is None:
                    continue
                for other_name, others in created.items():
                    for other, line in others:
                        if other.version == subnet.version and other.overlaps(subnet):
                            yield Violation(
                                f'--subnet {value} overlaps {other} of network "{other_name}" '
                                f"(line {line}): the engine refuses overlapping pools",
                                use.loc,
                                "choose a subnet that does not overlap the other networks",
                            )
                for other in subnets:
                    if other.version == subnet.version and other.overlaps(subnet):
                        yield Violation(
                            f"--subnet {value} overlaps --subnet {other} of the same network",
                            use.loc,
                            "give each subnet its own address range",
                        )
                subnets.append(subnet)
            yield from self._inside(command, "--ip-range", subnets, parse_range=True)
            yield from self._inside(command, "--gateway", subnets, parse_range=False)
            if name:
                created[name] = [(s, command.loc.line) for s in subnets]

    def _inside(
        self, command: DockerCommand, flag: str, subnets: list[Any], *, parse_range: bool
    ) -> Iterator[Violation]:
        import ipaddress
        has_subnet = bool(command.all("--subnet"))
        for use in command.all(flag):
            value = option_value(use)
            if value is None:
                continue
            try:
                if parse_range:
                    item: Any = ipaddress.ip_network(value, strict=False)
                else:
                    item = ipaddress.ip_address(value)
            except ValueError:
                kind = "CIDR" if parse_range else "IP address"
                yield Violation(f"{flag} {value} is not a valid {kind}", use.loc, f"give a valid {kind}")
                continue
            if not has_subnet:
                yield Violation(
                    f"{flag} {value} without --subnet: the engine needs a subnet to put it in",
                    use.loc,
                    f"add a --subnet that contains {value}",
                )
                continue
            if not subnets:
                continue  # the subnets are invalid or unknown: reported above, or unknowable
            inside = any(
                s.version == item.version and (item.subnet_of(s) if parse_range else item in s)
                for s in subnets
            )
            if not inside:
                yield Violation(
                    f"{flag} {value} is outside --subnet {', '.join(str(s) for s in subnets)}",
                    use.loc,
                    f"choose a {flag.lstrip('-')} inside the subnet",
                )


def parse_subnet(value: str) -> tuple[Any, str | None]:
    """The network of a ``--subnet`` value and what is wrong with it, if anything."""
    import ipaddress
    if "/" not in value:
        return None, "not a CIDR (address/prefix length)"
    try:
        return ipaddress.ip_network(value, strict=True), None
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None, "not a valid CIDR"
    return network, f"has host bits set: the network is {network}"


def _subnet_fix(value: str, subnet: Any) -> str:
    return f"use --subnet {subnet}" if subnet is not None else "give a CIDR such as 172.28.0.0/16"


# --- DA908 ---------------------------------------------------------------


def _special_mode(spec: ContainerSpec) -> str | None:
    mode = spec.network_mode
    if mode is None or not known(mode):
        return None
    mode = str(mode)
    if mode in ("host", "none") or mode.startswith("container:"):
        return mode
    return None


class NetworkConnectSpecial(Rule):
    """`docker network connect`/`disconnect` with the host or none network, or a container sharing a namespace.

    The `host` and `none` networks cannot be connected or disconnected at
    run time, and a container started with `--network host`, `none` or
    `container:X` has no network interfaces of its own to attach: the engine
    refuses the command.

    **Anti-pattern**
    ```bash
    docker run -d --network host --name agent myorg/agent:3.2
    docker network connect backend agent
    ```

    **Best practice**
    ```bash
    docker network create backend
    docker run -d --network backend --name agent myorg/agent:3.2
    ```
    """

    id = "DA908"
    name = "network-connect-special"
    severity = Severity.ERROR
    sources = STATIC
    theme = THEME

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        ledger = ContainerLedger()
        for entry in script.commands:
            command = entry.command
            sub = command.subcommand
            if sub in (("network", "connect"), ("network", "disconnect")) and command.operands:
                verb = sub[1]
                network_word = command.operands[0]
                network = word_value(network_word)
                if network in ("host", "none"):
                    yield Violation(
                        f"docker network {verb} {network}: the {network} network cannot be "
                        f"{verb}ed at run time",
                        network_word.loc,
                        f"start the container with --network {network} instead",
                    )
                elif len(command.operands) >= 2:
                    container_word = command.operands[1]
                    name = word_value(container_word)
                    tracked = ledger.by_name(name.lstrip("/")) if name else None
                    mode = _special_mode(tracked.spec) if tracked is not None else None
                    if mode is not None:
                        yield Violation(
                            f"docker network {verb} {network or '…'} {name}: {name} runs with --network "
                            f"{mode} (line {_line_of(tracked.command)}) and has no networks of its own",
                            container_word.loc,
                            f"start {name} on a user-defined network instead of --network {mode}",
                        )
            ledger.apply(entry)
