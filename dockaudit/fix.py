"""Safe fixes: rewrites that cannot change what a working command does.

Only three kinds, all of the Docker CLI's own grammar (the option table):

- a hidden alias the CLI keeps for compatibility, spelt as its help spells it
  (``--net`` → ``--network``, ``--dns-opt`` → ``--dns-option``,
  ``--time`` → ``--timeout``);
- a deprecated spelling with an exact replacement: ``--security-opt seccomp:…``
  → ``seccomp=…``, a single-dash long option ``-rm`` → ``--rm``;
- an option the CLI rejects today whose one close match is unambiguous
  (``--memroy`` → ``--memory``): the command fails as written, so the rewrite
  cannot change a command that works.

Nothing else: not ``--link`` (its replacement changes the network), not a
removal. A fix whose finding is suppressed or whose rule is off is not made.
Every rewrite replaces the exact source text it expects at a word's location
and nothing else; the fixed text is parsed again, and a file whose result
would hold any usage problem the original did not is left as it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dockaudit.model import DockerCommand, Finding, Location, Script, known

TYPO_DISTANCE = 2  # edits (a transposition is one) between a misspelt option and its fix


@dataclass(frozen=True)
class Edit:
    """Replace *old* at (line, column) with *new*; *rule_id*/*loc* name the finding it fixes."""

    line: int
    column: int
    old: str
    new: str
    rule_id: str | None
    loc: Location | None


def edits_for(script: Script, findings: list[Finding]) -> list[Edit]:
    """The safe edits of *script*: of its findings, only unsuppressed ones are fixed."""
    active = {(f.rule_id, f.location) for f in findings if f.suppressed is None}
    edits = []
    for entry in script.commands:
        command = entry.command
        if command.invocation.program != "docker":  # podman and nerdctl keep their own spellings
            continue
        for edit in (*_alias_edits(command), *_security_opt_edits(command), *_typo_edits(command)):
            if edit.rule_id is not None and (edit.rule_id, edit.loc) not in active:
                continue
            if _source_at(script.lines, edit.line, edit.column, len(edit.old)) == edit.old:
                edits.append(edit)
    return _without_overlaps(edits)


@dataclass(frozen=True)
class Fixed:
    """A file's text with its safe fixes made, and that text parsed."""

    text: str
    script: Script
    count: int


def fix_script(text: str, script: Script, findings: list[Finding]) -> Fixed | None:
    """*text* with the safe fixes of *script* made, or None when there are none or one is unsafe."""
    from dockaudit.api import read_script

    edits = edits_for(script, findings)
    if not edits:
        return None
    fixed_text = apply_edits(text, edits)
    fixed = read_script(fixed_text, script.path, kind=script.kind)
    if not same_but_fixed(script, fixed):
        return None
    return Fixed(fixed_text, fixed, len(edits))


def apply_edits(text: str, edits: list[Edit]) -> str:
    """*text* with *edits* made; line endings and everything else are kept."""
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        line = lines[edit.line - 1]
        start = edit.column - 1
        lines[edit.line - 1] = line[:start] + edit.new + line[start + len(edit.old) :]
    return "".join(lines)


def same_but_fixed(before: Script, after: Script) -> bool:
    """True when *after* holds the same commands and no usage problem *before* did not."""
    if len(before.commands) != len(after.commands) or len(before.problems) != len(after.problems):
        return False
    if any(a.command.subcommand != b.command.subcommand for a, b in zip(before.commands, after.commands, strict=True)):
        return False
    old = Counter(p.rule_id for c in before.commands for p in c.command.problems)
    new = Counter(p.rule_id for c in after.commands for p in c.command.problems)
    return not new - old


def unified_diff(path: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), path, path)
    # a last line without a line break is marked the way diff and patch mark it
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


# --- the three kinds ---------------------------------------------------------


def _alias_edits(command: DockerCommand) -> list[Edit]:
    """``--net`` → ``--network``: the option's canonical name where it was spelt otherwise."""
    edits = []
    for use in command.options:
        spelled = use.spelled.split("=", 1)[0]
        if not spelled.startswith("--") or spelled == use.name:
            continue
        loc = use.flag.loc
        # a deprecated alias (--time) is also a DA006 finding on the flag
        rule = "DA006" if any(p.rule_id == "DA006" and p.loc == loc for p in command.problems) else None
        edits.append(Edit(loc.line, loc.column, spelled, use.name, rule, loc if rule else None))
    return edits


def _security_opt_edits(command: DockerCommand) -> list[Edit]:
    """``--security-opt seccomp:x`` → ``seccomp=x``, where DA006 reports the colon."""
    edits = []
    for use in command.options:
        if use.name != "--security-opt" or use.value is None or not known(use.value_text):
            continue
        problem = next((p for p in command.problems if p.rule_id == "DA006" and p.loc == use.loc), None)
        text = use.value_text
        if problem is None or "=" in text or ":" not in text:
            continue
        key = text.partition(":")[0]
        word = use.value
        source = word.text
        if word.loc.line != word.loc.end_line or source.count(key + ":") != 1:
            continue
        column = word.loc.column + source.index(key + ":") + len(key)
        edits.append(Edit(word.loc.line, column, ":", "=", "DA006", problem.loc))
    return edits


def _typo_edits(command: DockerCommand) -> list[Edit]:
    """An option the CLI rejects, with one unambiguous fix: ``-rm`` → ``--rm``, ``--memroy`` → ``--memory``."""
    from dockaudit.options import global_grammar, grammar_for

    grammar = grammar_for("docker", command.subcommand)
    if grammar is None or not grammar.exact:
        return []
    global_options = global_grammar("docker").flags
    words = {word.loc: word for word in command.invocation.words}
    edits = []
    for problem in command.problems:
        word = words.get(problem.loc)
        if problem.rule_id != "DA002" or word is None or not word.is_known:
            continue
        name = word.value.split("=", 1)[0]
        if not word.text.startswith(name):  # quoted or built from parts: leave it to a person
            continue
        if name.startswith("--"):
            if name in grammar.flags or name in global_options:  # not a typo: misplaced, or known
                continue
            fixed = _only_close_match(name, grammar.names())
        elif name.startswith("-") and len(name) > 2 and "-" + name in grammar.flags:
            fixed = "-" + name  # a single-dash long option the CLI no longer reads
        else:
            continue
        if fixed is not None:
            edits.append(Edit(word.loc.line, word.loc.column, name, fixed, "DA002", problem.loc))
    return edits


def _only_close_match(name: str, candidates: list[str]) -> str | None:
    """The one candidate within `TYPO_DISTANCE` of *name* and nearer than every other, or None."""
    scored = sorted((_distance(name, candidate), candidate) for candidate in candidates)
    close = [item for item in scored if item[0] <= TYPO_DISTANCE]
    if not close or (len(close) > 1 and close[1][0] == close[0][0]):
        return None
    return close[0][1]


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, transpositions."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _source_at(lines: tuple[str, ...], line: int, column: int, length: int) -> str | None:
    if not 1 <= line <= len(lines):
        return None
    return lines[line - 1][column - 1 : column - 1 + length]


def _without_overlaps(edits: list[Edit]) -> list[Edit]:
    kept: list[Edit] = []
    for edit in sorted(edits, key=lambda e: (e.line, e.column)):
        last = kept[-1] if kept else None
        if last is not None and last.line == edit.line and last.column + len(last.old) > edit.column:
            continue
        kept.append(edit)
    return kept

