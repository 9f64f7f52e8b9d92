"""Loading rule plugins: the built-in rules and third-party packs, each on its own.

Every plugin is an entry point of the ``dockaudit`` group, the built-in rules
included. A pack that fails to import, implements a misspelled hook, or
returns something that is not a rule is reported by name and skipped; the run
goes on with the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from dockaudit import hookspecs
from dockaudit.rulebase import Rule

ENTRY_POINT_GROUP = "dockaudit"
_RULE_ID = re.compile(r"^[A-Z]{2,}[0-9]{3,}$")


@dataclass
class LoadedRules:
    """The rules that loaded, which plugin gave each, and what went wrong."""

    rules: dict[str, type[Rule]] = field(default_factory=dict)  # by id, in id order
    provider: dict[str, str] = field(default_factory=dict)  # rule id -> plugin name
    errors: list[str] = field(default_factory=list)
    formatters: dict[str, object] = field(default_factory=dict)


def _validate_rule(obj: object) -> str | None:
    if not (isinstance(obj, type) and issubclass(obj, Rule)):
        return f"{obj!r} is not a dockaudit.rulebase.Rule subclass"
    for attr in ("id", "name", "severity"):
        if not hasattr(obj, attr):
            return f"rule {obj.__name__} has no {attr!r}"
    if not _RULE_ID.match(obj.id):
        return f"rule {obj.__name__} has an invalid id {obj.id!r} (letters then digits, e.g. XY101)"
    return None


def load_rules(extra_plugins: list[tuple[str, object]] | None = None) -> LoadedRules:
    """Load every plugin of the entry-point group (and *extra_plugins*), each on its own."""
    result = LoadedRules()
    candidates: list[tuple[str, object]] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin", e.name)):
        try:
            candidates.append((ep.name, ep.load()))
        except Exception as exc:  # a broken pack must not stop the run
            result.errors.append(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
    candidates.extend(extra_plugins or [])

    collected: list[tuple[str, type[Rule]]] = []
    for name, module in candidates:
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        try:
            pm.register(module, name=name)
            pm.check_pending()
        except Exception as exc:
            result.errors.append(f"plugin {name!r} is invalid: {exc}")
            continue
        try:
            for batch in pm.hook.dockaudit_rules():
                for rule in batch or ():
                    problem = _validate_rule(rule)
                    if problem:
                        result.errors.append(f"plugin {name!r}: {problem}")
                    else:
                        collected.append((name, rule))
            for batch in pm.hook.dockaudit_formatters():
                result.formatters.update(batch or {})
        except Exception as exc:
            result.errors.append(f"plugin {name!r} failed: {type(exc).__name__}: {exc}")

    for name, rule in collected:
        if rule.id in result.rules:
            result.errors.append(
                f"plugin {name!r}: rule id {rule.id} is already provided by "
                f"{result.provider[rule.id]!r}; skipped"
            )
            continue
        result.rules[rule.id] = rule
        result.provider[rule.id] = name
    result.rules = dict(sorted(result.rules.items()))
    return result
