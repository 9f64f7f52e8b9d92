"""The static pipeline as functions: text in, `Script` or findings out.

    text ─ extract_shell / extract_markdown ─► Invocation
         ─ parse_invocation ─► DockerCommand ─ spec_from_command ─► ContainerSpec
         ─ Script ─ Engine ─► Finding[]

The command line uses these, and so do tests and anyone embedding dockaudit.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from dockaudit.config import Config, parse_config
from dockaudit.engine import Engine
from dockaudit.memory import collector_paused
from dockaudit.model import Finding, Location, Script, ScriptCommand, TextLines, settle_intent
from dockaudit.plugins import LoadedRules, load_rules

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mdx"}
SHELL_SUFFIXES = {".sh", ".bash", ".ksh", ".zsh", ".dash", ".bats", ".ash", ".mksh", ".command"}


def guess_kind(path: str, text: str) -> str:
    """``markdown`` or ``shell``: by suffix, then by content for other files."""
    suffix = PurePath(path).suffix.lower()
    if suffix in SHELL_SUFFIXES:
        return "shell"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if text.startswith("#!"):
        return "shell"
    from dockaudit.sources.markdown import looks_like_markdown

    return "markdown" if looks_like_markdown(text) else "shell"


@collector_paused()
def read_script(text: str, path: str = "script.sh", kind: str | None = None) -> Script:
    """Parse *text* into a `Script`: every docker command, its spec, its suppressions."""
    from dockaudit.grammar import parse_invocation
    from dockaudit.spec import spec_from_command
    from dockaudit.suppress import build_suppressions

    kind = kind or guess_kind(path, text)
    if kind == "markdown":
        from dockaudit.sources.markdown import extract_markdown

        extraction = extract_markdown(text, path)
    else:
        from dockaudit.sources.shell import extract_shell

        extraction = extract_shell(text, path)
    commands = []
    for invocation in extraction.invocations:
        command = parse_invocation(invocation)
        spec = spec_from_command(command) if command.subcommand in (("run",), ("create",)) else None
        if command.subcommand[:1] == ("service",):  # Swarm support only when a file uses it
            from dockaudit.sources.swarm import SERVICE_COMMANDS, spec_from_service_command

            if command.subcommand in SERVICE_COMMANDS:
                spec = spec_from_service_command(command)
        commands.append(ScriptCommand(command=command, spec=spec))
    lines = TextLines(text)
    commands, purpose, scopes = _intent(path, kind, lines, commands)
    spans = [(c.command.loc.line, c.command.loc.end_line) for c in commands]
    suppressions, orphans = build_suppressions(path, lines, spans)
    script = Script(
        path=path,
        kind=kind,
        commands=tuple(commands),
        problems=tuple(extraction.problems),
        suppressions=suppressions,
        lines=lines,
        stray_directives=tuple(
            (Location(path, d.line, d.column, d.line, d.end_column), why) for d, why in orphans
        ),
        purpose=purpose.name,
        purpose_why=purpose.why,
        scopes=scopes,
    )
    return script


def _intent(path: str, kind: str, lines: Sequence[str], commands: list[ScriptCommand]):
    """Each container's lifecycle, the file's purpose and, for Markdown, its scopes."""
    from dockaudit.intent import (
        built_images,
        container_lifecycles,
        guess_purpose,
        image_origin,
        markdown_scopes,
    )

    if not commands:
        return commands, guess_purpose(path, kind, lines, commands), None
    decided = container_lifecycles(commands, lines)
    built = built_images(commands)
    for entry, verdict in zip(commands, decided, strict=True):
        if verdict is not None and entry.spec is not None:  # specs this reading built: see settle_intent
            settle_intent(entry.spec, verdict[0], verdict[1], image_origin(entry, built))
    scopes = tuple(tuple(s) for s in markdown_scopes(commands, lines)) if kind == "markdown" else None
    return commands, guess_purpose(path, kind, lines, commands), scopes


@functools.lru_cache(maxsize=1)
def default_rules() -> LoadedRules:
    return load_rules()


def check_text(
    text: str,
    path: str = "script.sh",
    *,
    kind: str | None = None,
    config: dict[str, Any] | Config | None = None,
    today: dt.date | None = None,
) -> list[Finding]:
    """Run the whole static pipeline on *text*; suppressed findings are included, marked."""
    loaded = default_rules()
    if isinstance(config, Config):
        cfg = config
    else:
        cfg = parse_config(config, loaded.rules, "<config>") if config else Config()
    engine = Engine(loaded.rules, cfg, today=today)
    result = engine.check_script(read_script(text, path, kind))
    if result.errors:
        raise RuntimeError("; ".join(result.errors))
    return result.findings
