"""What every output format receives, and the registry of formats.

The engine builds one `Report`; a formatter turns it into text. Formatters are
looked up by name in `FORMATTERS`, which imports a format's module only when
that format is asked for: ``--format sarif`` must not pay for ``rich``.

A format module exposes ``render(report: Report) -> str``. Plugins add formats
through the ``dockaudit_formatters`` hook; their callables are stored with
``FORMATTERS[name] = callable``.
"""

from __future__ import annotations

import importlib
import os
import posixpath
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field

from dockaudit import __version__
from dockaudit.model import ContainerRef, Finding, Location
from dockaudit.rulebase import Rule


@dataclass(frozen=True)
class Notification:
    """A problem with the run rather than with a container: a file that could not be read.

    ``path`` is the file concerned, or "" for a problem of the run as a whole.
    """

    path: str
    message: str
    level: str = "error"  # "error" or "warning"
    line: int | None = None


@dataclass
class Report:
    """The outcome of one run, as every formatter sees it."""

    findings: list[Finding]  # sorted; suppressed ones included (finding.suppressed set)
    rules: list[type[Rule]]  # the enabled rules, in id order
    files: dict[str, Sequence[str]] = field(default_factory=dict)  # path as given -> lines
    notifications: list[Notification] = field(default_factory=list)
    show_suppressed: bool = False
    tool_version: str = __version__
    live: bool = False
    base_dir: str = "."  # what relative paths in SARIF and GitHub annotations are relative to

    def visible(self) -> list[Finding]:
        """The findings to print: suppressed ones only when asked for."""
        if self.show_suppressed:
            return list(self.findings)
        return [f for f in self.findings if f.suppressed is None]

    def relative_path(self, path: str) -> str:
        """*path* relative to `base_dir` with ``/`` separators, or absolute when outside it."""
        return relative_path(path, self.base_dir)


Formatter = Callable[[Report], str]


def relative_path(path: str, base_dir: str) -> str:
    """*path* relative to *base_dir* with ``/`` separators, or absolute when it lies outside."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, os.path.abspath(base_dir))
    except ValueError:  # another drive on Windows
        return absolute.replace(os.sep, "/")
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return absolute.replace(os.sep, "/")
    return posixpath.normpath(rel.replace(os.sep, "/"))


def finding_subject(finding: Finding) -> str:
    """What a finding is about, as one token: ``path`` or ``container/<name>``."""
    if finding.location is not None:
        return finding.location.path
    if finding.container is not None:
        return f"container/{container_name(finding.container)}"
    return "host"


def container_name(container: ContainerRef) -> str:
    """A container's name, or its id when it has none."""
    return container.name or container.id


def region_text(lines: Sequence[str], loc: Location) -> str | None:
    """The text *loc* covers in *lines*, or None when the file does not hold it."""
    if not 1 <= loc.line <= loc.end_line <= len(lines):
        return None
    if loc.line == loc.end_line:
        return lines[loc.line - 1][loc.column - 1 : max(loc.end_column - 1, loc.column - 1)]
    parts = [lines[loc.line - 1][loc.column - 1 :]]
    parts.extend(lines[loc.line : loc.end_line - 1])
    parts.append(lines[loc.end_line - 1][: loc.end_column - 1])
    return "\n".join(parts)


def one_line(text: str) -> str:
    """*text* with line breaks folded into spaces, for one-finding-per-line formats."""
    return " ".join(text.split("\n")).replace("\r", "")


def suppressed_note(finding: Finding) -> str:
    """``(suppressed)`` or ``(suppressed: reason)``; empty for a finding that is not."""
    if finding.suppressed is None:
        return ""
    return f"(suppressed: {finding.suppressed})" if finding.suppressed else "(suppressed)"


class FormatterRegistry(MutableMapping[str, Formatter]):
    """Format name -> formatter; built-in formats are imported on first use."""

    def __init__(self, builtin: dict[str, str]) -> None:
        self._modules = dict(builtin)  # name -> module path, not imported yet
        self._loaded: dict[str, Formatter] = {}

    def __getitem__(self, name: str) -> Formatter:
        if name not in self._loaded:
            module = self._modules[name]  # KeyError for an unknown format
            self._loaded[name] = importlib.import_module(module).render
        return self._loaded[name]

    def __setitem__(self, name: str, formatter: Formatter) -> None:
        self._modules.pop(name, None)
        self._loaded[name] = formatter

    def __delitem__(self, name: str) -> None:
        if name not in self._modules and name not in self._loaded:
            raise KeyError(name)
        self._modules.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._loaded if name not in self._modules)

    def __len__(self) -> int:
        return len(self._modules.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._modules or name in self._loaded


FORMATTERS: FormatterRegistry = FormatterRegistry(
    {
        "text": "dockaudit.report.text",
        "json": "dockaudit.report.json",
        "sarif": "dockaudit.report.sarif",
        "github": "dockaudit.report.github",
        "parsable": "dockaudit.report.parsable",
    }
)
