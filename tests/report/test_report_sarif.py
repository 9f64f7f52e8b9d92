"""SARIF output: schema-valid, rules documented, results located, fingerprints stable."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from report_samples import (
    DEPLOY,
    RULES,
    live_finding,
    memory_finding,
    notification,
    privileged_finding,
    static_report,
    uts_finding,
    validate_sarif as validate,
)

from dockaudit.model import Finding, Location, Severity
from dockaudit.report import FORMATTERS, Notification, Report
from dockaudit.report.sarif import SECURITY_SEVERITY_BY_LEVEL, render


def sarif(report: Report) -> dict:
    return json.loads(render(report))


def run_of(report: Report) -> dict:
    log = sarif(report)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    return log["runs"][0]


@pytest.mark.parametrize(
    "report",
    [
        static_report(),
        static_report(show_suppressed=True, findings=[privileged_finding(suppressed="CI runner")]),
        static_report(notifications=[notification(), notification("warning", 4)]),
        Report(findings=[live_finding("web"), live_finding("db")], rules=list(RULES), live=True),
        Report(findings=[], rules=[]),
        Report(findings=[], rules=list(RULES)),
    ],
    ids=["static", "suppressed", "notifications", "live", "empty", "no-findings"],
)
def test_the_log_is_valid_sarif(report: Report) -> None:
    validate(sarif(report))


def test_the_registry_serves_sarif() -> None:
    assert FORMATTERS["sarif"](static_report()) == render(static_report())


def test_every_enabled_rule_is_described_with_its_documentation() -> None:
    driver = run_of(static_report())["tool"]["driver"]
    assert driver["name"] == "dockaudit"
    assert driver["version"] == static_report().tool_version
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == ["DA101", "DA506", "DA501"]

    privileged = driver["rules"][2]
    assert privileged["name"] == "privileged"
    assert privileged["shortDescription"]["text"] == (
        "--privileged gives the container every capability and every device."
    )
    assert privileged["fullDescription"]["text"].startswith("A privileged container can mount")
    assert "**Anti-pattern**" in privileged["help"]["markdown"]
    assert "docker run -d --privileged nginx:1.25" in privileged["help"]["text"]
    assert privileged["defaultConfiguration"]["level"] == "error"
    assert privileged["properties"]["tags"] == ["security", "privileges", "CIS-5.5"]


def test_levels_and_security_severity_follow_the_rule() -> None:
    rules = {r["id"]: r for r in run_of(static_report())["tool"]["driver"]["rules"]}
    assert rules["DA101"]["defaultConfiguration"]["level"] == "warning"
    assert rules["DA506"]["defaultConfiguration"]["level"] == "note"
    # A warning ranks medium, advice low; --privileged hands over the host and ranks critical.
    assert rules["DA101"]["properties"]["security-severity"] == "5.0"
    assert rules["DA506"]["properties"]["security-severity"] == "2.0"
    assert rules["DA501"]["properties"]["security-severity"] == "9.0"
    assert rules["DA506"]["properties"]["tags"] == ["security", "privileges", "CIS-5.21", "CIS-5.31"]


def test_a_rule_may_declare_its_own_security_severity() -> None:
    class Custom(RULES[0]):  # type: ignore[misc, valid-type]
        """Custom rule."""

        id = "XX001"
        name = "custom"
        security_severity = 6.5

    rules = run_of(Report(findings=[], rules=[Custom]))["tool"]["driver"]["rules"]
    assert rules[0]["properties"]["security-severity"] == "6.5"
    assert rules[0]["fullDescription"]["text"] == "Custom rule."
    assert SECURITY_SEVERITY_BY_LEVEL[Severity.ERROR] > SECURITY_SEVERITY_BY_LEVEL[Severity.WARNING]


def test_results_point_at_the_offending_words() -> None:
    run = run_of(static_report())
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["DA101", "DA501", "DA506"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]

    privileged = results[1]
    assert privileged["level"] == "error"
    assert privileged["message"]["text"] == (
        "--privileged gives the container every capability and device of the host\n"
        "Fix: drop --privileged; add only the capabilities the service needs"
    )
    physical = privileged["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "deploy.sh", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {
        "startLine": 3,
        "startColumn": 15,
        "endLine": 3,
        "endColumn": 27,
        "snippet": {"text": "--privileged"},
    }
    assert results[2]["level"] == "note"
    assert results[2]["locations"][0]["physicalLocation"]["region"]["snippet"] == {"text": "--uts host"}


def test_a_span_across_continuation_lines_keeps_every_line_in_its_snippet() -> None:
    region = run_of(static_report())["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["endLine"], region["endColumn"]) == (3, 5, 13)
    assert region["snippet"]["text"] == "\n".join(DEPLOY[2:5])


def test_no_snippet_when_the_file_text_is_missing() -> None:
    run = run_of(static_report(files={}))
    assert "snippet" not in run["results"][0]["locations"][0]["physicalLocation"]["region"]


def test_uris_are_relative_to_the_base_directory(tmp_path: Path) -> None:
    scripts = tmp_path / "ops scripts"
    finding = privileged_finding(path=str(scripts / "deploy.sh"))
    outside = privileged_finding(path=str(tmp_path.parent / "elsewhere.sh"))
    run = run_of(Report(findings=[finding, outside], rules=list(RULES), base_dir=str(tmp_path)))
    inside_loc, outside_loc = (r["locations"][0]["physicalLocation"] for r in run["results"])
    assert inside_loc["artifactLocation"] == {
        "uri": "ops%20scripts/deploy.sh",
        "uriBaseId": "%SRCROOT%",
    }
    assert outside_loc["artifactLocation"] == {"uri": (tmp_path.parent / "elsewhere.sh").as_uri()}
    base_uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base_uri == tmp_path.as_uri() + "/"


def _fingerprints(findings: list[Finding]) -> list[str]:
    run = run_of(Report(findings=findings, rules=list(RULES)))
    return [r["partialFingerprints"]["dockaudit/v1"] for r in run["results"]]


def test_fingerprints_do_not_move_with_the_line() -> None:
    before = _fingerprints([memory_finding(), privileged_finding(), uts_finding()])
    after = _fingerprints([memory_finding(shift=1), privileged_finding(shift=1), uts_finding(shift=1)])
    assert before == after
    assert all(len(fp) == 64 and int(fp, 16) >= 0 for fp in before)
    assert len(set(before)) == 3


def test_fingerprints_tell_apart_identical_findings_paths_and_rules() -> None:
    same_twice = _fingerprints([privileged_finding(), privileged_finding(shift=10)])
    assert len(set(same_twice)) == 2
    other_file = _fingerprints([privileged_finding(path="other.sh")])
    other_command = _fingerprints([privileged_finding(fingerprint_basis="docker run --privileged x")])
    assert other_file[0] not in same_twice
    assert other_command[0] not in same_twice


def test_without_a_basis_the_message_decides_the_fingerprint() -> None:
    a = _fingerprints([privileged_finding(fingerprint_basis=None)])
    b = _fingerprints([privileged_finding(fingerprint_basis=None, shift=3)])
    c = _fingerprints([privileged_finding(fingerprint_basis=None, message="another message")])
    assert a == b
    assert a != c


def test_showing_suppressed_findings_does_not_change_the_others_fingerprints() -> None:
    findings = [privileged_finding(suppressed="lab only"), privileged_finding(shift=5)]
    hidden = run_of(Report(findings=findings, rules=list(RULES)))
    shown = run_of(Report(findings=findings, rules=list(RULES), show_suppressed=True))
    assert len(hidden["results"]) == 1
    assert hidden["results"][0]["partialFingerprints"] == shown["results"][1]["partialFingerprints"]


def test_suppressed_findings_carry_their_justification_only_when_shown() -> None:
    findings = [privileged_finding(suppressed="the CI runner needs it"), uts_finding(suppressed="")]
    assert run_of(Report(findings=findings, rules=list(RULES)))["results"] == []
    results = run_of(Report(findings=findings, rules=list(RULES), show_suppressed=True))["results"]
    assert results[0]["suppressions"] == [
        {"kind": "inSource", "justification": "the CI runner needs it"}
    ]
    assert results[1]["suppressions"] == [{"kind": "inSource"}]


def test_live_findings_are_located_at_their_container() -> None:
    run = run_of(Report(findings=[live_finding("web")], rules=list(RULES), live=True))
    (result,) = run["results"]
    assert result["locations"] == [
        {
            "logicalLocations": [
                {"name": "web", "fullyQualifiedName": "container/web", "kind": "resource"}
            ]
        }
    ]
    assert "physicalLocation" not in result["locations"][0]
    assert result["partialFingerprints"] != _fingerprints([live_finding("db")])[0]


def test_a_host_level_finding_is_located_at_the_host() -> None:
    finding = dataclasses.replace(live_finding(), container=None, rule_id="DA210", name="dangling-volume")
    run = run_of(Report(findings=[finding], rules=list(RULES), live=True))
    assert run["results"][0]["locations"][0]["logicalLocations"][0]["name"] == "host"
    validate(sarif(Report(findings=[finding], rules=list(RULES), live=True)))


def test_a_finding_of_an_unlisted_rule_gets_a_descriptor() -> None:
    finding = Finding("DA001", "parse-failure", Severity.INFO, "cannot parse", Location("a.sh", 2, 1, 2, 5))
    run = run_of(Report(findings=[finding], rules=list(RULES)))
    rules = run["tool"]["driver"]["rules"]
    assert rules[run["results"][0]["ruleIndex"]] == {
        "id": "DA001",
        "name": "parse-failure",
        "defaultConfiguration": {"level": "note"},
    }


def test_notifications_become_tool_execution_notifications() -> None:
    run = run_of(static_report(notifications=[notification("error", 7)]))
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"] == "cannot read missing.sh: No such file or directory"
    assert note["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "missing.sh", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7},
    }


def test_warnings_alone_leave_the_run_successful() -> None:
    assert run_of(static_report(notifications=[notification("warning")]))["invocations"] == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "level": "warning",
                    "message": {"text": "cannot read missing.sh: No such file or directory"},
                    "locations": [
                        {"physicalLocation": {"artifactLocation": {"uri": "missing.sh", "uriBaseId": "%SRCROOT%"}}}
                    ],
                }
            ],
        }
    ]
    assert run_of(static_report())["invocations"] == [{"executionSuccessful": True}]


def test_the_schema_check_rejects_a_broken_log() -> None:
    import jsonschema

    log = sarif(static_report())
    log["runs"][0]["results"][0]["level"] = "info"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        validate(log)


def test_a_notification_about_no_file_has_no_location() -> None:
    note = Notification("", "internal error: rule DA999 raised KeyError", "error")
    run = run_of(static_report(notifications=[note]))
    (sarif_note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert sarif_note == {"level": "error", "message": {"text": note.message}}
    validate(sarif(static_report(notifications=[note])))


def test_every_built_in_rule_gives_a_documented_descriptor() -> None:
    from dockaudit.plugins import load_rules

    loaded = load_rules()
    assert not loaded.errors, loaded.errors
    rules = [loaded.rules[rule_id] for rule_id in sorted(loaded.rules)]
    assert rules, "no built-in rules loaded"
    log = sarif(Report(findings=[], rules=rules))
    validate(log)
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == [r.id for r in rules]
    for descriptor in descriptors:
        assert descriptor["shortDescription"]["text"], descriptor["id"]
        assert "**Anti-pattern**" in descriptor["help"]["markdown"], descriptor["id"]
        severity = float(descriptor["properties"]["security-severity"])
        assert 0.0 < severity <= 10.0
        tags = descriptor["properties"]["tags"]
        assert tags[0] == "security"
        for tag in tags:
            assert not tag.startswith("CIS") or re.fullmatch(r"CIS-\d+(\.\d+)*", tag), tag
