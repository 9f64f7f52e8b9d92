"""Which rule the engine asks about which command: declared subcommands, usage problems, services."""

from __future__ import annotations

from collections.abc import Iterable

from dockaudit.api import read_script
from dockaudit.config import Config
from dockaudit.engine import Engine
from dockaudit.model import ContainerSpec, DockerCommand, Severity
from dockaudit.rulebase import STATIC, Rule, RuleContext, Violation

SCRIPT = """\
docker network create backend
docker run -d --name db --restart always postgres:16
docker run --rm --bogus-flag alpine true
docker exec db psql -c 'select 1'
docker rm -f db
"""


class _Recording(Rule):
    """Records the subcommands it is asked about, and reports each."""

    severity = Severity.INFO
    sources = STATIC

    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        self.seen.append(command.subcommand)
        yield Violation(f"saw {' '.join(command.subcommand)}")


class EveryCommand(_Recording):
    """Every command."""

    id = "XD01"
    name = "every-command"


class RunAndExec(_Recording):
    """Only run and exec."""

    id = "XD02"
    name = "run-and-exec"
    subcommands = frozenset({("run",), ("exec",)})


class UsageProblems(_Recording):
    """Only commands with usage problems."""

    id = "XD03"
    name = "usage-problems"
    reports_usage_problems = True


class ServicesOnly(Rule):
    """Only containers the file keeps running."""

    id = "XD04"
    name = "services-only"
    severity = Severity.INFO
    sources = STATIC
    service_only = True

    def __init__(self) -> None:
        self.seen: list[str] = []

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        self.seen.append(str(spec.name))
        return ()


def _engine(*rules: type[Rule]) -> Engine:
    return Engine({rule.id: rule for rule in rules}, Config())


def test_a_rule_is_asked_only_about_the_commands_it_declares() -> None:
    engine = _engine(EveryCommand, RunAndExec, UsageProblems)
    result = engine.check_script(read_script(SCRIPT, "deploy.sh"))
    every, run_and_exec, usage = engine.rules
    assert every.seen == [("network", "create"), ("run",), ("run",), ("exec",), ("rm",)]
    assert run_and_exec.seen == [("run",), ("run",), ("exec",)]
    assert usage.seen == [("run",)]  # only the run with an unknown flag has a usage problem
    assert sorted(f.rule_id for f in result.findings) == ["XD01"] * 5 + ["XD02"] * 3 + ["XD03"]
    assert not result.errors


def test_a_service_only_rule_sees_only_long_running_containers() -> None:
    engine = _engine(ServicesOnly)
    engine.check_script(read_script(SCRIPT, "deploy.sh"))
    assert engine.rules[0].seen == ["db"]  # not the --rm one
