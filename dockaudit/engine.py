"""The rule engine: runs the enabled rules on a script or on live containers.

It knows no particular rule. For each source it calls the rules' ``check_*``
methods, turns their violations into findings with the configured severity,
applies suppressions (inline comments, container labels), and reports unused
inline ignores. A rule that raises is reported as an internal error and the
run goes on with the other rules.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dockaudit.config import Config
from dockaudit.memory import collector_paused
from dockaudit.model import (
    ContainerSpec,
    DockerCommand,
    EngineRef,
    Finding,
    HostInfo,
    Location,
    Script,
    Severity,
    Source,
    Suppression,
    known,
)
from dockaudit.rulebase import Rule, RuleContext, Violation

PARSE_FAILURE = "DA001"
UNUSED_SUPPRESSION = "DA008"
IGNORE_LABEL = "dockaudit.ignore"

Checker = Callable[[Any, RuleContext], Iterable[Violation] | None]  # a rule's check_* method


@dataclass
class EngineResult:
    """The findings of one check, and the rules that failed while making them."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # internal errors (a rule crashed)


def command_text(command: DockerCommand) -> str:
    """The command normalised to single spaces: the basis of stable fingerprints."""
    inv = command.invocation
    return " ".join([inv.program, *(word.text for word in inv.words)])


class Engine:
    """Runs a set of rules under one configuration."""

    def __init__(self, rules: Mapping[str, type[Rule]], config: Config, today: dt.date | None = None):
        self.config = config
        self.today = today or dt.date.today()
        self.all_rules = rules
        self.rules: list[Rule] = [cls() for cls in rules.values() if config.is_enabled(cls)]
        self._contexts: dict[tuple[str, bool, str | None], RuleContext] = {}

    # --- helpers ---

    def _ctx(self, rule: Rule, host: HostInfo | None = None, purpose: str | None = None) -> RuleContext:
        key = (rule.id, host is not None, purpose)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = RuleContext(options=self.config.options_for(type(rule)), today=self.today, host=host,
                              purpose=purpose, broad=self.config.broad)
            self._contexts[key] = ctx
        return ctx

    def _speaks_to(self, rule: Rule, purpose: str) -> bool:
        """Under the default profile a rule speaks only to the purposes it names."""
        return self.config.broad or purpose in rule.purposes

    def _services_only(self, rule: Rule, purpose: str) -> bool:
        """Whether *rule* looks only at long-running containers (see Rule.service_only, services_only_in)."""
        if self.config.broad:
            return rule.service_only
        return rule.service_only or purpose in rule.services_only_in

    def _long_running(self, spec: ContainerSpec, purpose: str) -> bool:
        """Whether *spec* counts as long-running for the rules that look only at those."""
        if self.config.broad:
            return spec.is_service
        # in documentation, a placeholder image (%%IMAGE%%, <image>) marks an example of
        # usage, not a deployment the reader keeps running
        return spec.declared_service and (purpose != "doc" or known(spec.image))

    def _finding(
        self,
        rule: Rule | type[Rule],
        violation: Violation,
        default_loc: Location | None,
        *,
        container=None,
        basis: str | None = None,
        engine: EngineRef | None = None,
    ) -> Finding:
        cls = rule if isinstance(rule, type) else type(rule)
        configured = self.config.rules.get(cls.id)
        if configured is not None and configured.severity is not None:
            severity = configured.severity
        else:
            severity = violation.severity or cls.severity
        return Finding(
            rule_id=cls.id,
            name=cls.name,
            severity=severity,
            message=violation.message,
            location=violation.loc or default_loc,
            fix=violation.fix,
            container=container,
            fingerprint_basis=basis,
            engine=engine,
        )

    def _run(
        self,
        result: EngineResult,
        rule: Rule,
        check: Checker,
        subject: object,
        ctx: RuleContext,
        where: object,
    ) -> list[Violation]:
        """The violations of *check*, a method of *rule*; *where* names the subject in an error (str() only then)."""
        try:
            return list(check(subject, ctx) or ())
        except Exception as exc:  # one broken rule must not lose the others' results
            result.errors.append(f"rule {rule.id} failed on {where}: {type(exc).__name__}: {exc}")
            return []

    # --- scripts ---

    @collector_paused()
    def check_script(self, script: Script) -> EngineResult:
        result = EngineResult()
        found: list[Finding] = []
        parse_rule = self.all_rules.get(PARSE_FAILURE)
        if parse_rule is not None and self.config.is_enabled(parse_rule):
            for problem in script.problems:
                found.append(self._finding(parse_rule, Violation(problem.message), problem.loc))

        stated = self.config.purpose_of(script.path)
        if stated is not None and stated != script.purpose:
            script = replace(script, purpose=stated, purpose_why="stated by the configuration")
        purpose = script.purpose
        static_rules = [r for r in self.rules if Source.STATIC in r.sources and self._speaks_to(r, purpose)]
        # What is decided once for the script rather than for every command: which rules
        # look at which commands (by subcommand, and whether it has usage problems) and at
        # which containers (any, or only long-running ones). Findings are sorted at the end:
        # the order they come in is free.
        on_command = [(r, r.check_command, self._ctx(r, purpose=purpose))
                      for r in static_rules if r.implements("check_command")]
        for_command: dict[tuple[tuple[str, ...], bool], list[tuple[Rule, Checker, RuleContext]]] = {}
        on_container = [(r, r.check_container, self._ctx(r, purpose=purpose))
                        for r in static_rules if r.implements("check_container")]
        on_any_container = [c for c in on_container if not self._services_only(c[0], purpose)]
        on_long_running = on_any_container + [c for c in on_container if self._services_only(c[0], purpose)]
        for entry in script.commands:
            command = entry.command
            spec = entry.spec
            basis: str | None = None  # made for the first finding of the command
            kind = (command.subcommand, bool(command.problems))
            rules = for_command.get(kind)
            if rules is None:
                rules = for_command[kind] = [c for c in on_command if _looks_at(c[0], *kind)]
            for rule, check, ctx in rules:
                for v in self._run(result, rule, check, command, ctx, command.loc):
                    basis = basis or command_text(command)
                    found.append(self._finding(rule, v, command.loc, basis=basis))
            if spec is None:
                continue
            for rule, check, ctx in on_long_running if self._long_running(spec, purpose) else on_any_container:
                for v in self._run(result, rule, check, spec, ctx, command.loc):
                    basis = basis or command_text(command)
                    found.append(self._finding(rule, v, spec.where(), basis=basis))

        parts = [script] if script.scopes is None else [
            replace(script, commands=tuple(script.commands[i] for i in scope)) for scope in script.scopes]
        whole: list[tuple[Rule, Violation]] = []
        for rule in static_rules:
            if not rule.implements("check_script"):
                continue
            seen: set[tuple] = set()
            for part in parts:
                for v in self._run(result, rule, rule.check_script, part, self._ctx(rule, purpose=purpose),
                                   script.path):
                    key = (v.message, v.loc)
                    if key not in seen:  # a block shared by two scopes is checked twice
                        seen.add(key)
                        whole.append((rule, v))
        bases = _bases_at(script, [v.loc.line for _, v in whole if v.loc is not None])
        for rule, v in whole:
            found.append(self._finding(rule, v, None, basis=bases.get(v.loc.line) if v.loc is not None else None))

        result.findings = self._apply_inline(script, found) if self.config.inline_ignores else found
        result.findings.sort(key=Finding.sort_key)
        return result

    def _apply_inline(self, script: Script, findings: list[Finding]) -> list[Finding]:
        out: list[Finding] = []
        for finding in findings:
            index = _matching_suppression(script.suppressions, finding)
            if index is None:
                out.append(finding)
            else:
                out.append(_suppressed(finding, script.suppressions[index].reason or "inline ignore"))
        unused_rule = self.all_rules.get(UNUSED_SUPPRESSION)
        if unused_rule is not None and self.config.is_enabled(unused_rule):
            for suppression in script.suppressions:
                unused_ids = sorted(
                    rule_id
                    for rule_id in suppression.rule_ids
                    if not any(
                        f.rule_id == rule_id and f.suppressed is not None and _covers(suppression, f)
                        for f in out
                    )
                )
                for rule_id in unused_ids:
                    why = (
                        f"{rule_id} is not a known rule"
                        if rule_id not in self.all_rules
                        else f"no {rule_id} finding here to suppress"
                    )
                    out.append(
                        self._finding(
                            unused_rule,
                            Violation(
                                f"unused suppression: {why}",
                                fix=f"remove {rule_id} from the ignore comment",
                            ),
                            suppression.loc,
                        )
                    )
            for loc, why in script.stray_directives:
                out.append(
                    self._finding(
                        unused_rule,
                        Violation(f"unused suppression: {why}", fix="move the comment onto or above the command"),
                        loc,
                    )
                )
        return out

    # --- live ---

    def check_live(self, specs: Iterable[ContainerSpec], host: HostInfo | None,
                   engine: EngineRef | None = None) -> EngineResult:
        """Findings on containers (and a host) read from *engine*, which each finding names."""
        result = EngineResult()
        live_rules = [r for r in self.rules if Source.LIVE in r.sources]
        found: list[Finding] = []
        for spec in specs:
            ref = spec.container
            where = f"container {ref.name}" if ref else "container"
            ignored = _label_ignores(spec)
            for rule in live_rules:
                if not rule.implements("check_container"):
                    continue
                for v in self._run(result, rule, rule.check_container, spec, self._ctx(rule, host=host), where):
                    finding = self._finding(rule, v, spec.where(), container=ref, basis=ref.name if ref else None,
                                            engine=engine)
                    if rule.id in ignored:
                        finding = _suppressed(finding, f"container label {IGNORE_LABEL}")
                    found.append(finding)
        if host is not None:
            for rule in live_rules:
                if rule.implements("check_host"):
                    for v in self._run(result, rule, rule.check_host, host, self._ctx(rule, host=host), "host"):
                        found.append(self._finding(rule, v, None, basis="host", engine=engine))
        found.sort(key=Finding.sort_key)
        result.findings = found
        return result


def _looks_at(rule: Rule, subcommand: tuple[str, ...], has_problems: bool) -> bool:
    """Whether *rule*'s check_command looks at a command of *subcommand* (with usage problems or not)."""
    if rule.reports_usage_problems and not has_problems:
        return False
    return rule.subcommands is None or subcommand in rule.subcommands


def _bases_at(script: Script, lines: list[int]) -> dict[int, str]:
    """For each of *lines*, the text of the first command whose lines hold it.

    Commands on the same lines share the text of the last of them. One sweep
    down the lines, with the commands begun so far in a heap by their order.
    """
    if not lines:
        return {}
    spans: dict[tuple[int, int], str] = {}
    for entry in script.commands:
        loc = entry.command.loc
        spans[(loc.line, loc.end_line)] = command_text(entry.command)
    ranges = list(spans)
    by_start = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    begun: list[int] = []
    bases: dict[int, str] = {}
    n = 0
    for line in sorted(set(lines)):
        while n < len(by_start) and ranges[by_start[n]][0] <= line:
            heapq.heappush(begun, by_start[n])
            n += 1
        while begun and ranges[begun[0]][1] < line:
            heapq.heappop(begun)  # ended above this line, so above every later one
        if begun:
            bases[line] = spans[ranges[begun[0]]]
    return bases


def _covers(suppression: Suppression, finding: Finding) -> bool:
    loc = finding.location
    if loc is None or loc.path != suppression.loc.path:  # a Compose project spans several files
        return False
    return suppression.file_wide or suppression.first_line <= loc.line <= suppression.last_line


def _matching_suppression(suppressions: tuple[Suppression, ...], finding: Finding) -> int | None:
    if finding.rule_id == UNUSED_SUPPRESSION:
        return None
    for index, suppression in enumerate(suppressions):
        if finding.rule_id in suppression.rule_ids and _covers(suppression, finding):
            return index
    return None


def _suppressed(finding: Finding, reason: str) -> Finding:
    return replace(finding, suppressed=reason)


def _label_ignores(spec: ContainerSpec) -> frozenset[str]:
    value = spec.labels.get(IGNORE_LABEL) if spec.labels else None
    if value is None or not known(value):
        return frozenset()
    return frozenset(part.strip().upper() for part in str(value).split(",") if part.strip())


def at_or_above(findings: Iterable[Finding], threshold: str) -> bool:
    """True when an unsuppressed finding is at or above *threshold* (error/warning/info/never)."""
    if threshold == "never":
        return False
    level = Severity.parse(threshold)
    return any(f.suppressed is None and f.severity >= level for f in findings)
