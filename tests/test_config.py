"""Configuration: discovery, validation with messages that say where, resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockaudit.api import check_text, default_rules
from dockaudit.config import Config, ConfigError, ConfigFinder, load_config_file, parse_config
from dockaudit.model import Severity

RULES = default_rules().rules


def test_defaults_follow_the_rule_declarations() -> None:
    config = Config()
    assert config.is_enabled(RULES["DA101"])
    assert not config.is_enabled(RULES["DA208"])  # shipped off
    assert config.severity_of(RULES["DA501"]) is Severity.ERROR


def test_strict_profile_enables_the_off_rules() -> None:
    config = parse_config({"profile": "strict"}, RULES, "x.yaml")
    assert config.is_enabled(RULES["DA208"])
    assert config.is_enabled(RULES["DA307"])


def test_per_rule_settings() -> None:
    config = parse_config(
        {"rules": {"DA101": {"severity": "error"}, "DA208": {"enabled": True}, "DA406": False}},
        RULES,
        "x.yaml",
    )
    assert config.severity_of(RULES["DA101"]) is Severity.ERROR
    assert config.is_enabled(RULES["DA208"])
    assert not config.is_enabled(RULES["DA406"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rulez": {}}, "x.yaml: unknown key 'rulez'"),
        ({"rules": {"DA999": {}}}, "x.yaml: rules.DA999: unknown rule id"),
        ({"rules": {"memory-unlimited": {}}}, "did you mean DA101?"),
        ({"rules": {"DA101": {"enabeld": True}}}, "x.yaml: rules.DA101: unknown key 'enabeld'"),
        ({"rules": {"DA101": {"enabled": "yes"}}}, "rules.DA101.enabled: expected true or false"),
        ({"rules": {"DA101": {"severity": "fatal"}}}, "rules.DA101.severity: unknown severity 'fatal'"),
        ({"profile": "paranoid"}, "profile must be one of default, cis, strict"),
        ({"fail-on": "sometimes"}, "fail-on must be one of"),
        ({"exclude": [1, 2]}, "exclude must be a list of path patterns"),
        ([1, 2], "the configuration must be a mapping"),
    ],
)
def test_invalid_configuration_is_an_error_that_says_where(data, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, RULES, "x.yaml")
    assert message in str(info.value)


def test_rule_options_are_type_checked() -> None:
    rule_with_options = next(r for r in RULES.values() if r.options)
    name, option = next(iter(rule_with_options.options.items()))
    wrong = 12345 if not isinstance(option.default, int) or isinstance(option.default, bool) else "text"
    with pytest.raises(ConfigError) as info:
        parse_config({"rules": {rule_with_options.id: {name: wrong}}}, RULES, "x.yaml")
    assert f"rules.{rule_with_options.id}.{name}: expected" in str(info.value)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".dockaudit.yaml"
    path.write_text("rules:\n  DA101: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(path, RULES)
    assert str(path) in str(info.value) and "invalid YAML" in str(info.value)


def test_nearest_config_upward_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".dockaudit.yaml").write_text("rules: {DA101: {enabled: false}}\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "deploy" / "sub").mkdir(parents=True)
    (repo / "deploy" / ".dockaudit.yaml").write_text("rules: {DA406: {enabled: false}}\n")
    finder = ConfigFinder(RULES)
    deep = finder.for_path(str(repo / "deploy" / "sub" / "x.sh"))
    assert not deep.is_enabled(RULES["DA406"]) and deep.is_enabled(RULES["DA101"])
    top = finder.for_path(str(repo / "x.sh"))
    assert top.path is None  # the file above the repository root is not used
    assert top.is_enabled(RULES["DA101"])


def test_exclude_patterns(tmp_path: Path) -> None:
    config = parse_config({"exclude": ["vendor/", "*.generated.sh"]}, RULES, str(tmp_path / ".dockaudit.yaml"))
    assert config.excludes(str(tmp_path / "vendor" / "x.sh"))
    assert config.excludes("scripts/run.generated.sh")
    assert not config.excludes(str(tmp_path / "scripts" / "deploy.sh"))


@pytest.mark.parametrize("given", [".github/workflows/ci.sh", "./.github/workflows/ci.sh",
                                   "repo/.github/workflows/ci.sh", ".hidden.sh"])
def test_exclude_keeps_a_leading_dot_with_a_config_from_elsewhere(tmp_path: Path, monkeypatch,
                                                                    given: str) -> None:
    """--config from another folder: the paths given are matched as given, dots included."""
    monkeypatch.chdir(tmp_path)
    elsewhere = str(tmp_path / "settings" / "dockaudit.yaml")
    config = parse_config({"exclude": [".github/", ".hidden.sh"]}, RULES, elsewhere)
    assert config.excludes(given)
    assert not parse_config({"exclude": ["github/", "hidden.sh"]}, RULES, elsewhere).excludes(given)


def test_exclude_from_the_command_line_with_a_config_from_elsewhere(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "ci.sh").write_text("docker run --privileged alpine:3.19 true\n")
    (repo / "deploy.sh").write_text("docker run --privileged alpine:3.19 true\n")
    settings = tmp_path / "settings.yaml"
    settings.write_text("exclude: [.github/]\n")
    monkeypatch.chdir(repo)
    from dockaudit.cli import main

    assert main(["check", "--config", str(settings), "-f", "json", "-o", str(tmp_path / "out.json"), "."]) == 1
    report = (tmp_path / "out.json").read_text()
    assert "deploy.sh" in report and "ci.sh" not in report


def test_severity_override_changes_findings() -> None:
    text = "docker run --privileged -d --memory 64m alpine:3.19 sleep 1\n"
    default = [f for f in check_text(text) if f.rule_id == "DA501"]
    lowered = [f for f in check_text(text, config={"rules": {"DA501": {"severity": "info"}}}) if f.rule_id == "DA501"]
    assert default[0].severity is Severity.ERROR
    assert lowered[0].severity is Severity.INFO


def test_purpose_stated_for_a_glob_decides_what_is_said() -> None:
    from dockaudit.api import check_text

    text = "docker run --rm -it myorg/shell:1 sh\n"
    assert [f.rule_id for f in check_text(text, "tools/x.sh")] == ["DA007"]
    config = {"purpose": {"tools/*": "dev"}}  # a developer's own helpers: run from a terminal
    assert [f.rule_id for f in check_text(text, "tools/x.sh", config=config)] == []
    assert [f.rule_id for f in check_text(text, "bin/x.sh", config=config)] == ["DA007"]


def test_purpose_must_be_known() -> None:
    rules = default_rules().rules
    with pytest.raises(ConfigError, match="purpose.scripts/\\*: must be one of deploy, ci-test"):
        parse_config({"purpose": {"scripts/*": "production"}}, rules, "x.yaml")
