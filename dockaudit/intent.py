"""What a file is for, and what each container in it is for.

A finding is worth a maintainer's time only in context: a memory limit matters
for a database the file deploys, not for a test server the same file removes
ten lines later. This module reads a whole `Script` and decides

- its **purpose**: ``deploy``, ``ci-test``, ``build``, ``dev`` (a developer's
  own environment: dotfiles, shell functions wrapping tools) or ``doc``, from
  its kind, path and content (`guess_purpose`); configuration can state it;
- each container's **lifecycle** (`container_lifecycles`):

  ``service``
      the file asks the engine to keep it running: a restart policy other
      than ``no``;
  ``background``
      started detached (``-d``, or ``docker create`` then ``start``) and never
      shown to be temporary: probably long-running, though the file does not
      say so;
  a task, which ends or which the file ends:

  ``foreground``
      run in the foreground: the script waits for it;
  ``temporary``
      ``--rm``, or stopped or removed again by the same file (by name, by the
      variable that captured its id, in a ``trap``);
  ``copy-only``
      a ``docker create`` that only feeds ``cp``/``commit``/``export``;
  ``one-shot``
      its command does one thing and exits (``ls``, a key generator), even
      with ``-d``.

- for Markdown, which commands are checked together (`markdown_scopes`):
  fenced blocks are alternatives unless one uses what another created.

Rules declare the purposes they speak to and whether they concern only
services; the engine applies both (see `dockaudit.engine`).
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import NamedTuple

from dockaudit.model import UNKNOWN, ContainerSpec, DockerCommand, ScriptCommand, Word, known

SERVICE = "service"
BACKGROUND = "background"
FOREGROUND = "foreground"
TEMPORARY = "temporary"
COPY_ONLY = "copy-only"
ONE_SHOT = "one-shot"


class Purpose(NamedTuple):
    """A file's purpose and the evidence for it (shown by ``dockaudit show``)."""

    name: str
    why: str


# --- the file's purpose --------------------------------------------------------------

# Words of a path (directories and file name) that say what a file is for.
_TEST_WORDS = frozenset({"test", "tests", "testing", "ci", "qa", "e2e", "integration", "spec",
                         "specs", "smoke", "bats", "circleci", "buildkite", "jenkins"})
_BUILD_WORDS = frozenset({"build", "release", "package", "publish", "dist", "compile", "bake"})
_DEV_WORDS = frozenset({"dotfiles", "bashrc", "zshrc", "aliases", "desktop"})
# A desktop program run from a container: the X11 socket or display handed in.
_DESKTOP = re.compile(r"/tmp/\.X11-unix|DISPLAY=|WAYLAND_DISPLAY|XDG_RUNTIME_DIR")
# A function definition at the start of a line of the text joined with newlines (a line
# holds no newline, so [^\S\n] is any blank a line can hold).
_FUNCTION = re.compile(r"(?m)^[^\S\n]*(?:function[^\S\n]+)?([A-Za-z_][\w:.-]*)[^\S\n]*\(\)"
                       r"|^[^\S\n]*function[^\S\n]+([A-Za-z_][\w:.-]*)")
# A call of a function: the name first on a line, or after ; & | ( { then do else. Each is
# looked for apart, so that "then f" counts as a call of f, and so that each pattern starts
# with a character set or a word, which the regex engine scans for quickly. (Compiled at
# their first use, by re's cache: most files hold no library of functions.)
_CALLED = r"(?=\s*([A-Za-z_][\w:.-]*)(?:\s|$|;))"
_CALLS = (r"(?m)^" + _CALLED, r"(?m)[;&|({]" + _CALLED,
          *(rf"(?m){word}(?<!\w{word})" + _CALLED for word in ("then", "do", "else")))


def guess_purpose(path: str, kind: str, text_lines: Sequence[str],
                  commands: Sequence[ScriptCommand]) -> Purpose:
    """The purpose of a file from its kind, its path and what its commands do."""
    if kind == "markdown":
        return Purpose("doc", "a Markdown document: its commands are examples for a reader")
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = pure.parts
    if pure.is_absolute():  # the words of the project's own folders, not of where it is checked out
        relative = os.path.relpath(path, os.getcwd())
        parts = PurePosixPath(relative).parts if not relative.startswith("..") else pure.parts[-3:]
    words = {w for part in parts for w in re.findall(r"[a-z0-9]+", part.lower())}
    name = pure.name
    if name.startswith(".") or words & _DEV_WORDS:
        return Purpose("dev", f"{name} is part of a developer's own shell set-up (dotfiles)")
    if words & _TEST_WORDS:
        return Purpose("ci-test", f"its path says it is a test or CI step ({sorted(words & _TEST_WORDS)[0]})")
    runs = [c for c in commands if c.spec is not None]
    desktop = sum(1 for c in runs if _DESKTOP.search(" ".join(w.text for w in c.command.invocation.words)))
    if runs and desktop * 3 >= len(runs):
        return Purpose("dev", "its containers are mostly desktop programs (an X11 display is handed in)")
    if runs and _function_library(text_lines, runs):
        return Purpose("dev", "its docker commands sit in shell functions the file never calls: "
                              "a library sourced into an interactive shell")
    if words & _BUILD_WORDS:
        return Purpose("build", f"its path says it builds or releases ({sorted(words & _BUILD_WORDS)[0]})")
    if runs and all(c.spec.lifecycle == COPY_ONLY for c in runs):
        return Purpose("build", "its containers are only created to copy files out of images")
    return Purpose("deploy", "a script that starts containers (no sign of a test, build or dev set-up)")


def _function_library(lines: Sequence[str], runs: Sequence[ScriptCommand]) -> bool:
    """Most docker commands sit in shell functions that nothing in the file calls."""
    text = _joined(lines)
    newlines = [m.start() for m in re.finditer("\n", text)]
    bodies: list[tuple[str, int, int]] = []  # name, first line, last line (1-based)
    for m in _definitions(text):
        number = bisect_left(newlines, m.start()) + 1
        if bodies:
            bodies[-1] = (bodies[-1][0], bodies[-1][1], number - 1)
        bodies.append((m.group(1) or m.group(2), number, len(lines)))
    if not bodies:
        return False
    # Bodies follow one another: the one holding a line is the last to begin at or before it.
    starts = [first for _, first, _ in bodies]
    holding = []
    for c in runs:
        i = bisect_right(starts, c.command.loc.line) - 1
        holding.append(i if i >= 0 and c.command.loc.line <= bodies[i][2] else -1)
    holders = set(holding) - {-1}
    inside = [b for i, b in enumerate(bodies) if i in holders]
    if len(inside) < 2 or sum(1 for i in holding if i >= 0) * 5 < len(runs) * 4:
        return False
    # Where each name is called, found in one pass over the text rather than one a name.
    wanted = {name for name, _, _ in inside}
    calls: dict[str, list[int]] = {}
    for pattern in _CALLS:
        for m in re.finditer(pattern, text):
            if m.group(1) in wanted:
                calls.setdefault(m.group(1), []).append(bisect_left(newlines, m.start()) + 1)
    called = 0
    for name, first, last in inside:
        if any(not first <= number <= last for number in calls.get(name, ())):
            called += 1
    return called * 5 < len(inside)


# What str.splitlines() cuts a line at, besides a newline.
_OTHER_BREAKS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# What a line defining a function holds: "()" after its name, or the keyword.
_DEFINITION_MARK = re.compile(r"\(\)|function")


def _joined(lines: Sequence[str]) -> str:
    """The lines joined with newlines: the text they were cut from, when only newlines cut it."""
    text = getattr(lines, "text", None)
    if isinstance(text, str) and not _OTHER_BREAKS.search(text):
        return text[:-1] if text.endswith("\n") else text
    return "\n".join(lines)


def _definitions(text: str) -> Iterator[re.Match[str]]:
    """`_FUNCTION`'s matches in *text*, tried only on the lines that can hold one."""
    line_start = -1
    for mark in _DEFINITION_MARK.finditer(text):
        start = text.rfind("\n", 0, mark.start()) + 1
        if start == line_start:
            continue
        line_start = start
        m = _FUNCTION.match(text, start)
        if m:
            yield m


# --- each container's lifecycle ---------------------------------------------------------

_STOPPING = frozenset({("rm",), ("kill",), ("stop",)})
_STARTING = frozenset({("start",), ("restart",)})
_COPYING = frozenset({("cp",), ("commit",), ("export",)})
# Programs that do one thing and exit: a container running one of them with -d
# is not a service, whatever the flag says.
_ONE_SHOT = frozenset({
    "ls", "echo", "cat", "true", "false", "mv", "cp", "chown", "chmod", "mkdir", "rm", "touch",
    "date", "env", "id", "whoami", "uname", "printf", "test", "hostname", "pwd", "ln", "tar",
    "sha256sum", "md5sum", "stat", "find", "grep", "head", "wc", "which", "du", "df",
    "keygen", "genkey", "version", "--version", "-v", "-version", "help", "--help", "-h",
})
_KEEP_ALIVE = re.compile(r"\b(?:while|sleep|tail\s+-f|exec|wait|serve|server|daemon|nc\s+-l|httpd|"
                         r"run|start|listen|watch|loop)\b")
_ASSIGN_BEFORE = re.compile(r"(?:^|[\s;&|(])(?:local\s+|export\s+|readonly\s+|declare\s+)?"
                            r"([A-Za-z_][A-Za-z0-9_]*)=[\"']?\$\(\s*$")
_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def container_lifecycles(commands: Sequence[ScriptCommand], lines: Sequence[str]) -> list[tuple[str, str] | None]:
    """For each command, ``(lifecycle, why)`` of the container it makes, else None."""
    later_refs = _references_after(commands)
    out: list[tuple[str, str] | None] = []
    for index, entry in enumerate(commands):
        spec = entry.spec
        if spec is None:
            out.append(None)
            continue
        out.append(_lifecycle(index, entry, spec, commands, lines, later_refs))
    return out


def _lifecycle(index: int, entry: ScriptCommand, spec: ContainerSpec, commands: Sequence[ScriptCommand],
               lines: Sequence[str], later_refs: dict[str, dict[str, int]]) -> tuple[str, str]:
    policy = spec.restart_policy
    if policy is not None and (policy.name is UNKNOWN or policy.name != "no"):
        shown = policy.name if known(policy.name) else "a restart policy"
        return SERVICE, f"--restart {shown}: the engine keeps it running"
    if spec.auto_remove:
        return TEMPORARY, "--rm: removed when it stops"
    handles = _handles(entry, spec, lines)
    if _referenced_after(later_refs, "stop", handles, index):
        return TEMPORARY, "the same file stops or removes it again"
    if spec.subcommand == "create" and not _referenced_after(later_refs, "start", handles, index):
        if _referenced_after(later_refs, "copy", handles, index):
            return COPY_ONLY, "created only to copy files out (cp, commit or export), never started"
        return BACKGROUND, "created, not started by this file: something else may start it"
    shot = one_shot(spec)
    if shot:
        return ONE_SHOT, shot
    if spec.subcommand == "run" and not spec.detach:
        return FOREGROUND, "runs in the foreground: the script waits for it to end"
    how = "-d" if spec.subcommand == "run" else "created, then started"
    return BACKGROUND, f"{how} with no restart policy and nothing in the file that ends it"


def _handles(entry: ScriptCommand, spec: ContainerSpec, lines: Sequence[str]) -> set[str]:
    """How later commands can name this container: its name (as written) and the captured id."""
    found: set[str] = set()
    command = entry.command
    name_use = command.option("--name")
    if name_use is not None and name_use.value is not None:
        found |= _forms(name_use.value)
    inv = command.invocation
    if inv.context == "substitution":
        line = lines[inv.loc.line - 1] if 0 < inv.loc.line <= len(lines) else ""
        m = _ASSIGN_BEFORE.search(line[: max(0, inv.loc.column - 1)])
        if m:
            found.add("$" + m.group(1))
    return found


def _forms(word: Word) -> set[str]:
    """The spellings by which a later word can name the same thing as *word*."""
    forms = {_plain(word.text)}
    if word.is_known:
        forms.add(word.value)
    return forms


def _plain(text: str) -> str:
    """Source text with quotes removed and ``${x}`` written ``$x``."""
    return _REF.sub(lambda m: "$" + m.group(1), text.replace('"', "").replace("'", ""))


def _references_after(commands: Sequence[ScriptCommand]) -> dict[str, dict[str, int]]:
    """For stop, start and copy: each container handle and the last command that does it to it.

    A handle is done something to after command *i* when its last command comes after *i*:
    one table for the whole script, not a copy of everything later for every command.
    """
    last: dict[str, dict[str, int]] = {"stop": {}, "start": {}, "copy": {}}
    for index, entry in enumerate(commands):
        command = entry.command
        what = _what(command)
        if what is None:
            continue
        words = command.operands
        if what == "copy" and command.subcommand == ("cp",):
            words = tuple(w for w in words if ":" in w.text)
        for word in words:
            text = word.text.split(":", 1)[0] if what == "copy" and command.subcommand == ("cp",) else word.text
            last[what][_plain(text)] = index
            if word.is_known:
                value = word.value.split(":", 1)[0] if command.subcommand == ("cp",) else word.value
                last[what][value] = index
    return last


def _referenced_after(last: dict[str, dict[str, int]], what: str, handles: set[str], index: int) -> bool:
    """Whether a command after *index* does *what* to one of *handles*."""
    done = last[what]
    return any(done.get(handle, -1) > index for handle in handles)


def _what(command: DockerCommand) -> str | None:
    sub = command.subcommand
    if sub in _STOPPING:
        return "stop"
    if sub in _STARTING:
        return "start"
    if sub in _COPYING:
        return "copy"
    return None


def one_shot(spec: ContainerSpec) -> str | None:
    """Why the container's command ends at once, or None when it may keep running."""
    words = [w for w in (*(spec.entrypoint or ()), *spec.command)] if known(spec.entrypoint) else list(spec.command)
    if not words or not all(known(w) for w in words[:1]):
        return None
    program = str(words[0]).rsplit("/", 1)[-1]
    if program in _ONE_SHOT:
        return f"its command ({program}) does one thing and exits"
    if program in ("sh", "bash", "ash", "dash") and len(words) >= 3 and words[1] == "-c" and known(words[2]):
        script = str(words[2])
        steps = [s.strip().split()[0].rsplit("/", 1)[-1] for s in re.split(r"&&|\|\||;|\|", script) if s.strip()]
        if steps and not _KEEP_ALIVE.search(script) and all(
                s in _ONE_SHOT or "generate" in s or "keygen" in s for s in steps):
            return "its shell command only runs steps that end (no server, loop or wait)"
    return None


# --- images the file makes itself ------------------------------------------------------

_BUILDS = frozenset({("build",), ("image", "build"), ("buildx", "build"), ("builder", "build")})


def built_images(commands: Sequence[ScriptCommand]) -> frozenset[str]:
    """Image names the file builds, tags, commits or imports itself: they are not pulled."""
    names: set[str] = set()
    for entry in commands:
        command = entry.command
        words = command.operands
        made: list[Word] = []
        if command.subcommand in _BUILDS:
            for i, word in enumerate(words):
                text = word.text
                if text in ("-t", "--tag") and i + 1 < len(words):
                    made.append(words[i + 1])
                elif text.startswith("--tag="):
                    names |= {image_key(text[len("--tag="):])}
        elif command.subcommand in {("tag",), ("image", "tag"), ("commit",), ("import",), ("image", "import")}:
            made.extend(words[1:2])
        for word in made:
            names.add(_plain(word.text))
            if word.is_known:
                names.add(image_key(word.value))
    return frozenset(names)


def image_key(reference: str) -> str:
    """An image reference as a comparable key: Docker Hub prefixes dropped, ``:latest`` implied."""
    ref = reference.strip().lower()
    for prefix in ("docker.io/", "index.docker.io/"):
        ref = ref.removeprefix(prefix)
    ref = ref.removeprefix("library/")
    last = ref.rsplit("/", 1)[-1]
    if "@" not in last and ":" not in last:
        ref += ":latest"
    return ref


_OWN_PREFIX = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*(?::?-[^}]*)?\}?/")


def image_origin(entry: ScriptCommand, built: frozenset[str]) -> str | None:
    """``built`` when the file makes the image, ``own`` when a variable names its registry,
    ``variable`` when a variable holds the whole reference."""
    if not entry.command.operands:
        return None
    word = entry.command.operands[0]
    plain = _plain(word.text)
    if built and (plain in built or (word.is_known and image_key(word.value) in built)):
        return "built"
    if _OWN_PREFIX.match(plain):
        return "own"
    if "$" in plain:
        return "variable"
    return None


# --- Markdown: blocks as alternatives or steps -------------------------------------------

_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")


def markdown_blocks(lines: Sequence[str]) -> list[tuple[int, int]]:
    """Line ranges (1-based, inclusive) of the fenced code blocks of a Markdown text."""
    blocks: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        m = _FENCE.match(line)
        if not m:
            continue
        fence = m.group(1)
        if opened is None:
            opened = (number, fence)
        elif fence[0] == opened[1][0] and len(fence) >= len(opened[1]) and not line.strip()[len(fence):].strip():
            blocks.append((opened[0], number))
            opened = None
    if opened is not None:
        blocks.append((opened[0], len(lines)))
    return blocks


def markdown_scopes(commands: Sequence[ScriptCommand], lines: Sequence[str]) -> list[list[int]]:
    """Groups of command indices that are checked together for whole-page rules.

    Each fenced block (and each command outside one) is an alternative of its
    own; a usage line with ``<placeholders>`` is a template, checked with none. A block that names a container or network another block created —
    ``--link``, ``--network``, ``--volumes-from``, ``exec``/``stop``/``rm`` — is a
    later step of the nearest block before it that made the name: it is checked
    together with the blocks it builds on, and those with the ones they build on.
    """
    blocks = markdown_blocks(lines)

    def block_of(index: int) -> int:
        line = commands[index].command.loc.line
        for number, (first, last) in enumerate(blocks):
            if first <= line <= last:
                return number
        return len(blocks) + index  # outside any block: on its own

    members: dict[int, list[int]] = {}
    for index in range(len(commands)):
        if not _template(commands[index]):
            members.setdefault(block_of(index), []).append(index)
    order = list(members)
    created = {b: set().union(*(_created_names(commands[i]) for i in members[b])) for b in order}
    used = {b: set().union(*(_used_names(commands[i]) for i in members[b])) for b in order}
    depends: dict[int, set[int]] = {b: set() for b in order}
    for position, b in enumerate(order):
        for name in used[b] - created[b]:
            # the step this one builds on: the nearest block before it that made the name
            maker = next((e for e in reversed(order[:position]) if name in created[e]), None)
            if maker is not None:
                depends[b].add(maker)
    scopes: list[list[int]] = []
    for b in order:
        seen: set[int] = set()
        stack = [b]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            # a block that makes a name this one makes again is the variant it replaces
            # ("to set the site URL, run it with -e …"), not a step before it
            stack.extend(d for d in depends[current] if not created[d] & created[b])
        scopes.append(sorted(i for block in seen for i in members[block]))
    return scopes


_PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


def _template(entry: ScriptCommand) -> bool:
    """A usage line with ``<placeholders>`` (``-p <port>:80``): shown before a real example."""
    return any(_PLACEHOLDER.search(word.text) for word in entry.command.invocation.words)


def _created_names(entry: ScriptCommand) -> set[str]:
    command = entry.command
    names: set[str] = set()
    if entry.spec is not None:
        use = command.option("--name")
        if use is not None and use.value is not None:
            names |= _forms(use.value)
    elif command.subcommand == ("network", "create") and command.operands:
        names |= _forms(command.operands[-1])
    return names


def _used_names(entry: ScriptCommand) -> set[str]:
    command = entry.command
    names: set[str] = set()
    for option in ("--link", "--volumes-from", "--network"):
        for use in command.all(option):
            if use.value is None:
                continue
            text = use.value.text
            if option == "--network" and text.startswith("container:"):
                text = text.split(":", 1)[1]
            names.add(_plain(text.split(":", 1)[0]))
    if entry.spec is None and command.operands:
        sub = command.subcommand
        if sub in {("exec",), ("logs",), ("cp",)}:
            names.add(_plain(command.operands[0].text.split(":", 1)[0]))
        elif sub in {("stop",), ("rm",), ("kill",), ("start",), ("restart",), ("inspect",),
                     ("network", "connect")}:
            names |= {_plain(w.text) for w in command.operands}
    return names
