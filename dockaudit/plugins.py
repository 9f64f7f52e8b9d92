"""Loading rule plugins: the built-in rules and third-party packs, each on its own.

Every plugin is an entry point of the ``dockaudit`` group, the built-in rules
included. A pack that fails to import, implements a misspelled hook, or
returns something that is not a rule is reported by name and skipped; the run
goes on with the others.

Finding the entry points is on the path of every `dockaudit check`, and
importing ``importlib.metadata`` costs a good part of a short run's start-up
(it pulls in the ``email`` package). `group_entry_points` therefore reads the
``entry_points.txt`` files of ``sys.path`` itself, the way
``importlib.metadata.entry_points`` finds them, and hands over to
``importlib.metadata`` whenever the environment holds anything that reading
does not cover (zip archives, eggs, other distribution finders, names it
cannot take from a folder name, a malformed file).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from importlib import import_module
from importlib.machinery import PathFinder
from typing import Any

import pluggy

from dockaudit import hookspecs
from dockaudit.rulebase import Rule

ENTRY_POINT_GROUP = "dockaudit"
_RULE_ID = re.compile(r"^[A-Z]{2,}[0-9]{3,}$")


# --- entry points ---------------------------------------------------------------

# importlib.metadata.EntryPoint.pattern
_EP_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
_INFO_SUFFIXES = (".dist-info", ".egg-info")
# What importlib.metadata's PathDistribution.read_text takes for "no such file".
_NO_FILE = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


class EntryPoint:
    """An entry point read from an ``entry_points.txt``: what ``importlib.metadata`` gives, minus the rest."""

    __slots__ = ("name", "value", "group")

    def __init__(self, name: str, value: str, group: str) -> None:
        self.name = name
        self.value = value
        self.group = group

    def load(self) -> Any:
        """The module or object named by the value (as ``importlib.metadata.EntryPoint.load``)."""
        match = _EP_VALUE.match(self.value)
        module = import_module(match.group("module"))  # type: ignore[union-attr]
        result: Any = module
        for attr in filter(None, (match.group("attr") or "").split(".")):  # type: ignore[union-attr]
            result = getattr(result, attr)
        return result

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


class _NotCovered(Exception):
    """The environment holds something only importlib.metadata reads right."""


def _normalize(name: str) -> str:
    """importlib.metadata's distribution-name normalisation, without a regular expression.

    The same as ``re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")``.
    """
    name = name.lower().replace("-", "_").replace(".", "_")
    while "__" in name:
        name = name.replace("__", "_")
    return name


def _distribution_folders(entry: str) -> list[tuple[str, str]]:
    """(normalised name, folder) of one sys.path entry's distributions, in importlib.metadata's order."""
    root = entry or "."
    try:
        children = os.listdir(root)
    except FileNotFoundError:
        return []
    except OSError:  # a zip archive, an unreadable folder: importlib.metadata's business
        raise _NotCovered from None
    if os.path.basename(entry).lower().endswith(".egg"):
        raise _NotCovered
    by_name: dict[str, list[str]] = {}
    for child in children:
        low = child.lower()
        if not low.endswith(_INFO_SUFFIXES):
            continue
        stem, ext = os.path.splitext(child)
        name = stem.partition("-")[0]
        if ext not in _INFO_SUFFIXES or not name:
            raise _NotCovered  # its name would come from its METADATA file
        by_name.setdefault(_normalize(name), []).append(child)
    return [(name, os.path.join(root, child)) for name, group in by_name.items() for child in group]


def _parse_entry_points(text: str, group: str) -> list[EntryPoint]:
    """The entries of *group* in an ``entry_points.txt`` (importlib.metadata's Sectioned reader)."""
    found: list[EntryPoint] = []
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section is None:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise _NotCovered  # importlib.metadata fails on it: let it say how
        if section == group:
            found.append(EntryPoint(name.strip(), value.strip(), group))
    return found


def _scan_entry_points(group: str) -> list[EntryPoint]:
    """Entry points of *group* from the metadata folders on sys.path; raises _NotCovered."""
    if any(getattr(finder, "find_distributions", None) is not None and finder is not PathFinder
           for finder in sys.meta_path):
        raise _NotCovered
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path:
        if not isinstance(entry, str):
            raise _NotCovered
        for name, folder in _distribution_folders(entry):
            if name in seen:
                continue  # an earlier path entry holds this distribution
            seen.add(name)
            try:
                with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except _NO_FILE:
                continue
            except (OSError, UnicodeDecodeError):
                raise _NotCovered from None
            found.extend(_parse_entry_points(text, group))
    return found


def group_entry_points(group: str) -> list[Any]:
    """The entry points of *group* of every installed distribution, as ``importlib.metadata`` finds them."""
    try:
        return _scan_entry_points(group)
    except _NotCovered:
        from importlib.metadata import entry_points

        return list(entry_points(group=group))


# --- loading --------------------------------------------------------------------


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


def _implementations(hook: Any) -> dict[str, Any]:
    """The function of each plugin implementing *hook*, by plugin name."""
    return {impl.plugin_name: impl.function for impl in hook.get_hookimpls()}


def load_rules(extra_plugins: list[tuple[str, object]] | None = None) -> LoadedRules:
    """Load every plugin of the entry-point group (and *extra_plugins*), each on its own."""
    result = LoadedRules()
    candidates: list[tuple[str, object]] = []
    for ep in sorted(group_entry_points(ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin", e.name)):
        try:
            candidates.append((ep.name, ep.load()))
        except Exception as exc:  # a broken pack must not stop the run
            result.errors.append(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
    candidates.extend(extra_plugins or [])

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registered: list[str] = []
    for name, module in candidates:
        try:
            manager.register(module, name=name)
            manager.check_pending()  # every plugin before this one passed: a failure is this one's
        except Exception as exc:
            if manager.has_plugin(name) and manager.get_plugin(name) is module:
                manager.unregister(name=name)
            result.errors.append(f"plugin {name!r} is invalid: {exc}")
            continue
        registered.append(name)

    # Each plugin's implementations are called on their own, so that one that
    # raises is reported by name and the others' contributions still count.
    collected: list[tuple[str, type[Rule]]] = []
    rule_hooks = _implementations(manager.hook.dockaudit_rules)
    formatter_hooks = _implementations(manager.hook.dockaudit_formatters)
    for name in registered:
        try:
            rules = rule_hooks[name]() if name in rule_hooks else ()
            for rule in rules or ():
                problem = _validate_rule(rule)
                if problem:
                    result.errors.append(f"plugin {name!r}: {problem}")
                else:
                    collected.append((name, rule))
            if name in formatter_hooks:
                result.formatters.update(formatter_hooks[name]() or {})
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
