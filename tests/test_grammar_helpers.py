"""Invocations from one-line command strings, for the grammar, value and spec tests.

A small quote-aware splitter that keeps each word's source text and column,
so these tests do not depend on the shell reader. A word holding ``$`` or a
backtick outside single quotes has an unknown value; unquoted, it may split.
"""

from __future__ import annotations

import shlex

from dockaudit.grammar import parse_invocation
from dockaudit.model import UNKNOWN, DockerCommand, Invocation, Location, Word

PATH = "case.sh"


def _split(line: str) -> list[tuple[int, str, bool, bool]]:
    """(start index, text, has expansion, has unquoted expansion) per word."""
    words = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        start = i
        quote = ""
        expands = unquoted = False
        while i < n and (quote or line[i] not in " \t"):
            c = line[i]
            if quote == "'":
                if c == "'":
                    quote = ""
            elif c == "\\" and i + 1 < n:
                i += 1
            elif c in "$`":
                expands = True
                unquoted = unquoted or not quote
            elif c == quote:
                quote = ""
            elif not quote and c in "'\"":
                quote = c
            i += 1
        words.append((start, line[start:i], expands, unquoted))
    return words


def invocation(command: str, line: int = 1, path: str = PATH) -> Invocation:
    """An Invocation of *command* (``docker run …``) as found on *line* of *path*."""
    parts = []
    for start, text, expands, unquoted in _split(command):
        value = UNKNOWN if expands else shlex.split(text)[0] if text.strip("'\"") else ""
        loc = Location(path, line, start + 1, line, start + 1 + len(text))
        parts.append(Word(text, value, loc, splits=unquoted))
    program = parts[0]
    loc = Location(path, line, program.loc.column, line, parts[-1].loc.end_column)
    name = program.value if program.is_known else "docker"
    return Invocation(name, program, tuple(parts[1:]), loc)


def parse(command: str) -> DockerCommand:
    return parse_invocation(invocation(command))


def rule_ids(command: str) -> list[str]:
    return [p.rule_id for p in parse(command).problems]


def test_helper_columns_and_unknowns() -> None:
    inv = invocation("docker run -v \"$DATA\":/data 'a b' $OPTS x")
    texts = [w.text for w in inv.words]
    assert texts == ["run", "-v", '"$DATA":/data', "'a b'", "$OPTS", "x"]
    assert [w.loc.column for w in inv.words] == [8, 12, 15, 29, 35, 41]
    assert inv.words[2].value is UNKNOWN and not inv.words[2].splits
    assert inv.words[3].value == "a b"
    assert inv.words[4].splits
