"""Real-world commands: found when they run, not found in comments; same words as bashlex.

Reads the shared corpus (commands.jsonl) and, when fetched, the whole files
(DOCKAUDIT_CORPUS); skips when they are absent.
"""

from __future__ import annotations

import json
import re
import pytest

from dockaudit.model import UNKNOWN, Invocation
from dockaudit.sources.markdown import extract_markdown
from dockaudit.sources.shell import Extraction, extract_shell, mask_placeholders
from tests.conftest import shared_dir

# Global options that take a value (docker, podman, nerdctl), to find the subcommand.
_VALUED_GLOBALS = {
    "-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert",
    "--tlscert", "--tlskey", "--url", "--connection", "--namespace", "-n", "--address", "-a",
}  # fmt: skip

# Corpus rows that are not shell commands, although a line regex took them for some.
_NOT_SHELL = {
    "a usage synopsis": re.compile(r"^\s*Usage:"),
    "a sentence of prose": re.compile(r"^\s*[A-Z][a-z]+( [a-z*.]+){4,}.*[.:]\s*$"),
    "a crontab entry": re.compile(r"^\s*(\S+\s+){5}docker\b"),
    "a PowerShell assignment": re.compile(r"^\s*\$\w+\s*=\s*docker\b"),
    "a shell function of the script's own as wrapper": re.compile(r"^\s*must_do\b"),
    "a list item quoting a PowerShell prompt": re.compile(r"^\s*- `PS>"),
}


def _subcommand(inv: Invocation) -> object:
    words = inv.words
    k = 0
    while k < len(words):
        value = words[k].value
        if value is UNKNOWN or not value.startswith("-"):
            return value
        k += 2 if value in _VALUED_GLOBALS else 1
    return None


def _runs_container(result: Extraction) -> bool:
    return any(_subcommand(inv) in ("run", "create", "container") for inv in result.invocations)


def _extract(row: dict) -> Extraction:
    line = row["logical_line"]
    if row["kind"] == "sh":
        return extract_shell(line + "\n", "corpus.sh")
    return extract_markdown("```bash\n" + line + "\n```\n", "corpus.md")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    shared = shared_dir()
    path = shared / "corpus" / "commands.jsonl" if shared else None
    if path is None or not path.is_file():
        pytest.skip("the shared corpus is not beside this checkout (set DOCKAUDIT_SHARED)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_every_command_that_runs_is_found(rows):
    commands = [r for r in rows if r["context"] in ("code", "prompt")]
    assert len(commands) > 2000
    missed = []
    excused = []
    for row in commands:
        if _runs_container(_extract(row)):
            continue
        reasons = [
            why for why, pattern in _NOT_SHELL.items() if pattern.search(row["logical_line"])
        ]
        (excused if reasons else missed).append(row["logical_line"][:160])
    assert missed == []
    assert len(excused) <= 12, excused


def test_commented_commands_are_not_found(rows):
    comments = [r for r in rows if r["context"] == "comment"]
    assert len(comments) > 50
    found = [r["logical_line"] for r in comments if _extract(r).invocations]
    assert found == []


def test_strings_and_echo_are_found_only_where_code_runs(rows):
    """`echo "docker run …"` is data; `cid="$(docker run …)"`, `… | docker run` are code."""
    quoted = [r for r in rows if r["context"] in ("in_string", "echo/log")]
    assert len(quoted) > 50
    for row in quoted:
        line = row["logical_line"]
        for inv in _extract(row).invocations:
            if inv.context != "code":
                continue  # inside $(…), sh -c or ssh: run
            before = line.splitlines()[inv.loc.line - 2][: inv.loc.column - 1]
            # after a pipe or a separator, or a whole line (a piece of a multi-line string)
            assert re.search(r"(^|[|;&])\s*(\$\s*)?(sudo\s+)?$", before), line


def test_the_tokenizer_reads_the_words_bashlex_reads(rows):
    """On every corpus command bashlex can parse, the same words at the same places."""
    bashlex = pytest.importorskip("bashlex")
    commands = [r for r in rows if r["context"] in ("code", "prompt")]
    sample = [r for n, r in enumerate(commands) if r["kind"] == "sh" or n % 3 == 0]
    compared = 0
    for row in sample:
        text = row["command"] + "\n"
        try:
            trees = bashlex.parse(mask_placeholders(text))
        except Exception:  # bashlex cannot read it: nothing to compare with
            continue
        spans = _bashlex_commands(bashlex, trees)
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        for inv in extract_shell(text, "corpus.sh").invocations:
            if inv.context != "code":
                continue
            program = starts[inv.program_word.loc.line - 1] + inv.program_word.loc.column - 1
            ours = []
            for word in inv.words:
                start = starts[word.loc.line - 1] + word.loc.column - 1
                span = (start, start + len(word.text))
                if span not in ours:  # a spliced array gives several words at one place
                    ours.append(span)
            theirs = next(c for c in spans if any(s == program for s, _ in c))
            position = [s for s, _ in theirs].index(program)
            assert ours == theirs[position + 1 :], text
            compared += 1
    assert compared > 900


def _bashlex_commands(bashlex, trees) -> list[list[tuple[int, int]]]:
    found: list[list[tuple[int, int]]] = []

    class Visitor(bashlex.ast.nodevisitor):
        def visitcommand(self, node, parts):
            found.append([tuple(p.pos) for p in parts if p.kind in ("word", "assignment")])

    for tree in trees:
        Visitor().visit(tree)
    return found


@pytest.mark.corpus
def test_whole_files_read_without_problems(corpus):
    scripts = sorted((corpus / "scripts").glob("*"))
    documents = sorted((corpus / "markdown").glob("*"))
    assert scripts or documents
    problems = []
    invocations = 0
    for path in scripts + documents:
        text = path.read_text(encoding="utf-8", errors="replace")
        read = extract_markdown if path in documents else extract_shell
        result = read(text, path.name)
        invocations += len(result.invocations)
        problems.extend(f"{p.loc}: {p.message}" for p in result.problems)
    assert problems == []
    assert invocations > len(scripts) + len(documents)
