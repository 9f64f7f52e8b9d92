"""A script's lines, cut from its text only when a report asks for them."""

from __future__ import annotations

import pytest

from dockaudit.api import read_script
from dockaudit.model import TextLines

TEXTS = ["", "a", "a\n", "\n\n", "x\r\n", "x\ry", "a\r\nb\rc\x0cd\u2028e\n\nf", "\x1c\x1d\x85q\x0bz", "tail"]


@pytest.mark.parametrize("text", TEXTS)
def test_lines_are_those_of_splitlines(text: str) -> None:
    lines = TextLines(text)
    expected = text.splitlines()
    assert list(lines) == expected
    assert len(lines) == len(expected)
    assert [lines[i] for i in range(-len(expected), len(expected))] == expected * 2
    assert lines[1:3] == tuple(expected[1:3])
    with pytest.raises(IndexError):
        lines[len(expected)]


def test_a_script_keeps_its_text_once() -> None:
    text = "docker run -d --name web nginx:1.25\n# dockaudit ignore=DA101\ndocker run alpine\n"
    script = read_script(text, "deploy.sh")
    assert isinstance(script.lines, TextLines) and script.lines.text is text
    assert list(script.lines) == text.splitlines()
    assert script == read_script(text, "deploy.sh")
