"""``--format text``: for people. Grouped by file, a code frame under each finding,
the fix hint, and a summary by severity and rule. Colour only on a terminal
without ``NO_COLOR``; the same layout in plain text otherwise."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dockaudit.model import Finding, Location, Severity
from dockaudit.report import Report, finding_subject

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
        console.print(Text(subject, style="bold underline"))
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
                    console.print(Text.assemble((prefix, "green"), finding.fix))
        console.print()
    for note in report.notifications:
        where = f"{note.path}:{note.line}: " if note.line else (f"{note.path}: " if note.path else "")
        style = "bold red" if note.level == "error" else "yellow"
        console.print(Text.assemble((f"{note.level}: ", style), f"{where}{note.message}"))
    _write_summary(console, report)


def _frame_span(loc: Location, lines: Sequence[str]) -> Location:
    """A whole multi-line command is shown by its first line, so the frame stays short."""
    if loc.end_line - loc.line < 2 or not 1 <= loc.line <= len(lines):
        return loc
    first = lines[loc.line - 1].rstrip().removesuffix("\\").rstrip()
    short = Location(loc.path, loc.line, loc.column, loc.line, max(len(first) + 1, loc.column + 1))
    return short


def _write_finding(console: Console, finding: Finding) -> None:
    loc = finding.location
    where = f"{loc.line}:{loc.column}" if loc else (finding.container.name if finding.container else "host")
    line = Text.assemble(
        (f"  {where} ", "dim"),
        (f"{finding.severity}", STYLE[finding.severity]),
        " ",
        (finding.rule_id, "bold"),
        (f" {finding.name}", "dim"),
        ": ",
        finding.message,
    )
    if finding.suppressed is not None:
        line.append(f"  [suppressed: {finding.suppressed}]", style="dim italic")
    console.print(line)


def _write_summary(console: Console, report: Report) -> None:
    active = [f for f in report.findings if f.suppressed is None]
    suppressed = len(report.findings) - len(active)
    files = len(report.files)
    if not active:
        tail = f", {suppressed} suppressed" if suppressed else ""
        scope = "containers" if report.live else f"file{'s' if files != 1 else ''}"
        count = files if not report.live else "all"
        console.print(Text(f"No problems found in {count} {scope}{tail}.", style="green"))
        return
    table = Table(title="Summary", title_justify="left", show_edge=False)
    table.add_column("rule")
    table.add_column("name")
    table.add_column("severity")
    table.add_column("count", justify="right")
    by_rule = Counter((f.rule_id, f.name, f.severity) for f in active)
    for (rule_id, name, severity), count in sorted(by_rule.items(), key=lambda kv: (-kv[0][2], kv[0][0])):
        table.add_row(rule_id, name, Text(str(severity), style=STYLE[severity]), str(count))
    console.print(table)
    by_severity = Counter(f.severity for f in active)
    parts = [f"{by_severity.get(s, 0)} {s}" for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)]
    tail = f", {suppressed} suppressed" if suppressed else ""
    console.print(Text(f"{len(active)} problems ({', '.join(parts)}){tail}", style="bold"))
