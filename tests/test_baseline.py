"""The baseline, as a legacy repository adopts it: record today's findings, report only new ones.

Each test runs the installed ``dockaudit`` on files in a temporary repository,
changes them the way people do (moving code, adding a command, fixing one), and
reads what the next run reports and its exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli import run

DEPLOY = """\
#!/bin/sh
set -e
docker run -d --privileged --name web nginx:1.25
docker run -d -v /var/run/docker.sock:/var/run/docker.sock --name agent alpine:3.19 sleep 1d
"""
NEW_COMMAND = "docker run -d --cap-add SYS_ADMIN --name extra alpine:3.19 sleep 1d\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "deploy.sh").write_text(DEPLOY, encoding="utf-8")
    (tmp_path / "other.sh").write_text("#!/bin/sh\ndocker run -d --pid host alpine:3.19 top\n", encoding="utf-8")
    return tmp_path


def check_json(repo: Path, *args: str, cwd: Path | None = None):
    result = run("check", "--format", "json", *args, cwd=cwd or repo)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout) if result.stdout else None


def test_write_then_check_reports_nothing_known(repo: Path) -> None:
    before, envelope = check_json(repo, "scripts", "other.sh")
    assert before.returncode == 1
    total = envelope["summary"]["findings"]
    written, envelope = check_json(repo, "--write-baseline", "dockaudit-baseline.json", "scripts", "other.sh")
    assert written.returncode == 0, written.stderr
    assert f"recorded {total} findings in dockaudit-baseline.json" in written.stderr
    assert envelope["findings"] == []
    assert envelope["summary"]["baseline"] == {"file": "dockaudit-baseline.json", "known": total, "unmatched": 0}
    saved = json.loads((repo / "dockaudit-baseline.json").read_text())
    assert saved["tool"] == "dockaudit" and saved["version"] == 1 and len(saved["findings"]) == total
    assert {e["path"] for e in saved["findings"]} == {"scripts/deploy.sh", "other.sh"}
    assert all(set(e) == {"fingerprint", "rule", "path", "message"} for e in saved["findings"])

    again, envelope = check_json(repo, "--baseline", "dockaudit-baseline.json", "scripts", "other.sh")
    assert again.returncode == 0
    assert envelope["findings"] == [] and envelope["summary"]["baseline"]["known"] == total


def test_moving_code_keeps_known_findings_known(repo: Path) -> None:
    check_json(repo, "--write-baseline", "b.json", "scripts")
    script = repo / "scripts" / "deploy.sh"
    lines = DEPLOY.splitlines(keepends=True)
    # two commands swapped, lines added above them, the file re-indented inside a function
    moved = lines[:2] + ["# deploy the agent first\n", "echo starting\n", "main() {\n"]
    moved += ["  " + lines[3], "  " + lines[2], "}\n", "main\n"]
    script.write_text("".join(moved), encoding="utf-8")
    result, envelope = check_json(repo, "--baseline", "b.json", "scripts")
    assert result.returncode == 0, envelope["findings"]
    assert envelope["findings"] == [] and envelope["summary"]["baseline"]["unmatched"] == 0


def test_a_new_finding_is_reported_and_fails(repo: Path) -> None:
    check_json(repo, "--write-baseline", "b.json", "scripts")
    with (repo / "scripts" / "deploy.sh").open("a") as handle:
        handle.write(NEW_COMMAND)
    result, envelope = check_json(repo, "--baseline", "b.json", "scripts")
    assert result.returncode == 1
    assert envelope["findings"] and {f["line"] for f in envelope["findings"]} == {5}
    assert "DA502" in {f["rule"] for f in envelope["findings"]}
    assert envelope["summary"]["findings"] == len(envelope["findings"])


def test_the_same_command_twice_is_one_known_and_one_new(repo: Path) -> None:
    check_json(repo, "--write-baseline", "b.json", "scripts")
    with (repo / "scripts" / "deploy.sh").open("a") as handle:
        handle.write(DEPLOY.splitlines()[2] + "\n")
    result, envelope = check_json(repo, "--baseline", "b.json", "scripts")
    assert result.returncode == 1
    assert {f["line"] for f in envelope["findings"]} == {5}
    assert "DA501" in {f["rule"] for f in envelope["findings"]}


def test_fixed_findings_leave_entries_that_no_longer_match(repo: Path) -> None:
    _, written = check_json(repo, "--write-baseline", "b.json", "scripts", "other.sh")
    total = written["summary"]["baseline"]["known"]
    script = repo / "scripts" / "deploy.sh"
    script.write_text(DEPLOY.replace("docker run -d --privileged --name web nginx:1.25\n", ""), encoding="utf-8")
    result, envelope = check_json(repo, "--baseline", "b.json", "scripts", "other.sh")
    assert result.returncode == 0
    outcome = envelope["summary"]["baseline"]
    assert outcome["unmatched"] > 0 and outcome["known"] + outcome["unmatched"] == total
    text = run("check", "--format", "text", "--baseline", "b.json", "scripts", cwd=repo)
    assert f"{outcome['unmatched']} entries no longer match" in text.stdout
    # entries of a file this run did not check are not stale
    _, only_other = check_json(repo, "--baseline", "b.json", "other.sh")
    assert only_other["summary"]["baseline"]["unmatched"] == 0
    # writing it again shrinks it
    check_json(repo, "--write-baseline", "b.json", "scripts", "other.sh")
    assert len(json.loads((repo / "b.json").read_text())["findings"]) == outcome["known"]


def test_paths_are_relative_to_the_baseline_not_to_where_it_runs(repo: Path) -> None:
    check_json(repo, "--write-baseline", "b.json", "scripts/deploy.sh")
    result, envelope = check_json(repo, "--baseline", "../b.json", "deploy.sh", cwd=repo / "scripts")
    assert result.returncode == 0, envelope
    assert envelope["summary"]["baseline"]["known"] > 0
    result, _ = check_json(repo.parent, "--baseline", f"{repo.name}/b.json", f"{repo.name}/scripts/deploy.sh",
                           cwd=repo.parent)
    assert result.returncode == 0


def test_sarif_and_the_baseline_share_their_fingerprints(repo: Path) -> None:
    check_json(repo, "--write-baseline", "b.json", "scripts")
    sarif = run("check", "--format", "sarif", "scripts", cwd=repo)
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    prints = {r["partialFingerprints"]["dockaudit/v1"] for r in results}
    assert prints == {e["fingerprint"] for e in json.loads((repo / "b.json").read_text())["findings"]}


def test_other_formats_say_it_on_standard_error(repo: Path) -> None:
    check_json(repo, "--write-baseline", "b.json", "scripts")
    result = run("check", "--format", "parsable", "--baseline", "b.json", "scripts", cwd=repo)
    assert result.returncode == 0 and result.stdout == ""
    assert "known findings not shown" in result.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no baseline"),
        ("{not json", "not a dockaudit baseline"),
        ('{"tool": "other"}', "not a dockaudit baseline"),
        ('{"tool": "dockaudit", "version": 99, "findings": []}', "version 99"),
        ('{"tool": "dockaudit", "version": 1, "findings": [{"rule": 1}]}', "finding 1"),
    ],
)
def test_a_bad_baseline_is_a_message_and_exit_2(repo: Path, content: str | None, says: str) -> None:
    if content is not None:
        (repo / "b.json").write_text(content, encoding="utf-8")
    result = run("check", "--baseline", "b.json", "scripts", cwd=repo)
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr


def test_baseline_options_exclude_each_other_and_need_a_writable_file(repo: Path) -> None:
    both = run("check", "--baseline", "a.json", "--write-baseline", "b.json", "scripts", cwd=repo)
    assert both.returncode == 2 and "not allowed with" in both.stderr
    unwritable = run("check", "--write-baseline", "no/such/dir/b.json", "scripts", cwd=repo)
    assert unwritable.returncode == 2 and "cannot write the baseline" in unwritable.stderr
