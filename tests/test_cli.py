"""The command line end to end, as a user runs it (the installed console script)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "fixtures" / "examples"
# The console script of the environment running the tests, never another one found on PATH:
# with a PATH of system folders only there may be no dockaudit (nor python) at all.
_SCRIPT = Path(sys.executable).with_name("dockaudit")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "dockaudit.cli"]


def run(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None):
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=full_env,
        timeout=120,
    )


def findings_of(result) -> list[dict]:
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["findings"]


def test_examples_json_envelope() -> None:
    result = run("check", "--format", "json", "fixtures/examples/deploy.sh", "fixtures/examples/tutorial.md")
    assert result.returncode == 1, result.stderr
    envelope = json.loads(result.stdout)
    assert envelope["version"] == 1
    assert envelope["tool"]["name"] == "dockaudit"
    assert {f["path"] for f in envelope["findings"]} == {"fixtures/examples/deploy.sh", "fixtures/examples/tutorial.md"}
    first = envelope["findings"][0]
    assert set(first) >= {"rule", "name", "severity", "message", "path", "line", "column", "end_line",
                          "end_column", "container", "fix"}
    assert envelope["summary"]["findings"] == len(envelope["findings"])
    assert envelope["summary"]["files"] == 2


def test_deploy_example_points_at_the_offending_words() -> None:
    findings = findings_of(run("check", "--format", "json", "fixtures/examples/deploy.sh"))
    lines = (EXAMPLES / "deploy.sh").read_text().splitlines()

    def word(f: dict) -> str:
        return lines[f["line"] - 1][f["column"] - 1 : f["end_column"] - 1]

    by_rule = {}
    for f in findings:
        by_rule.setdefault(f["rule"], []).append(f)
    assert "/var/run/docker.sock:/var/run/docker.sock" in word(by_rule["DA205"][0])
    assert "SYS_ADMIN" in word(by_rule["DA502"][0])
    assert any(
        word(f).startswith("MYSQL_ROOT_PASSWORD") or "MYSQL_ROOT_PASSWORD" in word(f)
        for f in by_rule["DA801"]
    )
    assert "DA201" in by_rule  # mysql without a volume at /var/lib/mysql
    assert "DA402" in by_rule  # -p with --network host
    assert "DA907" in by_rule  # gateway outside the subnet
    assert "DA905" in by_rule  # rm -f $(docker ps -aq)
    # DB_PASSWORD_FILE holds a path: the recommended fix, not a finding
    assert not any("DB_PASSWORD_FILE" in f["message"] for f in findings)


@pytest.mark.parametrize(
    ("fail_on", "code"), [("never", 0), ("error", 1), ("warning", 1)]
)
def test_fail_on_decides_the_exit_code_not_the_format(fail_on: str, code: int) -> None:
    for fmt in ("json", "parsable", "text", "sarif", "github"):
        result = run("check", "--format", fmt, "--fail-on", fail_on, "fixtures/examples/deploy.sh")
        assert result.returncode == code, (fmt, result.stderr)


def test_clean_input_exits_zero(tmp_path: Path) -> None:
    script = tmp_path / "ok.sh"
    script.write_text("#!/bin/sh\ndocker run --rm registry.example.com/tools/hello:1.0 hello\n")
    result = run("check", "--format", "parsable", str(script))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_stdin_and_stdin_filename() -> None:
    result = run("check", "--format", "json", "--stdin-filename", "deploy.sh", "-",
                 stdin="docker run -d --privileged nginx:1.25\n")
    findings = findings_of(result)
    assert any(f["rule"] == "DA501" and f["path"] == "deploy.sh" for f in findings)


def test_unreadable_inputs_exit_2_and_keep_other_results(tmp_path: Path) -> None:
    good = tmp_path / "good.sh"
    good.write_text("docker run -d --privileged nginx:1.25\n")
    binary = tmp_path / "blob.sh"
    binary.write_bytes(b"\x7fELF\x00\x01\x02docker run")
    latin = tmp_path / "latin.sh"
    latin.write_bytes("# caf\xe9\ndocker run --rm --privileged alpine:3.19 true\n".encode("latin-1"))
    result = run("check", "--format", "json", str(good), str(binary), str(latin), str(tmp_path / "missing.sh"))
    assert result.returncode == 2
    envelope = json.loads(result.stdout)
    paths = {f["path"] for f in envelope["findings"] if f["rule"] == "DA501"}
    assert paths == {str(good), str(latin)}
    notes = {n["path"]: n for n in envelope["notifications"]}
    assert "binary" in notes[str(binary)]["message"]
    assert notes[str(binary)]["level"] == "error"
    assert "UTF-8" in notes[str(latin)]["message"] and notes[str(latin)]["level"] == "warning"
    assert "no such file" in notes[str(tmp_path / "missing.sh")]["message"]
    assert "Traceback" not in result.stderr


def test_directory_scan_picks_shell_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "deploy").write_text("#!/usr/bin/env bash\ndocker run --privileged -d nginx:1.25\n")
    (tmp_path / "notes.txt").write_text("docker run --privileged -d nginx:1.25\n")
    (tmp_path / "README.md").write_text("```sh\ndocker run --privileged -d --restart always nginx:1.25\n```\n")
    (tmp_path / "app.py").write_text("docker run --privileged -d nginx:1.25\n")
    (tmp_path / "loop").symlink_to(tmp_path)  # a symlink loop must not hang the scan
    result = run("check", "--format", "json", str(tmp_path))
    paths = {Path(f["path"]).relative_to(tmp_path).as_posix() for f in findings_of(result) if f["rule"] == "DA501"}
    assert paths == {"bin/deploy", "README.md"}


def test_config_error_exits_2_with_a_message_and_keeps_other_results(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".dockaudit.yaml").write_text("rules:\n  DA101:\n    enabeld: false\n")
    (broken / "x.sh").write_text("docker run -d nginx:1.25\n")
    (tmp_path / "ok.sh").write_text("docker run --rm --privileged alpine:3.19 true\n")
    result = run("check", "--format", "json", str(broken / "x.sh"), str(tmp_path / "ok.sh"))
    assert result.returncode == 2
    envelope = json.loads(result.stdout)
    [note] = envelope["notifications"]
    assert note["path"] == str(broken / "x.sh") and note["level"] == "error"
    assert "rules.DA101: unknown key 'enabeld'" in note["message"]
    assert {f["path"] for f in envelope["findings"]} == {str(tmp_path / "ok.sh")}
    assert "Traceback" not in result.stderr


def test_explicit_config_error_stops_the_run(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("profile: paranoid\n")
    (tmp_path / "x.sh").write_text("docker run -d nginx:1.25\n")
    result = run("check", "--config", str(config), str(tmp_path / "x.sh"))
    assert result.returncode == 2
    assert "profile must be one of default, cis, strict" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_file_is_found_upward(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".dockaudit.yaml").write_text("rules:\n  DA501: {enabled: false}\nfail-on: error\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.sh").write_text("docker run --rm --privileged alpine:3.19 true\n")
    result = run("check", "--format", "json", str(tmp_path / "sub" / "x.sh"))
    assert not any(f["rule"] == "DA501" for f in findings_of(result))
    shown = run("config", str(tmp_path / "sub"))
    assert shown.returncode == 0
    assert "DA501:\n    enabled: false" in shown.stdout


def test_show_prints_the_normalised_spec() -> None:
    result = run("show", "--format", "json", "-", stdin="docker run -d -m 512m --cpus 0.5 -p 127.0.0.1:8080:80 --cap-add net_admin nginx:1.25\n")
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)
    spec = entry["spec"]
    assert entry["location"] == "<stdin>:1:1"
    assert spec["memory"] == 536870912
    assert spec["nano_cpus"] == 500000000
    assert spec["cap_add"] == ["CAP_NET_ADMIN"]
    assert spec["ports"][0]["host_ip"] == "127.0.0.1" and spec["ports"][0]["container_port"] == "80"
    text = run("show", "-", stdin="docker run -d -m 512m nginx:1.25\n")
    assert text.returncode == 0 and "536870912" in text.stdout


def test_rules_explain_and_help() -> None:
    listed = run("rules")
    assert (
        listed.returncode == 0 and "DA101" in listed.stdout and "memory-unlimited" in listed.stdout
    )
    explained = run("explain", "DA205")
    assert explained.returncode == 0
    assert "Anti-pattern" in explained.stdout and "docker.sock" in explained.stdout
    unknown = run("explain", "DA99")
    assert unknown.returncode == 2 and "no rule" in unknown.stderr
    helped = run("check", "--help")
    assert "exit codes:" in helped.stdout and "2  usage" in helped.stdout


def test_explain_suggests_the_rule_meant() -> None:
    by_id = run("explain", "DA1O1")
    assert by_id.returncode == 2 and "did you mean DA101?" in by_id.stderr
    by_name = run("explain", "memory-unlimted")
    assert by_name.returncode == 2 and "did you mean memory-unlimited?" in by_name.stderr
    assert "did you mean" not in run("explain", "nothing-like-a-rule").stderr


def test_no_arguments_is_a_usage_error() -> None:
    assert run().returncode == 2
    assert run("check").returncode == 2
    assert run("check", "--format", "yaml", "x.sh").returncode == 2


def test_tutorial_notes_typo_is_da002(shared: Path) -> None:
    notes = shared / "reference" / "000_2ed0cc36ed93b211.txt"
    findings = findings_of(run("check", "--format", "json", str(notes)))
    typo = [f for f in findings if f["rule"] == "DA002" and "--cpuset-cpus-1" in f["message"]]
    assert len(typo) == 1
    assert "--cpuset-cpus" in typo[0]["fix"] or "--cpuset-cpus" in typo[0]["message"]
    line = notes.read_text(encoding="utf-8").splitlines()[typo[0]["line"] - 1]
    assert line[typo[0]["column"] - 1 :].startswith("--cpuset-cpus-1")


def test_no_foreign_dockaudit_on_path() -> None:
    """The suite runs with no dockaudit on PATH but the one under test (tools/test.sh sees to it)."""
    found = shutil.which("dockaudit")
    if found is None:
        return
    assert Path(found).resolve() == _SCRIPT.resolve(), (
        f"{found} is on PATH but the tests run {sys.executable}: a subprocess could run another "
        "installation; run the suite through tools/test.sh")



def test_show_into_a_pipe_cuts_no_path(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-" * 4) / "deploy.sh"
    deep.parent.mkdir(parents=True)
    deep.write_text("docker run -d --restart always --name web nginx:1.25\n")
    result = run("show", str(deep))
    assert result.returncode == 0, result.stderr
    assert f"{deep}:1:1" in result.stdout and "\u2026" not in result.stdout


def test_show_says_what_the_file_and_each_container_are_for(tmp_path: Path) -> None:
    script = tmp_path / "test" / "run.sh"
    script.parent.mkdir()
    script.write_text('cid="$(docker run -d postgres:16)"\ntrap "docker rm -vf $cid" EXIT\n')
    [first, _rm] = json.loads(run("show", "--format", "json", str(script)).stdout)
    assert first["purpose"]["verdict"] == "ci-test"
    assert first["spec"]["lifecycle"] == {"verdict": "temporary",
                                          "why": "the same file stops or removes it again"}


def test_every_profile_of_the_configuration_is_a_profile_of_the_command_line() -> None:
    from dockaudit.cli import build_parser
    from dockaudit.config import PROFILES

    for profile in PROFILES:
        assert build_parser().parse_args(["check", "--profile", profile, "x.sh"]).profile == profile


def _options(parser) -> dict[str, list[str]]:
    """Each subcommand's option strings, as *parser* has them."""
    import argparse

    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: sorted(o for a in p._actions for o in a.option_strings) for name, p in sub.choices.items()}


def test_a_run_builds_the_arguments_of_its_own_subcommand_only_and_all_of_them() -> None:
    from dockaudit.cli import SUBCOMMANDS, _subcommand, build_parser

    full = _options(build_parser())
    for name, _, _ in SUBCOMMANDS:
        assert _subcommand([name, "--help"]) == name
        only = _options(build_parser(only=name))
        assert only[name] == full[name]
        assert set(only) == set(full)  # the others are still listed (help, did-you-mean)
        assert all(only[other] == ["--help", "-h"] for other in only if other != name)
    assert _subcommand(["--version"]) is None and _subcommand(["chek"]) is None and _subcommand([]) is None
