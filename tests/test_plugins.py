"""Third-party rule packs: a real pack pip-installed into a test venv, and broken ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from dockaudit import hookimpl
from dockaudit.model import Severity
from dockaudit.plugins import load_rules
from dockaudit.rulebase import Rule

REPO = Path(__file__).resolve().parents[1]
PLUGINS = REPO / "fixtures" / "plugins"


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> Path:
    """A venv that sees this environment's packages (dockaudit included) through a .pth file."""
    root = tmp_path_factory.mktemp("plugin-venv")
    venv.EnvBuilder(with_pip=True).create(root)
    python = root / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for pack in ("acme-rules", "broken-rules"):
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--disable-pip-version-check",
                str(PLUGINS / pack),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=root,
        )
    # Only now (after the packs were built in isolation) let the venv see this environment.
    # addsitedir also runs the parent's .pth files (an editable install needs them).
    parent_sites = dict.fromkeys([sysconfig.get_paths()["purelib"], *(p for p in sys.path if p.endswith("site-packages"))])
    Path(site, "parent-env.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parent_sites if Path(p).is_dir())
    )
    return root


def _dockaudit(
    venv_root: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [venv_root / "bin" / "python", "-m", "dockaudit.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_installed_pack_adds_a_rule_that_shows_and_fires(plugin_venv: Path) -> None:
    listed = _dockaudit(plugin_venv, "rules", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows["ACME101"]["plugin"] == "acme"
    assert rows["ACME101"]["name"] == "debug-image"
    assert rows["DA101"]["plugin"] == "builtin"

    result = _dockaudit(
        plugin_venv,
        "check",
        "--format",
        "json",
        "-",
        stdin="docker run -d --memory 64m myapp:debug\n",
    )
    findings = json.loads(result.stdout)["findings"]
    acme = [f for f in findings if f["rule"] == "ACME101"]
    assert len(acme) == 1
    assert acme[0]["message"] == "the image myapp:debug is a debug build"
    assert (acme[0]["line"], acme[0]["column"]) == (1, 28)


def test_broken_packs_are_reported_by_name_and_the_run_goes_on(plugin_venv: Path) -> None:
    result = _dockaudit(
        plugin_venv,
        "check",
        "--format",
        "json",
        "-",
        stdin="docker run --privileged alpine:3.19 true\n",
    )
    assert "plugin 'broken'" in result.stderr and "failed to load" in result.stderr
    assert "acme_dependency_that_does_not_exist" in result.stderr
    assert "plugin 'misspelled'" in result.stderr and "dockaudit_rule" in result.stderr
    assert "Traceback" not in result.stderr
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "DA501" in rules
    assert result.returncode == 1


# --- in-process: plugins given to load_rules directly ---------------------------


def _rule(rule_id: str) -> type[Rule]:
    return type(f"Rule{rule_id}", (Rule,), {"id": rule_id, "name": rule_id.lower(), "severity": Severity.INFO})


class _Pack:
    """A plugin object whose hooks give what it was made with."""

    def __init__(self, *rules: object, formatters: dict | None = None, fail: bool = False) -> None:
        self.rules, self.formats, self.fail = list(rules), formatters or {}, fail

    @hookimpl
    def dockaudit_rules(self) -> list:
        if self.fail:
            raise RuntimeError("the pack broke")
        return self.rules

    @hookimpl
    def dockaudit_formatters(self) -> dict:
        return self.formats


class _Misspelled:
    @hookimpl
    def dockaudit_rule(self) -> list:
        return [_rule("XX998")]


class _WrongArguments:
    @hookimpl
    def dockaudit_rules(self, config) -> list:
        return [_rule("XX997")]


def test_every_plugin_is_reported_by_name_and_the_others_still_count() -> None:
    good = _Pack(_rule("XX101"), formatters={"acme": str})
    loaded = load_rules([
        ("good", good),
        ("raises", _Pack(_rule("XX201"), fail=True)),
        ("misspelled", _Misspelled()),
        ("arguments", _WrongArguments()),
        ("not-a-rule", _Pack("DA101", _rule("XX301"))),
        ("again", good),  # the same object under a second name
        ("good", _Pack(_rule("XX401"))),  # a second plugin under a taken name
        ("clash", _Pack(_rule("XX101"), _rule("XX501"))),
    ])
    errors = "\n".join(loaded.errors)
    assert "plugin 'raises' failed: RuntimeError: the pack broke" in errors
    assert "plugin 'misspelled' is invalid" in errors and "dockaudit_rule" in errors
    assert "plugin 'arguments' is invalid" in errors and "config" in errors
    assert "plugin 'not-a-rule': 'DA101' is not a dockaudit.rulebase.Rule subclass" in errors
    assert "plugin 'again' is invalid" in errors
    assert errors.count("plugin 'good' is invalid") == 1
    assert "plugin 'clash': rule id XX101 is already provided by 'good'; skipped" in errors
    assert len(loaded.errors) == 7
    assert {rule_id: loaded.provider[rule_id] for rule_id in loaded.rules if rule_id.startswith("XX")} == {
        "XX101": "good", "XX301": "not-a-rule", "XX501": "clash"}
    assert loaded.formatters == {"acme": str}
    assert loaded.provider["DA501"] == "builtin"


def test_a_plugin_that_fails_validation_leaves_no_hook_behind() -> None:
    """A rejected plugin's other, valid hooks must not run either."""

    class HalfValid:
        @hookimpl
        def dockaudit_rules(self) -> list:
            return [_rule("XX601")]

        @hookimpl
        def dockaudit_formatter(self) -> dict:  # misspelled
            return {}

    loaded = load_rules([("half", HalfValid())])
    assert "XX601" not in loaded.rules
    assert any("plugin 'half' is invalid" in error for error in loaded.errors)


def test_one_plugin_manager_serves_every_plugin(monkeypatch) -> None:
    import pluggy

    made: list[pluggy.PluginManager] = []

    class Counted(pluggy.PluginManager):
        def __init__(self, project_name: str) -> None:
            super().__init__(project_name)
            made.append(self)

    monkeypatch.setattr("dockaudit.plugins.pluggy.PluginManager", Counted)
    loaded = load_rules([("one", _Pack(_rule("XX701"))), ("two", _Pack(_rule("XX702")))])
    assert len(made) == 1
    assert {"builtin", "one", "two"} <= {name for name, _ in made[0].list_name_plugin()}
    assert loaded.provider["XX701"] == "one" and loaded.provider["XX702"] == "two"
