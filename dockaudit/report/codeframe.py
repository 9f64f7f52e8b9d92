"""A code frame: the offending lines of a file with ``^^^`` under the offending words.

::

    2 │ docker run -d \\
    3 │   --privileged \\
      │   ^^^^^^^^^^^^
    4 │   nginx:1.25

A span across continuation lines is underlined from its start column on the
first line through its end column on the last. Tabs are expanded to
`TAB_SIZE` columns before anything is measured, and widths are counted in
terminal cells, so the carets stay under the words whatever the line holds.
Control characters are shown escaped (ESC as ``\\x1b``) and measured as shown.
A line wider than the console is shifted left so the span stays in view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from dockaudit.model import Location
from dockaudit.report import printable

TAB_SIZE = 8
SEPARATOR = " │ "
ELLIPSIS = "…"
LEFT_CONTEXT = 8  # cells kept before the span when a long line is shifted


@dataclass(frozen=True)
class CodeFrame:
    """A rich renderable; build it with `render_code_frame`."""

    lines: tuple[str, ...]
    loc: Location
    context: int = 1
    style: str = "bold red"
    label: str | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.rows(options.max_width)

    def rows(self, max_width: int | None = None) -> Iterator[Text]:
        """The frame's rows; lines are cropped to *max_width* cells when given."""
        loc = self.loc
        if not 1 <= loc.line <= len(self.lines):
            return
        end_line = min(max(loc.end_line, loc.line), len(self.lines))
        first = max(1, loc.line - self.context)
        last = min(len(self.lines), end_line + self.context)
        gutter = len(str(last))
        shown = {n: _shown(self.lines[n - 1]) for n in range(first, last + 1)}
        spans = {n: self._span(n) for n in range(loc.line, end_line + 1)}

        offset = 0
        if max_width is not None:
            room = max_width - gutter - len(SEPARATOR)
            start, end = spans[loc.line]
            if end > room > LEFT_CONTEXT:
                offset = max(0, start - LEFT_CONTEXT)

        for n in range(first, last + 1):
            text, dropped = _drop_cells(shown[n], offset)
            if dropped:
                text, under = _drop_cells(text, 1)
                text = ELLIPSIS + " " * (under - 1) + text
            row = Text(no_wrap=True, overflow="ellipsis")
            row.append(f"{n:>{gutter}}", style="dim")
            row.append(SEPARATOR, style="dim")
            row.append(text)
            yield row
            if n in spans:
                start, end = spans[n]
                start, end = max(start - dropped, 0), max(end - dropped, 0)
                marks = Text(no_wrap=True, overflow="ellipsis")
                marks.append(" " * gutter + SEPARATOR, style="dim")
                marks.append(" " * start + "^" * max(end - start, 1), style=self.style)
                if self.label and n == end_line:
                    marks.append(f" {self.label}", style=self.style)
                yield marks

    def _span(self, n: int) -> tuple[int, int]:
        """The underlined cells of line *n*: [start, end) after tab expansion."""
        raw = self.lines[n - 1]
        content = len(raw) - len(raw.lstrip())
        start = self.loc.column - 1 if n == self.loc.line else content
        # a span running past the end of the file is underlined to the end of its last line
        end = self.loc.end_column - 1 if n == self.loc.end_line else len(raw.rstrip())
        start = min(max(start, 0), len(raw))
        end = min(max(end, start), len(raw))
        return _cells(raw[:start]), _cells(raw[:end])


def render_code_frame(
    lines: tuple[str, ...],
    loc: Location,
    context: int = 1,
    *,
    style: str = "bold red",
    label: str | None = None,
) -> CodeFrame:
    """A renderable showing *loc* in *lines* with *context* lines around it.

    *label* (a short message) is printed after the carets of the last line.
    Prints nothing when the file does not hold ``loc.line``.
    """
    return CodeFrame(tuple(lines), loc, context, style, label)


def _shown(line: str) -> str:
    """*line* as the frame prints it: tabs expanded, control characters escaped."""
    return printable(line.expandtabs(TAB_SIZE))


def _cells(prefix: str) -> int:
    """Terminal cells *prefix* takes at the start of a line as the frame prints it."""
    return cell_len(_shown(prefix))


def _drop_cells(text: str, cells: int) -> tuple[str, int]:
    """*text* without its first *cells* terminal cells, and how many cells went."""
    dropped = 0
    index = 0
    while index < len(text) and dropped < cells:
        dropped += cell_len(text[index])
        index += 1
    return text[index:], dropped
