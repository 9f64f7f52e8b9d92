"""Small helpers shared by the built-in rules (not rules themselves)."""

from __future__ import annotations

from typing import Any

from dockaudit.model import ContainerSpec
from dockaudit.rulebase import Rule, RuleContext


def for_subject(spec: ContainerSpec, container: str, service: str) -> str:
    """*service* when *spec* is a Swarm service (whose flags and words differ), else *container*."""
    return service if spec.service is not None else container


def option(rule: Rule, ctx: RuleContext, name: str) -> Any:
    """The configured value of *rule*'s option *name*, else its declared default."""
    if name in ctx.options:
        return ctx.options[name]
    return rule.options[name].default
