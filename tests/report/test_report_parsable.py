"""gcc-style output: ``path:line:col: severity: message [ID]``, one finding per line."""

from __future__ import annotations

from report_samples import live_finding, notification, privileged_finding, static_report, uts_finding

from dockaudit.report import FORMATTERS, Notification, Report
from dockaudit.report.parsable import render


def test_one_line_per_finding_in_report_order() -> None:
    assert render(static_report()) == (
        "deploy.sh:3:1: warning: no memory limit: give the service -m/--memory [DA101]\n"
        "deploy.sh:3:15: error: --privileged gives the container every capability and device"
        " of the host [DA501]\n"
        "deploy.sh:6:17: info: --uts host shares the host's hostname [DA506]\n"
    )
    assert FORMATTERS["parsable"](static_report()) == render(static_report())


def test_live_findings_name_the_container() -> None:
    report = Report(findings=[live_finding("db"), live_finding("")], rules=[], live=True)
    assert render(report).splitlines() == [
        "container/db: warning: no memory limit [DA101]",
        "container/0123456789ab: warning: no memory limit [DA101]",
    ]


def test_a_message_never_spans_lines() -> None:
    finding = privileged_finding(message="first\nsecond\r\nthird")
    assert render(Report(findings=[finding], rules=[])) == (
        "deploy.sh:3:15: error: first second third [DA501]\n"
    )


def test_suppressed_findings_only_when_shown_and_marked() -> None:
    findings = [privileged_finding(suppressed="lab host"), uts_finding(suppressed="")]
    assert render(Report(findings=findings, rules=[])) == ""
    assert render(Report(findings=findings, rules=[], show_suppressed=True)).splitlines() == [
        "deploy.sh:3:15: error: --privileged gives the container every capability and device"
        " of the host [DA501] (suppressed: lab host)",
        "deploy.sh:6:17: info: --uts host shares the host's hostname [DA506] (suppressed)",
    ]


def test_unreadable_files_come_first() -> None:
    report = static_report(notifications=[notification("error", 2), notification("warning")])
    lines = render(report).splitlines()
    assert lines[:2] == [
        "missing.sh:2: error: cannot read missing.sh: No such file or directory",
        "missing.sh: warning: cannot read missing.sh: No such file or directory",
    ]
    assert len(lines) == 5


def test_a_notification_about_no_file_names_the_tool() -> None:
    report = Report(findings=[], rules=[], notifications=[Notification("", "internal error: boom", "error", 3)])
    assert render(report) == "dockaudit: error: internal error: boom\n"
