"""``--format text``: for people. Grouped by file, a code frame under each finding,
the fix hint, and a summary by severity and rule. Colour only on a terminal
without ``NO_COLOR``; the same layout in plain text otherwise. Every string from a
checked file or an engine is printed with its control characters escaped."""

from __future__ import annotations

import io
import os
from collections import Counter
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dockaudit.model import Finding, Location, Severity
from dockaudit.report import Report, baseline_note, finding_subject, printable

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render(report: Report) -> str:
    return render_text(report, color=False)


def render_text(report: Report, *, color: bool, width: int | None = None) -> str:
    """The report for a terminal *width* columns wide; None: a file or pipe, lines not wrapped."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width or 100,  # the summary table's width when not on a terminal
        highlight=False,
        soft_wrap=width is None,
    )
    write_report(console, report)
    return buffer.getvalue()


def write_report(console: Console, report: Report) -> None:
    from dockaudit.report.codeframe import render_code_frame

    findings = report.visible()
    for subject, group in groupby(findings, key=finding_subject):
        console.print(Text(printable(subject), style="bold underline"))
        if subject == "host":  # many findings of one rule about the host: one block each
            _write_host_findings(console, list(group))
            console.print()
            continue
        # Findings on the same words share one code frame.
        for loc, same_place in groupby(group, key=lambda f: f.location):
            same_place = list(same_place)
            for finding in same_place:
                _write_finding(console, finding)
            lines = report.files.get(loc.path) if loc else None
            if lines and loc is not None:
                worst = max(same_place, key=lambda f: f.severity)
                frame_loc = _frame_span(loc, lines)
                ids = ", ".join(dict.fromkeys(f.rule_id for f in same_place))
                console.print(
                    render_code_frame(lines, frame_loc, style=STYLE[worst.severity], label=ids)
                )
            for finding in same_place:
                if finding.fix:
                    prefix = f"  fix ({finding.rule_id}): " if len(same_place) > 1 else "  fix: "
                    console.print(Text.assemble((prefix, "green"), printable(finding.fix)))
        console.print()
    for note in report.notifications:
        where = f"{note.path}:{note.line}: " if note.line else (f"{note.path}: " if note.path else "")
        style = "bold red" if note.level == "error" else "yellow"
        console.print(Text.assemble((f"{note.level}: ", style), printable(f"{where}{note.message}")))
    _write_summary(console, report)
    note = baseline_note(report)
    if note:
        console.print(Text(printable(note), style="dim"))


def _write_host_findings(console: Console, findings: list[Finding]) -> None:
    """Host-level findings, those of one rule as one block: 22 dangling volumes, one fix line."""
    by_rule: dict[tuple[str, bool], list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault((finding.rule_id, finding.suppressed is None), []).append(finding)
    for (_, active), same_rule in by_rule.items():
        if len(same_rule) == 1 or not active:
            for finding in same_rule:
                _write_finding(console, finding)
                if finding.fix:
                    console.print(Text.assemble(("  fix: ", "green"), printable(finding.fix)))
            continue
        first = same_rule[0]
        message = _merged([f.message for f in same_rule])
        line = Text.assemble(
            ("  host ", "dim"), (f"{first.severity}", STYLE[first.severity]), " ", (first.rule_id, "bold"),
            (f" {printable(first.name)}", "dim"), f": {len(same_rule)} × ", printable(message),
        )
        console.print(line)
        fixes = list(dict.fromkeys(f.fix for f in same_rule if f.fix))
        prefix, parts, suffix = _varying(fixes)
        if len(fixes) > 1 and "docker " in prefix and not suffix:  # the arguments of one command
            fixes = [prefix + " ".join(parts)]
        for fix in fixes:
            console.print(Text.assemble(("  fix: ", "green"), printable(fix)))


def _merged(texts: list[str]) -> str:
    """Messages that differ in one place as one: ``volume a is …``, ``volume b is …`` →
    ``volume … is …: a, b``; messages with nothing in common, one after the other."""
    if len(set(texts)) == 1:
        return texts[0]
    prefix, parts, suffix = _varying(texts)
    if not (prefix or suffix):
        return "; ".join(texts)
    return f"{prefix}…{suffix}: {', '.join(parts)}"


def _varying(texts: list[str]) -> tuple[str, list[str], str]:
    """The words all *texts* start and end with, and what each holds between them."""
    prefix = os.path.commonprefix(texts)
    prefix = prefix[: prefix.rfind(" ") + 1]
    suffix = os.path.commonprefix([t[len(prefix) :][::-1] for t in texts])[::-1]
    suffix = suffix[suffix.find(" ") :] if " " in suffix else ""
    parts = [t[len(prefix) : len(t) - len(suffix)] for t in texts]
    if not all(parts):
        return "", texts, ""
    return prefix, parts, suffix


def _frame_span(loc: Location, lines: tuple[str, ...]) -> Location:
    """A whole multi-line command is shown by its first line, so the frame stays short."""
    if loc.end_line - loc.line < 2 or not 1 <= loc.line <= len(lines):
        return loc
    first = lines[loc.line - 1].rstrip().removesuffix("\\").rstrip()
    short = Location(loc.path, loc.line, loc.column, loc.line, max(len(first) + 1, loc.column + 1))
    return short


def _write_finding(console: Console, finding: Finding) -> None:
    loc = finding.location
    where = f"{loc.line}:{loc.column}" if loc else (finding.container.name if finding.container else "host")
    where = printable(where)
    line = Text.assemble(
        (f"  {where} ", "dim"),
        (f"{finding.severity}", STYLE[finding.severity]),
        " ",
        (finding.rule_id, "bold"),
        (f" {printable(finding.name)}", "dim"),
        ": ",
        printable(finding.message),
    )
    if finding.suppressed is not None:
        line.append(f"  [suppressed: {printable(finding.suppressed)}]", style="dim italic")
    console.print(line)


def _write_summary(console: Console, report: Report) -> None:
    active = [f for f in report.findings if f.suppressed is None]
    suppressed = len(report.findings) - len(active)
    files = len(report.files)
    if not active:
        tail = f", {suppressed} suppressed" if suppressed else ""
        scope = "containers" if report.live else f"file{'s' if files != 1 else ''}"
        count = files if not report.live else "all"
        unchecked = len({n.path for n in report.notifications if n.level == "error" and n.path})
        if unchecked:  # never an all-clear for what was not read
            tail += f"; {unchecked} file{'s' if unchecked != 1 else ''} not checked"
        style = "bold red" if unchecked else "green"
        console.print(Text(f"No problems found in {count} {scope}{tail}.", style=style))
        return
    table = Table(title="Summary", title_justify="left", show_edge=False)
    table.add_column("rule")
    table.add_column("name")
    table.add_column("severity")
    table.add_column("count", justify="right")
    by_rule = Counter((f.rule_id, f.name, f.severity) for f in active)
    for (rule_id, name, severity), count in sorted(by_rule.items(), key=lambda kv: (-kv[0][2], kv[0][0])):
        table.add_row(printable(rule_id), printable(name), Text(str(severity), style=STYLE[severity]), str(count))
    console.print(table)
    by_severity = Counter(f.severity for f in active)
    parts = [f"{by_severity.get(s, 0)} {s}" for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)]
    tail = f", {suppressed} suppressed" if suppressed else ""
    console.print(Text(f"{len(active)} problems ({', '.join(parts)}){tail}", style="bold"))
