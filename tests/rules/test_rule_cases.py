"""Every rule against its YAML cases in fixtures/rules/, and against its own docstring examples."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
import yaml

from dockaudit.api import check_text, default_rules
from dockaudit.model import Source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
RULES = default_rules().rules


def _profile_of(rule) -> str:
    """The smallest profile that enables *rule*: its cases run under it."""
    return "strict" if rule.enabled_by_default is False else rule.profile


def _load_cases():
    params = []
    for path in sorted(FIXTURES.glob("DA*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, case in enumerate(data.get("cases") or []):
            name = case.get("name", f"case{index}")
            params.append(pytest.param(data["rule"], case, id=f"{data['rule']}-{name}"))
    return params


def _run_case(rule_id: str, case: dict) -> list[tuple[int, int]]:
    if "markdown" in case:
        text, default_path = case["markdown"], "case.md"
    else:
        text, default_path = case["script"], "case.sh"
    config = case.get("config")
    profile = _profile_of(RULES[rule_id])
    if profile != "default":
        config = dict(config or {})
        config.setdefault("profile", profile)
    today = case.get("today")
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    findings = check_text(text, case.get("path", default_path), config=config, today=today)
    return sorted(
        (f.location.line, f.location.column)
        for f in findings
        if f.rule_id == rule_id and f.suppressed is None and f.location is not None
    )


@pytest.mark.parametrize(("rule_id", "case"), _load_cases())
def test_rule_case(rule_id: str, case: dict) -> None:
    expected = sorted(tuple(pair) for pair in case.get("expect", []))
    assert Counter(_run_case(rule_id, case)) == Counter(expected)


def test_every_rule_has_a_fixture_file_with_cases() -> None:
    files = {p.stem for p in FIXTURES.glob("DA*.yaml")}
    missing = sorted(set(RULES) - files)
    assert not missing, f"rules without fixtures/rules/<id>.yaml: {missing}"
    for path in FIXTURES.glob("DA*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["rule"] == path.stem
        rule = RULES[path.stem]
        if Source.STATIC in rule.sources:
            cases = data.get("cases") or []
            assert any(c.get("expect") for c in cases), f"{path.stem}: no case that must fire"
            assert any(not c.get("expect") for c in cases), (
                f"{path.stem}: no case that must stay silent"
            )


def test_rule_registry_is_consistent() -> None:
    loaded = default_rules()
    assert not loaded.errors, loaded.errors
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.name and rule.name == rule.name.lower()
        doc = rule.doc()
        assert rule.summary(), f"{rule_id} has no summary line"
        bad, good = rule.examples()
        assert bad is not None and good is not None, (
            f"{rule_id}: docstring needs Anti-pattern and Best practice blocks"
        )
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names)), "rule names must be unique"
    assert doc


def _static_rules_with_examples():
    for rule_id, rule in RULES.items():
        if Source.STATIC in rule.sources and rule_id not in ("DA001", "DA008"):
            yield pytest.param(rule_id, id=rule_id)


@pytest.mark.parametrize("rule_id", list(_static_rules_with_examples()))
def test_rule_fires_on_its_own_anti_pattern_only(rule_id: str) -> None:
    rule = RULES[rule_id]
    bad, good = rule.examples()
    config = {"profile": _profile_of(rule), "rules": {rule_id: {"enabled": True, **rule.example_options}}}
    fired = [f for f in check_text(bad, "example.sh", config=config) if f.rule_id == rule_id]
    assert fired, f"{rule_id} does not fire on its Anti-pattern example:\n{bad}"
    quiet = [f for f in check_text(good, "example.sh", config=config) if f.rule_id == rule_id]
    assert not quiet, f"{rule_id} fires on its Best practice example: {[f.message for f in quiet]}"


def test_cis_never_reports_less_than_the_default_profile() -> None:
    """The peer comparisons run under cis: it must keep everything the default profile says."""
    for param in _load_cases():
        _rule_id, case = param.values
        if "config" in case:
            continue
        text, path = (case["markdown"], "case.md") if "markdown" in case else (case["script"], "case.sh")
        path = case.get("path", path)

        def keys(config, text=text, path=path):
            return {(f.rule_id, f.location.line, f.location.column)
                    for f in check_text(text, path, config=config) if f.location and f.rule_id != "DA008"}

        default, cis = keys(None), keys({"profile": "cis"})
        assert default <= cis, (text, sorted(default - cis))
