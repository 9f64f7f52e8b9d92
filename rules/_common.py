"""Small helpers shared by the built-in rules (not rules themselves)."""

from __future__ import annotations

from typing import Any

from dockaudit.rulebase import Rule, RuleContext


def option(rule: Rule, ctx: RuleContext, name: str) -> Any:
    """The configured value of *rule*'s option *name*, else its declared default."""
    if name in ctx.options:
        return ctx.options[name]
    return rule.options[name].default
