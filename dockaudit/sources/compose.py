"""Compose files as a source: each service becomes the `ContainerSpec` Compose would create.

A service is written out as the ``docker run`` command that makes the same
container: every option word carries the line and column of the YAML key or
value it comes from, and the command goes through the same grammar and
`spec_from_command` as a script. So values are parsed and checked (DA003) by
the same code, in the engine's terms, and every finding points into the
Compose file. What the CLI cannot say (a list entrypoint, a ``CMD`` health
test, the container's name) is set on the spec afterwards.

Where Compose differs from ``docker run``, it is decided here, not in the rules:

- names: the container is ``<project>_<service>_1`` (Compose 1.29) unless
  ``container_name`` is set; named volumes and networks get the project
  prefix unless they are ``external`` or carry a ``name``;
- networks: a service with neither ``networks`` nor ``network_mode`` is on
  the project's ``default`` network, a user-defined one;
- references (``links``, ``depends_on``, ``volumes_from``, ``service:`` modes)
  name services; one that names no service of the project is refused by
  Compose, and reported as DA003 with the closest service name;
- what each service is for (service, background, one-shot): `service_lifecycle`.

The project is the Compose file with ``docker-compose.override.yml`` (or
``compose.override.yaml``) beside it merged in as Compose merges it, and the
``.env`` file beside it for interpolation.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dockaudit.model import (
    UNKNOWN,
    ContainerSpec,
    Healthcheck,
    Invocation,
    Location,
    Mount,
    Script,
    ScriptCommand,
    Suppression,
    UsageProblem,
    Word,
    known,
)
from dockaudit.sources.compose_names import OVERRIDE_OF
from dockaudit.sources.compose_load import (
    ComposeError,
    Interpolated,
    Variables,
    YNode,
    interpolate,
    load_yaml,
    read_env_file,
)
from dockaudit.spec import spec_from_command
from dockaudit.spelling import closest
from dockaudit.values import SENTINEL, parse_duration

# The override files Compose merges into each file name, in the order it looks for them.
OVERRIDES = {
    base: tuple(override for override, bases in OVERRIDE_OF.items() if base in bases)
    for bases in OVERRIDE_OF.values() for base in bases
}
# Problems the grammar reports that do not apply to a service: its command is its own key, so
# words there are never misplaced docker options (DA004).
NOT_FOR_COMPOSE = frozenset({"DA004"})
MAX_EXTENDS = 10
# The keys of a service in the Compose specification, and the older spellings Compose still reads.
SERVICE_KEYS = frozenset("""
annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs
container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares
cpus cpuset credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt
dns_search domainname entrypoint env_file environment expose extends external_links extra_hosts
gpus group_add healthcheck hostname image init ipc isolation label_file labels links logging
mac_address mem_limit mem_reservation mem_swappiness memswap_limit models network_mode networks
oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_stop privileged
profiles provider pull_policy read_only restart runtime scale secrets security_opt shm_size
stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user
userns_mode uts volumes volumes_from working_dir
net log_driver log_opt dockerfile volume_driver
""".split())
PROGRAM = "docker"


# --- the project ------------------------------------------------------------------------


@dataclass
class ComposeRead:
    """A Compose project read from one file: its services as a `Script`, and every file's lines."""

    script: Script
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # warnings (an unreadable .env, …)
    services: list[str] = field(default_factory=list)  # the service of each command, in order
    project: Project | None = None  # the merged services, as read


def project_name(directory: Path, variables: Variables) -> str:
    """Compose 1.29's default project name: the folder's name, lower case, ``[-_a-z0-9]`` only."""
    given = variables.lookup("COMPOSE_PROJECT_NAME")
    name = given.text if given is not None and given.known and given.text else directory.name
    return re.sub(r"[^-_a-z0-9]", "", name.lower()) or "default"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def read_compose(text: str, path: str, *, base_dir: Path | None = None, project: str | None = None,
                 merged: list[tuple[str, str]] | None = None) -> ComposeRead:
    """Read the Compose file *text* (shown as *path*) and its override and ``.env`` beside it.

    *project* names the project instead of its folder (``docker stack deploy``'s
    stack). *merged* is the (shown path, text) of the files to merge into it in
    order, given as ``-c`` files are, instead of the override found beside it.
    Raises `ComposeError` when the file cannot be read as Compose; its message
    names another file (an override, an ``extends`` file, ``.env``) only when
    that is where the fault is.
    """
    try:
        return _read_compose(text, path, base_dir, project, merged)
    except ComposeError as exc:
        message = str(exc)
        if message.startswith(f"{path}: "):
            raise ComposeError(message[len(path) + 2:]) from None
        raise


def _read_compose(text: str, path: str, base_dir: Path | None, name: str | None = None,
                  merged: list[tuple[str, str]] | None = None) -> ComposeRead:
    directory = base_dir or (Path(path).parent if path not in ("-", "<stdin>") else Path.cwd())
    directory = Path(os.path.abspath(directory))
    notes: list[str] = []
    env_path = directory / ".env"
    variables = Variables()
    if env_path.is_file():
        env_text = _read_text(env_path)
        if env_text is None:
            notes.append(f"{env_path}: cannot read; its variables are unknown")
        else:
            variables = read_env_file(env_text, str(env_path))
    files = {path: tuple(text.splitlines())}
    documents = [(path, load_yaml(text, path))]
    for shown, merged_text in merged or ():
        documents.append((shown, load_yaml(merged_text, shown)))
        files[shown] = tuple(merged_text.splitlines())
    for override in OVERRIDES.get(Path(path).name, ()) if merged is None else ():
        candidate = directory / override
        if candidate.is_file():
            shown = str(Path(path).parent / override)
            override_text = _read_text(candidate)
            if override_text is None:
                notes.append(f"{shown}: cannot read the override file")
                break
            documents.append((shown, load_yaml(override_text, shown)))
            files[shown] = tuple(override_text.splitlines())
            break
    project = Project(directory, variables, name or project_name(directory, variables))
    project.fragment = Path(path).name.lower() in OVERRIDE_OF
    services: dict[str, YNode] = {}
    top: dict[str, dict[str, YNode]] = {"networks": {}, "volumes": {}, "secrets": {}, "configs": {}}
    for shown, document in documents:
        _check_top(document, shown)
        if document is None:
            continue
        for section, into in top.items():
            node = document.get(section)
            if node is not None and isinstance(node.value, dict):
                for key, value in node.value.items():
                    into[key] = _merge_nodes(into[key], value) if key in into else value
        section, project.v1 = _services_of(document, shown)
        for name, service in section.items():
            if not isinstance(service.value, dict):
                raise ComposeError(f"{shown}: line {service.where.line}: service {name!r} must be a mapping, "
                                   f"not {_yaml_type(service.value)}")
            services[name] = (_merge_service(services[name], service, at_base=True)
                              if name in services else service)
    project.top = top
    project.services = {name: _extended(name, node, services, project, path, 0)
                        for name, node in services.items()}
    commands = _with_image_origins(project, [project.command(name) for name in project.services])
    lines = files[path]
    suppressions, stray = compose_suppressions(path, files, project.services)
    from dockaudit.intent import guess_purpose

    purpose = guess_purpose(path, "compose", lines, commands)
    script = Script(path=path, kind="compose", commands=tuple(commands), suppressions=suppressions,
                    lines=lines, stray_directives=stray, purpose=purpose.name, purpose_why=purpose.why)
    return ComposeRead(script, files, notes, list(project.services), project)


def _with_image_origins(project: Project, commands: list[ScriptCommand]) -> list[ScriptCommand]:
    """Where each service's image comes from: ``built`` when the project builds it (``build:``,
    with ``image:`` naming the result), else as dockaudit.intent says of a script's image word."""
    from dockaudit.intent import image_key, image_origin

    built = frozenset(
        image_key(entry.spec.image.raw) for name, entry in zip(project.services, commands, strict=True)
        if project.services[name].get("build") is not None and entry.spec is not None
        and entry.spec.image is not None and known(entry.spec.image))
    out = []
    for name, entry in zip(project.services, commands, strict=True):
        origin = "built" if project.services[name].get("build") is not None else image_origin(entry, built)
        out.append(ScriptCommand(entry.command, replace(entry.spec, image_origin=origin)) if entry.spec else entry)
    return out


def _yaml_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return f"the {type(value).__name__} {value!r}"


def _check_top(document: YNode | None, path: str) -> None:
    if document is None:
        return
    if not isinstance(document.value, dict):
        raise ComposeError(f"{path}: a Compose file must be a mapping (services:, networks:, …), "
                           f"not {_yaml_type(document.value)}")
    if "services" not in document.value and "version" not in document.value and not _is_v1(document):
        raise ComposeError(f"{path}: no services: key; not a Compose file")


def _is_v1(document: YNode) -> bool:
    """A version 1 file: services at the top level (no ``version``, no ``services``), which Compose
    1.29 still reads; its containers are on the default bridge."""
    values = list(document.value.values())
    return bool(values) and all(isinstance(v.value, dict) for v in values) and any(
        "image" in v.value or "build" in v.value for v in values)


def _services_of(document: YNode, path: str) -> tuple[dict[str, YNode], bool]:
    """The services of a checked document, and whether it is a version 1 file."""
    node = document.get("services")
    if node is None:
        v1 = "version" not in document.value and _is_v1(document)
        return (dict(document.value) if v1 else {}), v1
    if node.value is None:
        return {}, False
    if not isinstance(node.value, dict):
        raise ComposeError(f"{path}: line {node.loc.line}: services must be a mapping of service names")
    return node.value, False


# --- merging (overrides and extends) ------------------------------------------------------

# Keys whose entries merge by what they target, as Compose merges them.
_UNIQUE_BY = {
    "ports": None, "expose": None, "external_links": None, "dns": None, "dns_search": None,
    "tmpfs": None, "cap_add": None, "cap_drop": None, "security_opt": None, "devices": None,
    "volumes": "target", "secrets": "source", "configs": "source",
}
_MAPPINGS = {"environment", "labels", "sysctls", "ulimits", "healthcheck", "logging", "deploy",
             "networks", "extra_hosts", "build", "blkio_config", "depends_on", "storage_opt"}


def _merge_nodes(base: YNode, over: YNode) -> YNode:
    if isinstance(base.value, dict) and isinstance(over.value, dict):
        merged = dict(base.value)
        for key, value in over.value.items():
            merged[key] = _merge_nodes(merged[key], value) if key in merged else value
        return YNode(merged, over.loc, over.key_loc)
    return over


def _as_mapping(node: YNode, key: str) -> dict[str, YNode] | None:
    """A list (``KEY=VALUE``, ``name``) or mapping option as a mapping by key."""
    if isinstance(node.value, dict):
        return dict(node.value)
    if isinstance(node.value, list):
        out: dict[str, YNode] = {}
        for item in node.value:
            text = str(item.value) if item.value is not None else ""
            sep = ":" if key == "extra_hosts" and "=" not in text else "="
            out[text.split(sep, 1)[0] if key in ("environment", "labels", "sysctls", "extra_hosts")
                else text] = item
        return out
    return None


def _target_of(item: YNode) -> str:
    value = item.value
    if isinstance(value, dict):
        target = value.get("target") or value.get("source")
        return str(target.value) if target is not None else repr(value)
    text = str(value)
    parts = text.split(":")
    return parts[1] if len(parts) > 1 and parts[1].startswith("/") else parts[0]


def _merge_service(base: YNode, over: YNode, *, at_base: bool = False) -> YNode:
    """*over* (an override file's service, or the service that extends) merged onto *base*.

    The result is written where *over* is (the service that extends), or where
    *base* is when *at_base* (an override file adds to a service of the file).
    """
    merged = dict(base.value)
    for key, value in over.value.items():
        old = merged.get(key)
        if old is None:
            merged[key] = value
        elif key in _MAPPINGS:
            a, b = _as_mapping(old, key), _as_mapping(value, key)
            if a is not None and b is not None:
                a.update(b)
                merged[key] = YNode(a, value.loc, value.key_loc)
            else:
                merged[key] = value
        elif key in _UNIQUE_BY and isinstance(old.value, list) and isinstance(value.value, list):
            by = {_target_of(i) if _UNIQUE_BY[key] else repr(i.value): i for i in old.value}
            by.update({_target_of(i) if _UNIQUE_BY[key] else repr(i.value): i for i in value.value})
            merged[key] = YNode(list(by.values()), value.loc, value.key_loc)
        else:
            merged[key] = value
    where = base if at_base else over
    return YNode(merged, where.loc, where.key_loc)


def _extended(name: str, node: YNode, services: Mapping[str, YNode], project: Project,
              path: str, depth: int, seen: tuple[str, ...] = ()) -> YNode:
    extends = node.get("extends")
    if extends is None:
        return node
    if depth >= MAX_EXTENDS or name in seen:
        chain = " -> ".join([*seen, name])
        raise ComposeError(f"{path}: line {extends.where.line}: extends loops or is nested too deep: {chain}")
    if isinstance(extends.value, str):
        target, other_file = extends.value, None
    elif isinstance(extends.value, dict) and extends.get("service") is not None:
        target = str(extends.get("service").value)
        file_node = extends.get("file")
        other_file = str(file_node.value) if file_node is not None else None
    else:
        raise ComposeError(f"{path}: line {extends.where.line}: extends must name a service")
    pool: Mapping[str, YNode] = services
    pool_path = path
    if other_file is not None:
        pool_path = str(project.directory / other_file)
        text = _read_text(Path(pool_path))
        if text is None:
            raise ComposeError(f"{path}: line {extends.where.line}: extends: cannot read {other_file}")
        document = load_yaml(text, pool_path)
        _check_top(document, pool_path)
        pool = _services_of(document, pool_path)[0] if document is not None else {}
    base = pool.get(target)
    if base is None or not isinstance(base.value, dict):
        guess = closest(target, list(pool))
        hint = f'; did you mean "{guess}"?' if guess else ""
        raise ComposeError(f"{path}: line {extends.where.line}: extends names no service {target!r}{hint}")
    base = _extended(target, base, pool, project, pool_path, depth + 1, (*seen, name))
    body = {k: v for k, v in node.value.items() if k != "extends"}
    inherited = {k: v for k, v in base.value.items() if k not in ("links", "volumes_from", "depends_on")}
    return _merge_service(YNode(inherited, base.loc, base.key_loc), YNode(body, node.loc, node.key_loc))


# --- one service as a command ----------------------------------------------------------------


def service_lifecycle(name: str, services: Mapping[str, YNode], spec: ContainerSpec) -> tuple[str, str]:
    """What service *name* is for, as dockaudit.intent says it of a script's containers.

    Compose has no ``-d`` and no foreground run: ``up`` starts every service
    and keeps it running, so a service is long-running unless it is clearly a
    one-shot: another service waits for it to finish (``depends_on: {NAME:
    {condition: service_completed_successfully}}``), or its command does one
    thing and exits. A long-running service with a restart policy is a
    *service*; without one it is *background*, like ``docker run -d``.
    """
    from dockaudit.intent import BACKGROUND, ONE_SHOT, SERVICE
    from dockaudit.intent import one_shot as one_shot_command  # the scripts' test, shared

    for other_name, other in services.items():
        depends = other.get("depends_on")
        if depends is None or not isinstance(depends.value, dict):
            continue
        entry = depends.value.get(name)
        condition = entry.get("condition") if entry is not None else None
        if condition is not None and condition.value == "service_completed_successfully":
            return ONE_SHOT, f"service {other_name} waits for it to complete"
    why = one_shot_command(spec)
    if why is not None:
        return ONE_SHOT, why
    if spec.declared_service:
        return SERVICE, "a Compose service with a restart policy"
    return BACKGROUND, "a Compose service: up keeps it running until it is stopped"


def _quote(text: str) -> str:
    """*text* as a shell word whose template is *text* itself."""
    return "'" + text.replace("'", "'\\''") + "'"


def _word_text(value: Interpolated) -> str:
    """Source text whose template (values.template_of_text) is the interpolated value."""
    chunks = value.text.split(SENTINEL)
    out = [_quote(chunks[0]) if chunks[0] else ""]
    for index, chunk in enumerate(chunks[1:]):
        expansion = value.expansions[index] if index < len(value.expansions) else "${UNKNOWN}"
        out.append(expansion if expansion.startswith("$") else "${" + expansion + "}")
        out.append(_quote(chunk) if chunk else "")
    return "".join(out)


def _span(first: Location, last: Location) -> Location:
    return Location(first.path, first.line, first.column, last.end_line, last.end_column)


@dataclass
class Project:
    directory: Path
    variables: Variables
    name: str
    services: dict[str, YNode] = field(default_factory=dict)
    top: dict[str, dict[str, YNode]] = field(default_factory=dict)
    v1: bool = False  # a version 1 file: no project networks, volume names as written
    fragment: bool = False  # an override file read alone: it adds to services defined elsewhere

    def container_name(self, service: str) -> str:
        node = self.services.get(service)
        given = node.get("container_name") if node is not None else None
        if given is not None and given.value is not None:
            value = self.text(given)
            return value.text if value.known else f"{self.name}_{service}_1"
        return f"{self.name}_{service}_1"

    def resource_name(self, section: str, key: str) -> str:
        """The engine's name of a network or volume the project declares as *key*."""
        if self.v1:
            return key
        node = self.top.get(section, {}).get(key)
        if node is not None and isinstance(node.value, dict):
            name = node.get("name")
            if name is not None and name.value is not None:
                value = self.text(name)
                return value.text if value.known else SENTINEL
            external = node.get("external")
            if external is not None:
                if isinstance(external.value, dict) and external.get("name") is not None:
                    return str(external.get("name").value)
                if external.value is True:
                    return key
        return f"{self.name}_{key}"

    def text(self, node: YNode) -> Interpolated:
        value = node.value
        if isinstance(value, bool):
            return Interpolated("true" if value else "false")
        if value is None:
            return Interpolated("")
        if isinstance(value, float) and value.is_integer():
            return Interpolated(str(value))
        return interpolate(str(value), self.variables)

    def command(self, service: str) -> ScriptCommand:
        return _ServiceReader(self, service).command()


class _ServiceReader:
    """Writes one service out as the words of ``docker run``."""

    def __init__(self, project: Project, service: str) -> None:
        self.project = project
        self.service = service
        self.node = project.services[service]
        self.words: list[Word] = []
        self.problems: list[UsageProblem] = []
        self.extra_mounts: list[Mount] = []
        self.key_loc = self.node.key_loc or self.node.loc

    # -- words --

    def value(self, node: YNode) -> Interpolated:
        value = self.project.text(node)
        if value.error:
            self.problems.append(UsageProblem("DA003", value.error, node.loc))
        return value

    def option(self, flag: str, value: Interpolated | str | None, loc: Location) -> None:
        """``--flag=value`` as one word at *loc* (``--flag`` alone when value is None)."""
        if value is None:
            self.words.append(Word(flag, flag, loc))
            return
        if isinstance(value, str):
            value = Interpolated(value)
        if value.known:
            self.words.append(Word(f"{flag}={_quote(value.text)}", f"{flag}={value.text}", loc))
        else:
            self.words.append(Word(f"{flag}={_word_text(value)}", UNKNOWN, loc))

    def scalar(self, key: str, flag: str, convert: Any = None) -> None:
        node = self.node.get(key)
        if node is None or node.value is None:
            return
        value = self.value(node)
        if convert is not None and value.known:
            value = Interpolated(convert(value.text))
        self.option(flag, value, _span(node.where, node.loc))

    def items(self, key: str) -> Iterator[YNode]:
        """The entries of a list option (a single string counts as one entry)."""
        node = self.node.get(key)
        if node is None or node.value is None:
            return
        if isinstance(node.value, list):
            yield from node.value
        elif isinstance(node.value, dict):
            yield from node.value.values()
        else:
            yield node

    def each(self, key: str, flag: str) -> None:
        for item in self.items(key):
            if item.value is not None and not isinstance(item.value, (list, dict)):
                self.option(flag, self.value(item), item.loc)

    def pairs(self, key: str, flag: str, sep: str = "=") -> None:
        """A mapping or ``KEY=VALUE`` list option as ``--flag KEY=VALUE`` words."""
        node = self.node.get(key)
        if node is None or node.value is None:
            return
        if isinstance(node.value, list):
            self.each(key, flag)
            return
        if not isinstance(node.value, dict):
            return
        for name, item in node.value.items():
            loc = _span(item.where, item.loc)
            value = self.value(item)
            self.option(flag, Interpolated(f"{name}{sep}{value.text}", value.expansions), loc)

    # -- the command --

    def command(self) -> ScriptCommand:
        self.unknown_keys()
        self.identity()
        self.resources()
        self.storage()
        self.network()
        self.security()
        self.lifecycle()
        operands = self.operands()
        # "run", not "create": whether the container is long-running is service_lifecycle's call
        all_words = [Word("run", "run", self.key_loc), *self.words, *operands]
        # the service's key: where a finding about something missing points
        invocation = Invocation(PROGRAM, Word(PROGRAM, PROGRAM, self.key_loc), tuple(all_words), self.key_loc)
        from dockaudit.grammar import parse_invocation

        command = parse_invocation(invocation)
        problems = tuple(p for p in command.problems if p.rule_id not in NOT_FOR_COMPOSE)
        command = replace(command, problems=problems + tuple(self.problems))
        spec = spec_from_command(command)
        assert spec is not None
        spec = self.finish(spec)
        return ScriptCommand(command, spec)

    def operands(self) -> list[Word]:
        image = self.node.get("image")
        words: list[Word] = []
        if image is not None and image.value is not None:
            value = self.value(image)
            words.append(Word(_quote(value.text) if value.known else _word_text(value),
                              value.text if value.known else UNKNOWN, image.loc))
        elif self.node.get("build") is not None:
            # built here, not pulled: no tag or registry to judge, so the image is unknown
            build = self.node.get("build")
            words.append(Word("${BUILT_IMAGE}", UNKNOWN, _span(build.where, build.where)))
        elif not self.project.fragment:
            self.problems.append(UsageProblem(
                "DA003", f"service {self.service} has neither an image nor a build context: "
                "Compose refuses it", self.key_loc, "add image: or build:"))
        if not words:
            words.append(Word("${NO_IMAGE}", UNKNOWN, self.key_loc))
        command = self.node.get("command")
        if command is not None and command.value is not None and words:
            if isinstance(command.value, list):
                for item in command.value:
                    value = self.value(item)
                    words.append(Word(_quote(value.text) if value.known else _word_text(value),
                                      value.text if value.known else UNKNOWN, item.loc))
            else:
                value = self.value(command)
                for part in _split(value):
                    words.append(Word(_quote(part) if SENTINEL not in part else "$UNKNOWN",
                                      part if SENTINEL not in part else UNKNOWN, command.loc))
        return words

    def unknown_keys(self) -> None:
        """A key Compose does not know makes it refuse the file; a typo of a known one is silently
        not applied otherwise."""
        for key, node in self.node.value.items():
            if key in SERVICE_KEYS or key.startswith("x-"):
                continue
            guess = closest(key, sorted(SERVICE_KEYS))
            hint = f'; did you mean "{guess}"?' if guess else ""
            self.problems.append(UsageProblem(
                "DA002", f'unknown key "{key}" in service {self.service}: Compose refuses the file{hint}',
                node.where, f'use "{guess}"' if guess else "remove the key"))

    def environment(self) -> None:
        """``environment`` as ``--env`` words.

        A value that holds a variable dockaudit cannot see comes, like ``KEY``
        alone, from the environment of whoever runs Compose, and Compose hands
        it to the engine itself, on no command line: it is written ``--env
        KEY``, the form that says so.
        """
        node = self.node.get("environment")
        if node is None or node.value is None:
            return
        entries: list[tuple[str, YNode | None, Location]] = []
        if isinstance(node.value, dict):
            entries = [(name, item, _span(item.where, item.loc)) for name, item in node.value.items()]
        elif isinstance(node.value, list):
            for item in node.value:
                if item.value is None or isinstance(item.value, (list, dict)):
                    continue
                value = self.value(item)
                key, sep, rest = value.text.partition("=")
                if SENTINEL in key:
                    self.option("--env", value, item.loc)
                    continue
                known_rest = sep and SENTINEL not in rest
                entries.append((key, YNode(rest, item.loc) if known_rest else None, item.loc))
        for key, item, loc in entries:
            if item is None or item.value is None:
                self.option("--env", key, loc)
                continue
            value = self.value(item) if item.key_loc is not None else Interpolated(str(item.value))
            self.option("--env", key if not value.known else f"{key}={value.text}", loc)

    def identity(self) -> None:
        name = self.node.get("container_name")
        if name is not None and name.value is not None:
            self.scalar("container_name", "--name")
        for key, flag in (("user", "--user"), ("working_dir", "--workdir"), ("hostname", "--hostname"),
                          ("mac_address", "--mac-address"), ("stop_signal", "--stop-signal")):
            self.scalar(key, flag)
        self.environment()
        self.each("env_file", "--env-file")
        self.pairs("labels", "--label")
        for key, flag in (("privileged", "--privileged"), ("read_only", "--read-only"), ("init", "--init"),
                          ("oom_kill_disable", "--oom-kill-disable")):
            self.boolean(key, flag)

    def boolean(self, key: str, flag: str, node: YNode | None = None) -> None:
        node = node or self.node.get(key)
        if node is None or node.value is None:
            return
        value = self.value(node)
        loc = _span(node.where, node.loc)
        if not value.known:
            self.option(flag, value, loc)
        elif value.text.lower() in ("true", "yes", "on", "1"):
            self.option(flag, None, loc)

    def resources(self) -> None:
        deploy = self.node.get("deploy")
        resources = deploy.get("resources") if deploy is not None else None
        limits = resources.get("limits") if resources is not None else None
        reservations = resources.get("reservations") if resources is not None else None
        for key, sub, node_from, flag in (
            ("mem_limit", "memory", limits, "--memory"),
            ("memswap_limit", None, None, "--memory-swap"),
            ("mem_reservation", "memory", reservations, "--memory-reservation"),
            ("cpus", "cpus", limits, "--cpus"),
            ("pids_limit", "pids", limits, "--pids-limit"),
        ):
            node = self.node.get(key)
            if (node is None or node.value is None) and node_from is not None and sub is not None:
                node = node_from.get(sub)
            if node is None or node.value is None:
                continue
            value = self.value(node)
            if flag in ("--memory", "--memory-reservation", "--memory-swap") and value.known:
                value = Interpolated(_bytes_text(value.text))
            self.option(flag, value, _span(node.where, node.loc))
        for key, flag in (("mem_swappiness", "--memory-swappiness"), ("cpu_shares", "--cpu-shares"),
                          ("cpu_quota", "--cpu-quota"), ("cpu_period", "--cpu-period"),
                          ("cpuset", "--cpuset-cpus"), ("oom_score_adj", "--oom-score-adj"),
                          ("shm_size", "--shm-size")):
            self.scalar(key, flag, _bytes_text if flag == "--shm-size" else None)
        self.pairs("storage_opt", "--storage-opt")
        ulimits = self.node.get("ulimits")
        if ulimits is not None and isinstance(ulimits.value, dict):
            for name, item in ulimits.value.items():
                loc = _span(item.where, item.loc)
                if isinstance(item.value, dict):
                    soft, hard = item.get("soft"), item.get("hard")
                    if soft is None or hard is None:
                        continue
                    a, b = self.value(soft), self.value(hard)
                    text = f"{name}={a.text}:{b.text}"
                    self.option("--ulimit", Interpolated(text, a.expansions + b.expansions), loc)
                else:
                    value = self.value(item)
                    self.option("--ulimit", Interpolated(f"{name}={value.text}", value.expansions), loc)
        blkio = self.node.get("blkio_config")
        if blkio is not None and isinstance(blkio.value, dict):
            for key in ("device_read_bps", "device_write_bps", "device_read_iops", "device_write_iops"):
                entries = blkio.get(key)
                for item in entries.value if entries is not None and isinstance(entries.value, list) else ():
                    path, rate = item.get("path"), item.get("rate")
                    if path is None or rate is None:
                        continue
                    a, b = self.value(path), self.value(rate)
                    self.option("--" + key.replace("_", "-"),
                                Interpolated(f"{a.text}:{b.text}", a.expansions + b.expansions), item.loc)

    def storage(self) -> None:
        for item in self.items("volumes"):
            self.volume(item)
        for item in self.items("tmpfs"):
            if item.value is not None:
                self.option("--tmpfs", self.value(item), item.loc)
        for key, default_dir in (("secrets", "/run/secrets/"), ("configs", "/")):
            for item in self.items(key):
                self.secret(item, key, default_dir)
        for item in self.items("volumes_from"):
            if item.value is None:
                continue
            value = self.value(item)
            if not value.known:
                self.option("--volumes-from", value, item.loc)
                continue
            source, _, mode = value.text.partition(":")
            if source == "container" and mode:
                self.option("--volumes-from", mode, item.loc)
                continue
            if source == "service":
                source, _, mode = mode.partition(":")
            target = self.reference(source, "volumes_from", item.loc)
            text = f"{target}:{mode}" if mode else target
            self.option("--volumes-from", Interpolated(text, (source,) if target == SENTINEL else ()), item.loc)

    def volume(self, item: YNode) -> None:
        if isinstance(item.value, dict):
            self.long_volume(item)
            return
        if item.value is None:
            return
        value = self.value(item)
        if not value.known and value.text == SENTINEL:
            self.option("--volume", value, item.loc)
            return
        parts = value.text.split(":")
        if len(parts) == 2 and SENTINEL not in parts[1] and parts[1].startswith("/"):
            parts.append("rw")  # Compose sends source:target:rw when no mode is given
        if len(parts) >= 2:
            source = parts[0]
            resolved = self.volume_source(source)
            text = ":".join([resolved, *parts[1:]])
            value = Interpolated(text, value.expansions)
        self.option("--volume", value, item.loc)

    def volume_source(self, source: str) -> str:
        """A short-syntax source as the engine gets it: paths as written, names with the project."""
        if source.startswith(("/", ".")) or SENTINEL in source:
            return source
        if source.startswith("~"):
            return SENTINEL + source[1:]  # the home folder of whoever runs Compose
        return self.project.resource_name("volumes", source)

    def long_volume(self, item: YNode) -> None:
        get = item.get
        kind = self.value(get("type")).text if get("type") is not None else "volume"
        target = get("target")
        if target is None:
            self.problems.append(UsageProblem("DA003", "a volume in long syntax needs a target", item.loc))
            return
        fields = [f"type={kind}", f"target={self.value(target).text}"]
        expansions: list[str] = []
        source = get("source")
        if source is not None and source.value is not None and kind != "tmpfs":
            text = self.value(source)
            expansions += text.expansions
            resolved = text.text
            if kind == "volume":
                resolved = self.project.resource_name("volumes", text.text) if text.known else text.text
            elif kind == "bind" and resolved.startswith("~"):
                resolved = SENTINEL + resolved[1:]
            fields.append(f"source={resolved}")
        read_only = get("read_only")
        if read_only is not None and self.value(read_only).text.lower() in ("true", "yes", "1"):
            fields.append("readonly")
        bind = get("bind")
        propagation = bind.get("propagation") if bind is not None else None
        if propagation is not None:
            fields.append(f"bind-propagation={self.value(propagation).text}")
        volume = get("volume")
        nocopy = volume.get("nocopy") if volume is not None else None
        if nocopy is not None and nocopy.value is True:
            fields.append("volume-nocopy")
        tmpfs = get("tmpfs")
        size = tmpfs.get("size") if tmpfs is not None else None
        if size is not None:
            fields.append(f"tmpfs-size={_bytes_text(self.value(size).text)}")
        target_text = self.value(target)
        expansions = list(target_text.expansions) + expansions
        if kind == "bind" and source is not None and self.value(source).text.startswith("."):
            # the client reads a relative bind like -v does; --mount would refuse it
            mode = "ro" if "readonly" in fields else ""
            spec = f"{self.value(source).text}:{target_text.text}" + (f":{mode}" if mode else "")
            self.option("--volume", Interpolated(spec, tuple(expansions)), item.loc)
            return
        self.option("--mount", Interpolated(",".join(fields), tuple(expansions)), item.loc)

    def secret(self, item: YNode, section: str, default_dir: str) -> None:
        """A file secret or config: Compose bind-mounts the file read-only into the container."""
        if isinstance(item.value, dict):
            source = item.get("source")
            name = self.value(source).text if source is not None else None
            target_node = item.get("target")
            target = self.value(target_node).text if target_node is not None else None
        else:
            name, target = self.value(item).text, None
        if not name:
            return
        declared = self.project.top.get(section, {}).get(name)
        file_node = declared.get("file") if declared is not None else None
        if file_node is None:
            return  # external or from the environment: nothing to see here
        target = target or f"{default_dir}{name}"
        if not target.startswith("/"):
            target = f"{default_dir}{target}"
        source = self.value(file_node).text
        if not source.startswith(("/", ".")):
            source = f"./{source}"
        # Compose mounts it through the API (a --mount bind, which the CLI would refuse relative)
        self.extra_mounts.append(Mount("bind", target, _part(source), True, "rprivate", (), "--mount", item.loc))

    def reference(self, service: str, what: str, loc: Location) -> str:
        """The container of *service*; an unknown service is reported (Compose refuses the file)
        and its container is unknown (`SENTINEL`)."""
        if service in self.project.services:
            return self.project.container_name(service)
        guess = closest(service, [s for s in self.project.services if s != self.service])
        hint = f'; did you mean "{guess}"?' if guess else ""
        self.problems.append(UsageProblem(
            "DA003", f'{what}: no service "{service}" in this project: Compose refuses the file{hint}',
            loc, f'use "{guess}"' if guess else "name a service of this project"))
        return SENTINEL

    def mode(self, key: str, flag: str) -> None:
        """network_mode, pid, ipc: ``service:NAME`` becomes ``container:<its container>``."""
        node = self.node.get(key)
        if node is None or node.value is None:
            return
        value = self.value(node)
        loc = _span(node.where, node.loc)
        if value.known and value.text.startswith("service:"):
            target = self.reference(value.text.split(":", 1)[1], key, node.loc)
            unknown = (value.text,) if target == SENTINEL else ()
            self.option(flag, Interpolated(f"container:{target}", unknown), loc)
        else:
            self.option(flag, value, loc)

    def network(self) -> None:
        mode = self.node.get("network_mode")
        if mode is not None and mode.value is not None:
            self.mode("network_mode", "--network")
        elif self.node.get("net") is not None and self.node.get("net").value is not None:
            self.mode("net", "--network")  # version 1 spelling
        elif not self.project.v1:
            networks = self.node.get("networks")
            names: list[tuple[str, YNode, YNode | None]] = []
            if networks is not None and isinstance(networks.value, list):
                names = [(str(i.value), i, None) for i in networks.value if i.value is not None]
            elif networks is not None and isinstance(networks.value, dict):
                names = [(k, v, v) for k, v in networks.value.items()]
            if not names:
                self.option("--network", self.project.resource_name("networks", "default"), self.key_loc)
            for key, node, settings in names:
                name = self.project.resource_name("networks", key)
                self.option("--network", name, _span(node.where, node.loc))
                if settings is not None and isinstance(settings.value, dict):
                    for alias in (settings.get("aliases").value if settings.get("aliases") is not None
                                  and isinstance(settings.get("aliases").value, list) else ()):
                        self.option("--network-alias", self.value(alias), alias.loc)
                    for address, flag in (("ipv4_address", "--ip"), ("ipv6_address", "--ip6")):
                        if settings.get(address) is not None:
                            node = settings.get(address)
                            self.option(flag, self.value(node), _span(node.where, node.loc))
        for item in self.items("links"):
            if item.value is None:
                continue
            value = self.value(item)
            service, _, alias = value.text.partition(":")
            target = self.reference(service, "links", item.loc) if value.known else value.text
            unknown = value.expansions + ((service,) if target == SENTINEL else ())
            self.option("--link", Interpolated(f"{target}:{alias or service}", unknown), item.loc)
        self.each("external_links", "--link")
        for item in self.items("ports"):
            self.port(item)
        self.each("expose", "--expose")
        self.each("dns", "--dns")
        hosts = self.node.get("extra_hosts")
        if hosts is not None and isinstance(hosts.value, dict):
            self.pairs("extra_hosts", "--add-host", ":")
        else:
            self.each("extra_hosts", "--add-host")
        depends = self.node.get("depends_on")
        if depends is not None and isinstance(depends.value, (list, dict)):
            entries = depends.value if isinstance(depends.value, list) else [
                YNode(k, v.key_loc or v.loc) for k, v in depends.value.items()]
            for item in entries:
                if isinstance(item.value, str):
                    self.reference(item.value, "depends_on", item.loc)

    def port(self, item: YNode) -> None:
        if isinstance(item.value, dict):
            parts: list[Interpolated] = []
            get = item.get
            target = get("target")
            if target is None:
                self.problems.append(UsageProblem("DA003", "a port in long syntax needs a target", item.loc))
                return
            text = self.value(target).text
            protocol = get("protocol")
            if protocol is not None:
                text += "/" + self.value(protocol).text
            published = get("published")
            host_ip = get("host_ip")
            prefix = ""
            if published is not None and published.value is not None:
                value = self.value(published)
                parts.append(value)
                prefix = value.text + ":"
            if host_ip is not None and host_ip.value is not None:
                value = self.value(host_ip)
                parts.append(value)
                prefix = value.text + ":" + (prefix or ":")
            expansions = tuple(e for p in parts for e in p.expansions) + self.value(target).expansions
            self.option("--publish", Interpolated(prefix + text, expansions), item.loc)
            return
        if item.value is None:
            return
        self.option("--publish", self.value(item), item.loc)

    def security(self) -> None:
        self.each("cap_add", "--cap-add")
        self.each("cap_drop", "--cap-drop")
        self.each("security_opt", "--security-opt")
        self.scalar("userns_mode", "--userns")
        self.scalar("uts", "--uts")
        self.scalar("cgroup", "--cgroupns")
        self.mode("pid", "--pid")
        self.mode("ipc", "--ipc")
        self.each("devices", "--device")
        self.each("device_cgroup_rules", "--device-cgroup-rule")
        self.pairs("sysctls", "--sysctl")
        self.each("group_add", "--group-add")

    def lifecycle(self) -> None:
        restart = self.node.get("restart")
        if restart is not None:
            value = Interpolated("no") if restart.value is False else self.value(restart)
            self.option("--restart", value, _span(restart.where, restart.loc))
        else:
            deploy = self.node.get("deploy")
            policy = deploy.get("restart_policy") if deploy is not None else None
            if policy is not None and isinstance(policy.value, dict):
                condition = policy.get("condition")
                name = self.value(condition).text if condition is not None else "any"
                engine = {"none": "no", "any": "always", "on-failure": "on-failure"}.get(name, name)
                attempts = policy.get("max_attempts")
                if engine == "on-failure" and attempts is not None:
                    engine += ":" + self.value(attempts).text
                self.option("--restart", engine, _span(policy.where, policy.loc))
        logging = self.node.get("logging")
        driver = logging.get("driver") if logging is not None else self.node.get("log_driver")
        options = logging.get("options") if logging is not None else self.node.get("log_opt")
        if driver is not None and driver.value is not None:
            self.option("--log-driver", self.value(driver), _span(driver.where, driver.loc))
        if options is not None and isinstance(options.value, dict):
            for name, item in options.value.items():
                value = self.value(item)
                self.option("--log-opt", Interpolated(f"{name}={value.text}", value.expansions),
                            _span(item.where, item.loc))

    # -- what the CLI cannot say --

    def finish(self, spec: ContainerSpec) -> ContainerSpec:
        changes: dict[str, Any] = {}
        locations = dict(spec.locations)
        if spec.name is None:
            changes["name"] = self.project.container_name(self.service)
        entrypoint = self.node.get("entrypoint")
        if entrypoint is not None and entrypoint.value is not None:
            if isinstance(entrypoint.value, list):
                words = tuple(self.part(self.value(i)) for i in entrypoint.value)
            else:
                words = tuple(_part(p) for p in _split(self.value(entrypoint)))
            changes["entrypoint"] = words
            locations["entrypoint"] = _span(entrypoint.where, entrypoint.loc)
        if self.extra_mounts:
            changes["mounts"] = spec.mounts + tuple(self.extra_mounts)
            for index, mount in enumerate(self.extra_mounts, start=len(spec.mounts)):
                locations[f"mounts[{index}]"] = mount.loc
        health = self.healthcheck()
        if health is not None:
            changes["healthcheck"], locations["healthcheck"] = health
        # stdin_open and tty give the container a terminal, but up attaches none: they are not
        # the -it of a script, which needs one where it runs
        for key, field_name in (("stdin_open", "interactive"), ("tty", "tty")):
            node = self.node.get(key)
            if node is not None and node.value is not None:
                value = self.value(node)
                changes[field_name] = value.known and value.text.lower() in ("true", "yes", "on", "1")
                locations[field_name] = _span(node.where, node.loc)
        lifecycle, why = service_lifecycle(self.service, self.project.services, spec)
        changes["lifecycle"], changes["lifecycle_why"] = lifecycle, why
        changes["detach"] = lifecycle != "one-shot"
        # In a Compose file no value can expand into other settings (an unknown bool is only
        # that setting unknown); only a mapping key that is unknown may be any setting.
        changes["incomplete"] = any(not known(key) for mapping in (
            spec.log_opts, spec.sysctls, spec.storage_opt, spec.labels) for key in mapping)
        changes["locations"] = locations
        return replace(spec, **changes)

    def part(self, value: Interpolated) -> Any:
        return value.text if value.known else UNKNOWN

    def healthcheck(self) -> tuple[Healthcheck, Location] | None:
        node = self.node.get("healthcheck")
        if node is None or not isinstance(node.value, dict):
            return None
        loc = _span(node.where, node.where)
        disable = node.get("disable")
        if disable is not None and disable.value is True:
            return Healthcheck(("NONE",)), _span(disable.where, disable.loc)
        test = node.get("test")
        test_value: Any = UNKNOWN
        if test is not None:
            if isinstance(test.value, list):
                test_value = tuple(self.part(self.value(i)) for i in test.value)
            elif test.value is not None:
                value = self.value(test)
                test_value = ("CMD-SHELL", value.text) if value.known else UNKNOWN
            if test_value == ("NONE",):
                return Healthcheck(("NONE",)), _span(test.where, test.loc)
        fields: dict[str, Any] = {}
        for key, name in (("interval", "interval_ns"), ("timeout", "timeout_ns"),
                          ("start_period", "start_period_ns")):
            item = node.get(key)
            if item is not None and item.value is not None:
                value = self.value(item)
                fields[name] = _duration(value.text) if value.known else UNKNOWN
        retries = node.get("retries")
        if retries is not None and retries.value is not None:
            value = self.value(retries)
            fields["retries"] = int(value.text) if value.known and value.text.isdigit() else UNKNOWN
        return Healthcheck(test_value, **fields), loc


def _duration(text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError:
        return UNKNOWN


def _part(text: str) -> Any:
    return UNKNOWN if SENTINEL in text else text


def _split(value: Interpolated) -> list[str]:
    """A string command split into words as Compose splits it (shell-like, no expansion)."""
    try:
        return shlex.split(value.text)
    except ValueError:
        return [value.text]


_BYTES_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)b?\s*$", re.I)


def _bytes_text(text: str) -> str:
    """A Compose byte size (``512M``, ``1gb``, ``1073741824``) as the CLI spells it."""
    match = _BYTES_UNIT.match(text)
    if match is None:
        return text
    number, unit = match.groups()
    return f"{number}{unit.lower()}" if unit else number


# --- suppressions ------------------------------------------------------------------------------


def _last_line(node: YNode, lines: tuple[str, ...]) -> int:
    """The last line a value is written on: a block ends where the next key starts, and the
    blank lines and comments before that key are not the value's."""
    loc = node.loc
    line = loc.end_line
    if line > loc.line and line <= len(lines) and not lines[line - 1][:loc.end_column - 1].strip():
        line -= 1
    while line > loc.line and line <= len(lines) and (
            not lines[line - 1].strip() or lines[line - 1].lstrip().startswith("#")):
        line -= 1
    return min(line, max(len(lines), loc.line))


def compose_suppressions(
    path: str, files: Mapping[str, tuple[str, ...]], services: Mapping[str, YNode]
) -> tuple[tuple[Suppression, ...], tuple[tuple[Location, str], ...]]:
    """``# dockaudit ignore=…`` comments tied to what they cover, as in scripts.

    On its own line, a directive covers the next service (all of it) or the
    next key of a service; at the end of a line, the innermost key or service
    on that line; ``ignore-file`` before the first service, the whole file.
    """
    from dockaudit.suppress import find_directives

    suppressions: list[Suppression] = []
    stray: list[tuple[Location, str]] = []
    for file_path, lines in files.items():
        spans: list[tuple[int, int]] = []  # (first, last) of every service and service key
        for node in services.values():
            key = node.key_loc or node.loc
            if key.path != file_path:
                continue
            spans.append((key.line, max(_last_line(node, lines), key.line)))
            for child in node.value.values() if isinstance(node.value, dict) else ():
                where = child.key_loc or child.loc
                if where.path == file_path:
                    spans.append((where.line, max(_last_line(child, lines), where.line)))
        first_line = min((first for first, _ in spans), default=None)
        for directive in find_directives(lines):
            loc = Location(file_path, directive.line, directive.column, directive.line, directive.end_column)
            if directive.kind == "ignore-file":
                if first_line is not None and directive.line > first_line:
                    stray.append((loc, "ignore-file must come before the first service"))
                else:
                    suppressions.append(Suppression(directive.rule_ids, directive.reason, loc, 1,
                                                    max(len(lines), 1), True))
                continue
            covered = _covered(directive.line, directive.own_line, spans, lines)
            if covered is None:
                stray.append((loc, "it is not on or directly before a service or one of its keys"))
                continue
            suppressions.append(Suppression(directive.rule_ids, directive.reason, loc, *covered))
    del path
    return tuple(suppressions), tuple(stray)


def _covered(line: int, own_line: bool, spans: list[tuple[int, int]],
             lines: tuple[str, ...]) -> tuple[int, int] | None:
    if not own_line:
        inside = [s for s in spans if s[0] <= line <= s[1]]
        return min(inside, key=lambda s: s[1] - s[0]) if inside else None
    following = sorted((s for s in spans if s[0] > line), key=lambda s: (s[0], -s[1]))
    if not following:
        return None
    first, last = following[0]
    between = lines[line:first - 1]
    if all(not text.strip() or text.strip().startswith("#") for text in between):
        return first, last
    return None
