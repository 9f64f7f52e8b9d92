"""GitHub Actions workflow commands: one annotation per finding.

``::error file=deploy.sh,line=3,col=5,endLine=3,endColumn=17,title=DA501 privileged::message``.
Errors become ``::error``, warnings ``::warning``, info ``::notice``. Paths are
relative to the report's base directory (the workspace in Actions). Live
findings have no file: the title names the container instead. Control characters
other than line breaks are escaped (ESC as ``\\x1b``): the log is shown in a terminal
emulator in the browser.
"""

from __future__ import annotations

from dockaudit.model import Finding, Severity
from dockaudit.report import Notification, Report, container_name, printable, suppressed_note

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: Report) -> str:
    lines = [_notification(report, n) for n in report.notifications]
    lines.extend(_annotation(report, finding) for finding in report.visible())
    return "".join(line + "\n" for line in lines)


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def _annotation(report: Report, finding: Finding) -> str:
    properties: dict[str, object] = {}
    loc = finding.location
    if loc is not None:
        properties["file"] = report.relative_path(loc.path)
        properties["line"] = loc.line
        properties["endLine"] = loc.end_line
        # GitHub honours columns only on single-line annotations.
        if loc.line == loc.end_line:
            properties["col"] = loc.column
            properties["endColumn"] = loc.end_column
    title = f"{finding.rule_id} {finding.name}"
    if finding.container is not None:
        title += f" (container {container_name(finding.container)})"
    if finding.suppressed is not None:
        title += " (suppressed)"
    properties["title"] = title

    message = finding.message
    if finding.fix:
        message += f"\nFix: {finding.fix}"
    if finding.suppressed is not None:
        message += f"\n{suppressed_note(finding)}"
    command = "notice" if finding.suppressed is not None else COMMANDS[finding.severity]
    return workflow_command(command, properties, message)


def _notification(report: Report, notification: Notification) -> str:
    properties: dict[str, object] = {}
    if notification.path:
        properties["file"] = report.relative_path(notification.path)
        if notification.line is not None:
            properties["line"] = notification.line
    properties["title"] = "dockaudit"
    command = "error" if notification.level == "error" else "warning"
    return workflow_command(command, properties, notification.message)
