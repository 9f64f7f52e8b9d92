"""The values of shell words: a script's constants, and what a word expands to.

A constant is a name assigned a literal exactly once, at the top level,
outside any function, loop, condition or ``&&`` list, before its use
(``NET=blognet``, ``ARGS=(--rm -e X=1)``); its value is worked out on first
use. `ShellVariables.expand` gives the fields a word becomes after quote
removal and the expansion of constants, `UNKNOWN` for anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dockaudit.model import UNKNOWN
from dockaudit.sources.shell_lexer import ASSIGNMENT, Command, Lexer, Tok
from dockaudit.sources.shell_text import PLACEHOLDER, TOOL_MENTION, View

_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_LITERAL_WORD = re.compile(r"[A-Za-z0-9_./:+@%,=-]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFAULTING = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?=")

_PENDING: Any = object()


@dataclass(slots=True)
class _Constant:
    """A variable assigned a value exactly once at the top level, before its uses."""

    offset: int  # in the file
    view: View
    tok: Tok
    value: Any = _PENDING  # str, list[str] (an array), UNKNOWN, or not yet worked out


class ShellVariables:
    """The constants of one script (or of the blocks of one document, in order) and word expansion."""

    def __init__(self) -> None:
        self.constants: dict[str, _Constant] = {}
        self.tool_constants = False  # does a constant's text name the tool (DOCKER=docker)?

    def collect_constants(self, view: View, commands: list[Command], loops: list[Tok]) -> None:
        s = view.text
        assigned: dict[str, list[tuple[int, Tok | None]]] = {}

        def note(name: str, offset: int, tok: Tok | None) -> None:
            assigned.setdefault(name, []).append((offset, tok))

        for tok in loops:
            note(s[tok.start : tok.end], view.orig(tok.start), None)
        for m in _DEFAULTING.finditer(s):
            note(m.group(1), view.orig(m.start()), None)
        for command in commands:
            unconditional = command.top and not command.chained
            if not command.words:
                for tok in command.assigns:
                    m = ASSIGNMENT.match(s, tok.start)
                    if not m:
                        continue
                    name = _NAME.match(s, tok.start).group()  # type: ignore[union-attr]
                    plain = m.end() - tok.start == len(name) + 1  # not NAME+= nor NAME[i]=
                    note(name, view.orig(tok.start), tok if unconditional and plain else None)
                continue
            first = s[command.words[0].start : command.words[0].end]
            if first in ("export", "readonly", "declare", "typeset", "local"):
                keeps = unconditional and first != "local"
                for tok in command.words[1:]:
                    word = s[tok.start : tok.end]
                    m = ASSIGNMENT.match(word)
                    if m:
                        name = _NAME.match(word).group()  # type: ignore[union-attr]
                        plain = m.end() == len(name) + 1
                        note(name, view.orig(tok.start), tok if keeps and plain else None)
                    elif _NAME.fullmatch(word) and first != "export":
                        note(word, view.orig(tok.start), None)
            elif first in ("read", "mapfile", "readarray", "getopts", "unset", "printf", "let"):
                for tok in command.words[1:]:
                    word = s[tok.start : tok.end]
                    if _NAME.fullmatch(word):
                        note(word, view.orig(tok.start), None)
        for name, records in assigned.items():
            self.constants.pop(name, None)  # a later block of a document may set it anew
            if len(records) != 1 or records[0][1] is None:
                continue
            offset, tok = records[0]
            assert tok is not None
            # the value is worked out on first use: most constants never meet docker
            self.constants[name] = _Constant(offset, view, tok)
            if not self.tool_constants and TOOL_MENTION.search(s, tok.start, tok.end):
                self.tool_constants = True

    def assigned_value(self, view: View, tok: Tok, offset: int) -> Any:
        s = view.text
        equals = s.index("=", tok.start)
        if tok.kind == "arr":
            values: list[str] = []
            for item in tok.items:
                for value, _ in self.expand(view, item.start, item.end, offset):
                    if value is UNKNOWN:
                        return UNKNOWN
                    values.append(value)
            return values
        expanded = self.expand(view, equals + 1, tok.end, offset, split=False)
        if not expanded:
            return ""
        return expanded[0][0]

    def lookup(self, name: str, use: int) -> Any:
        """The value of constant *name* at file offset *use*, or None."""
        entry = self.constants.get(name)
        if entry is None or entry.offset >= use:
            return None
        if entry.value is _PENDING:
            entry.value = self.assigned_value(entry.view, entry.tok, entry.offset)
        return None if entry.value is UNKNOWN else entry.value

    def expand(
        self, view: View, start: int, end: int, use: int, split: bool = True
    ) -> list[tuple[Any, bool]]:
        """The fields a word expands to: (value or UNKNOWN, splits)."""
        s = view.text
        raw = s[start:end]
        if _LITERAL_WORD.fullmatch(raw):
            if "%%" in raw or raw.strip(".") == "":
                return [(UNKNOWN, False)]  # %%IMAGE%%, or "..." standing for the rest
            return [(raw, False)]
        if PLACEHOLDER.search(_QUOTED.sub("", raw)):
            return [(UNKNOWN, False)]
        parts: list[tuple[str, Any, bool]] = []  # (kind, payload, quoted)
        unknown = False
        splits = False
        i = start
        lexer: Lexer | None = None

        def dollar(i: int, quoted: bool) -> int:
            nonlocal unknown, splits, lexer
            nxt = s[i + 1] if i + 1 < end else ""
            if nxt in "({":
                if lexer is None:
                    lexer = Lexer(s)
                close = min(lexer.scan_dollar(i, []), end)
                if nxt == "(":
                    unknown = True
                    splits = splits or not quoted
                    return close
                self.parameter(s[i + 2 : close - 1], quoted, use, parts)
                return close
            if nxt == "'" and not quoted:
                j = i + 2
                chars: list[str] = []
                while j < end and s[j] != "'":
                    if s[j] == "\\" and j + 1 < end:
                        chars.append(_ANSI_ESCAPES.get(s[j + 1], "\\" + s[j + 1]))
                        j += 2
                    else:
                        chars.append(s[j])
                        j += 1
                parts.append(("lit", "".join(chars), True))
                return j + 1
            m = _NAME.match(s, i + 1, end)
            if m:
                self.parameter(m.group(), quoted, use, parts)
                return m.end()
            if nxt and nxt in "@*#?$!-0123456789":
                self.parameter(nxt, quoted, use, parts)
                return i + 2
            parts.append(("lit", "$", quoted))
            return i + 1

        while i < end:
            c = s[i]
            if c == "\\":
                if i + 1 < end and s[i + 1] != "\n":
                    parts.append(("lit", s[i + 1], False))
                i += 2
            elif c == "'":
                j = s.find("'", i + 1, end)
                if j < 0:
                    return [(UNKNOWN, False)]
                parts.append(("lit", s[i + 1 : j], True))
                i = j + 1
            elif c == '"' or (c == "$" and i + 1 < end and s[i + 1] == '"'):
                i += 1 if c == '"' else 2
                parts.append(("lit", "", True))
                while i < end and s[i] != '"':
                    c = s[i]
                    if c == "\\" and i + 1 < end:
                        nxt = s[i + 1]
                        if nxt in '$`"\\':
                            parts.append(("lit", nxt, True))
                        elif nxt != "\n":
                            parts.append(("lit", "\\" + nxt, True))
                        i += 2
                    elif c == "$":
                        i = dollar(i, True)
                    elif c == "`":
                        i = _backtick_end(s, i, end)
                        unknown = True
                    else:
                        j = i + 1
                        while j < end and s[j] not in '"\\$`':
                            j += 1
                        parts.append(("lit", s[i:j], True))
                        i = j
                i += 1
            elif c == "$":
                i = dollar(i, False)
            elif c == "`":
                i = _backtick_end(s, i, end)
                unknown = True
                splits = True
            elif c == "~" and i == start:
                unknown = True
                i += 1
            else:
                j = i + 1
                while j < end and s[j] not in "\\'\"$`":
                    j += 1
                parts.append(("lit", s[i:j], False))
                i = j
        for kind, payload, _ in parts:
            if kind == "unknown":
                unknown = True
                splits = splits or payload
        if unknown:
            return [(UNKNOWN, splits)]
        return _fields(parts, split)

    def parameter(
        self, body: str, quoted: bool, use: int, parts: list[tuple[str, Any, bool]]
    ) -> None:
        """Append what ``$body`` / ``${body}`` expands to."""
        if body in ("@", "*"):
            parts.append(("unknown", True, quoted))
            return
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([@*]|\d+)\])?(?:(:?-)(.*))?", body, re.S)
        value = self.lookup(m.group(1), use) if m else None
        if m and value is not None:
            index, default = m.group(2), m.group(3)
            if index in ("@", "*"):
                items = value if isinstance(value, list) else [value]
                if quoted and index == "@":
                    parts.append(("array", items, True))
                else:
                    parts.append(("value", " ".join(items), quoted))
                return
            if isinstance(value, list):
                position = int(index) if index and index.isdigit() else 0
                value = value[position] if position < len(value) else ""
            elif index and index != "0":
                value = ""
            if default == ":-" and value == "":
                parts.append(("unknown", not quoted, quoted))
                return
            parts.append(("value", value, quoted))
            return
        splitting = not quoted or bool(m and m.group(2) == "@")
        parts.append(("unknown", splitting, quoted))


_ANSI_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"', "e": "\x1b", "r": "\r"}


def _fields(parts: list[tuple[str, Any, bool]], split: bool) -> list[tuple[Any, bool]]:
    """Join expansion parts into fields, splitting unquoted values on blanks."""
    if not split:
        text = "".join(
            " ".join(payload) if kind == "array" else payload for kind, payload, _ in parts
        )
        return [(text, False)]
    fields: list[tuple[Any, bool]] = []
    current: list[str] = []
    have = False
    for kind, payload, quoted in parts:
        if kind == "array":
            for position, element in enumerate(payload):
                if position:
                    fields.append(("".join(current), False))
                    current = []
                current.append(element)
                have = True
        elif kind == "value" and not quoted:
            pieces = re.split(r"[ \t\n]+", payload)
            for position, piece in enumerate(pieces):
                if position and have:
                    fields.append(("".join(current), False))
                    current = []
                    have = False
                if piece:
                    current.append(piece)
                    have = True
        else:
            current.append(payload)
            have = True
    if have:
        fields.append(("".join(current), False))
    return fields


def _backtick_end(s: str, i: int, end: int) -> int:
    j = i + 1
    while j < end and s[j] != "`":
        j += 2 if s[j] == "\\" else 1
    return min(j + 1, end)
