"""What a rule is: its declaration, its options, and what it may yield.

Rules import this module and `dockaudit.model`, nothing else of dockaudit.
A rule class declares its id, name, severity, sources, references and options;
its docstring is its documentation (summary line, why it matters,
**Anti-pattern** and **Best practice** bash blocks). It implements one or more
of the ``check_*`` methods and yields `Violation`s; the engine turns those into
findings with the configured severity and applies suppressions.
"""

from __future__ import annotations

import datetime as _dt
import inspect as _inspect
from typing import Any, ClassVar, Iterable, Mapping, NamedTuple

from dockaudit.model import (
    PURPOSES,
    ContainerSpec,
    DockerCommand,
    HostInfo,
    Location,
    Script,
    Severity,
    Source,
    Word,
)

STATIC = frozenset({Source.STATIC})
LIVE = frozenset({Source.LIVE})
BOTH = frozenset({Source.STATIC, Source.LIVE})

ALL_PURPOSES = frozenset(PURPOSES)


class Option(NamedTuple):
    """A rule option: its default, its type, and what it means (for `dockaudit config`)."""

    default: Any
    type: type | tuple[type, ...]
    help: str
    item_type: type | None = None  # for list options: the type of each item

    def validate(self, value: Any) -> str | None:
        """An error message when *value* does not fit, else None."""
        if not isinstance(value, self.type) or (isinstance(value, bool) and self.type is int):
            return f"expected {_type_name(self.type)}, got {type(value).__name__}"
        if self.item_type is not None and isinstance(value, (list, tuple)):
            for item in value:
                if not isinstance(item, self.item_type):
                    return f"expected a list of {_type_name(self.item_type)}, got an item {item!r}"
        if self.item_type is not None and isinstance(value, dict):
            for item in value.values():
                if not isinstance(item, self.item_type):
                    return f"expected values of type {_type_name(self.item_type)}, got {item!r}"
        return None


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return {"str": "a string", "int": "an integer", "bool": "true or false", "list": "a list",
            "dict": "a mapping", "float": "a number"}.get(t.__name__, t.__name__)


class Violation(NamedTuple):
    """What a rule yields: a message naming the offending value, where, and how to fix it."""

    message: str
    loc: Location | None = None  # None: the command (static) or the container (live)
    fix: str | None = None
    severity: Severity | None = None  # a rule may lower/raise one finding (e.g. DA206 read-only)


class RuleContext(NamedTuple):
    """What a rule may know besides the model: its options, today, the host (live)."""

    options: Mapping[str, Any]
    today: _dt.date
    host: HostInfo | None = None
    purpose: str | None = None  # what the checked file is for; None: live, inspect
    broad: bool = False  # the cis or strict profile: every check on every container


class Rule:
    """Base class of every rule. Subclasses set the class attributes below."""

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    sources: ClassVar[frozenset[Source]] = BOTH
    references: ClassVar[tuple[str, ...]] = ()  # "CIS Docker Benchmark 5.11", URLs
    cis: ClassVar[str | None] = None  # CIS Docker Benchmark section, "5.11"
    theme: ClassVar[str] = ""  # "resources", "storage", … (SARIF tags)
    enabled_by_default: ClassVar[bool] = True
    # The smallest profile that enables the rule: "default", "cis" (CIS hardening on
    # every service) or "strict" (everything; also what enabled_by_default=False means).
    profile: ClassVar[str] = "default"
    # † in the catalogue: only long-running containers. Under the default profile
    # that is a container the file keeps running (a restart policy) and every live
    # one; under cis and strict also one started in the background and never ended.
    service_only: ClassVar[bool] = False
    # The purposes of files the rule speaks to under the default profile (cis and
    # strict speak to all): a test harness does not need service hardening.
    purposes: ClassVar[frozenset[str]] = ALL_PURPOSES
    # Purposes in which, under the default profile, the rule concerns only containers
    # the file keeps running (a restart policy): in a tutorial, a `--rm -it` demo of
    # a setting is not a deployment of it.
    services_only_in: ClassVar[frozenset[str]] = frozenset()
    # The docker subcommands whose commands check_command looks at (("run",), ("network",
    # "create"), …); None: every command. The engine calls it for no other command.
    subcommands: ClassVar[frozenset[tuple[str, ...]] | None] = None
    # check_command only reports the grammar's usage problems (DockerCommand.problems): the
    # engine calls it only for a command that has one.
    reports_usage_problems: ClassVar[bool] = False
    options: ClassVar[Mapping[str, Option]] = {}
    # Options the docstring examples are documented with (a rule that needs
    # configuration to fire at all, such as a trust list).
    example_options: ClassVar[Mapping[str, Any]] = {}

    # --- what a rule can check (implement one or more) ---

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        """Check one container definition (static or live)."""
        return ()

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        """Check one docker command of a script (any subcommand: exec, rm, network create, …)."""
        return ()

    def check_script(self, script: Script, ctx: RuleContext) -> Iterable[Violation]:
        """Check a whole script: things only visible across its commands."""
        return ()

    def check_host(self, host: HostInfo, ctx: RuleContext) -> Iterable[Violation]:
        """Check a live host as a whole (dangling volumes, …)."""
        return ()

    # --- documentation ---

    @classmethod
    def doc(cls) -> str:
        return _inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().split("\n", 1)[0].strip()

    @classmethod
    def examples(cls) -> tuple[str | None, str | None]:
        """The bash blocks under **Anti-pattern** and **Best practice** of the docstring."""
        return _section_code(cls.doc(), "Anti-pattern"), _section_code(cls.doc(), "Best practice")

    @classmethod
    def stays_silent(cls) -> list[str]:
        """When the rule says nothing, from its declarations (for explain and the docs).

        A docstring paragraph that starts with **Stays silent** adds the rule's own cases.
        """
        names = {"deploy": "deploy scripts", "ci-test": "tests and CI", "build": "build scripts",
                 "dev": "a developer's own shell set-up (dotfiles, shell functions)",
                 "doc": "Markdown and other documentation"}
        lines = ["on a value it cannot see (`$VAR`, `${X:-…}`, `$(…)`): an unknown value is never a "
                 "violation"]
        profile = "strict" if not cls.enabled_by_default else cls.profile
        if profile != "default":
            lines.append(f"unless the `{profile}` profile (or the rule's own `enabled: true`) turns it on")
        silent_in = [names[p] for p in PURPOSES if p not in cls.purposes]
        if silent_in:
            lines.append("under the default profile, in " + ", ".join(silent_in))
        if cls.service_only:
            lines.append("on containers that are not kept running: under the default profile a "
                         "container needs a restart policy (every live container counts; in documentation "
                         "an image placeholder such as `%%IMAGE%%` marks an example); under cis and "
                         "strict, one started in the background counts unless the file ends it (`--rm`, "
                         "removed later, a one-shot command)")
        elif cls.services_only_in:
            where = ", ".join(names[p] for p in PURPOSES if p in cls.services_only_in)
            lines.append(f"under the default profile, in {where}, on containers not kept running "
                         "(an example run is not a deployment)")
        return lines

    @classmethod
    def implements(cls, method: str) -> bool:
        return getattr(cls, method) is not getattr(Rule, method)


def substituted_commands(word: Word) -> list[tuple[DockerCommand, str]]:
    """The container commands a word runs in ``$( … )`` or backticks, read by the grammar.

    Each comes with the text that follows it in the word (``| grep web)``), so
    that a rule can tell a command whose output is filtered further. For a
    rule that must look into a substitution (``docker rm $(docker ps -aq)``).
    """
    from dockaudit.grammar import parse_invocation
    from dockaudit.sources.shell import extract_shell

    text = word.text
    line_starts = [0]
    line_starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")
    found = []
    for invocation in extract_shell(text, word.loc.path).invocations:
        if invocation.context != "substitution":
            continue
        loc = invocation.loc
        end = line_starts[loc.end_line - 1] + loc.end_column - 1
        found.append((parse_invocation(invocation), text[end:]))
    return found


def _section_code(doc: str, heading: str) -> str | None:
    marker = f"**{heading}**"
    start = doc.find(marker)
    if start < 0:
        return None
    fence = doc.find("```", start)
    if fence < 0:
        return None
    body_start = doc.find("\n", fence) + 1
    end = doc.find("```", body_start)
    if end < 0:
        return None
    return doc[body_start:end]

