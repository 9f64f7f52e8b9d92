"""Find docker invocations in the shell code of Markdown documents.

What counts as shell code:

- fenced blocks (````` ``` ````` and ``~~~``, also indented under list items)
  tagged ``sh``, ``bash``, ``shell``, ``zsh``, ``console``, ``shell-session``,
  ``terminal`` (and a few synonyms) or not tagged at all; indented code
  blocks; and, line by line, container commands in PowerShell and ``cmd``
  blocks (the docker words are the same). Blocks in any other language
  (python, yaml, dockerfile, json, …) are skipped.
- inline code spans that start with a command: ```docker run -d nginx```.

Prompts. In ``console``-style blocks, and in any shell block that shows a
prompt (``$ ``, ``user@host:~$ ``, ``[root@host ~]# ``, ``PS C:\\> ``), only
prompted lines are commands; the lines after them are output, except
continuations (a line after one ending in ``\\`` or a PowerShell `` ` ``, a
``> `` line, or the rest of an open quoted string). The prompt itself is not
part of the command. A ``console`` block without any prompt is a list of
commands; an untagged or ``bash`` block that mixes prompted lines with
unprompted container commands runs both. Indented code blocks are often prose in disguise
(admonitions, list items), so there only prompted lines and lines that start
with a container command are read.

A line ``# docker run …`` is read the way tutorials mean it: in ``console``
and untagged blocks ``#`` is the root prompt when a container command follows
it (``# list the containers`` stays a comment); in blocks tagged
``sh``/``bash``/``shell``/``zsh`` it is a comment, as it would be if the block
were run. A bare ``> docker …`` (a Windows prompt) is read the same way.

All positions are positions in the Markdown file.
"""

from __future__ import annotations

import re

from dockaudit.sources.shell import (
    Extraction,
    ScriptReader,
    View,
    mentions_tool,
    unterminated,
)

__all__ = ["extract_markdown", "looks_like_markdown"]

_FENCE_OPEN = re.compile(r"^([ \t]*(?:(?:[-*+]|\d{1,3}[.)])[ \t]+)?)(`{3,}|~{3,})[ \t]*([^\n]*)$")
_FENCE_ANY = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,3}[.)])[ \t]+)?(?:`{3,}|~{3,})", re.MULTILINE)
_SCRIPT_LANGS = frozenset({"sh", "bash", "shell", "zsh", "ksh", "shellscript", "shell-script"})
_CONSOLE_LANGS = frozenset(
    {
        "console",
        "shell-session",
        "shellsession",
        "sh-session",
        "bash-session",
        "terminal",
        "session",
        "prompt",
    }
)
_POWERSHELL_LANGS = frozenset({"powershell", "pwsh", "ps1", "ps", "posh", "cmd", "bat", "batch"})
_LOOSE_LANGS = frozenset({"", "text", "txt", "none", "plain", "plaintext", "docker", "cli"})
_PROMPT = re.compile(
    r"""[ \t]*(?:\([\w.-]+\)[ \t]*)?
    (?P<prompt>
        \[[^\]\n]{1,80}\][ \t]?[$#]          # [root@host dir]#
      | [\w.@:~/+-]{0,80}(?:[ \t][\w.@:~/+-]{1,40})?[ \t]?\$  # $, user@host:~$, host dir$
      | [\w.@:~/+-]*[\w~/][:@]?[\w~/.-]*\#   # root@host:~#
      | [\w.-]+>                             # unix>
      | PS(?:[ \t][^>\n]{0,60})?>            # PS C:\>
      | [➸❯λ%]
      | \#
      | >
    )[ \t]+(?=\S)""",
    re.VERBOSE,
)
_AMBIGUOUS_PROMPTS = frozenset({"#", ">"})
_INDENTED = "(indented)"
_LEADING_TOOL = re.compile(
    r"[ \t]*(?=(?:[A-Za-z_]\w*=\$\(\s*)?(?:sudo\s+(?:-\S+\s+)*)?"
    r"(?:docker|podman|nerdctl)(?:\.exe)?\s+\S)"
)
_CONTINUATION = re.compile(r"[ \t]*>[ \t]?")
_TOOL_COMMAND = re.compile(r"(?:sudo\s+(?:-\S+\s+)*)?(?:docker|podman|nerdctl)(?:\.exe)?\s+\S")
_INLINE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_MAX_CONTINUATION = 200


def looks_like_markdown(text: str) -> bool:
    """True when *text* holds fenced code blocks (a README.txt written in Markdown)."""
    return len(_FENCE_ANY.findall(text)) >= 2


def extract_markdown(text: str, path: str) -> Extraction:
    """Every docker/podman/nerdctl invocation in the shell code of a Markdown document.

    Never raises; what cannot be read is in ``problems``.
    """
    if not mentions_tool(text):
        return Extraction([], [])
    reader = ScriptReader(text, path)
    try:
        for view in _code_views(text):
            reader.read_script(view, "markdown")
    except (RecursionError, MemoryError):
        reader.fail("the document is nested too deeply to be read")
    except Exception as error:  # never break a run; say that the file was not read
        reader.fail(f"the document could not be read ({type(error).__name__}: {error})")
    return reader.extraction()


# --- blocks -------------------------------------------------------------------------


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the newline."""
    spans = []
    start = 0
    for m in re.finditer("\n", text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _language(info: str) -> str:
    m = re.match(r"[{.\s]*([\w+#-]*)", info)
    return m.group(1).lower() if m else ""


def _code_views(text: str) -> list[View]:
    lines = _lines(text)
    views: list[View] = []
    i = 0
    previous_blank = True
    while i < len(lines):
        start, end = lines[i]
        line = text[start:end].rstrip("\r")
        m = _FENCE_OPEN.match(line)
        if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
            fence = m.group(2)
            closing = re.compile(
                r"^[ \t]*(?:>[ \t]*)?"
                + re.escape(fence[0])
                + "{"
                + str(len(fence))
                + r",}[ \t]*\r?$"
            )
            j = i + 1
            while j < len(lines) and not closing.match(text[lines[j][0] : lines[j][1]]):
                j += 1
            body = lines[i + 1 : j]
            views.extend(_block_views(text, body, _language(m.group(3))))
            i = j + 1
            previous_blank = True
            continue
        blank = not line.strip()
        if (
            not blank
            and line.startswith(("    ", "\t"))
            and (previous_blank or _prompt(text, start, end, True) is not None)
        ):
            j = i
            while j < len(lines):
                candidate = text[lines[j][0] : lines[j][1]]
                if candidate.strip() and not (candidate.startswith(("    ", "\t"))):
                    break
                j += 1
            body = lines[i:j]
            while body and not text[body[-1][0] : body[-1][1]].strip():
                body.pop()
            views.extend(_block_views(text, body, _INDENTED))
            for body_start, body_end in body:  # indented prose: `docker run …` spans
                if "`" in text[body_start:body_end]:
                    views.extend(_inline_views(text, body_start, text[body_start:body_end]))
            i = j
            previous_blank = True
            continue
        if "`" in line:
            views.extend(_inline_views(text, start, line))
        previous_blank = blank
        i += 1
    return views


_BARE_RUN = re.compile(r"^\S+\s+(?:container\s+)?(?:run|create)\s*$")


def _names_a_subcommand(code: str) -> bool:
    """`docker run` alone in prose names the subcommand; it is not a command to check."""
    return _BARE_RUN.match(code) is not None


def _inline_views(text: str, line_start: int, line: str) -> list[View]:
    views = []
    for m in _INLINE.finditer(line):
        content_start = m.start(2)
        content = m.group(2)
        lead = len(content) - len(content.lstrip())
        content_start += lead
        prompt = _PROMPT.match(content[lead:])
        if prompt:
            content_start += prompt.end()
        code = line[content_start : m.end(2)].rstrip()
        if _TOOL_COMMAND.match(code) and not _names_a_subcommand(code):
            base = line_start + content_start
            views.append(View(text[base : base + len(code)], None, base))
    return views


def _block_views(text: str, body: list[tuple[int, int]], language: str) -> list[View]:
    """The shell code of one block: one view per transcript command, or the whole script."""
    if not body:
        return []
    hash_prompt = language not in _SCRIPT_LANGS  # in sh/bash blocks "# …" is a comment
    shell = language in _SCRIPT_LANGS or language in _LOOSE_LANGS or language in _CONSOLE_LANGS
    if language == _INDENTED or language in _POWERSHELL_LANGS:
        commands = _console_commands(text, body, hash_prompt, bare_commands=True)
    elif shell and _is_transcript(text, body, hash_prompt):
        # in a console block the prompt marks the commands; elsewhere prompted and
        # unprompted commands are often mixed, and output seldom starts with docker
        bare = language not in _CONSOLE_LANGS
        commands = _console_commands(text, body, hash_prompt, bare_commands=bare)
    elif shell:  # a console block without prompts is a list of commands
        commands = [_script_segments(text, body, hash_prompt)]
    else:
        return []
    return [_join(text, segments) for segments in commands if segments]


def _is_transcript(text: str, body: list[tuple[int, int]], hash_prompt: bool) -> bool:
    """Does the block show prompts (so that its other lines are output)?

    ``#`` and ``>`` prompts make a transcript only when no line beside them
    runs a container command without a prompt.
    """
    ambiguous = bare = False
    for start, end in body:
        m = _PROMPT.match(text, start, end)
        if m and m.group("prompt") not in _AMBIGUOUS_PROMPTS:
            return True
        if m and _prompt(text, start, end, hash_prompt) is not None:
            ambiguous = True
        elif _LEADING_TOOL.match(text, start, end):
            bare = True
    return ambiguous and not bare


def _prompt(text: str, start: int, end: int, hash_prompt: bool) -> int | None:
    """Where the command starts after a prompt on this line, or None without one.

    ``#`` and ``>`` alone are prompts only when a container command follows.
    """
    m = _PROMPT.match(text, start, end)
    if m is None:
        return None
    if m.group("prompt") in _AMBIGUOUS_PROMPTS:
        if m.group("prompt") == "#" and not hash_prompt:
            return None
        if not _TOOL_COMMAND.match(text, m.end(), end):
            return None
    return m.end()


def _script_segments(
    text: str, body: list[tuple[int, int]], hash_prompt: bool
) -> list[tuple[int, int]]:
    segments = []
    for start, end in body:
        if hash_prompt:
            command_start = _prompt(text, start, end, hash_prompt)
            if command_start is not None:
                start = command_start
        segments.append((start, end))
    return segments


def _console_commands(
    text: str, body: list[tuple[int, int]], hash_prompt: bool, bare_commands: bool
) -> list[list[tuple[int, int]]]:
    """The commands of a transcript: each a prompted line and its continuations.

    With *bare_commands*, a line that starts with a container command (or
    ``cid=$(docker …``) needs no prompt: output seldom looks like that.
    """
    commands: list[list[tuple[int, int]]] = []
    i = 0
    while i < len(body):
        start, end = body[i]
        i += 1
        command_start = _prompt(text, start, end, hash_prompt)
        if command_start is None:
            if not bare_commands:
                continue
            m = _LEADING_TOOL.match(text, start, end)
            if m is None:
                continue
            command_start = m.end()
        command = [(command_start, end)]
        while i < len(body) and len(command) < _MAX_CONTINUATION:
            last_start, last_end = command[-1]
            nxt_start, nxt_end = body[i]
            if _continued(text[last_start:last_end]):
                command.append((nxt_start, nxt_end))
            elif (c := _CONTINUATION.match(text, nxt_start, nxt_end)) is not None:
                command.append((c.end(), nxt_end))
            elif _PROMPT.match(text, nxt_start, nxt_end) is None and _incomplete(text, command):
                command.append((nxt_start, nxt_end))
            else:
                break
            i += 1
        commands.append(command)
    return commands


def _incomplete(text: str, command: list[tuple[int, int]]) -> bool:
    """Does the command so far end inside a quote or substitution?"""
    joined = "\n".join(text[s:e] for s, e in command)
    if not any(c in joined for c in "'\"`(") and not joined.rstrip().endswith(("|", "&&")):
        return False
    if joined.rstrip().endswith(("|", "&&", "||")):
        return True
    return unterminated(joined)


def _powershell_continued(line: str) -> bool:
    """Does the line end in a PowerShell continuation (an unpaired trailing backtick)?"""
    return line.rstrip().endswith(" `") and line.count("`") % 2 == 1


def _continued(line: str) -> bool:
    return line.rstrip().endswith("\\") or _powershell_continued(line)


def _join(text: str, segments: list[tuple[int, int]]) -> View:
    """One view of several line segments, joined by newlines, mapped to file offsets.

    A line ending in a PowerShell continuation (`` ` ``) is read as one ending
    in ``\\``: the docker words are the same.
    """
    contiguous = all(segments[k + 1][0] == segments[k][1] + 1 for k in range(len(segments) - 1))
    if contiguous and not any(_powershell_continued(text[s:e]) for s, e in segments):
        start, end = segments[0][0], segments[-1][1]
        return View(text[start:end], None, start)
    chars: list[str] = []
    offsets: list[int] = []
    for number, (start, end) in enumerate(segments):
        if number:
            chars.append("\n")
            offsets.append(segments[number - 1][1])
        line = text[start:end]
        if _powershell_continued(line):
            line = line.rstrip()[:-1] + "\\"
            end = start + len(line)
        chars.append(line)
        offsets.extend(range(start, end))
    return View("".join(chars), offsets, 0)
