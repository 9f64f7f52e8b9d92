"""The rules' data tables: the JSON the rules load says what the edited YAML says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from dockaudit_rules import eol, stateful
from dockaudit_rules.imagenames import DATA, normalize_key

def _yaml(name: str) -> dict:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def test_every_table_has_both_forms() -> None:
    yamls = {p.stem for p in DATA.glob("*.yaml")}
    jsons = {p.stem for p in DATA.glob("*.json")}
    assert yamls == jsons
    assert {"eol", "stateful_images"} <= yamls
    assert DATA == Path(eol.__file__).resolve().parent / "data"


@pytest.mark.parametrize("source", sorted(DATA.glob("*.yaml")), ids=lambda p: p.name)
def test_json_is_generated_from_yaml(source: Path, generate: ModuleType) -> None:
    assert generate.render_rule_table(source) == source.with_suffix(".json").read_text(encoding="utf-8"), (
        f"{source.with_suffix('.json').name} is stale: run python tools/generate.py"
    )


def test_loaded_eol_table_equals_yaml() -> None:
    eol._shipped_table.cache_clear()
    expected = {normalize_key(image): dict(releases) for image, releases in _yaml("eol.yaml").items()}
    assert all(isinstance(d, dt.date) for releases in expected.values() for d in releases.values())
    assert eol._shipped_table() == expected


def test_loaded_stateful_table_equals_yaml() -> None:
    expected = {normalize_key(image): tuple(dirs) for image, dirs in _yaml("stateful_images.yaml").items()}
    assert stateful.stateful_table() == expected
    assert expected["postgres"] == ("/var/lib/postgresql/data",)


def test_generator_refuses_what_json_would_change(tmp_path: Path, generate: ModuleType) -> None:
    unquoted = tmp_path / "versions.yaml"
    unquoted.write_text("python:\n  3.10: 2026-10-31\n", encoding="utf-8")
    with pytest.raises(generate.SourceError, match="quote it"):
        generate.render_rule_table(unquoted)
    timed = tmp_path / "timed.yaml"
    timed.write_text("python:\n  '3.10': 2026-10-31 12:00:00\n", encoding="utf-8")
    with pytest.raises(generate.SourceError, match="time of day"):
        generate.render_rule_table(timed)
    fine = tmp_path / "fine.yaml"
    fine.write_text("# a comment\npython:\n  '3.10': 2026-10-31\n", encoding="utf-8")
    assert '"3.10": "2026-10-31"' in generate.render_rule_table(fine)
