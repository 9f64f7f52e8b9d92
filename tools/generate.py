#!/usr/bin/env python3
"""Write every file of the repository that is generated from another one, or check them.

    python tools/generate.py           # rewrite the generated files that are stale
    python tools/generate.py --check   # change nothing; exit 1 naming the stale ones (CI)

What is generated, and from what:

- ``dockaudit/data/options.json``, the option table the grammar loads, from
  ``dockaudit/data/options.yaml``: the Docker CLI's options (and what podman
  and nerdctl add), with the CLI version they were taken from.
- ``dockaudit/data/service_options.json``, the options of ``docker service
  create/update``, from ``dockaudit/data/service_options.yaml`` (extracted
  from a docker/cli checkout by ``tools/gen_service_options.py``, the one step
  that needs the CLI's source).
- ``rules/data/*.json``, the tables the rules load, from ``rules/data/*.yaml``
  (the files people edit: their comments name each entry's source). Dates
  become ISO ``YYYY-MM-DD`` strings.
- ``docs/rules.md``, the rule catalogue, from the built-in rules' own
  declarations and docstrings (``Rule.stays_silent`` and the docstring's
  ``**Stays silent**`` paragraphs make its "When it stays silent").

JSON rather than YAML is what dockaudit loads because it reads these tables at
every start, and json parses them an order of magnitude faster than PyYAML.

Exit codes: 0 everything is current (or was written), 1 ``--check`` found
stale files, 2 a source is invalid (the message says where).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OPTIONS_FACTS = ROOT / "dockaudit" / "data" / "options.yaml"
OPTIONS_TABLE = ROOT / "dockaudit" / "data" / "options.json"
SERVICE_FACTS = ROOT / "dockaudit" / "data" / "service_options.yaml"
SERVICE_TABLE = ROOT / "dockaudit" / "data" / "service_options.json"
RULE_DATA = ROOT / "rules" / "data"
RULES_DOC = ROOT / "docs" / "rules.md"


class SourceError(ValueError):
    """A source file holds something the generated file could not carry faithfully."""


@dataclass(frozen=True)
class Generated:
    """One generated file and how to write it."""

    path: Path
    render: Callable[[], str]


# --- the option table -----------------------------------------------------------

# How the grammar reads a flag's value (see the header of options.yaml); float and
# service-port are docker service create/update's own.
KINDS = frozenset({
    "bool", "string", "int", "int64", "uint16", "uint64", "decimal", "duration", "bytes",
    "ip", "cidr", "list", "map", "ulimit", "port", "volume", "mount", "network",
    "gpu-request", "throttle-device", "weight-device", "float", "service-port",
})
FLAG_KEYS = ("name", "short", "kind", "repeatable", "alias_of", "comma_splits", "windows_only",
             "deprecated")
_FLAG_NAME = re.compile(r"--[a-z0-9][a-z0-9-]*")
_FACT_KEYS = {"docker_cli", "container_options", "commands", "global_options", "programs"}
_COMMAND_KEYS = {"flags", "interspersed", "image"}
_SERVICE_COMMANDS = ("service create", "service update")
_PROGRAM_KEYS = {"source", "aliases", "comma_splits", "run_flags", "global_options"}
_CONTAINER_COMMANDS = ("run", "create")


def _mapping(value: Any, where: str, keys: set[str], required: set[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise SourceError(f"{where}: expected a mapping")
    unknown = set(value) - keys
    if unknown:
        raise SourceError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    missing = (keys if required is None else required) - set(value)
    if missing:
        raise SourceError(f"{where}: missing {', '.join(sorted(missing))}")
    return value


def _sorted_names(names: list[str], where: str) -> None:
    for before, after in pairwise(names):
        if before >= after:
            problem = "twice" if before == after else f"belongs before {before} (keep the list sorted)"
            raise SourceError(f"{where}: {after} {problem}")


def _flag(entry: Any, where: str, extra_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """One flag of the facts, checked, as the option table carries it."""
    entry = _mapping(entry, where, set(FLAG_KEYS + extra_keys), {"name", "kind"})
    name = entry["name"]
    if not isinstance(name, str) or not _FLAG_NAME.fullmatch(name):
        raise SourceError(f"{where}: {name!r} is not a long option name (--like-this)")
    where = f"{where} ({name})"
    if entry["kind"] not in KINDS:
        raise SourceError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(sorted(KINDS))}")
    short = entry.get("short")
    if short is not None and not (isinstance(short, str) and len(short) == 1 and short.isalnum()):
        raise SourceError(f"{where}: short must be one letter, got {short!r}")
    for key in ("repeatable", "comma_splits", "windows_only"):
        if key in entry and not isinstance(entry[key], bool):
            raise SourceError(f"{where}: {key} must be true or false")
    for key in ("alias_of", "deprecated"):
        if key in entry and not (isinstance(entry[key], str) and entry[key]):
            raise SourceError(f"{where}: {key} must be a non-empty string")
    return {key: value for key, value in entry.items() if key not in extra_keys and value is not False}


def _flags(entries: Any, where: str, extra_keys: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A sorted list of flags: checked, aliases resolved, shorthands unique."""
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"{where}: expected a list of flags")
    flags = [_flag(entry, f"{where}[{i}]", extra_keys) for i, entry in enumerate(entries)]
    _sorted_names([f["name"] for f in flags], where)
    names = {f["name"] for f in flags}
    for flag in flags:
        if flag.get("alias_of") is not None and flag["alias_of"] not in names:
            raise SourceError(f"{where}: {flag['name']} is an alias of {flag['alias_of']}, which is not listed")
    return flags


def _unique_shorts(flags: list[dict[str, Any]], where: str) -> None:
    seen: dict[str, str] = {}
    for flag in flags:
        short = flag.get("short")
        if short is not None and short in seen:
            raise SourceError(f"{where}: -{short} is the shorthand of both {seen[short]} and {flag['name']}")
        if short is not None:
            seen[short] = flag["name"]


def _container_commands(entries: Any) -> dict[str, dict[str, Any]]:
    """docker run and docker create from the container options (``only:`` marks a one-sided flag)."""
    where = "container_options"
    flags = _flags(entries, where, extra_keys=("only",))
    commands = {}
    for command in _CONTAINER_COMMANDS:
        chosen = []
        for flag, entry in zip(flags, entries, strict=True):
            only = entry.get("only")
            if only is not None and only not in _CONTAINER_COMMANDS:
                raise SourceError(f"{where} ({flag['name']}): only must be run or create, got {only!r}")
            if only in (None, command):
                chosen.append(flag)
        _unique_shorts(chosen, f"{where} ({command})")
        commands[command] = {"flags": chosen, "image": True, "interspersed": False}
    return commands


def _program(name: str, entry: Any, docker_run: set[str]) -> dict[str, Any]:
    where = f"programs.{name}"
    entry = _mapping(entry, where, _PROGRAM_KEYS)
    aliases = entry["aliases"]
    run_flags = entry["run_flags"]
    if not isinstance(aliases, dict) or not isinstance(run_flags, dict):
        raise SourceError(f"{where}: aliases and run_flags must be mappings")
    for flag, takes_value in run_flags.items():
        if not (isinstance(flag, str) and _FLAG_NAME.fullmatch(flag)) or not isinstance(takes_value, bool):
            raise SourceError(f"{where}.run_flags: {flag!r} must be an option name mapped to true or false")
    for alias, target in aliases.items():
        if target not in docker_run and target not in run_flags:
            raise SourceError(f"{where}.aliases: {alias} stands for {target}, which neither docker run "
                              "nor run_flags has")
    splits = entry["comma_splits"]
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise SourceError(f"{where}.comma_splits: expected a list of option names")
    _sorted_names(splits, f"{where}.comma_splits")
    global_flags = _flags(entry["global_options"], f"{where}.global_options")
    _unique_shorts(global_flags, f"{where}.global_options")
    return {"aliases": aliases, "comma_splits": splits, "global": global_flags, "run_flags": run_flags}


def option_table(facts: Any) -> dict[str, Any]:
    """The option table the grammar loads, built from the facts of ``options.yaml``."""
    facts = _mapping(facts, "options.yaml", _FACT_KEYS)
    source = _cli_source(facts["docker_cli"])
    commands = _container_commands(facts["container_options"])
    others = facts["commands"]
    if not isinstance(others, dict):
        raise SourceError("commands: expected a mapping of subcommand to its options")
    _sorted_names(list(others), "commands")
    for name, entry in others.items():
        if name in commands:
            raise SourceError(f"commands.{name}: run and create are the container options")
        entry = _mapping(entry, f"commands.{name}", _COMMAND_KEYS, {"flags"})
        flags = _flags(entry["flags"], f"commands.{name}")
        _unique_shorts(flags, f"commands.{name}")
        commands[name] = {**{k: v for k, v in entry.items() if k != "flags"}, "flags": flags}
    global_flags = _flags(facts["global_options"], "global_options")
    _unique_shorts(global_flags, "global_options")
    programs = facts["programs"]
    if not isinstance(programs, dict):
        raise SourceError("programs: expected a mapping")
    docker_run = {f["name"] for f in commands["run"]["flags"]}
    return {
        "source": source,
        "commands": commands,
        "global": global_flags,
        "programs": {name: _program(name, entry, docker_run) for name, entry in programs.items()},
    }


def _cli_source(cli: Any) -> str:
    """``repository@commit`` of the ``docker_cli`` block the facts were taken from, checked."""
    cli = _mapping(cli, "docker_cli", {"repository", "commit", "version", "files"},
                   {"repository", "commit", "version"})
    if not re.fullmatch(r"[0-9a-f]{40}", str(cli["commit"])):
        raise SourceError("docker_cli.commit: expected the full 40-hex-digit commit")
    return f"{cli['repository']}@{cli['commit']}"


def render_options() -> str:
    facts = yaml.safe_load(OPTIONS_FACTS.read_text(encoding="utf-8"))
    return json.dumps(option_table(facts), separators=(",", ":"), sort_keys=True) + "\n"


def service_table(facts: Any) -> dict[str, Any]:
    """The options of docker service create/update the grammar loads, from ``service_options.yaml``."""
    facts = _mapping(facts, "service_options.yaml", {"docker_cli", "commands"})
    source = _cli_source(facts["docker_cli"])
    commands = _mapping(facts["commands"], "commands", set(_SERVICE_COMMANDS))
    table = {}
    for name, entry in commands.items():
        entry = _mapping(entry, f"commands.{name}", _COMMAND_KEYS | {"usage"}, {"flags", "usage"})
        flags = _flags(entry["flags"], f"commands.{name}")
        _unique_shorts(flags, f"commands.{name}")
        table[name] = {**{k: v for k, v in entry.items() if k != "flags"}, "flags": flags}
    return {"source": source, "commands": table}


def render_service_options() -> str:
    facts = yaml.safe_load(SERVICE_FACTS.read_text(encoding="utf-8"))
    return json.dumps(service_table(facts), separators=(",", ":"), sort_keys=True) + "\n"


# --- the rules' data tables -----------------------------------------------------


def to_json_value(value: Any, where: str) -> Any:
    """*value* as JSON data: dates as ISO strings, mappings with string keys only."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SourceError(f"{where}: key {key!r} is a {type(key).__name__}, not a string (quote it)")
            out[key] = to_json_value(item, f"{where}.{key}")
        return out
    if isinstance(value, list):
        return [to_json_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dt.datetime):
        raise SourceError(f"{where}: {value!r} has a time of day; write a date (YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise SourceError(f"{where}: {value!r} ({type(value).__name__}) cannot be written as JSON")


def render_rule_table(source: Path) -> str:
    """The JSON text of the YAML table at *source*: ``{"note": ..., "table": {...}}``."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(f"{source.name}: expected a mapping at the top level")
    document = {
        "note": f"generated from {source.name} by tools/generate.py: edit the YAML, then rerun it",
        "table": to_json_value(data, source.stem),
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


# --- the rule catalogue ---------------------------------------------------------

_SECTION = re.compile(r"^\*\*(?P<title>[^*]+)\*\*\s*$")
_SILENT = "**Stays silent**"


def _doc_sections(doc: str) -> tuple[str, str, list[tuple[str, str]]]:
    """A rule docstring as (summary, why, [(section title, body)]), split at ``**Title**`` lines.

    Paragraphs that start with ``**Stays silent**`` are left out: `_silent` takes them.
    """
    summary, _, rest = doc.partition("\n")
    why: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in rest.splitlines():
        match = _SECTION.match(line)
        if match:
            sections.append((match["title"].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            why.append(line)
    return (summary.strip(), _without_silent("\n".join(why)),
            [(title, _without_silent("\n".join(body))) for title, body in sections])


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _without_silent(text: str) -> str:
    return "\n\n".join(p for p in _paragraphs(text) if not p.startswith(_SILENT))


def _silent(rule: type) -> list[str]:
    """When the rule says nothing: what its declarations imply, then its docstring's own cases."""
    declared = [f"- {line}" for line in rule.stays_silent()] if hasattr(rule, "stays_silent") else []
    own = [p for p in _paragraphs(rule.doc()) if p.startswith(_SILENT)]
    return ["\n".join(declared), *own] if declared else own


def _anchor(rule: type) -> str:
    return f"{rule.id}-{rule.name}".lower()


def _profiles(rule: type) -> list[str]:
    from dockaudit.config import PROFILES, Config

    return [profile for profile in PROFILES if Config(profile=profile).is_enabled(rule)]


def _sources(rule: type) -> str:
    from dockaudit.model import Source

    return ", ".join(source.value for source in Source if source in rule.sources)


def _references(rule: type) -> list[str]:
    cis = f"CIS Docker Benchmark {rule.cis}" if rule.cis else None
    return [*rule.references, *([cis] if cis and cis not in rule.references else [])]


def _rule_section(rule: type) -> Iterator[str]:
    summary, why, sections = _doc_sections(rule.doc())
    yield f"## {rule.id} {rule.name}"
    yield ""
    yield summary
    yield ""
    yield f"- **Severity:** {rule.severity}"
    yield f"- **Sources:** {_sources(rule)}"
    profiles = _profiles(rule)
    yield f"- **Profiles:** {', '.join(profiles) if profiles else 'none (enable it in the configuration)'}"
    if rule.service_only:
        yield "- **Applies to:** long-running containers only (see when it stays silent)"
    for name, option in rule.options.items():
        yield f"- **Option** `{name}` (default `{json.dumps(option.default)}`): {option.help}"
    if why:
        yield ""
        yield why
    for title, body in sections:
        yield ""
        yield f"### {title}"
        if body:
            yield ""
            yield body
    silent = _silent(rule)
    if silent:
        yield ""
        yield "### When it stays silent"
        for block in silent:
            yield ""
            yield block
    references = _references(rule)
    if references:
        yield ""
        yield "### References"
        yield ""
        yield from (f"- {reference}" for reference in references)
    yield ""


def render_rules_doc(rules: list[type] | None = None) -> str:
    """``docs/rules.md``: an index of every built-in rule, then each rule's documentation."""
    if rules is None:
        from dockaudit_rules.plugin import builtin_rules

        rules = builtin_rules()
    rules = sorted(rules, key=lambda rule: rule.id)
    lines = [
        "# Rules",
        "",
        "<!-- Generated by tools/generate.py from the rules' docstrings: edit the rule, not this file. -->",
        "",
        "Every rule dockaudit ships, by id. `dockaudit explain ID` prints the same text;",
        "`dockaudit rules` lists the rules with the configuration in effect. Severities,",
        "profiles and options can be changed in `.dockaudit.yaml`. Sources: `static` for",
        "shell scripts and Markdown, `live` for `docker inspect` JSON and running engines.",
        "",
        "| id | name | severity | sources | profiles | summary |",
        "|---|---|---|---|---|---|",
    ]
    for rule in rules:
        summary = _doc_sections(rule.doc())[0].replace("|", "\\|")
        lines.append(f"| [{rule.id}](#{_anchor(rule)}) | {rule.name} | {rule.severity} | "
                     f"{_sources(rule)} | {', '.join(_profiles(rule)) or '-'} | {summary} |")
    lines.append("")
    for rule in rules:
        lines.extend(_rule_section(rule))
    return "\n".join(lines)


# --- the command ----------------------------------------------------------------


def generated_files() -> list[Generated]:
    """Every generated file of the repository, with the function that writes it."""
    files = [Generated(OPTIONS_TABLE, render_options), Generated(SERVICE_TABLE, render_service_options)]
    files += [Generated(source.with_suffix(".json"), lambda source=source: render_rule_table(source))
              for source in sorted(RULE_DATA.glob("*.yaml"))]
    files.append(Generated(RULES_DOC, render_rules_doc))
    return files


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print("usage: generate.py [--check]", file=sys.stderr)
        return 2
    stale: list[str] = []
    for target in generated_files():
        name = target.path.relative_to(ROOT).as_posix()
        try:
            text = target.render()
        except (SourceError, yaml.YAMLError) as exc:
            print(f"generate: {name}: {exc}", file=sys.stderr)
            return 2
        current = target.path.read_text(encoding="utf-8") if target.path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(name)
        else:
            target.path.parent.mkdir(parents=True, exist_ok=True)
            target.path.write_text(text, encoding="utf-8")
            print(f"wrote {name}")
    if stale:
        print(f"generate: stale: {', '.join(stale)} (run python tools/generate.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
