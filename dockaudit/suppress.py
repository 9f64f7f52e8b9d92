"""Inline suppressions: ``# dockaudit ignore=DA101,DA403 -- reason``.

As ShellCheck users expect: a directive on its own line applies to the next
command (all of its continuation lines), one at the end of a command's last
line applies to that command, and ``# dockaudit ignore-file=…`` placed before
the first command applies to the whole file. In Markdown the same directive
may also be written as an HTML comment, ``<!-- dockaudit ignore=DA101 -->``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from dockaudit.model import Location, Suppression

_DIRECTIVE = re.compile(
    r"(?:#|<!--)\s*dockaudit\s+(?P<kind>ignore-file|ignore)\s*=\s*"
    r"(?P<ids>[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)"
    r"(?:\s+--\s*(?P<reason>.*?))?\s*(?:-->)?\s*$"
)


class Directive(NamedTuple):
    """One ``# dockaudit ignore=…`` comment, where it stands and what it names."""

    kind: str  # ignore or ignore-file
    rule_ids: frozenset[str]
    reason: str | None
    line: int
    column: int
    end_column: int
    own_line: bool  # nothing but the comment on its line


def find_directives(lines: Sequence[str]) -> list[Directive]:
    directives = []
    for number, line in enumerate(lines, start=1):
        if "dockaudit" not in line:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        ids = frozenset(part.strip().upper() for part in match.group("ids").split(","))
        reason = (match.group("reason") or "").strip() or None
        own_line = line[: match.start()].strip() in ("", "$", ">")
        directives.append(
            Directive(
                kind=match.group("kind"),
                rule_ids=ids,
                reason=reason,
                line=number,
                column=match.start() + 1,
                end_column=len(line.rstrip()) + 1,
                own_line=own_line,
            )
        )
    return directives


def build_suppressions(
    path: str, lines: Sequence[str], command_spans: Iterable[tuple[int, int]]
) -> tuple[tuple[Suppression, ...], list[tuple[Directive, str]]]:
    """Tie each directive to the command it covers.

    *command_spans* are the (first line, last line) of every command, in order.
    Returns the suppressions and the directives that cover nothing, each with why.
    """
    spans = sorted(set(command_spans))
    first_command_line = spans[0][0] if spans else None
    suppressions: list[Suppression] = []
    orphans: list[tuple[Directive, str]] = []
    for directive in find_directives(lines):
        loc = Location(path, directive.line, directive.column, directive.line, directive.end_column)
        if directive.kind == "ignore-file":
            if first_command_line is not None and directive.line > first_command_line:
                orphans.append((directive, "ignore-file must come before the first command"))
                continue
            suppressions.append(
                Suppression(directive.rule_ids, directive.reason, loc, 1, max(len(lines), 1), True)
            )
            continue
        covered = _covered_span(directive, lines, spans)
        if covered is None:
            orphans.append((directive, "it is not on or directly before a docker command"))
            continue
        suppressions.append(Suppression(directive.rule_ids, directive.reason, loc, *covered))
    return tuple(suppressions), orphans


def _covered_span(
    directive: Directive, lines: Sequence[str], spans: list[tuple[int, int]]
) -> tuple[int, int] | None:
    if not directive.own_line:
        # At the end of a command's last line (or any of its lines, for one-line commands).
        for first, last in spans:
            if first <= directive.line <= last:
                return first, last
        return None
    # On its own line: the next command, with only blank lines, comments or
    # other directives in between.
    for first, last in spans:
        if first <= directive.line:
            continue
        between = lines[directive.line : first - 1]
        if all(_is_gap(text) for text in between):
            return first, last
        return None
    return None


def _is_gap(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped.startswith(("#", "<!--", "```", "~~~"))
