"""Inline suppressions: the line before a command, the end of its last line, file-wide, DA008."""

from __future__ import annotations

from dockaudit.api import check_text


def _rules(findings, *, suppressed=False):
    return sorted((f.rule_id, f.location.line) for f in findings if (f.suppressed is not None) == suppressed)


def test_comment_before_covers_the_whole_command_with_continuations() -> None:
    text = (
        "# dockaudit ignore=DA501,DA504 -- the agent needs it\n"
        "docker run -d \\\n"
        "  --pid host \\\n"
        "  --privileged alpine:3.19 sleep 1\n"
    )
    findings = check_text(text)
    suppressed = [f for f in findings if f.suppressed is not None]
    assert {f.rule_id for f in suppressed} == {"DA501", "DA504"}
    assert all(f.suppressed == "the agent needs it" for f in suppressed)
    assert not any(f.rule_id in ("DA501", "DA504", "DA008") and f.suppressed is None for f in findings)


def test_comment_at_the_end_of_the_last_line() -> None:
    text = "docker run --rm --privileged alpine:3.19 true  # dockaudit ignore=DA501\n"
    findings = check_text(text)
    assert [f.rule_id for f in findings if f.suppressed is not None] == ["DA501"]
    assert findings[[f.rule_id for f in findings].index("DA501")].suppressed == "inline ignore"


def test_comment_applies_to_the_next_command_only() -> None:
    text = (
        "# dockaudit ignore=DA501\n"
        "docker run --rm --privileged alpine:3.19 true\n"
        "docker run --rm --privileged alpine:3.19 true\n"
    )
    active = [(f.rule_id, f.location.line) for f in check_text(text) if f.suppressed is None]
    assert ("DA501", 3) in active and ("DA501", 2) not in active


def test_ignore_file_before_the_first_command() -> None:
    text = "#!/bin/sh\n# dockaudit ignore-file=DA501\ndocker run --rm --privileged alpine:3.19 true\n" * 1
    text += "docker run --rm --privileged alpine:3.19 true\n"
    findings = check_text(text)
    assert all(f.suppressed is not None for f in findings if f.rule_id == "DA501")
    assert len([f for f in findings if f.rule_id == "DA501"]) == 2


def test_unused_and_unknown_ids_are_da008() -> None:
    text = "# dockaudit ignore=DA501,DA777 -- old\ndocker run --rm alpine:3.19 true\n"
    unused = [f for f in check_text(text) if f.rule_id == "DA008"]
    messages = sorted(f.message for f in unused)
    assert len(unused) == 2
    assert "DA777 is not a known rule" in messages[0] or "DA777 is not a known rule" in messages[1]
    assert all(f.location.line == 1 for f in unused)


def test_stray_directive_is_da008() -> None:
    text = "# dockaudit ignore=DA501\necho hello\n\ndocker run --rm alpine:3.19 true\n"
    unused = [f for f in check_text(text) if f.rule_id == "DA008"]
    assert len(unused) == 1 and "not on or directly before" in unused[0].message


def test_no_inline_ignores_turns_them_off() -> None:
    text = "# dockaudit ignore=DA501\ndocker run --rm --privileged alpine:3.19 true\n"
    findings = check_text(text, config={"inline-ignores": False})
    assert [f.suppressed for f in findings if f.rule_id == "DA501"] == [None]
    assert not any(f.rule_id == "DA008" for f in findings)


def test_markdown_html_comment() -> None:
    text = ("<!-- dockaudit ignore=DA501 -->\n```sh\n"
            "docker run -d --restart always --privileged alpine:3.19 sleep 1d\n```\n")
    findings = check_text(text, "doc.md")
    assert [f.suppressed is not None for f in findings if f.rule_id == "DA501"] == [True]
