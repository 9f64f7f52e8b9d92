"""Control characters in checked files and container data never reach a terminal raw.

An ESC byte in a script (or a label) would otherwise be printed as is by the
text report's code frame, the one-line formats and ``dockaudit show``: it could
recolour the terminal, move the cursor or hide the finding. Every text output
prints them escaped (``\\x1b``), and the code frame measures the escape as shown,
so the carets stay under the flag.
"""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from dockaudit.model import Finding, Location, Severity
from dockaudit.report import FORMATTERS, Notification, Report, printable
from dockaudit.report.codeframe import render_code_frame
from test_cli import run

# ESC sequences, a one-byte CSI, BEL, backspace, DEL and a right-to-left override
HOSTILE = "\x1b[2J\x1b]0;owned\x07\x9b31m\x08\x7f\u202e"
# What may remain in any text output: printable text, line feeds and tabs.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_printable_spells_every_control_character() -> None:
    assert printable(HOSTILE) == r"\x1b[2J\x1b]0;owned\x07\x9b31m\x08\x7f\u202e"
    assert printable("docker run\t-d\n") == "docker run\t-d\n"
    assert printable("ünïcödé 漢字") == "ünïcödé 漢字"


def test_the_code_frame_escapes_and_keeps_the_carets_under_the_flag() -> None:
    lines = (f"docker run --label x={HOSTILE} --privileged nginx:1.25",)
    start = lines[0].index("--privileged") + 1
    console = Console(width=200, record=True, force_terminal=False)
    console.print(render_code_frame(lines, Location("a.sh", 1, start, 1, start + 12)))
    code, marks = console.export_text().splitlines()
    assert not RAW_CONTROL.search(code)
    assert r"x=\x1b[2J" in code
    caret = marks.index("^")
    assert code[caret : caret + 12] == "--privileged"
    assert marks.count("^") == 12


def _hostile_report() -> Report:
    path = f"deploy{HOSTILE}.sh"
    loc = Location(path, 1, 1, 1, 7)
    finding = Finding("DA501", "privileged", Severity.ERROR, f"label {HOSTILE} says so", loc,
                      fix=f"remove {HOSTILE}", suppressed=None)
    suppressed = Finding("DA101", "memory-unlimited", Severity.WARNING, "no limit", loc,
                         suppressed=f"reason {HOSTILE}")
    return Report(
        findings=[finding, suppressed],
        rules=[],
        files={path: (f"docker {HOSTILE} run",)},
        notifications=[Notification(path, f"cannot read {HOSTILE}", "error")],
        show_suppressed=True,
    )


@pytest.mark.parametrize("fmt", ["text", "parsable", "github", "markdown"])
def test_text_formats_print_no_raw_control_character(fmt: str) -> None:
    out = FORMATTERS[fmt](_hostile_report())
    assert not RAW_CONTROL.search(out), ascii(out)
    assert r"\x1b[2J" in out
    assert r"\u202e" in out


def test_the_coloured_text_report_adds_only_its_own_colours() -> None:
    from dockaudit.report.text import render_text

    out = render_text(_hostile_report(), color=True, width=120)
    # rich's own SGR sequences are the only escapes left
    assert not RAW_CONTROL.search(re.sub("\x1b\\[[0-9;]*m", "", out)), ascii(out)


@pytest.fixture
def hostile_script(tmp_path):
    script = tmp_path / "deploy.sh"
    script.write_text(f"#!/bin/sh\ndocker run -d --label note='{HOSTILE}' --privileged nginx:1.25\n",
                      encoding="utf-8")
    return script


@pytest.mark.parametrize("fmt", ["text", "parsable", "github"])
def test_check_escapes_a_hostile_script_in_every_text_format(hostile_script, fmt: str) -> None:
    result = run("check", "--format", fmt, str(hostile_script))
    assert result.returncode == 1, result.stderr
    assert "DA501" in result.stdout
    assert not RAW_CONTROL.search(result.stdout), ascii(result.stdout)
    if fmt == "text":
        assert r"note='\x1b[2J\x1b]0;owned\x07\x9b31m\x08\x7f\u202e'" in result.stdout


def test_show_escapes_a_hostile_script(hostile_script) -> None:
    result = run("show", str(hostile_script))
    assert result.returncode == 0, result.stderr
    assert "note" in result.stdout
    assert not RAW_CONTROL.search(result.stdout), ascii(result.stdout)


def test_a_file_name_with_control_characters_is_escaped_in_messages(tmp_path) -> None:
    missing = tmp_path / "gone\x1b[31m.sh"
    result = run("check", "--format", "text", str(missing))
    assert result.returncode == 2
    assert r"gone\x1b[31m.sh" in result.stdout + result.stderr
    assert not RAW_CONTROL.search(result.stdout + result.stderr)
    result = run("show", str(missing))
    assert result.returncode == 2
    assert r"gone\x1b[31m.sh" in result.stderr
    assert not RAW_CONTROL.search(result.stderr)


def test_a_container_label_is_escaped_in_show_and_in_the_report(tmp_path) -> None:
    import json

    from test_cli import REPO

    documents = json.loads((REPO / "fixtures" / "inspect" / "baseline.json").read_text())
    document = documents[0] if isinstance(documents, list) else documents
    document["Config"]["Labels"] = {"note": HOSTILE}
    saved = tmp_path / "inspect.json"
    saved.write_text(json.dumps(documents), encoding="utf-8")
    shown = run("show", "--inspect", str(saved))
    assert shown.returncode == 0, shown.stderr
    assert not RAW_CONTROL.search(shown.stdout), ascii(shown.stdout)
    assert r"\x1b[2J" in shown.stdout
    checked = run("inspect", "--format", "text", "--show-suppressed", str(saved))
    assert checked.returncode in (0, 1), checked.stderr
    assert not RAW_CONTROL.search(checked.stdout), ascii(checked.stdout)


def test_markdown_cells_hold_no_html_and_no_column_break() -> None:
    from dockaudit.report.markdown import cell

    assert cell("a | b <script>x</script> & `c`\nd") == "a \\| b &lt;script&gt;x&lt;/script&gt; &amp; 'c' d"
