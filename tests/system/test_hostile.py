"""Hostile files through ``dockaudit check``: a message or a finding, never a traceback.

Each hostile file sits beside a good script; the good script's findings are
kept, and exit status 2 comes only from input that could not be read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

GOOD = "docker run --privileged alpine:3.19 sh\n"
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): \w+: (?P<message>.*) \[(?P<rule>DA\d+)\]$")


def check(*paths: Path, timeout: float = 120) -> tuple[int, list[dict], str, float]:
    """Exit status, findings (path, line, message, rule), notifications, seconds."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dockaudit.cli", "check", "-f", "parsable",
                           "--fail-on", "error", *map(str, paths)],
                          capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    assert "internal error" not in output, output[-3000:]
    findings, notes = [], []
    for line in proc.stdout.splitlines():
        match = FINDING.match(line)
        if match:
            findings.append({"path": match["path"], "line": int(match["line"]),
                             "message": match["message"], "rule": match["rule"]})
        else:
            notes.append(line)
    return proc.returncode, findings, "\n".join(notes) + proc.stderr, took


def _good(tmp_path: Path) -> Path:
    good = tmp_path / "good.sh"
    good.write_text(GOOD)
    return good


def _kept(findings: list[dict], good: Path) -> bool:
    return any(f["rule"] == "DA501" and f["path"] == str(good) for f in findings) or any(
        f["path"] == str(good) and "privileged" in f["message"] for f in findings)


def test_binary_file_is_a_message_and_exit_2(tmp_path):
    binary = tmp_path / "tool.sh"
    binary.write_bytes(os.urandom(4096) + b"\x00docker run x\x00")
    status, findings, stderr, _ = check(binary, _good(tmp_path))
    assert status == 2 and "binary" in stderr
    assert _kept(findings, tmp_path / "good.sh")


def test_invalid_utf8_is_read_with_a_warning(tmp_path):
    bad = tmp_path / "latin1.sh"
    bad.write_bytes(b"# caf\xe9\ndocker run -e NAME=\xff\xfe --privileged alpine:3.19\n")
    status, findings, stderr, _ = check(bad)
    assert status == 1 and "UTF-8" in stderr
    assert any(f["path"] == str(bad) and f["line"] == 2 for f in findings)


def test_fifo_and_directory_named_like_scripts(tmp_path):
    os.mkfifo(tmp_path / "pipe.sh")
    (tmp_path / "dir.sh").mkdir()
    (tmp_path / "dir.sh" / "inner.sh").write_text(GOOD)
    status, findings, stderr, took = check(tmp_path / "pipe.sh", tmp_path / "dir.sh",
                                           _good(tmp_path), timeout=60)
    assert status == 2 and "not a regular file" in stderr
    assert _kept(findings, tmp_path / "good.sh")
    assert any(f["path"].endswith("inner.sh") for f in findings)


def test_symlink_loop_in_a_scanned_tree(tmp_path):
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "a" / "up").symlink_to("..")
    (tree / "a" / "self.sh").symlink_to("self.sh")
    (tree / "a" / "run.sh").write_text(GOOD)
    status, findings, _, _ = check(tree, timeout=60)
    assert status == 1
    assert [f["path"] for f in findings if "privileged" in f["message"]] == [
        str(tree / "a" / "run.sh")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_unreadable_file(tmp_path):
    secret = tmp_path / "secret.sh"
    secret.write_text(GOOD)
    secret.chmod(0)
    status, findings, stderr, _ = check(secret, _good(tmp_path))
    assert status == 2 and "cannot read" in stderr
    assert _kept(findings, tmp_path / "good.sh")


def test_one_megabyte_line(tmp_path):
    long = tmp_path / "long.sh"
    long.write_text("docker run -e X=" + "y" * 1_000_000 + " --privileged alpine:3.19\n")
    status, findings, _, took = check(long, timeout=30)
    assert status == 1 and any(f["line"] == 1 for f in findings)
    assert took < 30


def test_deeply_nested_substitution_is_a_da001_in_bounded_time(tmp_path):
    nested = tmp_path / "nested.sh"
    nested.write_text("docker run -d -e X=" + "$(echo " * 500 + "x" + ")" * 500 +
                      " --privileged alpine:3.19\n" + GOOD)
    status, findings, _, took = check(nested, timeout=60)
    assert status in (1, 2)
    assert any(f["rule"] == "DA001" and f["line"] == 1 for f in findings)
    assert took < 30


def test_deeply_nested_substitution_keeps_the_rest_of_the_file(tmp_path):
    nested = tmp_path / "nested.sh"
    nested.write_text("docker run -d -e X=" + "$(echo " * 500 + "x" + ")" * 500 +
                      " alpine:3.19\n" + GOOD)
    _, findings, _, _ = check(nested, timeout=60)
    assert any(f["line"] == 2 and "privileged" in f["message"] for f in findings)
    assert sum(f["rule"] == "DA001" for f in findings) <= 1


def test_fifty_megabyte_script(tmp_path):
    """About 50 MB of shell with a docker command every 20 lines: done in bounded time and memory."""
    block = ("for i in 1 2 3; do\n  echo \"step $i\" | tee -a /var/log/app.log\ndone\n" * 6 +
             "docker run -d --name app-$RANDOM -m 256m --pids-limit 50 --restart always "
             "--privileged myorg/app:1.2 serve\n")
    big = tmp_path / "big.sh"
    with big.open("w") as handle:
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(block * 1000)
    proc = subprocess.run(
        [sys.executable, "-c", (
            "import resource, sys, time; from dockaudit.api import read_script; "
            "t = time.monotonic(); s = read_script(open(sys.argv[1]).read(), sys.argv[1]); "
            "print(len(s.commands), time.monotonic() - t, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"), str(big)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    commands, seconds, max_rss_kb = proc.stdout.split()
    lines = big.read_text().count("\n")
    assert int(commands) == lines // 19
    assert float(seconds) < 300, seconds
    assert int(max_rss_kb) < 4 * 1024 * 1024, max_rss_kb  # under 4 GB for 50 MB of text
