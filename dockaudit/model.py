"""The data dockaudit reasons about: pure, frozen, source-independent.

Everything a rule sees is defined here. Scripts, saved inspect JSON and a live
engine are all turned into the same `ContainerSpec`, in the engine's own terms
(bytes, nano-CPUs, ``80/tcp`` keys, ``CAP_*`` names), so that one rule gives one
verdict whatever the source.

A value the linter cannot know (``"$IMAGE"``, ``${MEM:-512m}``, ``$(cat f)``) is
`UNKNOWN`: not empty, not a violation. Rules must say nothing about what they
cannot see; `known()` is the test to use.
"""

from __future__ import annotations

import enum
import operator
import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple


def _by_fields(cls: type) -> type:
    """Equality, hash and repr for a frozen dataclass made with eq=False and repr=False.

    They compare, hash and show the fields as the generated ones would. The
    generated ones are compiled from source for every class when its module
    is imported (76 fields for `ContainerSpec`): a sizeable share of a short
    run's start-up, paid for methods most runs never call.
    """
    names = tuple(f.name for f in fields(cls) if f.compare)
    shown = tuple(f.name for f in fields(cls) if f.repr)
    values = operator.attrgetter(*names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return values(self) == values(other)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __repr__(self: Any) -> str:
        return f"{cls.__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in shown) + ")"

    cls.__eq__ = __eq__  # type: ignore[method-assign]
    cls.__hash__ = __hash__  # type: ignore[method-assign]
    cls.__repr__ = __repr__  # type: ignore[method-assign]
    return cls


class _Unknown:
    """The single value that stands for "set, but not knowable statically"."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # an unknown must never pass for "set" or "unset" by accident
        raise TypeError("UNKNOWN has no truth value; test it with known()")

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def known(value: object) -> bool:
    """True when *value* is not `UNKNOWN` (None, meaning "not set", is known)."""
    return value is not UNKNOWN


# What a file is for: decided by dockaudit.intent, stated by configuration, and
# named by rules as the purposes they speak to.
PURPOSES = ("deploy", "ci-test", "build", "dev", "doc")


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``ERROR > WARNING > INFO``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None

    def __str__(self) -> str:
        return self.name.lower()


class Source(enum.StrEnum):
    """Where a container definition came from."""

    STATIC = "static"  # a script or Markdown file
    LIVE = "live"  # inspect JSON or a running engine


class Location(NamedTuple):
    """A span of a file, 1-based, end column inclusive of the last character + 1."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class ContainerRef(NamedTuple):
    """A container on an engine, for findings that come from inspect JSON or live.

    ``kind`` is "service" for a Swarm service, whose task containers it stands for."""

    id: str
    name: str
    kind: str = "container"


class EngineRef(NamedTuple):
    """The engine a live finding comes from: its name (a context, or the address given) and address."""

    name: str
    endpoint: str


class Word(NamedTuple):
    """One argv word of a command as the shell would pass it.

    ``text`` is the source text (quotes and ``$`` included); ``value`` the word
    after quote removal and constant-variable expansion, or `UNKNOWN` when it
    depends on something the linter cannot see. ``splits`` is True when the
    word may expand to zero or several words (unquoted ``$OPTS``,
    ``"${ARGS[@]}"``): then the command may hold options nobody can see.
    """

    text: str
    value: str | Any
    loc: Location
    splits: bool = False

    @property
    def is_known(self) -> bool:
        return self.value is not UNKNOWN


class Invocation(NamedTuple):
    """A docker/podman/nerdctl command found in a file, before the grammar reads it.

    ``words`` are the words after the program word: global options, the
    subcommand and its arguments, in order. ``context`` says how it was found:
    ``code``, ``markdown``, ``sh-c`` (a string run by ``bash -c``/``sh -c``),
    ``ssh``, ``substitution`` (inside ``$(…)`` or backticks).
    """

    program: str  # docker, podman, nerdctl (the tool, not the word as spelt)
    program_word: Word
    words: tuple[Word, ...]
    loc: Location  # the whole command, first word to last
    context: str = "code"


class UsageProblem(NamedTuple):
    """Something the Docker CLI or engine would reject or warn about in a command.

    Recorded by the grammar, reported by the DA002–DA007 rules.
    """

    rule_id: str
    message: str
    loc: Location
    fix: str | None = None


@_by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class OptionUse:
    """One option as given: canonical long name, the word(s) it came from, its value."""

    name: str  # canonical long name, e.g. "--memory" (aliases resolved: --net -> --network)
    spelled: str  # as written: "-m", "--net", "-itd" (the cluster)
    flag: Word  # the word holding the flag
    value: Word | None  # the value word (may be the same word as flag: -m512m, --x=y)
    value_text: str | Any | None  # the value itself (UNKNOWN when not knowable), None for bools
    loc: Location  # of the flag and its value together


_FEW_OPTIONS = 4


@_by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DockerCommand:
    """An invocation read by the grammar: which subcommand, which options, which operands."""

    invocation: Invocation
    subcommand: tuple[str, ...]  # ("run",), ("network", "create"), ("rm",) — canonical, without "container"
    global_options: tuple[OptionUse, ...]
    options: tuple[OptionUse, ...]
    operands: tuple[Word, ...]  # for run/create: image first, then the command
    problems: tuple[UsageProblem, ...] = ()
    incomplete: bool = False  # a splitting unknown word may hide options
    # The options by name, made at the first question when there are more than a few: the
    # grammar, the spec and the rules ask a command about dozens of options it mostly does
    # not have. (A command with a few options is scanned: an index would cost more memory
    # than the scan costs time, for every exec, rm or logs of a long script.)
    _by_name: dict[str, tuple[OptionUse, ...]] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def loc(self) -> Location:
        return self.invocation.loc

    def _uses(self) -> dict[str, tuple[OptionUse, ...]]:
        by_name = self._by_name
        if by_name is None:
            grouped: dict[str, list[OptionUse]] = {}
            for use in self.options:
                grouped.setdefault(use.name, []).append(use)
            by_name = {name: tuple(uses) for name, uses in grouped.items()}
            object.__setattr__(self, "_by_name", by_name)
        return by_name

    def option(self, name: str) -> OptionUse | None:
        """The last use of option *name* (canonical long form), if any."""
        if len(self.options) <= _FEW_OPTIONS:
            for use in reversed(self.options):
                if use.name == name:
                    return use
            return None
        uses = self._uses().get(name)
        return uses[-1] if uses else None

    def all(self, name: str) -> tuple[OptionUse, ...]:
        if len(self.options) <= _FEW_OPTIONS:
            return tuple([use for use in self.options if use.name == name])
        return self._uses().get(name, ())

    def has(self, name: str) -> bool:
        return self.option(name) is not None


# --- the container model -------------------------------------------------


class ImageRef(NamedTuple):
    """A parsed image reference. ``registry`` None means Docker Hub."""

    raw: str
    registry: str | None
    repository: str  # path without registry: "library/mysql", "bitnami/postgresql"
    tag: str | None  # None: no tag given (the engine uses "latest")
    digest: str | None

    @property
    def name(self) -> str:
        """The last path component: ``mysql`` for ``docker.io/library/mysql:8``."""
        return self.repository.rsplit("/", 1)[-1]


@_by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PortBinding:
    """One published port. Strings as the engine stores them; "" = any / random."""

    container_port: str  # "80" or "8000-8002"
    protocol: str  # tcp, udp, sctp
    host_ip: str | Any  # "" means all interfaces
    host_port: str | Any  # "" means a random port; may be a range "9000-9010"
    loc: Location | None = None

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.protocol}"


class Mount(NamedTuple):
    """A filesystem mount, by type: bind, volume (named or anonymous), tmpfs."""

    type: str  # bind | volume | tmpfs | npipe | cluster | image
    target: str | Any
    source: str | Any | None = None  # None for anonymous volumes and tmpfs
    read_only: bool = False
    propagation: str | None = None  # rprivate, shared, rshared, slave, …
    options: tuple[str, ...] = ()  # tmpfs options ("exec", "size=64m"), volume options
    flag: str = "--volume"  # --volume, --mount, --tmpfs, or "image" (VOLUME of the image)
    loc: Location | None = None

    @property
    def anonymous(self) -> bool:
        return self.type == "volume" and self.source is None


class EnvVar(NamedTuple):
    """An environment variable given to the container (``-e KEY=VALUE``, ``Config.Env``)."""

    key: str | Any
    value: str | Any | None  # None: "-e KEY" (taken from the client's environment)
    loc: Location | None = None


class Ulimit(NamedTuple):
    """A resource limit of the container's processes (``--ulimit nofile=1024:2048``)."""

    name: str
    soft: int | Any
    hard: int | Any


class ThrottleDevice(NamedTuple):
    """A block-device I/O limit (``--device-read-bps /dev/sda:1mb`` and its kin)."""

    kind: str  # read-bps, write-bps, read-iops, write-iops
    path: str | Any
    rate: int | Any
    loc: Location | None = None


class DeviceMapping(NamedTuple):
    """A host device made visible in the container (``--device /dev/fuse:/dev/fuse:rwm``)."""

    host_path: str | Any
    container_path: str | Any
    permissions: str = "rwm"
    loc: Location | None = None


class Link(NamedTuple):
    """A legacy link to another container (``--link db:database``)."""

    container: str | Any
    alias: str | Any
    loc: Location | None = None


class RestartPolicy(NamedTuple):
    """What the engine does when the container exits (``--restart on-failure:3``)."""

    name: str | Any  # no, always, unless-stopped, on-failure
    max_retries: int | Any = 0


class Healthcheck(NamedTuple):
    """How the engine probes the container's health (``--health-cmd`` and its kin, or the image's)."""

    test: tuple[str, ...] | Any  # ("NONE",) disables; ("CMD-SHELL", "x"); ("CMD", ...)
    interval_ns: int | Any | None = None
    timeout_ns: int | Any | None = None
    start_period_ns: int | Any | None = None
    retries: int | Any | None = None

    @property
    def disabled(self) -> bool:
        return self.test == ("NONE",)


class Process(NamedTuple):
    """One row of the engine's ``top`` for a running container."""

    pid: str
    user: str
    command: str


class ServiceSpec(NamedTuple):
    """What only a Swarm service has: how many tasks run where, and how they restart.

    A `ContainerSpec` with a ``service`` stands for every task container of the
    service; its ports are published on every node in ``ingress`` mode.
    """

    mode: str | Any = "replicated"  # replicated, global, replicated-job, global-job
    replicas: int | Any | None = None  # None: the default (1) for replicated services
    constraints: tuple[str | Any, ...] = ()  # placement constraints, "node.role==manager"
    restart_condition: str | Any = "any"  # none, on-failure, any (the default)
    restart_max_attempts: int | Any | None = None  # None or 0: unlimited
    secrets: tuple[str | Any, ...] = ()  # names of the Swarm secrets given to the tasks
    configs: tuple[str | Any, ...] = ()
    ingress_ports: tuple[str, ...] = ()  # "8080:80/tcp": published in ingress mode (on every node)


@_by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RuntimeState:
    """What only a running host knows. None on static specs."""

    status: str  # created, running, restarting, exited, paused, dead
    running: bool = False
    exit_code: int | None = None
    started_at: str | None = None  # RFC 3339, as the engine reports it
    finished_at: str | None = None
    oom_killed: bool = False
    restart_count: int = 0
    health_status: str | None = None  # starting, healthy, unhealthy; None without a healthcheck
    processes: tuple[Process, ...] | None = None  # None when not read (not running, or top failed)
    image_id: str | None = None  # the image the container runs
    tag_image_id: str | None = None  # the image its tag names now, when known
    effective_user: str | None = None  # the image's USER when the container sets none


@_by_fields
@dataclass(frozen=True, eq=False, repr=False)
class HostInfo:
    """Daemon-wide facts a live audit knows: defaults that decide effective settings."""

    default_log_driver: str | None = None
    default_log_opts: Mapping[str, str] = field(default_factory=dict)
    security_options: tuple[str, ...] = ()  # from `docker info`: "name=seccomp,profile=default", …
    storage_driver: str | None = None
    no_new_privileges: bool = False  # daemon --no-new-privileges
    dangling_volumes: tuple[str, ...] = ()  # names of volumes no container uses
    volumes_read: bool = False  # whether dangling_volumes was read


class Origin(NamedTuple):
    """Where a spec came from: a file location (static) or a container (live)."""

    source: Source
    loc: Location | None = None  # the whole command, for static specs
    container: ContainerRef | None = None  # for live and inspect specs
    tool: str = "docker"  # docker, podman, nerdctl


@_by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ContainerSpec:
    """A container definition, normalised as the engine stores it.

    ``None`` means "not set" (the engine default applies); `UNKNOWN` means
    "set, value not knowable". ``incomplete`` means the command holds a word
    that may expand to options nobody can see: rules about a *missing*
    option must stay silent then. ``locations`` maps a field name to the
    location of the word that set it; `where()` falls back to the command.
    """

    origin: Origin
    subcommand: str = "run"  # run or create (live: create)
    detach: bool = False
    incomplete: bool = False

    # identity
    name: str | Any | None = None
    image: ImageRef | Any | None = None
    entrypoint: tuple[str | Any, ...] | Any | None = None
    command: tuple[str | Any, ...] = ()  # words; an element may be UNKNOWN
    interactive: bool = False
    tty: bool = False
    auto_remove: bool = False
    user: str | Any | None = None
    workdir: str | Any | None = None
    env: tuple[EnvVar, ...] = ()
    env_files: tuple[str | Any, ...] = ()
    labels: Mapping[str, str | Any] = field(default_factory=dict)

    # resources (bytes, nano-CPUs; None = not set)
    memory: int | Any | None = None
    memory_swap: int | Any | None = None
    memory_reservation: int | Any | None = None
    kernel_memory: int | Any | None = None
    memory_swappiness: int | Any | None = None
    nano_cpus: int | Any | None = None
    cpu_shares: int | Any | None = None
    cpu_period: int | Any | None = None
    cpu_quota: int | Any | None = None
    cpuset_cpus: str | Any | None = None
    cpuset_mems: str | Any | None = None
    pids_limit: int | Any | None = None
    ulimits: tuple[Ulimit, ...] = ()
    blkio_throttles: tuple[ThrottleDevice, ...] = ()
    oom_kill_disable: bool = False
    oom_score_adj: int | Any | None = None
    shm_size: int | Any | None = None
    storage_opt: Mapping[str, str | Any] = field(default_factory=dict)

    # storage
    mounts: tuple[Mount, ...] = ()
    volumes_from: tuple[str | Any, ...] = ()
    read_only_rootfs: bool = False
    volume_driver: str | Any | None = None

    # network
    network_mode: str | Any | None = None  # None: default bridge; host, none, bridge, container:X, or a name
    networks: tuple[str | Any, ...] = ()  # every --network given, in order
    network_aliases: tuple[str | Any, ...] = ()
    ip: str | Any | None = None
    ip6: str | Any | None = None
    links: tuple[Link, ...] = ()
    ports: tuple[PortBinding, ...] = ()
    publish_all: bool = False
    expose: tuple[str, ...] = ()  # "80/tcp"
    hostname: str | Any | None = None
    dns: tuple[str | Any, ...] = ()
    extra_hosts: tuple[str | Any, ...] = ()
    mac_address: str | Any | None = None

    # security and isolation
    privileged: bool = False
    cap_add: tuple[str | Any, ...] = ()  # normalised CAP_* (or "ALL")
    cap_drop: tuple[str | Any, ...] = ()
    security_opt: tuple[str | Any, ...] = ()  # as given, "no-new-privileges", "seccomp=unconfined", …
    pid_mode: str | Any | None = None
    ipc_mode: str | Any | None = None
    uts_mode: str | Any | None = None
    userns_mode: str | Any | None = None
    cgroupns_mode: str | Any | None = None
    devices: tuple[DeviceMapping, ...] = ()
    device_cgroup_rules: tuple[str | Any, ...] = ()
    sysctls: Mapping[str, str | Any] = field(default_factory=dict)
    group_add: tuple[str | Any, ...] = ()

    # lifecycle and logging
    restart_policy: RestartPolicy | None = None  # None: "no"
    healthcheck: Healthcheck | None = None  # None: the image's (unknown statically)
    init: bool | None = None
    log_driver: str | Any | None = None  # None: the daemon default
    log_opts: Mapping[str, str | Any] = field(default_factory=dict)
    stop_signal: str | Any | None = None

    runtime: RuntimeState | None = None
    service: ServiceSpec | None = None  # a Swarm service (docker service create, or live on a manager)
    locations: Mapping[str, Location] = field(default_factory=dict)
    # What the container is for, decided from the whole file (dockaudit.intent), and
    # why: "service", "background", or a task: "foreground", "temporary", "copy-only",
    # "one-shot". None: not decided (live, inspect).
    lifecycle: str | None = None
    lifecycle_why: str | None = None
    # Where the image comes from, when the file shows it: "built" (the same file
    # builds or tags it: nothing is pulled) or "own" (its registry or namespace is a
    # variable, `$REGISTRY/app`: the project's own image) or "variable" (a variable
    # holds the whole reference). None: named literally.
    image_origin: str | None = None

    @property
    def is_service(self) -> bool:
        """Possibly long-running: a service, or started in the background and never ended.

        Every live container is one. Without a lifecycle (a spec built on its
        own): -d, a restart policy or docker create.
        """
        if self.origin.source is Source.LIVE:
            return True
        if self.lifecycle is not None:
            return not self.is_task
        if self.subcommand == "create" or self.detach:
            return True
        return self.declared_service

    @property
    def is_task(self) -> bool:
        """It ends, or the file ends it (a foreground run, --rm, removed later, a one-shot)."""
        return self.lifecycle is not None and self.lifecycle not in ("service", "background")

    @property
    def declared_service(self) -> bool:
        """Long-running by the file's own word: a restart policy other than "no" (and live)."""
        if self.origin.source is Source.LIVE:
            return True
        policy = self.restart_policy
        return policy is not None and (policy.name is UNKNOWN or policy.name != "no")

    @property
    def container(self) -> ContainerRef | None:
        return self.origin.container

    def where(self, field_name: str | None = None) -> Location | None:
        """Location of the word that set *field_name*, else of the whole command."""
        if field_name is not None and field_name in self.locations:
            return self.locations[field_name]
        return self.origin.loc


def settle_intent(spec: ContainerSpec, lifecycle: str, why: str, image_origin: str | None) -> None:
    """Record on *spec* what the whole file says about it (`dockaudit.intent`).

    Only while the file is being read, on a spec built by that same reading
    and not yet in a `Script`: the one moment a spec is not yet shared. A
    copy with `dataclasses.replace` would copy all its fields for every
    container of a long script to change three.
    """
    object.__setattr__(spec, "lifecycle", lifecycle)
    object.__setattr__(spec, "lifecycle_why", why)
    object.__setattr__(spec, "image_origin", image_origin)


class ScriptCommand(NamedTuple):
    """One docker command of a script with, for run/create, its container spec."""

    command: DockerCommand
    spec: ContainerSpec | None = None


class ParseProblem(NamedTuple):
    """A region of a file that could not be read; reported as DA001."""

    message: str
    loc: Location


class Suppression(NamedTuple):
    """An inline ``# dockaudit ignore=…`` comment and what it covers."""

    rule_ids: frozenset[str]
    reason: str | None
    loc: Location  # the comment itself
    first_line: int  # the lines it covers, inclusive
    last_line: int
    file_wide: bool = False


# Where str.splitlines() cuts a text.
_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class TextLines(Sequence[str]):
    """The lines of a text as ``str.splitlines()`` cuts them, each cut out only when asked for.

    A long script's lines as separate strings cost several times the text;
    this keeps the text and two numbers a line.
    """

    __slots__ = ("text", "_bounds")

    def __init__(self, text: str) -> None:
        self.text = text
        bounds = array("q")
        start = 0
        for match in _LINE_BREAK.finditer(text):
            bounds.append(start)
            bounds.append(match.start())
            start = match.end()
        if start < len(text):
            bounds.append(start)
            bounds.append(len(text))
        self._bounds = bounds

    def __len__(self) -> int:
        return len(self._bounds) // 2

    def _line(self, index: int) -> str:
        return self.text[self._bounds[2 * index]:self._bounds[2 * index + 1]]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self._line(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("line index out of range")
        return self._line(index)

    def __iter__(self) -> Iterator[str]:
        text, bounds = self.text, self._bounds
        for i in range(0, len(bounds), 2):
            yield text[bounds[i]:bounds[i + 1]]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextLines) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"TextLines({len(self)} lines)"


@_by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Script:
    """All docker commands of one file, in order, and what could not be read."""

    path: str
    kind: str  # "shell" or "markdown"
    commands: tuple[ScriptCommand, ...] = ()
    problems: tuple[ParseProblem, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    lines: Sequence[str] = ()  # the file's text, for code frames and snippets
    stray_directives: tuple[tuple[Location, str], ...] = ()  # ignore comments covering no command, and why
    purpose: str = "deploy"  # what the file is for (PURPOSES)
    purpose_why: str = ""
    # Groups of command indices checked together by whole-script rules. None: the
    # whole file is one sequence (a shell script).
    scopes: tuple[tuple[int, ...], ...] | None = None

    @property
    def specs(self) -> tuple[ContainerSpec, ...]:
        return tuple(c.spec for c in self.commands if c.spec is not None)


@_by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Finding:
    """One problem found, ready to report."""

    rule_id: str
    name: str
    severity: Severity
    message: str
    location: Location | None
    fix: str | None = None
    container: ContainerRef | None = None
    suppressed: str | None = None  # the reason, when an ignore matched
    fingerprint_basis: str | None = None  # the normalised command, for stable fingerprints
    engine: EngineRef | None = None  # live: the engine the container was read from

    def sort_key(self) -> tuple:
        loc = self.location
        return (
            self.engine.name if self.engine else "",
            loc.path if loc else "",
            loc.line if loc else 0,
            loc.column if loc else 0,
            self.container.name if self.container else "",
            self.rule_id,
            self.message,
        )

