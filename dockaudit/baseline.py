"""A baseline: today's findings, recorded so that only new ones are reported.

``dockaudit check --write-baseline FILE`` records every unsuppressed finding by
its fingerprint, the same line-independent fingerprint SARIF gives code
scanning (`dockaudit.report.fingerprints`), with paths relative to the
baseline's own folder: moving a command inside its file, or running from
another folder, keeps a known finding known. ``--baseline FILE`` hides the
findings it holds and counts them, and counts the entries that no longer match
a finding of a checked file, so that the baseline can shrink as the code is
fixed. Entries for files this run did not check are left alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from dockaudit.model import Finding
from dockaudit.report import BaselineOutcome, fingerprints, relative_path

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or written; the message says why."""


@dataclass(frozen=True)
class BaselineEntry:
    """One known finding: its fingerprint, and what a reviewer needs to recognise it."""

    fingerprint: str
    rule: str
    path: str  # relative to the baseline's folder; "" for a finding about no file
    message: str


def base_dir_of(baseline_path: str) -> str:
    return os.path.dirname(os.path.abspath(baseline_path))


def entries_for(findings: list[Finding], base_dir: str) -> list[BaselineEntry]:
    """The baseline entries of the unsuppressed *findings*, in a stable order."""
    entries = [
        BaselineEntry(
            fingerprint,
            finding.rule_id,
            relative_path(finding.location.path, base_dir) if finding.location else "",
            finding.message,
        )
        for finding, fingerprint in zip(findings, fingerprints(findings, base_dir), strict=True)
        if finding.suppressed is None
    ]
    return sorted(entries, key=lambda e: (e.path, e.rule, e.message, e.fingerprint))


def write_baseline(path: str, findings: list[Finding]) -> int:
    """Record the unsuppressed *findings* in *path*; returns how many."""
    entries = entries_for(findings, base_dir_of(path))
    document = {
        "tool": "dockaudit",
        "version": FORMAT_VERSION,
        "findings": [
            {"fingerprint": e.fingerprint, "rule": e.rule, "path": e.path, "message": e.message}
            for e in entries
        ],
    }
    try:
        Path(path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path}: {exc.strerror or exc}") from None
    return len(entries)


def read_baseline(path: str) -> list[BaselineEntry]:
    """The entries of the baseline *path*; `BaselineError` says what is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"no baseline {path} (--write-baseline {path} records one)") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise BaselineError(f"cannot read the baseline {path}: {reason}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}: not a dockaudit baseline: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("tool") != "dockaudit":
        raise BaselineError(f"{path}: not a dockaudit baseline (--write-baseline records one)")
    if document.get("version") != FORMAT_VERSION:
        raise BaselineError(
            f"{path}: baseline version {document.get('version')!r}; this dockaudit reads version "
            f"{FORMAT_VERSION} (write it again with --write-baseline)"
        )
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"{path}: the baseline has no list of findings")
    entries = []
    for number, item in enumerate(findings, 1):
        fields = ("fingerprint", "rule", "path", "message")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
            raise BaselineError(f"{path}: finding {number} of the baseline needs the strings {', '.join(fields)}")
        entries.append(BaselineEntry(*(item[k] for k in fields)))
    return entries


def apply_baseline(
    findings: list[Finding], entries: list[BaselineEntry], baseline_path: str, checked: list[str]
) -> tuple[list[Finding], BaselineOutcome]:
    """*findings* without those the baseline knows, and what was hidden and left over.

    *checked* are the files this run read (as given): only their entries can be stale.
    """
    base_dir = base_dir_of(baseline_path)
    known = {e.fingerprint for e in entries}
    kept: list[Finding] = []
    matched: set[str] = set()
    for finding, fingerprint in zip(findings, fingerprints(findings, base_dir), strict=True):
        if finding.suppressed is None and fingerprint in known:
            matched.add(fingerprint)
        else:
            kept.append(finding)
    checked_paths = {relative_path(path, base_dir) for path in checked}
    unmatched = sum(1 for e in entries if e.fingerprint not in matched and e.path in checked_paths)
    hidden = len(findings) - len(kept)
    return kept, BaselineOutcome(baseline_path, hidden, unmatched)
