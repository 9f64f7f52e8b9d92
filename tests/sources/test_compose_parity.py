"""A docker run command and its Compose form give the same findings.

fixtures/compose/composerize.yaml holds each literal rule-case command with the
Compose file composerize (npm) makes of it (tools/composerize_cases.py writes
it; the commands composerize cannot convert are listed there with the
reason). Both are checked; the findings must be the same rule ids, as many
times, except where Compose itself says something else than the command
(``compose_differs``), each with its reason.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from dockaudit.api import check_text, default_rules, read_script
from dockaudit.config import Config
from dockaudit.engine import Engine
from dockaudit.model import ContainerSpec
from dockaudit.sources.compose import read_compose
from tests.conftest import FIXTURES

PAIRS = yaml.safe_load((FIXTURES / "compose" / "composerize.yaml").read_text(encoding="utf-8"))
CONVERTED = [p for p in PAIRS if "compose" in p]


def compose_differs(command: str, spec: ContainerSpec) -> dict[str, str]:
    """Rule ids whose verdict Compose changes for this command, with why."""
    rules = default_rules().rules
    differs: dict[str, str] = {}
    options = read_script(command + "\n", "run.sh").commands[0].command
    if not options.has("--network"):
        differs["DA407"] = "a Compose service is on the project's own network, not the default bridge"
    if not spec.is_service:
        for rule_id, rule in rules.items():
            if rule.service_only:
                differs[rule_id] = "Compose has no foreground run: every service is long-running"
        differs["DA303"] = "Compose has no -d: a service's foreground command is not judged as detached"
        differs["DA301"] = "a task's helper process ends with it; the Compose service keeps running"
    if spec.auto_remove:
        differs["DA203"] = "Compose has no --rm: composerize leaves it out"
        differs["DA304"] = "--rm takes no restart policy; its Compose service can have one"
        differs["DA201"] = "--rm throws the data away on purpose (DA203); the Compose service keeps it"
    if spec.tty and spec.interactive:
        differs["DA007"] = "Compose attaches no terminal to a service: tty: true needs none where it runs"
    if spec.ports and options.has("--network") and spec.network_mode in ("host", "none"):
        differs["DA402"] = "composerize leaves out the ports --network host/none discards"
    return differs


def test_most_rule_case_commands_are_converted():
    assert len(PAIRS) >= 250
    assert len(CONVERTED) >= 0.85 * len(PAIRS)
    assert all(p.get("not_converted") for p in PAIRS if "compose" not in p)


@pytest.mark.parametrize("pair", CONVERTED, ids=[f"{p['rule']}-{p['case']}" for p in CONVERTED])
def test_command_and_its_compose_form_give_the_same_findings(pair, tmp_path):
    command = pair["command"]
    script = read_script(command + "\n", "run.sh")
    spec = script.commands[0].spec
    differs = compose_differs(command, spec)
    ours = Counter(f.rule_id for f in check_text(command + "\n", "run.sh") if f.rule_id not in differs)
    path = Path(tmp_path, "project", "compose.yaml")
    path.parent.mkdir()
    path.write_text(pair["compose"], encoding="utf-8")
    read = read_compose(pair["compose"], "project/compose.yaml", base_dir=path.parent)  # a deploy file
    result = Engine(default_rules().rules, Config()).check_script(read.script)
    assert result.errors == []
    theirs = Counter(f.rule_id for f in result.findings if f.rule_id not in differs)
    assert theirs == ours, f"{command}\n{pair['compose']}"


def test_the_differences_are_few_and_each_has_its_reason():
    used: Counter = Counter()
    for pair in CONVERTED:
        spec = read_script(pair["command"] + "\n", "run.sh").commands[0].spec
        used.update(set(compose_differs(pair["command"], spec).values()))
    # every stated difference applies to some command, and most commands need only DA407
    assert len(used) == 9
