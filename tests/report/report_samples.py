"""Hand-built reports for the output-format tests: rules, findings and files made here,
so the formats are tested without the parser or the rules in the loop."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from dockaudit.model import ContainerRef, Finding, Location, Severity
from dockaudit.report import Notification, Report
from dockaudit.rulebase import Rule


class Privileged(Rule):
    """--privileged gives the container every capability and every device.

    A privileged container can mount the host's disks and load kernel modules:
    whoever controls it controls the host.

    **Anti-pattern**

    ```bash
    docker run -d --privileged nginx:1.25
    ```

    **Best practice**

    ```bash
    docker run -d --cap-add NET_BIND_SERVICE nginx:1.25
    ```
    """

    id = "DA501"
    name = "privileged"
    severity = Severity.ERROR
    cis = "5.5"
    theme = "privileges"


class MemoryUnlimited(Rule):
    """The container has no memory limit.

    One leaking service can take the host's memory and get others OOM-killed.

    **Anti-pattern**

    ```bash
    docker run -d nginx:1.25
    ```

    **Best practice**

    ```bash
    docker run -d -m 512m nginx:1.25
    ```
    """

    id = "DA101"
    name = "memory-unlimited"
    severity = Severity.WARNING
    cis = "5.11"
    theme = "resources"


class HostNamespace(Rule):
    """The container shares a namespace with the host.

    **Anti-pattern**

    ```bash
    docker run --uts host alpine:3.19 hostname
    ```

    **Best practice**

    ```bash
    docker run alpine:3.19 hostname
    ```
    """

    id = "DA506"
    name = "host-namespace"
    severity = Severity.INFO
    cis = "5.21, 5.31"
    theme = "privileges"


RULES: list[type[Rule]] = [MemoryUnlimited, HostNamespace, Privileged]

DEPLOY = (
    "#!/bin/sh",
    "set -e",
    "docker run -d --privileged \\",
    "\t-p 8080:80 \\",
    "  nginx:1.25",
    "docker run --rm --uts host alpine:3.19 hostname",
)
PRIVILEGED_CMD = "docker run -d --privileged -p 8080:80 nginx:1.25"


def privileged_finding(path: str = "deploy.sh", shift: int = 0, **changes: object) -> Finding:
    finding = Finding(
        rule_id="DA501",
        name="privileged",
        severity=Severity.ERROR,
        message="--privileged gives the container every capability and device of the host",
        location=Location(path, 3 + shift, 15, 3 + shift, 27),
        fix="drop --privileged; add only the capabilities the service needs",
        fingerprint_basis=PRIVILEGED_CMD,
    )
    return dataclasses.replace(finding, **changes)


def memory_finding(path: str = "deploy.sh", shift: int = 0, **changes: object) -> Finding:
    finding = Finding(
        rule_id="DA101",
        name="memory-unlimited",
        severity=Severity.WARNING,
        message="no memory limit: give the service -m/--memory",
        location=Location(path, 3 + shift, 1, 5 + shift, 13),
        fix="add -m 512m (or what the service needs)",
        fingerprint_basis=PRIVILEGED_CMD,
    )
    return dataclasses.replace(finding, **changes)


def uts_finding(path: str = "deploy.sh", shift: int = 0, **changes: object) -> Finding:
    finding = Finding(
        rule_id="DA506",
        name="host-namespace",
        severity=Severity.INFO,
        message="--uts host shares the host's hostname",
        location=Location(path, 6 + shift, 17, 6 + shift, 27),
        fingerprint_basis="docker run --rm --uts host alpine:3.19 hostname",
    )
    return dataclasses.replace(finding, **changes)


def live_finding(name: str = "web") -> Finding:
    return Finding(
        rule_id="DA101",
        name="memory-unlimited",
        severity=Severity.WARNING,
        message="no memory limit",
        location=None,
        container=ContainerRef(id="0123456789ab" + name, name=name),
    )


def static_report(**changes: object) -> Report:
    findings = [memory_finding(), privileged_finding(), uts_finding()]
    report = Report(findings=findings, rules=list(RULES), files={"deploy.sh": DEPLOY})
    return dataclasses.replace(report, **changes)


def notification(level: str = "error", line: int | None = None) -> Notification:
    return Notification("missing.sh", "cannot read missing.sh: No such file or directory", level, line)


def _shared_dir() -> Path:
    env = os.environ.get("DOCKAUDIT_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


SARIF_SCHEMA = _shared_dir() / "reference" / "sarif-schema-2.1.0.json"


def validate_sarif(log: dict) -> None:
    """Validate *log* against the official SARIF 2.1.0 schema (skip when it is not there)."""
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF schema is not at {SARIF_SCHEMA} (set DOCKAUDIT_SHARED)")
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
