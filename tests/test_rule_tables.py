"""The rules' data tables: the JSON the rules load says what the edited YAML says."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from dockaudit_rules import eol, stateful
from dockaudit_rules.imagenames import DATA, normalize_key

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rule_tables", ROOT / "tools" / "gen_rule_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml(name: str) -> dict:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def test_every_table_has_both_forms() -> None:
    yamls = {p.stem for p in DATA.glob("*.yaml")}
    jsons = {p.stem for p in DATA.glob("*.json")}
    assert yamls == jsons
    assert {"eol", "stateful_images"} <= yamls
    assert DATA == Path(eol.__file__).resolve().parent / "data"


@pytest.mark.parametrize("source", sorted(DATA.glob("*.yaml")), ids=lambda p: p.name)
def test_json_is_generated_from_yaml(source: Path) -> None:
    gen = _generator()
    assert gen.render(source) == source.with_suffix(".json").read_text(encoding="utf-8"), (
        f"{source.with_suffix('.json').name} is stale: run python tools/gen_rule_tables.py"
    )


def test_generator_check_mode_passes_on_the_tree() -> None:
    assert _generator().main(["--check"]) == 0


def test_loaded_eol_table_equals_yaml() -> None:
    eol._shipped_table.cache_clear()
    expected = {normalize_key(image): dict(releases) for image, releases in _yaml("eol.yaml").items()}
    assert all(isinstance(d, dt.date) for releases in expected.values() for d in releases.values())
    assert eol._shipped_table() == expected


def test_loaded_stateful_table_equals_yaml() -> None:
    expected = {normalize_key(image): tuple(dirs) for image, dirs in _yaml("stateful_images.yaml").items()}
    assert stateful.stateful_table() == expected
    assert expected["postgres"] == ("/var/lib/postgresql/data",)


def test_generator_refuses_what_json_would_change(tmp_path: Path) -> None:
    gen = _generator()
    unquoted = tmp_path / "versions.yaml"
    unquoted.write_text("python:\n  3.10: 2026-10-31\n", encoding="utf-8")
    with pytest.raises(gen.TableError, match="quote it"):
        gen.render(unquoted)
    timed = tmp_path / "timed.yaml"
    timed.write_text("python:\n  '3.10': 2026-10-31 12:00:00\n", encoding="utf-8")
    with pytest.raises(gen.TableError, match="time of day"):
        gen.render(timed)
    fine = tmp_path / "fine.yaml"
    fine.write_text("# a comment\npython:\n  '3.10': 2026-10-31\n", encoding="utf-8")
    assert '"3.10": "2026-10-31"' in gen.render(fine)
