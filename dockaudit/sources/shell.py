"""Find docker, podman and nerdctl invocations in shell scripts, with exact positions.

`extract_shell` returns every invocation of the container CLI in a script —
behind ``sudo``, ``env``, ``exec``, ``time``, ``nohup`` …, inside ``$(…)`` and
backticks, in strings run by ``bash -c``, ``sh -c``, ``su -c``, ``eval``,
``trap`` and ``ssh host '…'``, in heredocs fed to a shell or ssh, and through variables
(``$DOCKER run``) — as `Invocation`s whose words keep the file's line and
column. Docker options are not interpreted here: the grammar does that.

How a file is read:

1. a cheap pre-filter: a text that never mentions docker, podman or nerdctl
   is not read at all;
2. the text is split into words and commands by the quote-aware tokenizer
   of `shell_lexer`. It reads what bashlex rejects or crashes on (``[[ ]]``,
   ``case``, arrays, ``$(( ))``, ``&&`` inside ``$( )``, quoted heredoc
   delimiters, ``<<-`` heredocs in substitutions) and never gives up; on
   every command bashlex can parse it finds the same words at the same
   positions (the corpus test checks this), at a quarter of the cost, so
   bashlex is not needed on the way;
3. only commands whose text could run the CLI are looked at further;
4. what cannot be read — an unterminated quote, ``$(`` or ``${`` that
   swallows a docker command — becomes a `ParseProblem` with its location.
   A region that cannot be read but mentions no container tool is not
   reported: nothing was lost there.

Values: ``Word.value`` is the word after quote removal and the expansion of
*constant* variables — a name assigned a literal exactly once, at the top
level, outside any function, loop, condition or ``&&`` list, before its
use (``NET=blognet``, ``ARGS=(--rm -e X=1)``). Anything else is `UNKNOWN`.
Documentation placeholders (``<host-dir>``, ``%%IMAGE%%``, ``{{ .Name }}``,
``[OPTIONS]``) are `UNKNOWN` words too.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

from dockaudit.model import UNKNOWN, Invocation, Location, ParseProblem, Word
from dockaudit.sources.shell_expansion import ShellVariables
from dockaudit.sources.shell_lexer import ASSIGNMENT, Command, Lexer, Tok, walk
from dockaudit.sources.shell_text import TOOL_MENTION, TOOLS, View, mask_placeholders, mentions_tool

__all__ = [
    "Extraction", "ScriptReader", "View", "extract_shell", "mask_placeholders", "mentions_tool",
    "unterminated", "TOOLS",
]

_TOOL_NAMES = (
    {name: name for name in TOOLS}
    | {f"{name}.exe": name for name in TOOLS}
    | {"nvidia-docker": "docker"}  # a wrapper that passes docker's own command line through
)
# A function of the script called with a docker command as its arguments
# (`must_do -v docker run …`, `retry 3 docker run …`) runs that command.
_FUNCTION_DEF = re.compile(r"(?m)^[ \t]*(?:function[ \t]+)?([A-Za-z_][\w:.-]*)[ \t]*\(\)")
_FUNCTION_DEF_KEYWORD = re.compile(r"(?m)^[ \t]*function[ \t]+([A-Za-z_][\w:.-]*)")
_SUBCOMMAND_WORDS = frozenset(
    "run create container exec start stop rm update network volume system kill restart".split()
)
_VARIABLE_REF = re.compile(r"\$\{?[#!]?([A-Za-z_][A-Za-z0-9_]*)")
_LOOKUP = re.compile(
    r"""^"?[`$]\(?\s*(?:which|command\s+-v|type\s+-[pP])\s+(docker|podman|nerdctl)\s*\)?`?"?$"""
)
_SSH_VARIABLE = re.compile(r'"?\$\{?[A-Za-z0-9_]*ssh[A-Za-z0-9_]*\}?"?$', re.IGNORECASE)
_MAX_NESTING = 12


class Extraction(NamedTuple):
    """What a file holds: its invocations in file order, and what could not be read."""

    invocations: list[Invocation]
    problems: list[ParseProblem]


def extract_shell(text: str, path: str) -> Extraction:
    """Every docker/podman/nerdctl invocation in the shell script *text*. Never raises."""
    if not mentions_tool(text):
        return Extraction([], [])
    reader = ScriptReader(text, path)
    try:
        reader.read_script(View(text, None, 0), "code")
    except (RecursionError, MemoryError):
        reader.fail("the script is nested too deeply to be read")
    except Exception as error:  # the reader must never break a run; say where it stopped
        reader.fail(f"the script could not be read ({type(error).__name__}: {error})")
    return reader.extraction()


def unterminated(code: str) -> bool:
    """Whether *code* leaves a quote, substitution or expansion open: the shell would read on."""
    lexer = Lexer(code)
    lexer.lex(0)
    return bool(lexer.problems)


@dataclass(slots=True)
class _Expanded:
    """One word after expansion: its token, its value (or UNKNOWN) and whether it splits."""

    tok: Tok
    index: int  # of the token in the command's words
    value: Any
    splits: bool


# --- the reader ------------------------------------------------------------------


class ScriptReader:
    """Reads the code of one file and records every invocation of a container tool in it.

    It walks the commands `shell_lexer` finds, follows wrappers, shells, ssh,
    eval and script functions to the command that runs, and takes word values
    from `ShellVariables`; `extract_shell` reads a whole script with it, the
    Markdown source one code block after another.
    """

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.line_starts = [0]
        self.line_starts.extend(m.end() for m in re.finditer("\n", text))
        # One object for every line number and every repeated word, however many words use them:
        # a long script repeats the same options and values thousands of times.
        self.line_numbers = list(range(1, len(self.line_starts) + 1))
        self.strings: dict[str, str] = {}
        self.invocations: list[Invocation] = []
        self.problems: list[ParseProblem] = []
        self.variables = ShellVariables()
        self._seen: set[tuple[int, int, str]] = set()

    # locations

    def location(self, start: int, end: int) -> Location:
        starts = self.line_starts
        line = bisect_right(starts, start) - 1
        column = start - starts[line] + 1
        numbers = self.line_numbers
        if end <= start:
            return Location(self.path, numbers[line], column, numbers[line], column)
        last = end - 1
        if line + 1 < len(starts) and last < starts[line + 1]:
            end_line = line  # a word on one line, as most are
        else:
            end_line = bisect_right(starts, last) - 1
        return Location(self.path, numbers[line], column, numbers[end_line], last - starts[end_line] + 2)

    def fail(self, message: str) -> None:
        self.problems.append(ParseProblem(message, self.location(0, 0)))

    def extraction(self) -> Extraction:
        self.invocations.sort(key=lambda inv: (inv.loc.line, inv.loc.column))
        self.problems.sort(key=lambda p: (p.loc.line, p.loc.column))
        return Extraction(self.invocations, self.problems)

    # scripts

    def read_script(self, view: View, context: str) -> None:
        """Read a whole script (or Markdown block): constants first, then the commands."""
        lexer = Lexer(mask_placeholders(view.text))
        walked = walk(lexer.lex(0)[0], view.text)
        self.variables.collect_constants(view, walked.commands, walked.loop_variables)
        self.report_lexer_problems(view, lexer)
        # Each command's tokens are let go once it is read: a long script's tokens
        # and the words read from them are never all held at once.
        pending = walked.commands[::-1]
        walked.commands.clear()
        while pending:
            self.command(view, pending.pop(), context, 0)

    def read_code(self, view: View, context: str, nesting: int) -> None:
        """Read a nested piece of code: a string run by a shell, a heredoc."""
        if nesting > _MAX_NESTING or not mentions_tool(view.text) and "$" not in view.text:
            return
        lexer = Lexer(mask_placeholders(view.text))
        toks, _ = lexer.lex(0)
        self.report_lexer_problems(view, lexer)
        self.read_tokens(view, toks, context, nesting)

    def read_tokens(self, view: View, toks: list[Tok], context: str, nesting: int) -> None:
        for command in walk(toks, view.text).commands:
            self.command(view, command, context, nesting)

    def report_lexer_problems(self, view: View, lexer: Lexer) -> None:
        for problem in lexer.problems:
            lost = view.text[problem.position : problem.region_end]
            if not problem.always and not mentions_tool(lost):
                continue  # nothing that matters was lost
            start, _ = view.span(problem.position, problem.position + 1)
            what = "file" if view.offsets is None and view.base == 0 else "block"
            if problem.region_end < len(view.text):
                message = f"{problem.message}: the part from here to its closing parenthesis was not read"
            else:
                message = (
                    f"{problem.message}: the rest of the {what} from here, which mentions "
                    "a container command, could not be read"
                )
            self.problems.append(
                ParseProblem(
                    message,
                    self.location(start, start + 1),
                )
            )

    # commands

    def command(self, view: View, command: Command, context: str, nesting: int) -> None:
        if not self.may_invoke(view.text, command):
            return
        for tok in _all_tokens(command):
            for sub in tok.subs:
                self.read_tokens(view, sub.toks, "substitution", nesting + 1)
        if command.words:
            self.resolve(view, command, context, nesting)

    def may_invoke(self, s: str, command: Command) -> bool:
        """Cheap test: could this command (or code nested in it) run the container CLI?"""
        toks = command.words or command.assigns or command.redirs or command.other
        start = toks[0].start
        end = max(
            command.words[-1].end if command.words else 0,
            command.assigns[-1].end if command.assigns else 0,
            command.redirs[-1].end if command.redirs else 0,
            command.other[-1].end if command.other else 0,
        )
        if TOOL_MENTION.search(s, start, end):
            return True
        if self.variables.tool_constants and "$" in s[start:end]:
            return True
        for redir in command.redirs:
            if redir.heredoc is not None and TOOL_MENTION.search(s, redir.heredoc[0], redir.heredoc[1]):
                return True
        return False

    def resolve(self, view: View, command: Command, context: str, nesting: int) -> None:
        """Follow wrappers (sudo, env, …) to the program; emit or descend into strings."""
        words = _LazyWords(self, view, command.words)
        k = 0
        skipped_unknown = 0
        while words.has(k):
            item = words.items[k]
            value = item.value
            if value is UNKNOWN:
                text = view.text[item.tok.start : item.tok.end]
                tool = _tool_from_expansion(text)
                if tool:
                    self.emit(view, words, k, tool, context)
                    return
                if _SSH_VARIABLE.match(text):
                    self.ssh_string(view, command, words, k, nesting)  # $SSH host …
                    return
                if item.splits and skipped_unknown < 2 and text.lstrip('"').startswith("$"):
                    skipped_unknown += 1  # $SUDO docker …, $SSH $HOST docker …
                    k += 1
                    continue
                return
            name = value.rsplit("/", 1)[-1]
            tool = _TOOL_NAMES.get(name)
            if tool:
                self.emit(view, words, k, tool, context)
                return
            if skipped_unknown:
                if words.has(k + 1) or name not in _WRAPPERS:
                    return
            wrapper = _WRAPPERS.get(name)
            if wrapper is not None:
                k = self.skip_options(words, k + 1, name, wrapper)
                if k < 0:
                    return
                continue
            if name in self.functions:
                self.function_arguments(view, words, k + 1, context)
            elif name in _SHELLS:
                self.shell_string(view, command, words, k, nesting)
            elif name == "ssh":
                self.ssh_string(view, command, words, k, nesting)
            elif name == "eval":
                self.code_words(view, command.words[item.index + 1 :], "sh-c", nesting)
            elif name == "trap":
                # trap ACTION SIGNAL…: the action is code the shell runs later (cleanup on EXIT)
                action = command.words[item.index + 1 : item.index + 2]
                if action and not view.text[action[0].start : action[0].end].startswith("-"):
                    self.code_words(view, action, "trap", nesting)
            elif name == "su":
                self.su_string(view, words, k, nesting)
            return

    def skip_options(self, words: _LazyWords, k: int, name: str, wrapper: _Wrapper) -> int:
        """Index of the wrapped command's first word, or -1 when nothing runs."""
        while words.has(k):
            value = words.items[k].value
            if value is UNKNOWN:
                return k
            if value == "--":
                k += 1
                break
            if value.startswith("--"):
                k += 2 if "=" not in value and value in wrapper.long_with_value else 1
                continue
            if value.startswith("-") and len(value) > 1:
                if name == "command" and ("v" in value or "V" in value):
                    return -1
                k += 1
                for position, letter in enumerate(value[1:], 1):
                    if letter in wrapper.short_with_value:
                        if position == len(value) - 1:
                            k += 1
                        break
                continue
            if wrapper.assignments and ASSIGNMENT.match(value):
                k += 1
                continue
            break
        return k + wrapper.positional

    def shell_string(
        self, view: View, command: Command, words: _LazyWords, k: int, nesting: int
    ) -> None:
        """``bash -c '…'`` / ``sh -c "…"`` or ``bash <<EOF``: the code the shell runs."""
        k += 1
        has_c = reads_stdin = False
        while words.has(k):
            value = words.items[k].value
            if value is UNKNOWN:
                break
            if value in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                k += 2
                continue
            if value == "--":
                k += 1
                break
            if value[:1] in ("-", "+") and len(value) > 1:
                if value[0] == "-" and not value.startswith("--"):
                    has_c = has_c or "c" in value
                    reads_stdin = reads_stdin or "s" in value
                k += 1
                continue
            break
        if has_c:
            if words.has(k):
                tok = words.items[k].tok
                self.code_words(view, [tok], "sh-c", nesting)
            return
        if reads_stdin or not words.has(k):
            self.stdin_code(view, command, "sh-c", nesting)

    def ssh_string(
        self, view: View, command: Command, words: _LazyWords, k: int, nesting: int
    ) -> None:
        """``ssh [options] host [options] [command…]``: the remote command, or a heredoc."""
        k = self.skip_ssh_options(words, k + 1)
        if not words.has(k):
            return
        host = words.items[k]
        k = self.skip_ssh_options(words, k + 1)  # ssh reads options after the host too
        if words.has(k):
            self.code_words(view, command.words[words.items[k].index :], "ssh", nesting)
        elif host.index + 1 >= len(command.words) or k > host.index + 1:
            self.stdin_code(view, command, "ssh", nesting)

    @staticmethod
    def skip_ssh_options(words: _LazyWords, k: int) -> int:
        while words.has(k):
            value = words.items[k].value
            if value is UNKNOWN:
                break
            if value == "--":
                return k + 1
            if not value.startswith("-") or len(value) == 1:
                break
            k += 1
            for position, letter in enumerate(value[1:], 1):
                if letter in _SSH_WITH_VALUE:
                    if position == len(value) - 1:
                        k += 1
                    break
        return k

    def su_string(self, view: View, words: _LazyWords, k: int, nesting: int) -> None:
        k += 1
        while words.has(k):
            value = words.items[k].value
            if value is UNKNOWN:
                k += 1
                continue
            if value in ("-c", "--command"):
                if words.has(k + 1):
                    self.code_words(view, [words.items[k + 1].tok], "sh-c", nesting)
                return
            k += 2 if value in ("-s", "--shell", "-g", "--group", "-G", "-w") else 1

    def stdin_code(self, view: View, command: Command, context: str, nesting: int) -> None:
        for redir in command.redirs:
            if redir.heredoc is not None:
                start, end, _ = redir.heredoc
                self.read_code(view.sub(start, end), context, nesting + 1)
            elif redir.value == "<<<" and redir.target is not None:
                self.code_words(view, [redir.target], context, nesting)

    def code_words(self, view: View, toks: list[Tok], context: str, nesting: int) -> None:
        """Read words, after quote removal and joined by spaces, as code (ssh, eval, sh -c)."""
        if not toks:
            return
        inner = _dequote(view, toks)
        self.read_code(inner, context, nesting + 1)

    @functools.cached_property
    def functions(self) -> frozenset[str]:
        """Names of the functions this script defines."""
        names = {m.group(1) for m in _FUNCTION_DEF.finditer(self.text)}
        names.update(m.group(1) for m in _FUNCTION_DEF_KEYWORD.finditer(self.text))
        return frozenset(names)

    def function_arguments(self, view: View, words: _LazyWords, k: int, context: str) -> None:
        """A script function given ``docker <subcommand> …`` as arguments runs it."""
        while words.has(k + 1):
            value = words.items[k].value
            following = words.items[k + 1].value
            if (
                value is not UNKNOWN
                and following is not UNKNOWN
                and value.rsplit("/", 1)[-1] in _TOOL_NAMES
                and following in _SUBCOMMAND_WORDS
            ):
                self.emit(view, words, k, _TOOL_NAMES[value.rsplit("/", 1)[-1]], context)
                return
            k += 1

    def emit(self, view: View, words: _LazyWords, k: int, tool: str, context: str) -> None:
        words.expand_all()
        if k + 1 >= len(words.items) and words.items[k].value is UNKNOWN:
            return  # `eval "$DOCKER_CMD"`: a variable named like the tool, and nothing to read
        program, *others = self.words(view, words.items[k:])
        rest = tuple(others)
        last = rest[-1].loc if rest else program.loc
        first = program.loc
        key = (first.line, first.column, tool)
        if key in self._seen:
            return
        self._seen.add(key)
        loc = Location(self.path, first.line, first.column, last.end_line, last.end_column)
        self.invocations.append(Invocation(tool, program, rest, loc, context))

    def words(self, view: View, items: list[_Expanded]) -> list[Word]:
        """The `Word` of each of *items*: the words of every docker command of a long script."""
        strings = self.strings
        text = self.text
        location = self.location
        span = view.span
        out = []
        for item in items:
            tok = item.tok
            start, end = span(tok.start, tok.end)
            piece = text[start:end]
            value = item.value
            if type(value) is str:
                value = strings.setdefault(value, value)
            out.append(Word(strings.setdefault(piece, piece), value, location(start, end), item.splits))
        return out


def _all_tokens(command: Command) -> Iterable[Tok]:
    for tok in (*command.assigns, *command.words, *command.other):
        yield tok
        yield from tok.items
    for redir in command.redirs:
        if redir.target is not None:
            yield redir.target


def _tool_from_expansion(text: str) -> str | None:
    """The tool an unresolved command word is named for: ``$DOCKER``, ``${podman_bin}``."""
    m = _LOOKUP.match(text)
    if m:
        return m.group(1)
    if not text.lstrip('"').startswith("$"):
        return None
    for name in _VARIABLE_REF.findall(text):
        lowered = name.lower()
        if "compose" in lowered or "machine" in lowered:
            continue
        for tool in TOOLS:
            if tool in lowered:
                return tool
    return None


def _dequote(view: View, toks: list[Tok]) -> View:
    """The words as the command receives them (quotes removed), joined by spaces."""
    s = view.text
    chars: list[str] = []
    offsets: list[int] = []
    lexer = Lexer(s)

    def copy(i: int, j: int) -> None:
        chars.append(s[i:j])
        offsets.extend(view.orig(x) for x in range(i, j))

    def escaped(i: int) -> None:  # the character after the backslash
        copy(i + 1, i + 2)

    for number, tok in enumerate(toks):
        if number:
            chars.append(" ")
            offsets.append(view.orig(tok.start - 1) if tok.start else view.orig(0))
        i, end = tok.start, tok.end
        while i < end:
            c = s[i]
            if c == "\\":
                if i + 1 < end and s[i + 1] != "\n":
                    escaped(i)
                i += 2
            elif c == "'":
                j = s.find("'", i + 1, end)
                j = end if j < 0 else j
                copy(i + 1, j)
                i = j + 1
            elif c == '"':
                i += 1
                while i < end and s[i] != '"':
                    if s[i] == "\\" and i + 1 < end and s[i + 1] in '$`"\\\n':
                        if s[i + 1] != "\n":
                            escaped(i)
                        i += 2
                    elif s[i] == "$" and i + 1 < end and s[i + 1] in "({":
                        j = min(lexer.scan_dollar(i, []), end)
                        copy(i, j)
                        i = j
                    else:
                        copy(i, i + 1)
                        i += 1
                i += 1
            elif c == "$" and i + 1 < end and s[i + 1] in "({":
                j = min(lexer.scan_dollar(i, []), end)
                copy(i, j)
                i = j
            else:
                copy(i, i + 1)
                i += 1
    return View("".join(chars), offsets, 0)


class _LazyWords:
    """A command's words, expanded only as far as they are looked at."""

    __slots__ = ("reader", "view", "toks", "items", "_next")

    def __init__(self, reader: ScriptReader, view: View, toks: list[Tok]) -> None:
        self.reader = reader
        self.view = view
        self.toks = toks
        self.items: list[_Expanded] = []
        self._next = 0

    def has(self, k: int) -> bool:
        while len(self.items) <= k and self._next < len(self.toks):
            self._expand_next()
        return k < len(self.items)

    def expand_all(self) -> None:
        while self._next < len(self.toks):
            self._expand_next()

    def _expand_next(self) -> None:
        index = self._next
        tok = self.toks[index]
        self._next += 1
        view = self.view
        use = view.orig(tok.start)
        if tok.kind == "arr":
            self.items.append(_Expanded(tok, index, UNKNOWN, False))
            return
        for value, splits in self.reader.variables.expand(view, tok.start, tok.end, use):
            self.items.append(_Expanded(tok, index, value, splits))


class _Wrapper(NamedTuple):
    short_with_value: str = ""
    long_with_value: frozenset[str] = frozenset()
    assignments: bool = False
    positional: int = 0  # words to skip after the options (timeout's duration)


_WRAPPERS: dict[str, _Wrapper] = {
    "sudo": _Wrapper(
        "ugpCDrtUThR",
        frozenset(
            "--user --group --prompt --close-from --chdir --role --type --other-user "
            "--command-timeout --host --chroot".split()
        ),
        assignments=True,
    ),
    "doas": _Wrapper("uC"),
    "env": _Wrapper("uCS", frozenset({"--unset", "--chdir", "--split-string"}), True),
    "exec": _Wrapper("a"),
    "time": _Wrapper("fo", frozenset({"--format", "--output"})),
    "command": _Wrapper(),
    "builtin": _Wrapper(),
    "nohup": _Wrapper(),
    "winpty": _Wrapper(),
    "unbuffer": _Wrapper(),
    "run": _Wrapper(),  # the bats test helper
    "retry": _Wrapper(),
    "travis_retry": _Wrapper(),
    "nice": _Wrapper("n", frozenset({"--adjustment"})),
    "ionice": _Wrapper("cnpP", frozenset({"--class", "--classdata", "--pid", "--pgid"})),
    "stdbuf": _Wrapper("ioe", frozenset({"--input", "--output", "--error"})),
    "timeout": _Wrapper("sk", frozenset({"--signal", "--kill-after"}), positional=1),
    "xargs": _Wrapper(
        "IaLndEsP",
        frozenset(
            "--max-args --max-procs --delimiter --replace --arg-file --eof --max-lines "
            "--max-chars".split()
        ),
    ),
}
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash", "ksh", "mksh"})
_SSH_WITH_VALUE = "BbcDEeFIiJLlmOoPpQRSWw"
