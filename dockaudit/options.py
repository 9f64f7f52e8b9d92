"""The Docker CLI's option table: which options each subcommand takes, and how.

The facts live in ``data/options.json`` and ``data/service_options.json``
(generated from ``data/options.yaml`` and ``data/service_options.yaml`` by
``tools/generate.py``); this module loads them once and answers, per tool and
subcommand, with a `CommandGrammar` of `FlagSpec`s. Reading a command line
against the table is `dockaudit.grammar`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

_DATA = Path(__file__).resolve().parent / "data" / "options.json"
# docker service create/update, generated from data/service_options.yaml
_SERVICE_DATA = _DATA.with_name("service_options.json")

class FlagSpec(NamedTuple):
    """One option of a subcommand as the option table declares it."""

    name: str
    kind: str
    short: str | None = None
    repeatable: bool = False
    alias_of: str | None = None
    deprecated: str | None = None
    comma_splits: bool = False
    windows_only: bool = False

    @property
    def takes_value(self) -> bool:
        return self.kind != "bool"

    @property
    def canonical(self) -> str:
        return self.alias_of or self.name


@dataclass(frozen=True)
class CommandGrammar:
    """The options of one subcommand for one tool."""

    subcommand: tuple[str, ...]
    flags: dict[str, FlagSpec]  # every long name, aliases included
    shorts: dict[str, FlagSpec]
    interspersed: bool = True  # False: options stop at the first operand
    image: bool = False  # the first operand is an image (run/create)
    exact: bool = True  # unknown options are errors (Docker); podman/nerdctl: lenient
    unknown_with_value: frozenset[str] = field(default_factory=frozenset)

    def names(self) -> list[str]:
        return sorted(self.flags)

    @cached_property
    def by_canonical(self) -> dict[str, FlagSpec]:
        """The options under their canonical names, made once per subcommand."""
        return {s.canonical: s for s in self.flags.values()}


@lru_cache(maxsize=1)
def option_table() -> dict[str, Any]:
    with _DATA.open(encoding="utf-8") as fh:
        table = json.load(fh)
    with _SERVICE_DATA.open(encoding="utf-8") as fh:
        table["commands"].update(json.load(fh)["commands"])
    return table


def _spec(entry: dict[str, Any]) -> FlagSpec:
    return FlagSpec(
        name=entry["name"], kind=entry["kind"], short=entry.get("short"),
        repeatable=bool(entry.get("repeatable")), alias_of=entry.get("alias_of"),
        deprecated=entry.get("deprecated"), comma_splits=bool(entry.get("comma_splits")),
        windows_only=bool(entry.get("windows_only")),
    )


def _build(specs: list[FlagSpec], subcommand: tuple[str, ...], **kw: Any) -> CommandGrammar:
    flags = {s.name: s for s in specs}
    shorts = {s.short: s for s in specs if s.short}
    return CommandGrammar(subcommand, flags, shorts, **kw)


@lru_cache(maxsize=64)
def grammar_for(program: str, subcommand: tuple[str, ...]) -> CommandGrammar | None:
    """The grammar of *subcommand* under *program*, or None when the table lacks it."""
    entry = option_table()["commands"].get(" ".join(subcommand))
    if entry is None:
        return None
    specs = [_spec(e) for e in entry["flags"]]
    kw: dict[str, Any] = {"interspersed": entry.get("interspersed", True),
                          "image": bool(entry.get("image"))}
    extra = option_table()["programs"].get(program)
    if extra is None:
        return _build(specs, subcommand, **kw)
    splits = set(extra["comma_splits"])
    specs = [FlagSpec(s.name, s.kind, s.short, s.repeatable, s.alias_of, None,
                      s.comma_splits or s.canonical in splits, False) for s in specs]
    names = {s.name for s in specs}
    if kw["image"]:
        for name, target in extra["aliases"].items():
            if name not in names and target in names:
                base = next(s for s in specs if s.name == target)
                specs.append(FlagSpec(name, base.kind, None, base.repeatable, target))
        for name, takes in extra["run_flags"].items():
            if name not in names:
                specs.append(FlagSpec(name, "string" if takes else "bool", repeatable=True))
        # podman's -d, --sig-proxy, --detach-keys exist on create too; stay lenient there
    return _build(specs, subcommand, exact=False, **kw)


@lru_cache(maxsize=4)
def global_grammar(program: str) -> CommandGrammar:
    extra = option_table()["programs"].get(program)
    entries = extra["global"] if extra is not None else option_table()["global"]
    return _build([_spec(e) for e in entries], (), exact=extra is None)


def shorthand_of(name: str, subcommand: tuple[str, ...] = ("run",)) -> str | None:
    """The one-letter form of option *name* (``--memory`` -> ``m``), if it has one."""
    grammar = grammar_for("docker", subcommand)
    spec = grammar.flags.get(name) if grammar else None
    return spec.short if spec else None
