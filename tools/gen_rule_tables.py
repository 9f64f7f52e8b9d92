#!/usr/bin/env python3
"""Generate rules/data/*.json, the data tables the rules load, from rules/data/*.yaml.

The YAML files are the tables people edit: they carry the comments that name
each entry's source. The rules load the JSON written from them, because
`dockaudit check` reads the tables at every start and json parses them an
order of magnitude faster than PyYAML. Dates become ISO ``YYYY-MM-DD``
strings; keys must be strings (an unquoted ``3.10`` would be the number 3.1).

    python tools/gen_rule_tables.py           # rewrite every JSON table
    python tools/gen_rule_tables.py --check   # exit 1 when a JSON table is stale
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent.parent / "rules" / "data"


class TableError(ValueError):
    """A YAML table holds something JSON would not carry unchanged."""


def to_json_value(value: Any, where: str) -> Any:
    """*value* as JSON data: dates as ISO strings, mappings with string keys only."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TableError(f"{where}: key {key!r} is a {type(key).__name__}, not a string (quote it)")
            out[key] = to_json_value(item, f"{where}.{key}")
        return out
    if isinstance(value, list):
        return [to_json_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dt.datetime):
        raise TableError(f"{where}: {value!r} has a time of day; write a date (YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TableError(f"{where}: {value!r} ({type(value).__name__}) cannot be written as JSON")


def table_data(source: Path) -> Any:
    """The YAML table at *source* as JSON data."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TableError(f"{source.name}: expected a mapping at the top level")
    return to_json_value(data, source.stem)


def render(source: Path) -> str:
    """The JSON text generated from the YAML table at *source*: ``{"note": ..., "table": {...}}``."""
    document = {
        "note": f"generated from {source.name} by tools/gen_rule_tables.py: edit the YAML, then rerun it",
        "table": table_data(source),
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def json_path(source: Path) -> Path:
    return source.with_suffix(".json")


def sources(data: Path = DATA) -> list[Path]:
    return sorted(data.glob("*.yaml"))


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print("usage: gen_rule_tables.py [--check]", file=sys.stderr)
        return 2
    stale: list[str] = []
    for source in sources():
        try:
            text = render(source)
        except TableError as exc:
            print(f"gen_rule_tables: {exc}", file=sys.stderr)
            return 2
        target = json_path(source)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    if stale:
        print(f"stale: {', '.join(stale)} (run tools/gen_rule_tables.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
