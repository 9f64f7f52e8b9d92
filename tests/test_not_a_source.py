"""No silent all-clear: a file named on the command line that no source reads is reported.

A Dockerfile, a TOML or JSON file given to ``dockaudit check``
used to be read as a shell script holding no docker command: a clean result
for a file nobody looked at. It is a notification (exit 2) that says what the
file is and what reads it; the other files are still checked. Directories are
still searched for scripts, Markdown and Compose files only, without a word
about the rest. (Compose files are read: tests/sources/test_compose.py.)
"""

from __future__ import annotations

import json

import pytest

from test_cli import run

BAD = "#!/bin/sh\ndocker run -d --privileged nginx:1.25\n"


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("Dockerfile", "FROM alpine:3.19\nRUN docker run --privileged x\n", "Dockerfile"),
        ("app.dockerfile", "FROM alpine:3.19\n", "Dockerfile"),
        ("Containerfile", "FROM alpine:3.19\n", "Dockerfile"),
        ("pyproject.toml", "[project]\nname = 'x'\n", "a .toml file"),
        ("saved.json", "[]\n", "dockaudit inspect"),
        ("deploy.py", "import subprocess\nsubprocess.run(['docker', 'run', '--privileged', 'x'])\n",
         "--kind shell"),
    ],
)
def test_a_file_no_source_reads_is_a_notification(tmp_path, name: str, text: str, says: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "deploy.sh").write_text(BAD, encoding="utf-8")
    result = run("check", "--format", "json", name, "deploy.sh", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    envelope = json.loads(result.stdout)
    notes = [n for n in envelope["notifications"] if n["path"] == name]
    assert len(notes) == 1 and notes[0]["level"] == "error"
    assert says in notes[0]["message"] and "not checked" in notes[0]["message"]
    # the other file's findings are kept
    assert any(f["rule"] == "DA501" and f["path"] == "deploy.sh" for f in envelope["findings"])
    assert envelope["summary"]["files"] == 1


def test_the_text_summary_is_no_all_clear(tmp_path) -> None:
    (tmp_path / "config.toml").write_text("a = 1\n", encoding="utf-8")
    result = run("check", "--format", "text", "config.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "config.toml: not checked" in result.stdout
    assert "1 file not checked" in result.stdout.splitlines()[-1]


def test_kind_reads_any_file_as_asked(tmp_path) -> None:
    (tmp_path / "deploy.txt").write_text(BAD, encoding="utf-8")
    result = run("check", "--format", "json", "--kind", "shell", "deploy.txt", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert {f["rule"] for f in json.loads(result.stdout)["findings"]} >= {"DA501"}


@pytest.mark.parametrize("name", ["deploy", "deploy.py", "run.docker", "notes.txt"])
def test_a_script_without_a_shell_suffix_is_still_read(tmp_path, name: str) -> None:
    # no suffix or plain text: read by content; another suffix with a shell shebang: a script
    (tmp_path / name).write_text(BAD, encoding="utf-8")
    result = run("check", "--format", "json", name, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(result.stdout)["notifications"] == []


def test_show_says_so_too(tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\n", encoding="utf-8")
    result = run("show", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert "Dockerfile: not checked" in result.stderr


def test_a_directory_search_skips_other_files_quietly(tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    (tmp_path / "deploy.sh").write_text(BAD, encoding="utf-8")
    result = run("check", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    envelope = json.loads(result.stdout)
    assert envelope["notifications"] == [] and envelope["summary"]["files"] == 1
