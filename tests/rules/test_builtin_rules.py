"""The built-in rules are collected from the modules that define them: none can be left out."""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from pathlib import Path

from dockaudit.api import default_rules
from dockaudit_rules.plugin import builtin_rules, rules_of

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


def written_rule_ids() -> dict[str, str]:
    """Rule id -> module, read from the source: every class that assigns itself an id ``DAnnn``."""
    ids = {}
    for path in sorted(RULES_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                target = statement.targets[0] if isinstance(statement, ast.Assign) else (
                    statement.target if isinstance(statement, ast.AnnAssign) else None)
                value = getattr(statement, "value", None)
                if (isinstance(target, ast.Name) and target.id == "id" and isinstance(value, ast.Constant)
                        and isinstance(value.value, str) and re.fullmatch(r"DA\d{3}", value.value)):
                    ids[value.value] = path.stem
    return ids


def test_every_rule_written_in_a_rule_module_is_collected():
    written = written_rule_ids()
    assert len(written) > 50  # the reading above found the rules at all
    collected = {rule.id: rule.__module__.rpartition(".")[2] for rule in builtin_rules()}
    assert collected == written
    assert set(default_rules().rules) >= set(written)


def test_each_rule_is_collected_once():
    ids = [rule.id for rule in builtin_rules()]
    assert len(ids) == len(set(ids))


def test_a_module_gives_the_rules_it_defines_and_not_its_bases_or_imports(tmp_path, monkeypatch):
    (tmp_path / "sample_rule_module.py").write_text(textwrap.dedent('''
        from dockaudit.model import Severity
        from dockaudit.rulebase import STATIC, Rule
        from dockaudit_rules.privileges import HostPid  # imported, not defined here

        class _Base(Rule):
            """A shared base without an id."""

        class First(_Base):
            """First."""
            id = "DA990"
            name = "first"
            severity = Severity.INFO
            sources = STATIC
            theme = "test"

        class Helper:
            id = "not a rule"

        class Second(Rule):
            """Second."""
            id = "DA991"
            name = "second"
            severity = Severity.INFO
            sources = STATIC
            theme = "test"
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    import sample_rule_module

    try:
        assert [rule.id for rule in rules_of(sample_rule_module)] == ["DA990", "DA991"]
    finally:
        sys.modules.pop("sample_rule_module", None)
