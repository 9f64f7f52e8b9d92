"""SARIF 2.1.0 output, for code scanning (GitHub, GitLab, IDE viewers).

One run: the enabled rules with their documentation and a security severity,
one result per finding. Static findings point at a file region relative to
``%SRCROOT%`` (the report's base directory); live findings point at the
container as a logical location. Fingerprints hash the rule, the file and the
normalised command, never the line, so that moving a command does not make
code scanning see a new alert.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dockaudit.model import Finding, Location, Severity
from dockaudit.report import (
    Notification,
    Report,
    container_name,
    fingerprints,
    region_text,
)
from dockaudit.rulebase import Rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/dockaudit/dockaudit"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "dockaudit/v1"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

# Code scanning ranks alerts by security-severity: >= 9 critical, >= 7 high,
# >= 4 medium, else low. Severity gives the default; these rules hand the host
# to whoever controls the container, or leak credentials, and rank higher.
SECURITY_SEVERITY_BY_LEVEL = {Severity.ERROR: 8.0, Severity.WARNING: 5.0, Severity.INFO: 2.0}
SECURITY_SEVERITY = {
    "DA205": 9.5,  # runtime socket mounted: root on the host
    "DA501": 9.0,  # --privileged
    "DA502": 8.5,  # dangerous capability
    "DA504": 8.5,  # --pid host
    "DA206": 8.5,  # sensitive host path
    "DA507": 8.0,  # seccomp=unconfined
    "DA508": 8.0,  # apparmor/selinux off
    "DA801": 7.5,  # literal secret in the environment
    "DA802": 7.5,  # credentials in a URL
    "DA405": 7.0,  # database / admin port on all interfaces
    "DA406": 6.0,  # host network
    "DA505": 6.0,  # host IPC
    "DA510": 6.0,  # root user
    "DA511": 6.0,  # host device
    "DA803": 6.0,  # secret in the command
}


def render(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (JSON text)."""
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    rules = _rule_descriptors(report)
    index = {descriptor["id"]: i for i, descriptor in enumerate(rules)}
    prints = fingerprints(report.findings, report.base_dir)
    results = [
        _result(report, finding, index[finding.rule_id], prints[i])
        for i, finding in enumerate(report.findings)
        if finding.suppressed is None or report.show_suppressed
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(n.level == "error" for n in report.notifications),
    }
    if report.notifications:
        invocation["toolExecutionNotifications"] = [
            _notification(report, n) for n in report.notifications
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "dockaudit",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(report.base_dir)}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


# --- rules ---------------------------------------------------------------


def security_severity(rule: type[Rule]) -> float:
    """The rule's code-scanning security severity (0.0–10.0)."""
    explicit = getattr(rule, "security_severity", None)
    if isinstance(explicit, (int, float)):
        return float(explicit)
    return SECURITY_SEVERITY.get(rule.id, SECURITY_SEVERITY_BY_LEVEL[rule.severity])


def _rule_descriptors(report: Report) -> list[dict[str, Any]]:
    descriptors = [_rule_descriptor(rule) for rule in report.rules]
    known = {d["id"] for d in descriptors}
    # A finding of a rule the run does not list (produced by the engine itself) still
    # needs a descriptor for its ruleIndex.
    for finding in report.findings:
        if finding.rule_id not in known:
            known.add(finding.rule_id)
            descriptors.append(
                {
                    "id": finding.rule_id,
                    "name": finding.name,
                    "defaultConfiguration": {"level": LEVELS[finding.severity]},
                }
            )
    return descriptors


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    doc = rule.doc()
    summary = rule.summary() or rule.name
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": _rationale(doc) or summary},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": _tags(rule),
            "security-severity": f"{security_severity(rule):.1f}",
        },
    }
    if doc:
        descriptor["help"] = {"text": doc, "markdown": doc}
    urls = [ref for ref in rule.references if ref.startswith(("https://", "http://"))]
    if urls:
        descriptor["helpUri"] = urls[0]
    return descriptor


def _rationale(doc: str) -> str:
    """The paragraph after the summary line: why the rule matters."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", doc) if p.strip()]
    for paragraph in paragraphs[1:]:
        if paragraph.startswith(("**", "```")):
            break
        return " ".join(paragraph.split())
    return ""


def _tags(rule: type[Rule]) -> list[str]:
    tags = ["security"]
    if rule.theme:
        tags.append(rule.theme)
    if rule.cis:
        tags.extend(f"CIS-{section}" for section in re.split(r"[,\s]+", rule.cis) if section)
    return tags


# --- results -------------------------------------------------------------


def _result(report: Report, finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    text = finding.message
    if finding.fix:
        text = f"{text}\nFix: {finding.fix}"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [_location(report, finding)],
        "partialFingerprints": {FINGERPRINT: fingerprint},
    }
    if finding.suppressed is not None:
        suppression: dict[str, Any] = {"kind": "inSource"}
        if finding.suppressed:
            suppression["justification"] = finding.suppressed
        result["suppressions"] = [suppression]
    return result


def _location(report: Report, finding: Finding) -> dict[str, Any]:
    if finding.location is not None:
        return {"physicalLocation": _physical(report, finding.location)}
    if finding.container is not None:
        name = container_name(finding.container)
        logical = {"name": name, "fullyQualifiedName": f"container/{name}", "kind": "resource"}
    else:
        logical = {"name": "host", "fullyQualifiedName": "host", "kind": "resource"}
    return {"logicalLocations": [logical]}


def _physical(report: Report, loc: Location) -> dict[str, Any]:
    region: dict[str, Any] = {
        "startLine": loc.line,
        "startColumn": loc.column,
        "endLine": loc.end_line,
        "endColumn": max(loc.end_column, 1),
    }
    snippet = region_text(report.files.get(loc.path, ()), loc)
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    return {"artifactLocation": _artifact(report, loc.path), "region": region}


def _artifact(report: Report, path: str) -> dict[str, Any]:
    rel = report.relative_path(path)
    if os.path.isabs(rel):  # outside the base directory: an absolute file URI
        return {"uri": Path(rel).as_uri()}
    return {"uri": quote(rel), "uriBaseId": SRCROOT}


def _directory_uri(base_dir: str) -> str:
    uri = Path(os.path.abspath(base_dir)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _notification(report: Report, notification: Notification) -> dict[str, Any]:
    result: dict[str, Any] = {
        "level": notification.level if notification.level in ("error", "warning") else "note",
        "message": {"text": notification.message},
    }
    if notification.path:
        physical: dict[str, Any] = {"artifactLocation": _artifact(report, notification.path)}
        if notification.line is not None:
            physical["region"] = {"startLine": notification.line}
        result["locations"] = [{"physicalLocation": physical}]
    return result
