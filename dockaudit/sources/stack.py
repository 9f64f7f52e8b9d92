"""``docker stack deploy -c FILE [-c FILE2] STACK`` in scripts: the stack's Compose files as Swarm services.

The Compose files a script deploys are read by the Compose source, as
``docker stack deploy`` reads them: named relative to the script's folder
(as the Compose source resolves its own paths), the later ``-c`` files merged
into the first in order, no override file looked for beside them, and the
stack's name as the project's (networks and volumes are ``STACK_name``). Each
service becomes the `ContainerSpec` of a Swarm service named ``STACK_service``,
with its ``deploy`` section (mode, replicas, placement, restart policy), its
secrets and configs, and its ports, which Swarm publishes in ingress mode on
every node unless the long syntax says ``mode: host`` (an address before the
port is ignored by Swarm). Findings point into the Compose files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dockaudit.model import UNKNOWN, ContainerSpec, Location, Script, ScriptCommand, ServiceSpec, known
from dockaudit.sources.compose import ComposeRead, Project, read_compose
from dockaudit.sources.compose_load import ComposeError, YNode
from dockaudit.sources.swarm import service_restart_policy

__all__ = ["StackDeploy", "StackRead", "deployed_stacks", "read_stack", "stack_deploys"]

DEPLOY = ("stack", "deploy")
_FILE_OPTIONS = ("-c", "--compose-file")
_VALUE_OPTIONS = ("--resolve-image", "--orchestrator", "--namespace", "--kubeconfig")  # take a value


@dataclass(frozen=True)
class StackDeploy:
    """One ``docker stack deploy`` of a script: the stack's name and the Compose files, as written.

    A name or file held in a variable is None: it cannot be read."""

    stack: str | None
    files: tuple[str | None, ...]
    loc: Location


@dataclass
class StackRead:
    """What reading one deploy gave: the stack's services as a `Script` of the first Compose file, the
    lines of every file read, and notes for the user (a missing file, a variable) with their place."""

    script: Script | None = None
    files: dict[str, tuple[str, ...]] | None = None
    notes: list[tuple[str, str]] | None = None  # (path shown, message)


def stack_deploys(script: Script) -> list[StackDeploy]:
    """The ``docker stack deploy`` commands of *script* that name Compose files."""
    found = []
    for entry in script.commands:
        command = entry.command
        if command.subcommand != DEPLOY:
            continue
        files: list[str | None] = []
        names: list[str | None] = []
        words = list(command.operands)
        index = 0
        while index < len(words):
            word = words[index]
            text = word.value if word.is_known else None
            index += 1
            if text is None:
                names.append(None)
                continue
            value = None
            if text in _FILE_OPTIONS or text in _VALUE_OPTIONS:
                if index < len(words):
                    value = words[index].value if words[index].is_known else None
                    index += 1
                if text in _FILE_OPTIONS:
                    files.extend(_csv(value))
                continue
            if text.startswith("--compose-file="):
                files.extend(_csv(text.split("=", 1)[1]))
            elif text.startswith("-c") and not text.startswith("--"):
                files.extend(_csv(text[2:].lstrip("=")))
            elif text == "--":
                names.extend(w.value if w.is_known else None for w in words[index:])
                break
            elif not text.startswith("-"):
                names.append(text)
        if files:
            found.append(StackDeploy(names[-1] if len(names) == 1 else None, tuple(files), command.loc))
    return found


def deployed_stacks(script: Script, script_path: str, seen: set[tuple]) -> list[StackRead]:
    """The stacks *script* deploys that are not in *seen* (which then holds them): a stack deployed
    from the same files by several scripts, or twice by one, is read once."""
    reads = []
    folder = Path(script_path).parent
    for deploy in stack_deploys(script):
        key = (deploy.stack, tuple(str((folder / f).resolve()) if f is not None else None for f in deploy.files))
        if deploy.stack is not None and None not in deploy.files:
            if key in seen:
                continue
            seen.add(key)
        reads.append(read_stack(deploy, script_path))
    return reads


def _csv(value: str | None) -> list[str | None]:
    """``-c`` is a list option: ``-c a.yml,b.yml`` names two files."""
    if value is None:
        return [None]
    return [part for part in value.split(",") if part]


def read_stack(deploy: StackDeploy, script_path: str) -> StackRead:
    """The services of *deploy*'s stack, from its Compose files beside *script_path*."""
    where = f"{script_path}:{deploy.loc.line}"
    if deploy.stack is None:
        return StackRead(notes=[(script_path, f"line {deploy.loc.line}: docker stack deploy: the stack's name is "
                                              "not known here; its Compose files are not read")])
    if None in deploy.files:
        return StackRead(notes=[(script_path, f"line {deploy.loc.line}: docker stack deploy {deploy.stack}: a "
                                              "Compose file is named by a variable; the stack is not read")])
    folder = Path(script_path).parent
    texts: list[tuple[str, str]] = []
    for name in deploy.files:
        assert name is not None
        if name == "-":
            return StackRead(notes=[(script_path, f"line {deploy.loc.line}: docker stack deploy {deploy.stack} "
                                                  "reads its Compose file from stdin; it is not read")])
        path = Path(name) if Path(name).is_absolute() else folder / name
        shown = str(path) if Path(name).is_absolute() or str(folder) not in ("", ".") else name
        try:
            texts.append((shown, path.read_text(encoding="utf-8", errors="replace")))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return StackRead(notes=[(shown, f"cannot read the Compose file of stack {deploy.stack} "
                                            f"(deployed at {where}): {reason.lower()}")])
    (first, text), merged = texts[0], texts[1:]
    try:
        read = read_compose(text, first, project=deploy.stack, merged=merged)
    except ComposeError as exc:
        return StackRead(notes=[(first, f"not read as the Compose file of stack {deploy.stack}: {exc}")])
    return StackRead(script=_as_services(read, deploy.stack), files=dict(read.files),
                     notes=[(first, note) for note in read.notes])


def _as_services(read: ComposeRead, stack: str) -> Script:
    project = read.project
    assert project is not None
    commands = []
    for service, entry in zip(read.services, read.script.commands, strict=True):
        spec = entry.spec
        if spec is not None:
            spec = _service_spec(spec, project, service, stack)
        commands.append(ScriptCommand(entry.command, spec))
    return replace(read.script, commands=tuple(commands))


def _service_spec(spec: ContainerSpec, project: Project, service: str, stack: str) -> ContainerSpec:
    node = project.services[service]
    deploy = node.get("deploy")
    mode = _text(project, _at(deploy, "mode")) or "replicated"
    replicas: Any = _number(project, _at(deploy, "replicas"))
    if replicas is None and mode == "replicated":
        replicas = 1
    policy = _at(deploy, "restart_policy")
    condition = _text(project, _at(policy, "condition")) or "any"
    attempts = _number(project, _at(policy, "max_attempts"))
    placement = _at(deploy, "placement")
    constraints = tuple(_text(project, item) or UNKNOWN for item in _items(_at(placement, "constraints")))
    host_mode = _host_mode_ports(project, node.get("ports"))
    ports, ingress = [], []
    for binding in spec.ports:
        binding = replace(binding, host_ip="")  # Swarm publishes on every address of a node
        ports.append(binding)
        if (binding.container_port, binding.host_port, binding.protocol) not in host_mode:
            ingress.append(f"{binding.host_port}:{binding.container_port}/{binding.protocol}")
    locations = dict(spec.locations)
    if policy is not None:
        locations["restart_policy"] = locations["restart_condition"] = policy.key_loc or policy.loc
    return replace(
        spec,
        name=f"{stack}_{service}",
        ports=tuple(ports),
        restart_policy=service_restart_policy(condition, attempts),
        service=ServiceSpec(mode=mode, replicas=replicas, constraints=constraints, restart_condition=condition,
                            restart_max_attempts=attempts, secrets=_sources(project, node.get("secrets")),
                            configs=_sources(project, node.get("configs")), ingress_ports=tuple(ingress)),
        locations=locations,
    )


def _at(node: YNode | None, key: str) -> YNode | None:
    return node.get(key) if node is not None else None


def _items(node: YNode | None) -> list[YNode]:
    return list(node.value) if node is not None and isinstance(node.value, list) else []


def _text(project: Project, node: YNode | None) -> Any:
    if node is None or node.value is None:
        return None
    value = project.text(node)
    return value.text if value.known else UNKNOWN


def _number(project: Project, node: YNode | None) -> Any:
    text = _text(project, node)
    if text is None or not known(text):
        return text
    try:
        return int(text)
    except ValueError:
        return UNKNOWN


def _sources(project: Project, node: YNode | None) -> tuple[Any, ...]:
    """The secrets or configs a service is given: ``- name`` or ``- source: name``."""
    names = []
    for item in _items(node):
        names.append(_text(project, item.get("source") if isinstance(item.value, dict) else item) or UNKNOWN)
    return tuple(names)


def _host_mode_ports(project: Project, node: YNode | None) -> set[tuple[str, str, str]]:
    """(target, published, protocol) of the ports the long syntax publishes with ``mode: host``."""
    found = set()
    for item in _items(node):
        if isinstance(item.value, dict) and _text(project, item.get("mode")) == "host":
            found.add((str(_text(project, item.get("target")) or ""), str(_text(project, item.get("published")) or ""),
                       str(_text(project, item.get("protocol")) or "tcp")))
    return found
