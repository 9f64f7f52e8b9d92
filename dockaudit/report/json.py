"""``--format json``: a versioned envelope, one object per finding."""

from __future__ import annotations

import json
from collections import Counter

from dockaudit.model import Finding
from dockaudit.report import Report

SCHEMA_VERSION = 1


def finding_dict(finding: Finding) -> dict:
    loc = finding.location
    return {
        "rule": finding.rule_id,
        "name": finding.name,
        "severity": str(finding.severity),
        "message": finding.message,
        "path": loc.path if loc else None,
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "end_line": loc.end_line if loc else None,
        "end_column": loc.end_column if loc else None,
        "container": (
            {"id": finding.container.id, "name": finding.container.name} if finding.container else None
        ),
        "fix": finding.fix,
        "suppressed": finding.suppressed,
    }


def summary(report: Report) -> dict:
    active = [f for f in report.findings if f.suppressed is None]
    by_severity = Counter(str(f.severity) for f in active)
    counts = {
        "findings": len(active),
        "error": by_severity.get("error", 0),
        "warning": by_severity.get("warning", 0),
        "info": by_severity.get("info", 0),
        "suppressed": sum(1 for f in report.findings if f.suppressed is not None),
        "by_rule": dict(sorted(Counter(f.rule_id for f in active).items())),
        "files": len(report.files),
    }
    if report.baseline is not None:
        outcome = report.baseline
        counts["baseline"] = {"file": outcome.path, "known": outcome.known, "unmatched": outcome.unmatched}
    return counts


def render(report: Report) -> str:
    envelope = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "dockaudit", "version": report.tool_version},
        "findings": [finding_dict(f) for f in report.visible()],
        "notifications": [
            {"path": n.path or None, "message": n.message, "level": n.level, "line": n.line}
            for n in report.notifications
        ],
        "summary": summary(report),
    }
    return json.dumps(envelope, indent=2, ensure_ascii=False) + "\n"
