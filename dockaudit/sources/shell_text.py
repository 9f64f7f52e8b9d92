"""Shell text as the readers see it.

A `View` is a piece of code to read and where each of its characters sits in
the file; `mentions_tool` is the pre-filter that skips text naming no
container tool; `mask_placeholders` blanks out documentation placeholders
(``<host-dir>``) that a shell would read as redirections.
"""

from __future__ import annotations

import re

TOOLS = ("docker", "podman", "nerdctl")
TOOL_MENTION = re.compile(r"docker|podman|nerdctl", re.IGNORECASE)
# Documentation placeholders. The angle-bracket form must not swallow real
# redirections: no blank after "<" or before ">", and never after "<" or a digit.
_ANGLE = r"(?<![<0-9&])<[A-Za-z_][\w.:/@+=,-]*(?: [\w.:/@+=,-]+)*>"
_MASKED = re.compile(_ANGLE + r"|\{\{[^'\"\n]*?\}\}")
PLACEHOLDER = re.compile(
    _ANGLE + r"|%%[A-Za-z_][A-Za-z0-9_]*%%|\{\{.*?\}\}|\[[A-Z][A-Z0-9_ .:-]*\]"
    # an elision ("...", "[...]") and usage syntax ("IMAGE[:TAG][@DIGEST]")
    r"|^(?:\.{3,}|\u2026)$|\[\s*(?:\.{3,}|\u2026)\s*\]|^[A-Z][A-Z0-9_]*\[[:@]"
)


def mentions_tool(text: str) -> bool:
    """The pre-filter: could *text* hold an invocation at all?"""
    return TOOL_MENTION.search(text) is not None


def mask_placeholders(text: str) -> str:
    """*text* with ``<host-dir>``-style placeholders blanked out, lengths unchanged.

    Unmasked, a shell reads ``<image>`` as two redirections.
    """
    if "<" not in text and "{{" not in text:
        return text
    return _MASKED.sub(lambda m: "_" * len(m.group()), text)


class View:
    """A text to read as shell code, and where each of its characters sits in the file.

    The file itself is a view with ``offsets`` None (``base`` + index); a
    string run by ``sh -c`` is a view of the string after quote removal,
    with one file offset per character.
    """

    __slots__ = ("text", "offsets", "base")

    def __init__(self, text: str, offsets: list[int] | None, base: int) -> None:
        self.text = text
        self.offsets = offsets
        self.base = base

    def orig(self, index: int) -> int:
        if self.offsets is None:
            return self.base + index
        if index < len(self.offsets):
            return self.offsets[index]
        return (self.offsets[-1] + 1) if self.offsets else self.base

    def span(self, start: int, end: int) -> tuple[int, int]:
        """File offsets [start, end) of the view's characters [start, end)."""
        if self.offsets is None:  # the file itself (or a block of it): one step for both ends
            return self.base + start, self.base + max(start, end)
        if end <= start:
            point = self.orig(start)
            return point, point
        return self.orig(start), self.orig(end - 1) + 1

    def sub(self, start: int, end: int) -> View:
        if self.offsets is None:
            return View(self.text[start:end], None, self.base + start)
        return View(self.text[start:end], self.offsets[start:end], 0)
