"""The built-in rules as a plugin: every rule class defined in a module of this package.

A rule is collected from where it is written, not from a list kept by hand: a
module's rules are the `Rule` subclasses it defines that carry an ``id`` of
their own (shared bases such as ``_UsageProblemRule`` carry none).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from dockaudit import hookimpl
from dockaudit.rulebase import Rule

_NOT_RULES = {"plugin"}


def rules_of(module: ModuleType) -> list[type[Rule]]:
    """The rules *module* defines, in the order they are written."""
    return [
        value for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Rule)
        and value.__module__ == module.__name__ and "id" in vars(value)
    ]


def builtin_rules() -> list[type[Rule]]:
    package = importlib.import_module("dockaudit_rules")
    rules: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _NOT_RULES or info.name.startswith("_"):
            continue
        rules.extend(rules_of(importlib.import_module(f"dockaudit_rules.{info.name}")))
    return rules


@hookimpl
def dockaudit_rules() -> list[type[Rule]]:
    return builtin_rules()
