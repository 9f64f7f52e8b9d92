"""The hooks a dockaudit plugin can implement.

A plugin is a module (or object) registered under the ``dockaudit`` entry-point
group; the built-in rules are one such plugin (``dockaudit_rules.plugin``).
Implement a hook with ``@dockaudit.hookimpl`` and a function of the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pluggy

if TYPE_CHECKING:
    from dockaudit.rulebase import Rule

PROJECT = "dockaudit"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def dockaudit_rules() -> Iterable[type[Rule]]:
    """Contribute rules.

    Called once when the plugins are loaded.

    :return: the rule classes (subclasses of `dockaudit.rulebase.Rule`) this
        plugin provides. Their ids must be unique across all plugins; a clash
        is reported and the later rule is skipped.
    """


@hookspec
def dockaudit_formatters() -> dict[str, object]:
    """Contribute output formats.

    Called once when the plugins are loaded.

    :return: a mapping from a format name (as given to ``--format``) to a
        callable ``format(report: dockaudit.report.Report) -> str``.
    """
