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
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field

from dockaudit import __version__
from dockaudit.model import ContainerRef, EngineRef, Finding, Location
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
    engine: EngineRef | None = None  # live: the engine concerned


@dataclass(frozen=True)
class BaselineOutcome:
    """What applying a baseline did, for the report."""

    path: str
    known: int  # findings hidden because the baseline holds them
    unmatched: int  # entries for checked files that match no finding any more


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
    baseline: BaselineOutcome | None = None  # the known findings are already left out of findings

    def visible(self) -> list[Finding]:
        """The findings to print: suppressed ones only when asked for."""
        if self.show_suppressed:
            return list(self.findings)
        return [f for f in self.findings if f.suppressed is None]

    def relative_path(self, path: str) -> str:
        """*path* relative to `base_dir` with ``/`` separators, or absolute when outside it."""
        return relative_path(path, self.base_dir)


Formatter = Callable[[Report], str]


def baseline_note(report: Report) -> str | None:
    """What the baseline hid and what of it no longer matches, in one sentence."""
    outcome = report.baseline
    if outcome is None:
        return None
    note = f"baseline {outcome.path}: {outcome.known} known finding{'s' if outcome.known != 1 else ''} not shown"
    if outcome.unmatched:
        note += (f"; {outcome.unmatched} entr{'ies' if outcome.unmatched != 1 else 'y'} no longer "
                 "match (--write-baseline records the smaller baseline)")
    return note


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
    """What a finding is about, as one token: ``path``, ``container/<name>`` or ``service/<name>``.

    A finding read from an engine adds the engine's name: ``container/web@prod``, ``host@prod``.
    """
    if finding.location is not None:
        return finding.location.path
    subject = f"{finding.container.kind}/{container_name(finding.container)}" if finding.container else "host"
    return f"{subject}@{finding.engine.name}" if finding.engine is not None else subject


def fingerprints(findings: list[Finding], base_dir: str = ".") -> list[str]:
    """One stable fingerprint per finding, in order: SARIF's and the baseline's.

    The rule, what the finding is about (the file relative to *base_dir*, or the
    container) and the normalised command decide it, never the line: moving a command
    keeps its findings' fingerprints. Identical findings are told apart by their count.
    """
    import hashlib  # only SARIF and baselines ask for fingerprints

    seen: Counter[tuple[str, str, str]] = Counter()
    prints = []
    for finding in findings:
        basis = finding.fingerprint_basis if finding.fingerprint_basis is not None else finding.message
        subject = finding_subject(finding)
        if finding.location is not None:
            subject = relative_path(subject, base_dir)
        key = (finding.rule_id, subject, basis)
        occurrence = seen[key]
        seen[key] += 1
        data = "\0".join((*key, str(occurrence)))
        prints.append(hashlib.sha256(data.encode("utf-8")).hexdigest())
    return prints


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


# Characters a terminal acts on instead of showing: C0 controls but tab and line feed,
# DEL, C1 controls (U+009B is a one-byte CSI), and the bidirectional overrides and
# isolates that make a line read differently from what it holds.
_BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
_UNPRINTABLE = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code not in (0x09, 0x0A)
} | {code: f"\\u{code:04x}" for code in _BIDI_CONTROLS}


def printable(text: str) -> str:
    """*text* with every control character spelt as an escape (ESC as ``\\x1b``).

    Tab and line feed are kept: each format lays them out itself. Checked files and
    container labels are untrusted: nothing in them may reach a terminal raw.
    """
    if text.isascii() and text.isprintable():
        return text
    return text.translate(_UNPRINTABLE)


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
        "markdown": "dockaudit.report.markdown",
    }
)
