"""Real input through the whole pipeline: no traceback, no internal error, no hang.

Every command of the shared corpus (commands.jsonl) is checked, in process and
through ``dockaudit check`` on files written from them; the fetched whole
files (DOCKAUDIT_CORPUS) are checked too, and the docker run/create commands
found in them are counted against a plain ``grep`` of the same files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockaudit.api import check_text, read_script
from tests.sources import test_shell_corpus

GREP = re.compile(r"docker run|docker create")  # grep -c 'docker run\|docker create'
SLOWEST_COMMAND_S = 2.0
rows = test_shell_corpus.rows  # the corpus rows fixture


def _as_file(row: dict) -> tuple[str, str]:
    """The row as a file: a script, or a Markdown document with the command in a bash block."""
    if row["kind"] == "sh":
        return "command.sh", row["logical_line"] + "\n"
    return "command.md", "Run it:\n\n```bash\n" + row["logical_line"] + "\n```\n"


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockaudit.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_every_corpus_command_is_checked_quickly(rows):
    slow = []
    for row in rows:
        path, text = _as_file(row)
        started = time.monotonic()
        findings = check_text(text, path)  # raises on an internal error
        took = time.monotonic() - started
        if took > SLOWEST_COMMAND_S:
            slow.append((round(took, 2), row["logical_line"][:120]))
        lines = text.count("\n") + 1
        for finding in findings:
            loc = finding.location
            assert loc is None or (1 <= loc.line <= lines and loc.column >= 1), (finding, text)
    assert slow == []


def test_every_corpus_command_through_the_cli(rows, tmp_path):
    for n, row in enumerate(rows):
        name, text = _as_file(row)
        (tmp_path / f"{n:04d}-{name}").write_text(text, encoding="utf-8")
    proc = _cli("check", "-f", "json", "--fail-on", "error", str(tmp_path))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["findings"], "real commands give findings"


def _grep_count(paths: list[Path]) -> int:
    return sum(sum(1 for line in p.read_text(encoding="utf-8", errors="replace").splitlines()
                   if GREP.search(line)) for p in paths)


@pytest.mark.corpus
@pytest.mark.parametrize(("folder", "kind", "share"), [("scripts", "shell", 0.8),
                                                      ("markdown", "markdown", 0.85)])
def test_whole_files_extraction_against_grep(corpus, folder, kind, share):
    """As many docker invocations as grep finds lines; run/create on most grep lines.

    The grep lines without a run/create command are comments, echo/log
    strings and, in Markdown, prose that names the command in backticks.
    """
    paths = sorted((corpus / folder).iterdir())
    assert paths
    grep = _grep_count(paths)
    invocations = run_create = 0
    for path in paths:
        script = read_script(path.read_text(encoding="utf-8", errors="replace"), path.name, kind)
        invocations += len(script.commands)
        run_create += sum(1 for c in script.commands if c.command.subcommand in (("run",), ("create",)))
    assert invocations >= grep
    assert run_create >= share * grep, (run_create, grep)


@pytest.mark.corpus
@pytest.mark.parametrize("folder", ["scripts", "markdown"])
def test_whole_files_through_the_cli(corpus, folder):
    proc = _cli("check", "-f", "json", str(corpus / folder))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stdout + proc.stderr
    unreadable = [f for f in json.loads(proc.stdout)["findings"] if f["rule"] == "DA001"]
    assert len(unreadable) <= 5, unreadable
