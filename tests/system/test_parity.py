"""The engine as the oracle of the parser: same command, same verdict.

Every ``docker run``/``docker create`` of the rule cases (fixtures/rules/*.yaml)
that the private engine accepts is created on it (``--pull never``, without
``-d``), inspected, mapped with spec_from_inspect, and checked with the live
rules. The rules that see both sources must find the same rule ids as on the
static parse of the command. `KNOWN_DIFFERENCES` lists where they rightly do
not, and why.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import yaml

from dockaudit.api import check_text, default_rules, read_script
from dockaudit.config import Config
from dockaudit.engine import Engine as RuleEngine
from dockaudit.model import UNKNOWN, ContainerSpec, DockerCommand, HostInfo, Source
from dockaudit.sources.inspect import spec_from_inspect

pytest_plugins = ["engine_plugin"]

RULE_CASES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
TODAY = dt.date(2025, 6, 1)
# options of `docker run` that `docker create` does not take, and the one we set ourselves
RUN_ONLY = {"--detach", "--sig-proxy", "--detach-keys", "--attach", "--pull"}

# rule id -> (which side may find it alone, why that is right)
KNOWN_DIFFERENCES = {
    "DA306": ("live", "statically only --no-healthcheck is known to disable it (the image may have one); "
                      "live sees the merged config, and the test image has no healthcheck"),
    "DA303": ("static", "statically the image name says a detached shell will exit; live judges what "
                        "happened (exited with code 0 soon after start), and these containers never ran"),
}


T = TypeVar("T")
MISSING_CONTAINER = re.compile(r"(?:No such container|could not get container for): ?([\w.-]+)")


@dataclass(frozen=True)
class Case:
    ident: str
    script: str
    command: DockerCommand
    spec: ContainerSpec


def _known_words(command: DockerCommand) -> bool:
    words = command.invocation.words
    return all(w.value is not UNKNOWN and not w.splits for w in words)


def _cases() -> Iterator[Case]:
    for path in sorted(RULE_CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        for index, case in enumerate(data.get("cases") or []):
            text = case.get("script")
            if not isinstance(text, str):
                continue
            script = read_script(text, "case.sh", "shell")
            if len(script.commands) != 1 or script.problems:
                continue
            entry = script.commands[0]
            command, spec = entry.command, entry.spec
            if spec is None or command.problems or command.global_options or spec.incomplete:
                continue
            if command.subcommand not in (("run",), ("create",)):
                continue  # service commands: their parity with a real Swarm is in test_swarm.py
            if command.invocation.program != "docker" or command.invocation.context != "code":
                continue
            if not _known_words(command) or not command.operands:
                continue
            yield Case(f"{path.stem}-{index}-{case.get('name', '')}", text, command, spec)


CASES = list(_cases())


def create_argv(command: DockerCommand) -> list[str]:
    argv = ["create", "--pull", "never"]
    for use in command.options:
        if use.name in RUN_ONLY:
            continue
        argv.append(use.name if use.value_text is None else f"{use.name}={use.value_text}")
    argv.extend(str(word.value) for word in command.operands)
    return argv


# Both sides under the cis profile: every check on every container that may keep
# running. (The default profile weighs what a file is for, which a live container has not.)
PROFILE = Config(profile="cis")


def live_ids(spec: ContainerSpec, rules) -> set[str]:
    engine = RuleEngine(rules.rules, PROFILE, today=TODAY)
    result = engine.check_live([spec], None)
    assert not result.errors, result.errors
    return {f.rule_id for f in result.findings if f.container is not None}


def comparable(rules, static_spec: ContainerSpec) -> set[str]:
    """Rules that judge both sources (and, for a foreground task, that judge tasks at all)."""
    ids = set()
    for rule in rules.rules.values():
        if Source.STATIC in rule.sources and Source.LIVE in rule.sources:
            if rule.service_only and not static_spec.is_service:
                continue
            ids.add(rule.id)
    return ids - set(KNOWN_DIFFERENCES)


def create_each(create: Callable[[Case], T]) -> dict[str, T]:
    """*create* of every case, by case id: four at a time, cases naming the same container one after the other."""
    groups: dict[str, list[Case]] = {}
    for case in CASES:
        name = case.command.option("--name")
        groups.setdefault(str(name.value_text) if name else case.ident, []).append(case)
    results: dict[str, T] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = pool.map(lambda group: [create(case) for case in group], groups.values())
        for group, outcomes in zip(groups.values(), made, strict=True):
            results.update(zip((c.ident for c in group), outcomes, strict=True))
    return results


@pytest.fixture(scope="module")
def created(engine) -> dict[str, dict | str]:
    """Each case's inspect document, or why the engine did not create it (created four at a time)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCKER_HOST": engine.url,
           "DOCKER_CONFIG": str(engine.root / "cli-config")}
    for case in CASES:
        image = str(case.command.operands[0].value)
        if "@" not in image:
            engine.tag(image)

    def create(case: Case) -> dict | str:
        if "@" in str(case.command.operands[0].value):
            return "the image is pinned by digest"
        proc = subprocess.run(["docker", *create_argv(case.command)], capture_output=True, text=True,
                              env=env, timeout=120, cwd=engine.root)
        if proc.returncode != 0:
            return "rejected: " + (proc.stderr.strip().splitlines() or ["?"])[0]
        container_id = proc.stdout.strip().splitlines()[-1]
        try:
            return engine.client().api.inspect_container(container_id)
        finally:
            engine.remove_containers(container_id)

    results = create_each(create)
    # a command that links to, or shares the namespace of, a container the case does not make:
    # make that container first, then try again
    engine.tag("busybox:1.36")
    for case in CASES:
        made: list[str] = []
        try:
            while (missing := MISSING_CONTAINER.search(str(results[case.ident]))) and len(made) < 3:
                made.append(missing.group(1))
                engine.docker("create", "--pull", "never", "--name", made[-1], "busybox:1.36", "true")
                results[case.ident] = create(case)
        finally:
            engine.remove_containers(*made)
    return results


@pytest.mark.engine
@pytest.mark.parametrize("case", CASES, ids=[c.ident for c in CASES])
def test_same_findings_from_the_command_and_from_the_engine(case, created):
    doc = created[case.ident]
    if isinstance(doc, str):
        pytest.skip(f"the engine does not create this command ({doc})")
    rules = default_rules()
    live_spec = spec_from_inspect(doc, HostInfo(default_log_driver="json-file"))
    static = {f.rule_id for f in check_text(case.script, "case.sh", kind="shell", today=TODAY, config=PROFILE)}
    live = live_ids(live_spec, rules)
    both = comparable(rules, case.spec)
    assert sorted(static & both) == sorted(live & both), (
        f"static only: {sorted((static - live) & both)}, live only: {sorted((live - static) & both)}"
    )
    for rule_id, (alone, _why) in KNOWN_DIFFERENCES.items():
        other_side, this_side = (static, live) if alone == "live" else (live, static)
        if rule_id in other_side:
            assert rule_id in this_side, f"{rule_id} may differ only by being found {alone}-side alone"


@pytest.mark.engine
def test_the_engine_creates_most_commands(created):
    compared = [doc for doc in created.values() if isinstance(doc, dict)]
    assert len(compared) >= 0.9 * len(CASES), sorted(v for v in created.values() if isinstance(v, str))


def test_there_are_commands_to_compare():
    assert len(CASES) >= 100
