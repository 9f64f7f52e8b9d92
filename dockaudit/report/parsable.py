"""One finding per line, gcc style, for editors and grep.

``deploy.sh:3:5: error: --privileged gives the container every capability [DA501]``;
live findings name the container instead: ``container/web: warning: … [DA101]``.
Files that could not be read come first: ``notes.md: error: cannot read …``.
Control characters are escaped: every line is one line, safe to print.
"""

from __future__ import annotations

from dockaudit.model import Finding
from dockaudit.report import Notification, Report, finding_subject, one_line, printable, suppressed_note


def render(report: Report) -> str:
    lines = [_notification(n) for n in report.notifications]
    lines.extend(format_finding(finding) for finding in report.visible())
    return "".join(line + "\n" for line in lines)


def format_finding(finding: Finding) -> str:
    loc = finding.location
    where = f"{loc.path}:{loc.line}:{loc.column}" if loc is not None else finding_subject(finding)
    line = f"{where}: {finding.severity}: {one_line(finding.message)} [{finding.rule_id}]"
    note = suppressed_note(finding)
    return printable(f"{line} {one_line(note)}" if note else line)


def _notification(notification: Notification) -> str:
    where = notification.path or "dockaudit"
    if notification.path and notification.line is not None:
        where += f":{notification.line}"
    return printable(f"{where}: {notification.level}: {one_line(notification.message)}")
