"""Safe fixes through ``dockaudit check --diff`` and ``--fix``, as a user runs them.

Every fix is checked the same way: the file is fixed by the installed command,
both versions are parsed again, and the container spec (or, for commands
without one, the options) must be the same but for the fixed option, and the
finding must be gone. What is not safe to rewrite is left alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dockaudit.api import read_script
from dockaudit.model import known
from dockaudit.specjson import spec_to_dict
from test_cli import run

CASES = [
    # (command before, command after, the spec fields that differ where the spec has them (lifecycle
    # follows --rm), the rule whose finding goes)
    ("docker run -d --net=host nginx:1.25", "docker run -d --network=host nginx:1.25", set(), None),
    ("docker run -d --net host nginx:1.25", "docker run -d --network host nginx:1.25", set(), None),
    ("docker run -d --network app --net-alias web nginx:1.25",
     "docker run -d --network app --network-alias web nginx:1.25", set(), None),
    ("docker run --dns-opt ndots:1 alpine:3.19 true", "docker run --dns-option ndots:1 alpine:3.19 true",
     set(), None),
    ("docker run -d --security-opt seccomp:unconfined nginx:1.25",
     "docker run -d --security-opt seccomp=unconfined nginx:1.25", set(), "DA006"),
    ("docker run -d --security-opt='apparmor:unconfined' nginx:1.25",
     "docker run -d --security-opt='apparmor=unconfined' nginx:1.25", set(), "DA006"),
    ("docker stop --time 5 web", "docker stop --timeout 5 web", set(), "DA006"),
    ("docker run -d --memroy 512m nginx:1.25", "docker run -d --memory 512m nginx:1.25", {"memory"}, "DA002"),
    ("docker run -d --memroy=512m nginx:1.25", "docker run -d --memory=512m nginx:1.25", {"memory"}, "DA002"),
    ("docker run -rm alpine:3.19 true", "docker run --rm alpine:3.19 true", {"auto_remove", "lifecycle"},
     "DA002"),
    ("docker run -d --cpuset-cpus-1 0 nginx:1.25", "docker run -d --cpuset-cpus 0 nginx:1.25",
     {"cpuset_cpus"}, "DA002"),
]

NOT_FIXED = [
    "docker run -d --link db:db nginx:1.25",  # --link has no replacement that keeps the network
    "podman run -d --net host nginx:1.25",  # podman's own spellings
    "docker run -d --tls nginx:1.25",  # a global option in the wrong place, not a typo of --tty
    "docker run -d --ip4 10.0.0.2 nginx:1.25",  # --ip and --ip6 are as close: no single fix
    'docker run -d "--net" host nginx:1.25',  # quoted: left to a person
    "docker run -d --memroy 1k nginx:1.25",  # --memory 1k would be a new problem (below 6 MB)
    "docker run -d --kernel-memory 1g nginx:1.25",  # deprecated, but no replacement
    "docker run --rm -i -t alpine:3.19 sh",
]


def _without_location(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "location"}


def _options(text: str) -> list[tuple[str, str | None]]:
    command = read_script(text, "deploy.sh").commands[0].command
    return [(o.name, o.value_text if known(o.value_text) else "?") for o in command.options]


def _rules_at_line(result, line: int) -> set[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return {f["rule"] for f in json.loads(result.stdout)["findings"] if f["line"] == line}


@pytest.mark.parametrize(("before", "after", "differs", "rule"), CASES)
def test_a_safe_fix_changes_only_the_fixed_option(tmp_path: Path, before: str, after: str,
                                                  differs: set[str], rule: str | None) -> None:
    script = tmp_path / "deploy.sh"
    original = f"#!/bin/sh\nset -e\n{before}\necho done\n"
    script.write_text(original, encoding="utf-8")
    if rule:
        assert rule in _rules_at_line(run("check", "--format", "json", "deploy.sh", cwd=tmp_path), 3)

    diff = run("check", "--diff", "deploy.sh", cwd=tmp_path)
    assert diff.returncode == 1, diff.stderr
    assert f"-{before}\n+{after}\n" in diff.stdout
    assert diff.stdout.startswith("--- deploy.sh\n+++ deploy.sh\n")
    assert script.read_text(encoding="utf-8") == original  # --diff writes nothing

    fixed = run("check", "--fix", "--format", "json", "--fail-on", "never", "deploy.sh", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert "dockaudit: fixed" in fixed.stderr
    assert script.read_text(encoding="utf-8") == original.replace(before, after)
    if rule:
        assert rule not in _rules_at_line(fixed, 3)  # the report is of the fixed file

    old, new = (read_script(f"{text}\n", "deploy.sh").commands[0] for text in (before, after))
    if old.spec is not None:
        a, b = _without_location(spec_to_dict(old.spec)), _without_location(spec_to_dict(new.spec))
        assert {k for k in a if a[k] != b[k]} == differs & a.keys()
    else:
        assert _options(before) == _options(after) == [("--timeout", "5")]
    again = run("check", "--diff", "deploy.sh", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == ""


@pytest.mark.parametrize("command", NOT_FIXED)
def test_what_is_not_safe_is_left_alone(tmp_path: Path, command: str) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text(f"#!/bin/sh\n{command}\n", encoding="utf-8")
    diff = run("check", "--diff", "deploy.sh", cwd=tmp_path)
    assert diff.returncode == 0 and diff.stdout == "", diff.stdout + diff.stderr
    run("check", "--fix", "deploy.sh", cwd=tmp_path)
    assert script.read_text(encoding="utf-8") == f"#!/bin/sh\n{command}\n"


def test_a_suppressed_or_disabled_finding_is_not_fixed(tmp_path: Path) -> None:
    (tmp_path / "deploy.sh").write_text(
        "#!/bin/sh\n# dockaudit ignore=DA006 -- the old engine on the lab host\n"
        "docker run -d --security-opt seccomp:unconfined nginx:1.25\n", encoding="utf-8")
    assert run("check", "--diff", "deploy.sh", cwd=tmp_path).stdout == ""
    (tmp_path / "other.sh").write_text("#!/bin/sh\ndocker stop --time 5 web\n", encoding="utf-8")
    (tmp_path / ".dockaudit.yaml").write_text("rules:\n  DA006: {enabled: false}\n", encoding="utf-8")
    assert run("check", "--diff", "other.sh", cwd=tmp_path).stdout == ""


def test_fix_keeps_line_endings_markdown_and_the_rest_of_the_file(tmp_path: Path) -> None:
    crlf = tmp_path / "deploy.sh"
    crlf.write_bytes(b"#!/bin/sh\r\ndocker run -d --net host nginx:1.25\r\necho ok")
    doc = tmp_path / "README.md"
    doc.write_text("# Run\n\n```console\n$ docker run -d --dns-opt ndots:1 nginx:1.25\n```\n\n"
                   "Text with docker run --net host in prose.\n", encoding="utf-8")
    result = run("check", "--fix", "--fail-on", "never", "deploy.sh", "README.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fixed 2 problems in 2 files" in result.stderr
    assert crlf.read_bytes() == b"#!/bin/sh\r\ndocker run -d --network host nginx:1.25\r\necho ok"
    assert doc.read_text(encoding="utf-8") == (
        "# Run\n\n```console\n$ docker run -d --dns-option ndots:1 nginx:1.25\n```\n\n"
        "Text with docker run --net host in prose.\n")


def test_a_file_that_is_not_utf8_is_not_rewritten(tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    data = b"#!/bin/sh\n# caf\xe9\ndocker run -d --net host nginx:1.25\n"
    script.write_bytes(data)
    result = run("check", "--fix", "deploy.sh", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert script.read_bytes() == data


@pytest.mark.skipif(shutil.which("git") is None, reason="git applies the diff")
def test_the_diff_applies_with_git_apply_and_equals_fix(tmp_path: Path) -> None:
    text = "#!/bin/sh\n" + "\n".join(before for before, *_ in CASES) + "\necho end"  # no final newline
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for side in ("a", "b"):
        (tmp_path / side / "deploy.sh").write_text(text, encoding="utf-8")
    diff = run("check", "--diff", "deploy.sh", cwd=tmp_path / "a")
    assert diff.returncode == 1
    (tmp_path / "fix.diff").write_text(diff.stdout, encoding="utf-8")
    applied = subprocess.run(["git", "apply", "-p0", str(tmp_path / "fix.diff")], cwd=tmp_path / "a",
                             capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    run("check", "--fix", "deploy.sh", cwd=tmp_path / "b")
    fixed = (tmp_path / "b" / "deploy.sh").read_text(encoding="utf-8")
    assert (tmp_path / "a" / "deploy.sh").read_text(encoding="utf-8") == fixed
    assert fixed.endswith("echo end") and fixed.count("\n") == text.count("\n")


def test_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "deploy.sh").write_text("docker run --net host nginx\n", encoding="utf-8")
    both = run("check", "--diff", "--fix", "deploy.sh", cwd=tmp_path)
    assert both.returncode == 2 and "not allowed with" in both.stderr
    stdin = run("check", "--fix", "-", stdin="docker run --net host nginx\n", cwd=tmp_path)
    assert stdin.returncode == 2 and "standard input" in stdin.stderr
    shown = run("check", "--diff", "-", stdin="docker run --net host nginx\n", cwd=tmp_path)
    assert shown.returncode == 1 and "+docker run --network host nginx" in shown.stdout
