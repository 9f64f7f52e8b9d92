"""GitHub workflow annotations: one command per finding, escaped per the runner's rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from report_samples import (
    live_finding,
    memory_finding,
    notification,
    privileged_finding,
    static_report,
    uts_finding,
)

from dockaudit.report import FORMATTERS, Notification, Report
from dockaudit.report.github import escape_data, escape_property, render


def test_one_annotation_per_finding_by_severity() -> None:
    assert render(static_report()).splitlines() == [
        "::warning file=deploy.sh,line=3,endLine=5,title=DA101 memory-unlimited"
        "::no memory limit: give the service -m/--memory%0AFix: add -m 512m (or what the service needs)",
        "::error file=deploy.sh,line=3,endLine=3,col=15,endColumn=27,title=DA501 privileged"
        "::--privileged gives the container every capability and device of the host"
        "%0AFix: drop --privileged; add only the capabilities the service needs",
        "::notice file=deploy.sh,line=6,endLine=6,col=17,endColumn=27,title=DA506 host-namespace"
        "::--uts host shares the host's hostname",
    ]
    assert FORMATTERS["github"](static_report()) == render(static_report())


def test_escaping_follows_the_workflow_command_rules() -> None:
    assert escape_data("100% of\r\nit: a,b") == "100%25 of%0D%0Ait: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_properties_and_message_are_escaped_in_the_annotation() -> None:
    finding = privileged_finding(path="ops,v2/a:b.sh", message="50% of\nhosts", fix=None)
    (line,) = render(Report(findings=[finding], rules=[])).splitlines()
    assert line == (
        "::error file=ops%2Cv2/a%3Ab.sh,line=3,endLine=3,col=15,endColumn=27,"
        "title=DA501 privileged::50%25 of%0Ahosts"
    )


def test_paths_are_relative_to_the_base_directory(tmp_path: Path) -> None:
    finding = privileged_finding(path=str(tmp_path / "scripts" / "deploy.sh"), fix=None)
    text = render(Report(findings=[finding], rules=[], base_dir=str(tmp_path)))
    assert text.startswith("::error file=scripts/deploy.sh,line=3,")


def test_live_findings_name_the_container_and_no_file() -> None:
    assert render(Report(findings=[live_finding("web")], rules=[], live=True)) == (
        "::warning title=DA101 memory-unlimited (container web)::no memory limit\n"
    )


def test_suppressed_findings_are_notices_only_when_shown() -> None:
    findings = [privileged_finding(suppressed="lab host, fix=None"), uts_finding(suppressed="")]
    assert render(Report(findings=findings, rules=[])) == ""
    lines = render(Report(findings=findings, rules=[], show_suppressed=True)).splitlines()
    assert lines[0].startswith("::notice file=deploy.sh,line=3,")
    assert ",title=DA501 privileged (suppressed)::" in lines[0]
    assert lines[0].endswith("%0A(suppressed: lab host, fix=None)")
    assert lines[1].endswith("::--uts host shares the host's hostname%0A(suppressed)")


def test_notifications_are_annotated_on_their_file() -> None:
    report = static_report(findings=[], notifications=[notification("error", 4), notification("warning")])
    assert render(report).splitlines() == [
        "::error file=missing.sh,line=4,title=dockaudit::cannot read missing.sh: No such file or directory",
        "::warning file=missing.sh,title=dockaudit::cannot read missing.sh: No such file or directory",
    ]


def test_nothing_to_say_prints_nothing() -> None:
    assert render(Report(findings=[], rules=[])) == ""
    only_memory = dataclasses.replace(static_report(), findings=[memory_finding()])
    assert render(only_memory).count("\n") == 1


def test_a_notification_about_no_file_has_no_file_property() -> None:
    report = Report(findings=[], rules=[], notifications=[Notification("", "internal error: boom", "error", 3)])
    assert render(report) == "::error title=dockaudit::internal error: boom\n"
