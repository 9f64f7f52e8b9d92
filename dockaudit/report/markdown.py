"""``--format markdown``: a summary for people reading a web page, such as a GitHub job summary.

A headline with the counts, a table of findings by rule and severity, then
every finding (up to `MAX_ROWS`) with where it is and how to fix it, folded
away under a ``<details>`` element; files that could not be checked are
listed first. Text from checked files is escaped for a Markdown table cell:
no control characters, no raw HTML, no ``|``.
"""

from __future__ import annotations

import html
from collections import Counter

from dockaudit.model import Finding, Severity
from dockaudit.report import Report, baseline_note, finding_subject, one_line, printable

MAX_ROWS = 500  # GitHub keeps at most 1 MiB of summary per step
SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def render(report: Report) -> str:
    active = [f for f in report.findings if f.suppressed is None]
    suppressed = len(report.findings) - len(active)
    out = ["## dockaudit", ""]
    by_severity = Counter(f.severity for f in active)
    scope = "containers" if report.live else f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
    counts = ", ".join(f"{by_severity.get(s, 0)} {s}" for s in SEVERITIES)
    tail = f", {suppressed} suppressed" if suppressed else ""
    if active:
        out.append(f"**{len(active)} problem{'s' if len(active) != 1 else ''}** ({counts}) in {scope}{tail}.")
    else:
        out.append(f"No problems found in {scope}{tail}.")
    note = baseline_note(report)
    if note:
        out += ["", cell(note[0].upper() + note[1:]) + "."]
    problems = list(report.notifications)
    if problems:
        out += ["", "| | file | problem |", "|---|---|---|"]
        out += [f"| {n.level} | {cell(n.path) or '—'} | {cell(n.message)} |" for n in problems]
    if active:
        out += ["", "| rule | name | severity | count |", "|---|---|---|---:|"]
        by_rule = Counter((f.rule_id, f.name, f.severity) for f in active)
        for (rule_id, name, severity), count in sorted(by_rule.items(), key=lambda kv: (-kv[0][2], kv[0][0])):
            out.append(f"| {cell(rule_id)} | {cell(name)} | {severity} | {count} |")
        shown = report.visible()
        out += ["", f"<details><summary>Findings ({len(shown)})</summary>", "",
                "| where | rule | severity | message | fix |", "|---|---|---|---|---|"]
        out += [_row(report, f) for f in shown[:MAX_ROWS]]
        if len(shown) > MAX_ROWS:
            out += ["", f"… and {len(shown) - MAX_ROWS} more (the SARIF report holds them all)."]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _row(report: Report, finding: Finding) -> str:
    loc = finding.location
    where = f"{report.relative_path(loc.path)}:{loc.line}" if loc else finding_subject(finding)
    message = finding.message + (" (suppressed)" if finding.suppressed is not None else "")
    return (f"| `{cell(where)}` | {cell(finding.rule_id)} | {finding.severity} | {cell(message)} "
            f"| {cell(finding.fix or '')} |")


def cell(text: str) -> str:
    """*text* for one cell of a Markdown table: one line, printable, no HTML, no column break."""
    return html.escape(printable(one_line(text)), quote=False).replace("|", "\\|").replace("`", "'")
