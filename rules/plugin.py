"""The built-in rules as a plugin: every module of this package that exposes ``RULES``."""

from __future__ import annotations

import importlib
import pkgutil

from dockaudit import hookimpl
from dockaudit.rulebase import Rule

_NOT_RULES = {"plugin"}


def builtin_rules() -> list[type[Rule]]:
    package = importlib.import_module("dockaudit_rules")
    rules: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _NOT_RULES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"dockaudit_rules.{info.name}")
        rules.extend(getattr(module, "RULES", ()))
    return rules


@hookimpl
def dockaudit_rules() -> list[type[Rule]]:
    return builtin_rules()
