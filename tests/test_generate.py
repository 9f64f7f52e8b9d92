"""tools/generate.py: every generated file is current, and bad sources are refused by name."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from dockaudit.model import Severity
from dockaudit.rulebase import STATIC, Rule
from dockaudit_rules.plugin import builtin_rules

REPO = Path(__file__).resolve().parents[1]
FACTS = yaml.safe_load((REPO / "dockaudit" / "data" / "options.yaml").read_text(encoding="utf-8"))


def test_every_generated_file_is_current() -> None:
    """What CI runs: a stale options.json, rule table or docs/rules.md fails the run."""
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "generate.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + "\nrun: python tools/generate.py"


def test_every_kind_of_generated_file_is_covered(generate: ModuleType) -> None:
    paths = {target.path.relative_to(REPO).as_posix() for target in generate.generated_files()}
    assert {"dockaudit/data/options.json", "dockaudit/data/service_options.json", "rules/data/eol.json",
            "rules/data/stateful_images.json", "docs/rules.md"} <= paths


def test_check_names_a_stale_file_and_writing_fixes_it(generate: ModuleType, tmp_path: Path,
                                                       monkeypatch, capsys) -> None:
    target = tmp_path / "out" / "table.json"
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "generated_files",
                        lambda: [generate.Generated(target, lambda: '{"a": 1}\n')])
    assert generate.main(["--check"]) == 1
    assert "stale: out/table.json" in capsys.readouterr().err
    assert not target.exists()
    assert generate.main([]) == 0
    assert target.read_text() == '{"a": 1}\n'
    assert generate.main(["--check"]) == 0
    assert generate.main(["--bogus"]) == 2


def test_the_table_names_the_cli_it_comes_from() -> None:
    table = json.loads((REPO / "dockaudit" / "data" / "options.json").read_text(encoding="utf-8"))
    cli = FACTS["docker_cli"]
    assert table["source"] == f"github.com/docker/cli@{cli['commit']}"
    assert "v29" in cli["version"]


def test_run_and_create_share_the_container_options(generate: ModuleType) -> None:
    table = generate.option_table(copy.deepcopy(FACTS))
    run = {f["name"] for f in table["commands"]["run"]["flags"]}
    create = {f["name"] for f in table["commands"]["create"]["flags"]}
    assert run - create == {"--detach", "--detach-keys", "--sig-proxy"}
    assert create <= run
    assert all("only" not in f for f in table["commands"]["run"]["flags"])


def _broken(change) -> dict:
    facts = copy.deepcopy(FACTS)
    change(facts)
    return facts


def _flag(facts: dict, name: str) -> dict:
    return next(f for f in facts["container_options"] if f["name"] == name)


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: _flag(f, "--memory").update(kind="megabytes"), r"--memory.*kind 'megabytes' is not one of"),
    (lambda f: f["container_options"].reverse(), "keep the list sorted"),
    (lambda f: f["container_options"].append(dict(f["container_options"][-1])), "twice"),
    (lambda f: _flag(f, "--net").update(alias_of="--netwrk"), "alias of --netwrk, which is not listed"),
    (lambda f: _flag(f, "--tty").update(short="i"), "-i is the shorthand of both"),
    (lambda f: _flag(f, "--rm").update(only="build"), "only must be run or create"),
    (lambda f: _flag(f, "--rm").update(colour="red"), "unknown keys colour"),
    (lambda f: f["docker_cli"].update(commit="28f7560"), "full 40-hex-digit commit"),
    (lambda f: f["docker_cli"].pop("version"), "missing version"),
    (lambda f: f["programs"]["podman"]["aliases"].update({"--nett": "--nope"}),
     "--nett stands for --nope"),
], ids=["kind", "unsorted", "duplicate", "alias", "short", "only", "key", "commit", "version", "program-alias"])
def test_bad_facts_are_refused_with_where(generate: ModuleType, change, message: str) -> None:
    with pytest.raises(generate.SourceError, match=message):
        generate.option_table(_broken(change))


def test_a_bad_source_is_exit_2_with_a_message(generate: ModuleType, tmp_path: Path, monkeypatch,
                                               capsys) -> None:
    facts = tmp_path / "options.yaml"
    facts.write_text(yaml.safe_dump(_broken(lambda f: _flag(f, "--memory").update(kind="megabytes"))))
    monkeypatch.setattr(generate, "OPTIONS_FACTS", facts)
    monkeypatch.setattr(generate, "generated_files",
                        lambda: [generate.Generated(tmp_path / "options.json", generate.render_options)])
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    assert generate.main(["--check"]) == 2
    assert "options.json: container_options" in capsys.readouterr().err
    facts.write_text("commands: [unclosed\n")
    assert generate.main([]) == 2
    assert not (tmp_path / "options.json").exists()


SERVICE_FACTS = yaml.safe_load((REPO / "dockaudit" / "data" / "service_options.yaml").read_text(encoding="utf-8"))


def test_the_service_table_is_derived_from_its_facts(generate: ModuleType) -> None:
    table = generate.service_table(copy.deepcopy(SERVICE_FACTS))
    assert set(table["commands"]) == {"service create", "service update"}
    assert table["commands"]["service create"]["image"] is True
    assert {"name": "--replicas", "kind": "uint64"} in table["commands"]["service create"]["flags"]
    assert table["source"] == f"github.com/docker/cli@{SERVICE_FACTS['docker_cli']['commit']}"


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f["commands"]["service create"]["flags"].reverse(), "keep the list sorted"),
    (lambda f: f["commands"]["service update"]["flags"][0].update(kind="megabytes"), "kind 'megabytes'"),
    (lambda f: f["commands"].pop("service update"), "missing service update"),
    (lambda f: f["docker_cli"].update(commit="main"), "40-hex-digit"),
], ids=["unsorted", "kind", "command", "commit"])
def test_bad_service_facts_are_refused_with_where(generate: ModuleType, change, message: str) -> None:
    facts = copy.deepcopy(SERVICE_FACTS)
    change(facts)
    with pytest.raises(generate.SourceError, match=message):
        generate.service_table(facts)


class QuietRule(Rule):
    """A made-up rule for the catalogue.

    Why it matters, in a paragraph.

    **Anti-pattern**
    ```bash
    docker run --quiet alpine
    ```

    **Best practice**
    ```bash
    docker run alpine
    ```

    **Stays silent** when the value is unknown.

    **Example output**
    ```text
    case.sh:1:1: info: quiet [ZZ901]
    ```
    """

    id = "ZZ901"
    name = "quiet-rule"
    severity = Severity.INFO
    sources = STATIC
    enabled_by_default = False
    service_only = True
    cis = "5.99"
    references = ("https://example.com/quiet",)


def test_rule_section_carries_every_part_of_the_docstring(generate: ModuleType) -> None:
    doc = generate.render_rules_doc([QuietRule])
    section = doc[doc.index("## ZZ901 quiet-rule"):]
    for expected in ("A made-up rule for the catalogue.", "- **Severity:** info", "- **Sources:** static",
                     "- **Profiles:** strict", "long-running containers only", "Why it matters",
                     "### Anti-pattern\n\n```bash\ndocker run --quiet alpine\n```",
                     "### Best practice\n\n```bash\ndocker run alpine\n```",
                     "### Example output\n\n```text\ncase.sh:1:1: info: quiet [ZZ901]\n```",
                     "### When it stays silent\n\n- on a value it cannot see",
                     "**Stays silent** when the value is unknown.",
                     "### References\n\n- https://example.com/quiet\n- CIS Docker Benchmark 5.99"):
        assert expected in section, expected
    assert section.count("Stays silent") == 1  # in its own section, not in the text above it
    assert section.index("Why it matters") < section.index("### When it stays silent")
    assert "| [ZZ901](#zz901-quiet-rule) | quiet-rule | info | static | strict |" in doc


def test_catalogue_lists_every_builtin_rule_once(generate: ModuleType) -> None:
    doc = generate.render_rules_doc()
    rules = builtin_rules()
    assert len(rules) >= 70
    for rule in rules:
        assert doc.count(f"\n## {rule.id} {rule.name}\n") == 1, rule.id
        bad, good = rule.examples()
        assert bad is not None and bad.strip() in doc, rule.id
        assert good is not None and good.strip() in doc, rule.id
