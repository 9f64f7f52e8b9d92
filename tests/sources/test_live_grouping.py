"""Host-level live findings of one rule are one block: a line naming them all, one fix line.

A host with 22 dangling volumes used to print 44 lines (a finding and its fix
each); the text report now prints the rule once with the volumes listed, and
one ``docker volume rm`` line for them all. Machine formats keep one result
per finding. Tested on the private test engine with volumes made for it.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from dockaudit.model import Finding, Severity
from dockaudit.report import Report
from dockaudit.report.text import render_text
from test_cli import COMMAND


def _dangling(names: list[str], suppressed: str | None = None) -> list[Finding]:
    return [
        Finding("DA210", "dangling-volume", Severity.INFO, f"volume {name} is used by no container", None,
                f"remove it if it holds nothing needed: docker volume rm {name}", suppressed=suppressed)
        for name in names
    ]


def test_twenty_two_dangling_volumes_are_one_block() -> None:
    names = [f"data-{i}" for i in range(22)]
    out = render_text(Report(findings=_dangling(names), rules=[], live=True), color=False)
    block = out.split("\n\n")[0].splitlines()
    assert block == [
        "host",
        "  host info DA210 dangling-volume: 22 × volume … is used by no container: " + ", ".join(names),
        "  fix: remove it if it holds nothing needed: docker volume rm " + " ".join(names),
    ]
    assert "22 problems" in out  # the summary still counts each


def test_one_finding_and_unrelated_messages_are_printed_as_they_are() -> None:
    single = render_text(Report(findings=_dangling(["only"]), rules=[], live=True), color=False)
    assert "  host info DA210 dangling-volume: volume only is used by no container" in single
    assert "  fix: remove it if it holds nothing needed: docker volume rm only" in single
    mixed = [Finding("DA999", "host-thing", Severity.WARNING, text, None, fix)
             for text, fix in (("first problem", "do this"), ("another matter", "do that"))]
    out = render_text(Report(findings=mixed, rules=[], live=True), color=False)
    assert "2 × first problem; another matter" in out
    assert "  fix: do this\n  fix: do that\n" in out


@pytest.mark.engine
def test_live_groups_the_dangling_volumes_of_a_real_engine(engine) -> None:
    prefix = f"da-group-{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{i}" for i in range(4)]
    for name in names:
        engine.docker("volume", "create", name)
    try:
        env = {**engine.env(), "NO_COLOR": "1"}
        env.pop("GITHUB_ACTIONS", None)
        text = subprocess.run([*COMMAND, "live", "--format", "text", "--fail-on", "never"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert text.returncode == 0, text.stderr
        ours = [line for line in text.stdout.splitlines() if prefix in line]
        assert len(ours) == 2, ours  # the finding line and the fix line, not eight
        finding, fix = ours
        assert "DA210 dangling-volume:" in finding and all(name in finding for name in names)
        assert fix.startswith("  fix: ") and "docker volume rm" in fix and all(f" {n}" in fix for n in names)
        # one result per volume where a program reads the report
        data = subprocess.run([*COMMAND, "live", "--format", "json", "--fail-on", "never"], env=env,
                              capture_output=True, text=True, timeout=120)
        messages = [f["message"] for f in json.loads(data.stdout)["findings"] if f["rule"] == "DA210"]
        assert sum(prefix in m for m in messages) == 4
    finally:
        for name in names:
            engine.docker("volume", "rm", "-f", name, check=False)
