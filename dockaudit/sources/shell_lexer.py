"""A quote-aware shell tokenizer and command walker that never gives up.

It reads a shell text the way bash splits it into words and commands —
quotes, backslashes, line continuations, ``$(…)``, ``${…}``, ``$((…))``,
backticks, process substitutions, heredocs, comments, ``case`` patterns,
array assignments — and records the exact span of every word. It does not
build a full syntax tree: `walk` only groups words into simple commands and
tells whether each runs unconditionally at the top level of the script
(what decides whether a variable is a constant).

Every position is an index into the text given to `Lexer`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_PLAIN = re.compile(r"[^\s;&|()<>'\"\\`$]+")
_PLAIN_THEN_BLANKS = re.compile(r"([^\s;&|()<>'\"\\`$]+)[ \t]*")  # a word's plain run, and blanks after it
_DQ_PLAIN = re.compile(r"[^\"\\$`]+")
_BLANK = re.compile(r"(?:[ \t\r\f\v]|\\\r?\n)+")
_OP = re.compile(r";;&|;;|;&|&&|\|\||\|&|&>>|&>|<<<|<<-|<<|<>|<&|>&|>>|>\||[;&|()<>]")
_REDIRECTS = frozenset({"&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">&", ">>", ">|", "<", ">"})
_ARRAY_START = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=$")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_MAX_NESTING = 60
_BLANK_CHARS = frozenset(" \t\r\f\v")
_OP_CHARS = frozenset(";&|()<>")
_WORD_END = frozenset(" \t\n\r;&|)")  # after a plain run: the word is complete
# What a token starting with a character other than these is: a word.
_NOT_WORD_START = _BLANK_CHARS | _OP_CHARS | frozenset("\\\n#")

_KEEP_COMMAND_POSITION = frozenset(
    {"then", "do", "else", "elif", "if", "while", "until", "!", "{", "time", "coproc"}
)


class Sub(NamedTuple):
    """Code nested in a word: ``$(…)``, a backtick string or ``<(…)``; start/end of the code."""

    kind: str  # subst, backtick, procsub
    start: int
    end: int
    toks: list[Tok]


class Tok:
    """A word, an operator, a newline, a redirection or an array assignment."""

    __slots__ = ("kind", "start", "end", "value", "subs", "target", "heredoc", "items")

    def __init__(
        self,
        kind: str,  # w, op, nl, redir, arr
        start: int,
        end: int,
        value: str = "",  # the operator, for op and redir
        subs: list[Sub] | tuple[()] = (),
        items: list[Tok] | tuple[()] = (),  # arr: the element words
    ) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.value = value
        self.subs = subs
        self.items = items
        self.target: Tok | None = None  # redir: the word after the operator
        self.heredoc: tuple[int, int, bool] | None = None  # body start, body end, quoted

    def __repr__(self) -> str:
        return f"Tok({self.kind!r}, {self.start}, {self.end}, {self.value!r})"


class Problem(NamedTuple):
    position: int
    message: str
    region_end: int  # the text from position to region_end could not be read
    always: bool = False  # report it even when the lost text mentions no container tool


class Lexer:
    """Splits text into `Tok`s. Unreadable regions are recorded in ``problems``."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.problems: list[Problem] = []
        self._nesting = 0

    def problem(self, position: int, message: str, end: int | None = None, always: bool = False) -> None:
        self.problems.append(Problem(position, message, self.n if end is None else end, always))

    # --- the token loop ---------------------------------------------------

    def lex(self, i: int = 0, stop_paren: bool = False) -> tuple[list[Tok], int]:
        """Tokens from *i*; with *stop_paren*, up to the unmatched ``)`` (its index returned)."""
        s = self.s
        toks: list[Tok] = []
        pending: list[Tok] = []
        depth = 0
        case_stack: list[str] = []
        command_position = True
        self._nesting += 1
        if self._nesting > _MAX_NESTING:
            self._nesting -= 1
            # Skip the too-deep part to its closing parenthesis, so that the
            # enclosing command and the rest of the file are still read.
            close = self._matching_paren(i) if stop_paren else self.n
            self.problem(i, f"$( … ) nested more than {_MAX_NESTING} levels deep", close, always=True)
            return toks, close
        n = self.n
        try:
            while i < n:
                c = s[i]
                if c in _NOT_WORD_START:  # else a word begins here, the usual case
                    if c in _BLANK_CHARS:
                        i += 1
                        if i < n and s[i] in _BLANK_CHARS:  # a run of them (one is the usual case)
                            m = _BLANK.match(s, i)
                            i = m.end() if m else i + 1
                        continue
                    if c == "\\" and s.startswith("\n", i + 1):
                        i += 2
                        continue
                    if c == "\\" and s.startswith("\r\n", i + 1):
                        i += 3
                        continue
                    if c == "\n":
                        toks.append(Tok("nl", i, i + 1, "\n"))
                        i += 1
                        if pending:
                            i = self._read_heredocs(i, pending)
                            pending = []
                        command_position = True
                        continue
                    if c == "#":
                        j = s.find("\n", i, n)
                        i = n if j < 0 else j
                        continue
                    in_pattern = case_stack[-1] == "pat" if case_stack else False
                    if c in _OP_CHARS:
                        if c == ")" and stop_paren and depth == 0 and not in_pattern:
                            return toks, i
                        if c in "<>" and i + 1 < n and s[i + 1] == "(":
                            end, subs = self.scan_word(i)
                            toks.append(Tok("w", i, end, subs=subs))
                            command_position = False
                            i = end
                            continue
                        m = _OP.match(s, i)
                        op = m.group() if m else c
                        if op in _REDIRECTS:
                            tok = Tok("redir", i, i + len(op), op)
                            i = self._redirect_target(tok, pending)
                            toks.append(tok)
                            continue
                        toks.append(Tok("op", i, i + len(op), op))
                        i += len(op)
                        if op == "(":
                            if not in_pattern:
                                depth += 1
                        elif op == ")":
                            if in_pattern:
                                case_stack[-1] = "body"
                            elif depth > 0:
                                depth -= 1
                        elif op in (";;", ";&", ";;&") and case_stack:
                            case_stack[-1] = "pat"
                        command_position = True
                        continue
                start = i
                m = _PLAIN_THEN_BLANKS.match(s, i)
                end = m.end(1) if m else i
                after = m.end() if m else i  # the blanks after a word that ends there
                subs: list[Sub] | tuple[()] = ()
                if end < n and s[end] not in _WORD_END:
                    if s[end] in "<>" and s[start:end].isdigit():
                        m = _OP.match(s, end)
                        if m and m.group() in _REDIRECTS:
                            tok = Tok("redir", start, m.end(), m.group())
                            i = self._redirect_target(tok, pending)
                            toks.append(tok)
                            continue
                    if s[end] == "(" and _ARRAY_START.match(s, start, end):
                        items, close = self.lex(end + 1, stop_paren=True)
                        if close < n:
                            close += 1
                        else:
                            self.problem(end, "unterminated array assignment")
                        words = [t for t in items if t.kind == "w"]
                        toks.append(Tok("arr", start, close, items=words))
                        i = close
                        continue
                    end, subs = self.scan_word(i)
                    if end == start:  # cannot happen for valid input; never loop forever
                        end = start + 1
                    after = end
                toks.append(Tok("w", start, end, "", subs))
                i = after
                if not (command_position or case_stack):
                    continue
                word = s[start:end]
                if case_stack:
                    if case_stack[-1] == "head":
                        if word == "in":
                            case_stack[-1] = "pat"
                        continue
                    if case_stack[-1] == "pat":
                        if word == "esac":
                            case_stack.pop()
                            command_position = False
                        continue
                if command_position:
                    if word == "case":
                        case_stack.append("head")
                    elif word == "esac" and case_stack:
                        case_stack.pop()
                    command_position = word in _KEEP_COMMAND_POSITION or (
                        "=" in word and bool(ASSIGNMENT.match(word))
                    )
            return toks, n
        finally:
            self._nesting -= 1

    def _redirect_target(self, tok: Tok, pending: list[Tok]) -> int:
        s = self.s
        i = tok.end
        m = re.compile(r"[ \t]*").match(s, i)
        if m:
            i = m.end()
        if i >= self.n or s[i] in "\n;&|()<>":
            return i
        end, subs = self.scan_word(i)
        tok.target = Tok("w", i, end, subs=subs)
        tok.end = end
        if tok.value in ("<<", "<<-"):
            pending.append(tok)
        return end

    def _read_heredocs(self, i: int, pending: list[Tok]) -> int:
        s = self.s
        for tok in pending:
            assert tok.target is not None
            raw = s[tok.target.start : tok.target.end]
            quoted = any(q in raw for q in "'\"\\")
            delimiter = re.sub(r"[\"'\\]", "", raw)
            strip = tok.value == "<<-"
            body_start = i
            while i < self.n:
                j = s.find("\n", i, self.n)
                line_end = self.n if j < 0 else j
                line = s[i:line_end].rstrip("\r")
                if (line.lstrip("\t") if strip else line) == delimiter:
                    tok.heredoc = (body_start, i, quoted)
                    i = self.n if j < 0 else line_end + 1
                    break
                i = self.n if j < 0 else line_end + 1
            else:
                tok.heredoc = (body_start, self.n, quoted)
        return i

    # --- words -------------------------------------------------------------

    def scan_word(self, i: int) -> tuple[int, list[Sub]]:
        """End of the word starting at *i*, and the code nested in it."""
        s = self.s
        subs: list[Sub] = []
        start = i
        while i < self.n:
            m = _PLAIN.match(s, i)
            if m:
                i = m.end()
                if i >= self.n:
                    break
            c = s[i]
            if c == "\\":
                i += 3 if s.startswith("\r\n", i + 1) else 2
            elif c == "'":
                j = s.find("'", i + 1, self.n)
                if j < 0:
                    self.problem(i, "unterminated single quote")
                    i = self.n
                    break
                i = j + 1
            elif c == '"':
                i = self.scan_double_quoted(i + 1, subs)
            elif c == "$":
                i = self.scan_dollar(i, subs)
            elif c == "`":
                i = self.scan_backtick(i, subs)
            elif c in "<>" and i == start and i + 1 < self.n and s[i + 1] == "(":
                i = self.scan_substitution(i + 2, subs, "procsub")
            else:
                break
        end = min(i, self.n)
        reached_end = end == self.n
        while True:  # a line continuation that ends the word belongs to no word
            if s.endswith("\\\n", start, end):
                end -= 2
            elif s.endswith("\\\r\n", start, end):
                end -= 3
            elif reached_end and end > start + 1 and s[end - 1] in "\r\n":
                end -= 1  # an unterminated quote runs to the end, not past the last line
            else:
                return end, subs

    def scan_double_quoted(self, i: int, subs: list[Sub]) -> int:
        """*i* is just after the opening quote; returns the index after the closing one."""
        s = self.s
        opening = i - 1
        while i < self.n:
            m = _DQ_PLAIN.match(s, i)
            if m:
                i = m.end()
                if i >= self.n:
                    break
            c = s[i]
            if c == '"':
                return i + 1
            if c == "\\":
                i += 2
            elif c == "$":
                i = self.scan_dollar(i, subs)
            else:
                i = self.scan_backtick(i, subs)
        self.problem(opening, "unterminated double quote")
        return self.n

    def scan_dollar(self, i: int, subs: list[Sub]) -> int:
        s = self.s
        nxt = s[i + 1] if i + 1 < self.n else ""
        if nxt == "(":
            if i + 2 < self.n and s[i + 2] == "(":
                end = self._arithmetic_end(i + 3)
                if end is not None:
                    return end
            return self.scan_substitution(i + 2, subs, "subst")
        if nxt == "{":
            return self._scan_braced(i + 2, subs)
        if nxt == "'":
            j = i + 2
            while j < self.n:
                if s[j] == "\\":
                    j += 2
                elif s[j] == "'":
                    return j + 1
                else:
                    j += 1
            self.problem(i, "unterminated $'…' string")
            return self.n
        if nxt == '"':
            return self.scan_double_quoted(i + 2, subs)
        return i + 1

    def _matching_paren(self, i: int) -> int:
        """Index of the ``)`` closing the group that starts at *i* (quotes skipped), or the end."""
        s = self.s
        depth = 0
        while i < self.n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c in "'\"":
                end = s.find(c, i + 1, self.n)
                i = self.n if end < 0 else end + 1
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return i
                depth -= 1
            i += 1
        return self.n

    def _arithmetic_end(self, i: int) -> int | None:
        """End of ``$((…))`` whose body starts at *i*; None when it is ``$( (…) )``."""
        s = self.s
        depth = 0
        while i < self.n:
            c = s[i]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return i + 2 if i + 1 < self.n and s[i + 1] == ")" else None
                depth -= 1
            i += 1
        return None

    def scan_substitution(self, i: int, subs: list[Sub], kind: str) -> int:
        toks, close = self.lex(i, stop_paren=True)
        if close >= self.n:
            self.problem(i - 2, "unterminated $( … ) substitution")
            return self.n
        subs.append(Sub(kind, i, close, toks))
        return close + 1

    def scan_backtick(self, i: int, subs: list[Sub]) -> int:
        s = self.s
        j = i + 1
        while j < self.n:
            c = s[j]
            if c == "\\":
                j += 2
            elif c == "`":
                break
            else:
                j += 1
        if j >= self.n:
            self.problem(i, "unterminated backtick substitution")
            return self.n
        saved = self.n
        self.n = j
        try:
            toks, _ = self.lex(i + 1)
        finally:
            self.n = saved
        subs.append(Sub("backtick", i + 1, j, toks))
        return j + 1

    def _scan_braced(self, i: int, subs: list[Sub]) -> int:
        s = self.s
        opening = i - 2
        while i < self.n:
            c = s[i]
            if c == "}":
                return i + 1
            if c == "\\":
                i += 2
            elif c == '"':
                i = self.scan_double_quoted(i + 1, subs)
            elif c == "$":
                i = self.scan_dollar(i, subs)
            elif c == "`":
                i = self.scan_backtick(i, subs)
            elif c == "\n" and s.find("}", i, self.n) < 0:
                break
            else:
                i += 1
        self.problem(opening, "unterminated ${ … } expansion")
        return self.n


# --- commands ---------------------------------------------------------------


class Command:
    """A simple command: leading assignments, words, redirections."""

    __slots__ = ("words", "assigns", "redirs", "top", "chained", "other")

    def __init__(self, top: bool) -> None:
        self.words: list[Tok] = []
        self.assigns: list[Tok] = []
        self.redirs: list[Tok] = []
        self.other: list[Tok] = []  # words of [[ ]], for … in, case … in: only their $(…) runs
        self.top = top  # not inside a function, loop, if, case, group or subshell
        self.chained = False  # part of a && / || list or a pipeline


class Walk(NamedTuple):
    commands: list[Command]
    loop_variables: list[Tok]  # names bound by for/select


_CHAIN = frozenset({"&&", "||", "|", "|&"})
_SEPARATORS = frozenset({";", "&", "\n", ";;", ";&", ";;&"})
_CASE_ENDS = frozenset({";;", ";&", ";;&"})
_RESERVED = frozenset(
    "if while until { then do else elif ! coproc time fi done esac } for select case [[ "
    "function".split()
)


def walk(toks: list[Tok], s: str) -> Walk:
    """Group tokens into simple commands, skipping compound-command syntax."""
    commands: list[Command] = []
    loop_variables: list[Tok] = []
    stack: list[str] = []
    current: Command | None = None
    mode = "cmd"
    chain = False
    last_op = "\n"

    i = 0
    count = len(toks)
    while i < count:
        tok = toks[i]
        kind = tok.kind
        i += 1
        if mode != "cmd":
            if tok.subs:  # $(…) in a test, a for list or a case word still runs
                holder = Command(not stack)
                holder.other.append(tok)
                holder.chained = True
                commands.append(holder)
            text = s[tok.start : tok.end] if kind == "w" else tok.value
            if mode == "for-head":
                if kind == "w" and text == "do" and last_op in (";", "\n"):
                    mode = "cmd"
                last_op = tok.value if kind in ("op", "nl") else ""
            elif mode == "case-head":
                if kind == "w" and text == "in":
                    mode = "case-pat"
            elif mode == "case-pat":
                if kind == "op" and text == ")":
                    mode = "cmd"
                elif kind == "w" and text == "esac":
                    if stack:
                        stack.pop()
                    mode = "cmd"
            elif mode == "dbracket":
                if kind == "w" and text == "]]":
                    mode = "cmd"
                    current = Command(not stack)  # the test itself, so && binds to it
            elif kind == "op" and text == ")" and i < count and toks[i].value == ")":
                i += 1  # the end of (( … ))
                mode = "cmd"
                current = Command(not stack)
            continue
        if kind == "op" or kind == "nl":
            op = tok.value
            if current is not None:
                if current.words or current.assigns or current.redirs:
                    current.chained = chain or op in _CHAIN
                    commands.append(current)
                current = None
            if op in _CHAIN:
                chain = True
            elif op in _SEPARATORS and not (op == "\n" and last_op in _CHAIN):
                chain = False
            if op == "(":
                nxt = toks[i] if i < count else None
                if nxt is not None and nxt.value == "(" and nxt.start == tok.end:
                    mode = "arith"
                    i += 1
                else:
                    stack.append("(")
            elif op == ")":
                if stack and stack[-1] == "(":
                    stack.pop()
            elif op in _CASE_ENDS and stack and stack[-1] == "case":
                mode = "case-pat"
            if op != "\n" or last_op not in _CHAIN:
                last_op = op
            continue
        last_op = ""
        if current is None:
            current = Command(not stack)
        if kind == "redir":
            current.redirs.append(tok)
            continue
        at_command = not current.words
        if kind == "arr":
            (current.assigns if at_command else current.words).append(tok)
            continue
        if at_command:
            text = s[tok.start : tok.end]
            if text in _RESERVED:
                current = None
                if text in ("if", "while", "until", "{"):
                    stack.append(text)
                elif text in ("fi", "done", "esac", "}"):
                    if stack:
                        stack.pop()
                    current = Command(not stack)  # redirections and pipes after it
                elif text == "time":
                    if i < count and toks[i].kind == "w" and s[toks[i].start : toks[i].end] == "-p":
                        i += 1
                elif text in ("for", "select"):
                    if i < count and toks[i].kind == "w":
                        loop_variables.append(toks[i])
                    stack.append("loop")
                    mode = "for-head"
                elif text == "case":
                    stack.append("case")
                    mode = "case-head"
                elif text == "[[":
                    mode = "dbracket"
                elif text == "function":
                    if i < count and toks[i].kind == "w":
                        i += 1
                    if i + 1 < count and toks[i].value == "(" and toks[i + 1].value == ")":
                        i += 2
                continue
            if (
                i + 1 < count
                and toks[i].kind == "op"
                and toks[i].value == "("
                and toks[i + 1].value == ")"
                and not current.assigns
            ):
                i += 2  # name() — a function definition; its body follows
                continue
            if "=" in text and ASSIGNMENT.match(text):
                current.assigns.append(tok)
                continue
        current.words.append(tok)
    if current is not None and (current.words or current.assigns or current.redirs):
        current.chained = chain
        commands.append(current)
    return Walk(commands, loop_variables)
