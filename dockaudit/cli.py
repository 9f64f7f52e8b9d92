"""The command line: arguments → config → sources → engine → report → exit code."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockaudit import __version__
from dockaudit.clibase import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    loaded_rules,
    print_error,
    rules_and_config,
)
from dockaudit.memory import collector_paused

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing and datetime at every start
if TYPE_CHECKING:
    import datetime as dt

FORMATS = ("auto", "text", "json", "sarif", "github", "parsable", "markdown")
SHELL_SHEBANG = ("sh", "bash", "dash", "ksh", "zsh", "ash", "mksh", "busybox")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".venv", "venv", ".mypy_cache"}
BINARY_SNIFF = 8192


# --- reading files ---------------------------------------------------------


@dataclass
class Inputs:
    """The files to read, in order, and what was wrong with the paths given."""

    files: list[str] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (path, message, level)


def _is_shell_file(path: Path) -> bool:
    from dockaudit.api import SHELL_SUFFIXES

    suffix = path.suffix.lower()
    if suffix in SHELL_SUFFIXES:
        return True
    if suffix:
        return False
    return _has_shell_shebang(path)


def _has_shell_shebang(path: Path) -> bool:
    if not path.is_file():  # a FIFO or device would block the read
        return False
    try:
        with path.open("rb") as handle:
            head = handle.readline(200)
    except OSError:
        return False
    if not head.startswith(b"#!"):
        return False
    words = head[2:].decode("latin-1").replace("/", " ").split()
    return any(word in SHELL_SHEBANG for word in words[:4])


def _is_markdown_file(path: Path) -> bool:
    from dockaudit.api import MARKDOWN_SUFFIXES

    return path.suffix.lower() in MARKDOWN_SUFFIXES


PLAIN_TEXT_SUFFIXES = (".txt", ".text", ".rst", ".adoc", ".asciidoc")


def not_a_source(path: Path) -> str | None:
    """Why a file named on the command line is none of the kinds `check` reads, or None.

    Shell scripts (by suffix or shebang) and Markdown are read; so are plain text files
    and files without a suffix, as Markdown or a script by their content. Anything else
    would pass as clean without a word: say so instead.
    """
    from dockaudit.api import MARKDOWN_SUFFIXES, SHELL_SUFFIXES

    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix in SHELL_SUFFIXES or suffix in MARKDOWN_SUFFIXES or suffix in PLAIN_TEXT_SUFFIXES:
        return None
    if name in ("dockerfile", "containerfile") or name.startswith(("dockerfile.", "containerfile.")) \
            or suffix in (".dockerfile", ".containerfile"):
        return "not checked: a Dockerfile builds an image; dockaudit reads how containers are started"
    if not suffix or _has_shell_shebang(path):
        return None
    if suffix == ".json":
        return "not checked: a JSON file is neither a shell script nor Markdown " \
            "(saved `docker inspect` output is read by `dockaudit inspect`)"
    return f"not checked: a {suffix} file is neither a shell script nor Markdown " \
        "(--kind shell or --kind markdown reads it as one)"


def _walk_error(inputs: Inputs, given: str):
    def report(error: OSError) -> None:
        inputs.notes.append((error.filename or given, f"cannot read directory: {error.strerror}", "error"))

    return report


_YAML_SUFFIXES = (".yml", ".yaml")


def _overridden(path: Path) -> Path | None:
    """The Compose file that *path* overrides, when it is an override file beside it."""
    if not path.name.lower().endswith(_YAML_SUFFIXES):
        return None
    from dockaudit.sources.compose_names import OVERRIDE_OF

    for base in OVERRIDE_OF.get(path.name.lower(), ()):
        if Path(path.parent, base).is_file():
            return Path(path.parent, base)
    return None


def _is_compose_file(path: Path, also_compose=None) -> bool:
    """A Compose file by name, or by a ``compose:`` glob of the configuration; an override file
    beside the file it overrides is read with that file, not on its own."""
    if also_compose is not None and also_compose(str(path)):
        return _overridden(path) is None
    if not path.name.lower().endswith(_YAML_SUFFIXES):
        return False
    from dockaudit.sources.compose_names import is_compose_name

    return is_compose_name(path.name) and _overridden(path) is None


def collect(paths: Sequence[str], kind: str | None = None, also_compose=None) -> Inputs:
    """Expand directories (shell files by suffix or shebang, Markdown, Compose files); keep files as given.

    A file given by name that is none of those is a notification, unless *kind* says how
    to read every file. *also_compose* tells the files to read as Compose files whatever
    their name (``--compose``, a ``compose:`` glob).
    """
    inputs = Inputs()
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path) if path != "-" else "-"
        if key not in seen:
            seen.add(key)
            inputs.files.append(path)

    for given in paths:
        if given == "-":
            add("-")
            continue
        path = Path(given)
        if path.is_dir():
            for root, dirs, names in os.walk(path, followlinks=False, onerror=_walk_error(inputs, given)):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(names):
                    candidate = Path(root, name)
                    if candidate.is_symlink() and not candidate.exists():
                        continue
                    if _is_markdown_file(candidate) or _is_shell_file(candidate) or \
                            _is_compose_file(candidate, also_compose):
                        add(str(candidate))
        elif path.is_symlink() and not path.exists():
            inputs.notes.append((given, "cannot read: a broken or looping symbolic link", "error"))
        elif path.exists():
            base = _overridden(path)
            if base is not None or _is_compose_file(path, also_compose):
                add(str(base) if base is not None else given)  # an override is read with its file
            else:
                reason = None if kind else not_a_source(path)
                if reason:
                    inputs.notes.append((given, reason, "error"))
                else:
                    add(given)
        else:
            inputs.notes.append((given, "no such file or directory", "error"))
    return inputs


@dataclass
class SourceText:
    """A file's text, or why it could not be read."""

    path: str
    text: str | None
    error: str | None = None
    warning: str | None = None


def read_source(path: str) -> SourceText:
    try:
        if path != "-" and not Path(path).is_dir() and not Path(path).is_file():
            return SourceText(path, None, "not a regular file (a FIFO, socket or device)")
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except IsADirectoryError:
        return SourceText(path, None, "is a directory")
    except OSError as exc:
        return SourceText(path, None, f"cannot read: {exc.strerror or exc}")
    if b"\x00" in data[:BINARY_SNIFF]:
        return SourceText(path, None, "binary file (it holds NUL bytes); not a script")
    try:
        return SourceText(path, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        return SourceText(path, text, warning=f"not valid UTF-8 (first bad byte at offset {exc.start}); read with replacement characters")


# --- report plumbing -------------------------------------------------------


def _pick_format(requested: str, output_file: str | None) -> str:
    if requested != "auto":
        return requested
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if output_file is None and sys.stdout.isatty():
        return "text"
    return "parsable"


def _use_color(output_file: str | None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return output_file is None and sys.stdout.isatty()


def emit(report, fmt: str, output_file: str | None, formatters: dict | None = None) -> None:
    from dockaudit.report import FORMATTERS

    for name, formatter in (formatters or {}).items():
        if name not in FORMATTERS:
            FORMATTERS[name] = formatter
    if fmt == "text":
        from dockaudit.report.text import render_text

        width = None
        if output_file is None and sys.stdout.isatty():
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        out = render_text(report, color=_use_color(output_file), width=width)
    else:
        if fmt not in FORMATTERS:
            raise UsageError(f"unknown format {fmt!r} (known: {', '.join(sorted(FORMATTERS))})")
        out = FORMATTERS[fmt](report)
    if output_file:
        try:
            Path(output_file).write_text(out, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output_file}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(out)
        sys.stdout.flush()


def _progress(total: int, label: str):
    """A progress bar on stderr, only on a terminal and only for long runs."""
    if total < 50 or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(file=sys.stderr), transient=True)
    progress.start()
    task = progress.add_task(label, total=total)
    return progress, task


def _status_spinner(label: str):
    """A spinner on stderr while waiting for an engine, only on a terminal."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.console import Console

    status = Console(file=sys.stderr).status(label)
    status.start()
    return status


# --- commands --------------------------------------------------------------


@collector_paused()  # see dockaudit.memory
def cmd_check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from dockaudit.api import read_script
    from dockaudit.config import Config, ConfigError, ConfigFinder
    from dockaudit.engine import Engine, at_or_above
    from dockaudit.report import Notification, Report

    loaded = loaded_rules()
    try:
        finder = ConfigFinder(loaded.rules, args.config)
    except ConfigError as exc:  # the --config file itself is wrong: nothing can be checked
        print_error(str(exc))
        return EXIT_ERROR
    given = [*args.paths, *args.compose]
    try:
        base_config = finder.for_path(given[0] if given[0] != "-" else None)
    except ConfigError:
        base_config = Config()  # reported below, with the files it applies to

    inputs = collect(given, args.kind, _config_compose(finder, args.compose))
    notifications = [Notification(path, message, level) for path, message, level in inputs.notes]
    hard_error = any(level == "error" for _, _, level in inputs.notes)
    engines: dict[int, Engine] = {}
    fixes = _Fixes()
    findings = []
    files: dict[str, tuple[str, ...]] = {}
    internal_errors: list[str] = []
    enabled_rules: dict[str, type] = {}
    stacks: set[tuple] = set()  # the stacks read from docker stack deploy commands: each once
    bar = _progress(len(inputs.files), "checking")
    for path in inputs.files:
        if bar:
            bar[0].advance(bar[1])
        try:
            config = finder.for_path(path)
        except ConfigError as exc:  # a broken config below one folder: the other files go on
            notifications.append(Notification(path, f"not checked: {exc}", "error"))
            hard_error = True
            continue
        if path != "-" and config.excludes(path):
            continue
        source = read_source(path)
        shown = args.stdin_filename if path == "-" and args.stdin_filename else ("<stdin>" if path == "-" else path)
        if source.text is None:
            notifications.append(Notification(shown, source.error or "cannot read", "error"))
            hard_error = True
            continue
        if source.warning:
            notifications.append(Notification(shown, source.warning, "warning"))
        engine = engines.get(id(config))  # the finder caches configs: one engine each
        if engine is None:
            effective = replace(config, inline_ignores=False) if args.no_inline_ignores else config
            if args.profile:
                effective = replace(effective, profile=args.profile)
            engine = engines[id(config)] = Engine(loaded.rules, effective, today=_today())
            enabled_rules.update({r.id: type(r) for r in engine.rules})
        if _reads_as_compose(path, shown, args, config):
            from dockaudit.sources.compose import read_compose
            from dockaudit.sources.compose_load import ComposeError

            try:
                compose = read_compose(source.text, shown)
            except ComposeError as exc:
                notifications.append(Notification(shown, f"not read as a Compose file: {exc}", "error"))
                hard_error = True
                continue
            notifications.extend(Notification(shown, note, "warning") for note in compose.notes)
            files.update(compose.files)
            script = compose.script
        else:
            try:
                script = read_script(source.text, shown, kind=args.kind)
            except RecursionError:
                notifications.append(Notification(shown, "too deeply nested to read", "error"))
                hard_error = True
                continue
        result = engine.check_script(script)
        if args.fix or args.diff:
            fixed = _fix(args, path, shown, source, script, result.findings, fixes, notifications)
            if fixed is not None:
                script, result = fixed, engine.check_script(fixed)
        internal_errors.extend(result.errors)
        findings.extend(result.findings)
        files[shown] = script.lines
        if script.kind != "compose" and any(c.command.subcommand == ("stack", "deploy") for c in script.commands):
            from dockaudit.sources.stack import deployed_stacks

            for stack in deployed_stacks(script, shown, stacks):
                notifications.extend(Notification(where, note, "warning") for where, note in stack.notes or ())
                if stack.script is not None:
                    checked = engine.check_script(stack.script)
                    internal_errors.extend(checked.errors)
                    findings.extend(checked.findings)
                    files.update(stack.files or {})
    if bar:
        bar[0].stop()
    for message in internal_errors:
        notifications.append(Notification("", f"internal error: {message}", "error"))
    if args.diff:
        return _finish_diff(fixes, notifications, hard_error or bool(internal_errors))
    if args.fix and fixes.count:
        sys.stderr.write(f"dockaudit: fixed {fixes.count} problem{'s' if fixes.count != 1 else ''} "
                         f"in {fixes.files} file{'s' if fixes.files != 1 else ''}\n")
    if not engines:
        if args.profile:
            base_config = replace(base_config, profile=args.profile)
        enabled_rules = {r.id: r for r in loaded.rules.values() if base_config.is_enabled(r)}
    findings.sort(key=lambda f: f.sort_key())
    try:
        findings, outcome = _baseline(args, findings, list(files))
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    report = Report(
        findings=findings,
        rules=[enabled_rules[k] for k in sorted(enabled_rules)],
        files=files,
        notifications=notifications,
        show_suppressed=args.show_suppressed,
        baseline=outcome,
    )
    fail_on = args.fail_on or base_config.fail_on or "warning"
    fmt = _pick_format(args.format, args.output_file)
    try:
        emit(report, fmt, args.output_file, loaded.formatters)
        for also_format, also_file in args.also_output or ():
            emit(report, also_format, also_file, loaded.formatters)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    if outcome is not None and fmt not in ("text", "json"):  # those two say it in the report
        from dockaudit.report import baseline_note

        sys.stderr.write(f"dockaudit: {baseline_note(report)}\n")
    if hard_error or internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if at_or_above(findings, fail_on) else EXIT_OK


def _config_compose(finder, given: Sequence[str] = ()):
    """A test for the files given with --compose and the ``compose`` globs of the configuration."""
    from dockaudit.config import ConfigError

    def reads_as_compose(path: str) -> bool:
        if path in given:
            return True
        try:
            return finder.for_path(path).reads_as_compose(path)
        except ConfigError:
            return False

    return reads_as_compose


def _reads_as_compose(path: str, shown: str, args: argparse.Namespace, config=None) -> bool:
    """Whether to read *path* as a Compose file: --kind, --compose, its name, or a config glob."""
    if args.kind is not None:
        return args.kind == "compose"
    if path in getattr(args, "compose", ()) or (config is not None and config.reads_as_compose(path)):
        return True
    if not shown.lower().endswith(_YAML_SUFFIXES):
        return False  # a script or Markdown file: nothing of Compose is imported
    from dockaudit.sources.compose_names import is_compose_name

    return is_compose_name(Path(shown).name)
@dataclass
class _Fixes:
    diffs: list[str] = field(default_factory=list)
    count: int = 0
    files: int = 0


def _fix(args, path: str, shown: str, source: SourceText, script, findings, fixes: _Fixes, notifications):
    """With --diff, record the file's safe fixes; with --fix, write them. The fixed script, or None."""
    from dockaudit.fix import fix_script, unified_diff
    from dockaudit.report import Notification

    if source.warning:  # rewriting would also rewrite the bytes that are not UTF-8
        return None
    fixed = fix_script(source.text or "", script, findings)
    if fixed is None:
        return None
    if args.diff:
        fixes.diffs.append(unified_diff(shown, source.text or "", fixed.text))
        fixes.count += fixed.count
        return None
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:  # line endings as they were
            handle.write(fixed.text)
    except OSError as exc:
        notifications.append(Notification(shown, f"cannot write the fixes: {exc.strerror or exc}", "error"))
        return None
    fixes.count += fixed.count
    fixes.files += 1
    return fixed.script


def _finish_diff(fixes: _Fixes, notifications, failed: bool) -> int:
    """--diff: the fixes as one unified diff; exit 1 when there is one, 2 when something failed."""
    sys.stdout.write("".join(fixes.diffs))
    sys.stdout.flush()
    for note in notifications:
        where = f"{note.path}: " if note.path else ""
        if note.level == "error":
            print_error(f"{where}{note.message}")
        else:
            from dockaudit.report import printable

            sys.stderr.write(f"dockaudit: warning: {printable(where + note.message)}\n")
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if fixes.diffs else EXIT_OK


def _baseline(args: argparse.Namespace, findings: list, checked: list[str]):
    """The findings left once the baseline is applied (written first with --write-baseline)."""
    path = args.write_baseline or args.baseline
    if not path:
        return findings, None
    from dockaudit.baseline import BaselineError, apply_baseline, read_baseline, write_baseline

    try:
        if args.write_baseline:
            count = write_baseline(path, findings)
            sys.stderr.write(f"dockaudit: recorded {count} finding{'s' if count != 1 else ''} in {path}\n")
        entries = read_baseline(path)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None
    return apply_baseline(findings, entries, path, checked)


def _today() -> dt.date | None:
    value = os.environ.get("DOCKAUDIT_TODAY")
    if value:
        import datetime as dt

        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"DOCKAUDIT_TODAY must be a date like 2026-01-31, got {value!r}") from None
    return None


def cmd_show(args: argparse.Namespace) -> int:
    from dockaudit.api import read_script
    from dockaudit.specjson import spec_to_dict

    entries: list[dict] = []
    status = EXIT_OK
    if args.inspect:
        specs, errors = _inspect_specs(args.paths)
        for path, message in errors:
            print_error(f"{path}: {message}" if not message.startswith(path) else message)
            status = EXIT_ERROR
        entries.extend(spec_to_dict(spec) for spec in specs)
    else:
        inputs = collect([*args.paths, *args.compose], args.kind, lambda p: p in args.compose)
        for path, message, _level in inputs.notes:
            print_error(f"{path}: {message}")
            status = EXIT_ERROR
        for path in inputs.files:
            source = read_source(path)
            if source.text is None:
                print_error(f"{path}: {source.error}")
                status = EXIT_ERROR
                continue
            shown = "<stdin>" if path == "-" else path
            if _reads_as_compose(path, shown, args):
                from dockaudit.sources.compose_load import ComposeError

                try:
                    entries.extend(_compose_entries(source.text, shown))
                except ComposeError as exc:
                    print_error(f"{shown}: not read as a Compose file: {exc}")
                    status = EXIT_ERROR
                continue
            script = read_script(source.text, shown, kind=args.kind)
            stated = rules_and_config(args, None if path == "-" else path)[1].purpose_of(shown)
            if stated is not None:
                script = dataclasses.replace(script, purpose=stated, purpose_why="stated by the configuration")
            for entry in script.commands:
                command = entry.command
                data = {
                    "location": f"{command.loc.path}:{command.loc.line}:{command.loc.column}",
                    "purpose": {"verdict": script.purpose, "why": script.purpose_why},
                    "command": " ".join(part for part in command.subcommand),
                    "program": command.invocation.program,
                    "incomplete": command.incomplete,
                    "problems": [
                        {"rule": p.rule_id, "message": p.message, "line": p.loc.line, "column": p.loc.column}
                        for p in command.problems
                    ],
                }
                if entry.spec is not None:
                    data["spec"] = spec_to_dict(entry.spec)
                else:
                    data["options"] = [
                        {"name": o.name, "value": o.value_text if o.value_text is None or isinstance(o.value_text, str) else "<unknown>"}
                        for o in command.options
                    ]
                    data["operands"] = [w.value if w.is_known else "<unknown>" for w in command.operands]
                entries.append(data)
            for problem in script.problems:
                entries.append({"location": str(problem.loc), "unreadable": problem.message})
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
    else:
        _show_rich(entries)
    return status


def _compose_entries(text: str, shown: str) -> list[dict]:
    """One ``show`` entry per service of a Compose file."""
    from dockaudit.sources.compose import read_compose
    from dockaudit.specjson import spec_to_dict

    entries = []
    read = read_compose(text, shown)
    for service, entry in zip(read.services, read.script.commands, strict=True):
        command = entry.command
        entries.append({
            "location": f"{command.loc.path}:{command.loc.line}:{command.loc.column}",
            "command": f"compose service {service}",
            "service": service,
            "problems": [
                {"rule": p.rule_id, "message": p.message, "line": p.loc.line, "column": p.loc.column}
                for p in command.problems
            ],
            "spec": spec_to_dict(entry.spec) if entry.spec is not None else None,
        })
    return entries


def _show_rich(entries: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from dockaudit.report import printable

    def plain(value: object) -> Text:  # file text and labels: no markup, no control characters
        return Text(printable(str(value)))

    terminal = sys.stdout.isatty()
    # On a terminal the tables fit its width; into a file or a pipe nothing is cut or wrapped.
    console = Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False,
                      width=None if terminal else 10_000)
    for entry in entries:
        spec = entry.get("spec", entry if "source" in entry else None)
        title = entry.get("location") or (spec or {}).get("container", {}) or ""
        if "unreadable" in entry:
            console.print(Text.assemble((printable(entry["location"]), "bold"),
                                        f"  could not be read: {printable(entry['unreadable'])}"))
            continue
        table = Table(title=plain(f"{title}  {entry.get('command', '')}".strip()), title_justify="left",
                      show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        shown = spec if spec is not None else {k: v for k, v in entry.items() if k != "location"}
        for key, value in shown.items():
            if value in (None, False, [], {}, ()) and key not in ("image",):
                continue
            table.add_row(plain(key), plain(value))
        for problem in entry.get("problems", []):
            table.add_row(plain(problem["rule"]), plain(f"{problem['line']}:{problem['column']} {problem['message']}"))
        console.print(table)


def _inspect_specs(paths: Sequence[str]):
    """The specs of saved inspect documents, and (path, message) for files that failed.

    Container ids are named from every document given, so ``container:<id>``
    modes read as names, as they do live.
    """
    from dockaudit.sources.inspect import InspectError, load_inspect_documents, spec_from_inspect

    documents: list[dict] = []
    errors: list[tuple[str, str]] = []
    for path in paths:
        source = read_source(path)
        if source.text is None:
            errors.append((path, source.error or "cannot read"))
            continue
        try:
            documents.extend(load_inspect_documents(source.text, path))
        except InspectError as exc:
            errors.append((path, str(exc)))
    names = {
        doc["Id"]: doc["Name"].lstrip("/")
        for doc in documents
        if isinstance(doc.get("Id"), str) and isinstance(doc.get("Name"), str)
    }
    return [spec_from_inspect(doc, names=names) for doc in documents], errors


def cmd_inspect(args: argparse.Namespace) -> int:
    from dockaudit.engine import Engine
    from dockaudit.report import Notification

    loaded, config = rules_and_config(args)
    specs, errors = _inspect_specs(args.paths)
    notifications = [Notification(path, message, "error") for path, message in errors]
    hard_error = bool(errors)
    engine = Engine(loaded.rules, config, today=_today())
    result = engine.check_live(specs, None)
    return _finish_live(args, loaded, config, engine, result, notifications, hard_error)


def _finish_live(args, loaded, config, engine, result, notifications, hard_error) -> int:
    from dockaudit.engine import at_or_above
    from dockaudit.report import Notification, Report

    for message in result.errors:
        notifications.append(Notification("", f"internal error: {message}", "error"))
    report = Report(
        findings=result.findings,
        rules=[type(r) for r in engine.rules],
        notifications=notifications,
        show_suppressed=args.show_suppressed,
        live=True,
    )
    try:
        emit(report, _pick_format(args.format, args.output_file), args.output_file, loaded.formatters)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    if hard_error or result.errors:
        return EXIT_ERROR
    fail_on = args.fail_on or config.fail_on or "warning"
    return EXIT_FINDINGS if at_or_above(result.findings, fail_on) else EXIT_OK


def cmd_live(args: argparse.Namespace) -> int:
    from dockaudit.sources.contexts import resolve_endpoints
    from dockaudit.sources.live import FleetReading

    endpoints, unusable = resolve_endpoints(args.host or [], args.context or [], args.all_contexts)
    # Most of a run is waiting for the engines: they are asked first, and the rules, the configuration
    # and what the report needs are loaded while they answer.
    reading = FleetReading(endpoints, all=args.all, names=args.name or [], labels=args.label or [],
                           timeout=args.timeout)

    from dockaudit.engine import Engine, EngineResult
    from dockaudit.model import EngineRef
    from dockaudit.report import Notification

    loaded, config = rules_and_config(args)
    notifications = []
    for name, problem in unusable:
        print_error(f"context {name}: {problem}")
        notifications.append(Notification("", f"context {name}: {problem}", "error"))
    status = _status_spinner(f"reading the containers of {len(endpoints)} engine{'s' if len(endpoints) != 1 else ''}")
    try:
        audits = reading.result()
    finally:
        if status:
            status.stop()
    engine = Engine(loaded.rules, config, today=_today())
    result = EngineResult()
    for audit in audits:
        ref = EngineRef(audit.endpoint.name, audit.endpoint.host)
        if audit.result is None:
            print_error(f"engine {_engine_label(ref)}: {audit.error}")
            notifications.append(Notification("", f"engine {_engine_label(ref)}: {audit.error}", "error", engine=ref))
            continue
        checked = engine.check_live([*audit.result.specs, *audit.result.services], audit.result.host, ref)
        result.findings.extend(checked.findings)
        result.errors.extend(checked.errors)
        notifications.extend(Notification("", f"engine {_engine_label(ref)}: {note}", "warning", engine=ref)
                             for note in audit.result.notes)
    result.findings.sort(key=lambda f: f.sort_key())
    hard_error = bool(unusable) or any(a.result is None for a in audits)
    return _finish_live(args, loaded, config, engine, result, notifications, hard_error)


def _engine_label(ref) -> str:
    return ref.name if ref.name == ref.endpoint else f"{ref.name} ({ref.endpoint})"


def cmd_rules(args: argparse.Namespace) -> int:

    loaded, config = rules_and_config(args)
    rows = []
    for rule_id, rule in loaded.rules.items():
        sources = "+".join(sorted(s.value for s in rule.sources))
        rows.append(
            {
                "id": rule_id,
                "name": rule.name,
                "severity": str(config.severity_of(rule)),
                "sources": sources,
                "enabled": config.is_enabled(rule),
                "plugin": loaded.provider[rule_id],
                "summary": rule.summary(),
            }
        )
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False)
    for column in ("id", "name", "severity", "sources", "enabled", "plugin"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["name"], row["severity"], row["sources"], "yes" if row["enabled"] else "off", row["plugin"])
    Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False, width=120).print(table)
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    loaded = loaded_rules()
    rule_id = args.rule.upper()
    rule = loaded.rules.get(rule_id)
    if rule is None:
        by_name = {r.name: r for r in loaded.rules.values()}
        rule = by_name.get(args.rule)
    if rule is None:
        from dockaudit.spelling import closest

        guess = closest(rule_id, loaded.rules) or closest(args.rule, [r.name for r in loaded.rules.values()])
        hint = f" (did you mean {guess}?)" if guess else ""
        print_error(f"no rule {args.rule!r}{hint}; `dockaudit rules` lists them")
        return EXIT_ERROR
    from rich.console import Console
    from rich.markdown import Markdown

    header = f"# {rule.id} {rule.name}\n\n"
    meta = [f"**severity:** {rule.severity}", f"**sources:** {', '.join(sorted(s.value for s in rule.sources))}"]
    if rule.cis:
        meta.append(f"**CIS Docker Benchmark:** {rule.cis}")
    if rule.service_only:
        meta.append("**applies to:** long-running containers only")
    if not rule.enabled_by_default:
        meta.append("**off by default** (enable it in `.dockaudit.yaml` or with `profile: strict`)")
    elif rule.profile != "default":
        meta.append(f"**profile:** {rule.profile}")
    options = "".join(f"\n- `{name}` (default `{opt.default!r}`): {opt.help}" for name, opt in rule.options.items())
    silent = "".join(f"\n- {line}" for line in rule.stays_silent())
    body = (header + " · ".join(meta) + "\n\n" + rule.doc() + f"\n\n**When it stays silent**{silent}"
            + (f"\n\n**Options**{options}" if options else ""))
    Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False, width=100).print(Markdown(body))
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    import yaml


    loaded, config = rules_and_config(args, str(Path(args.path, "x")) if args.path else None)
    sys.stdout.write(yaml.safe_dump(config.to_dict(loaded.rules), sort_keys=False))
    return EXIT_OK


def cmd_install_docker_plugin(args: argparse.Namespace) -> int:
    from dockaudit.dockerplugin import PluginError, install, plugin_path, uninstall

    path = plugin_path()
    try:
        done = uninstall(path) if args.uninstall else install(path)
    except PluginError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    sys.stdout.write(f"dockaudit: {done}\n")
    return EXIT_OK


# --- arguments -------------------------------------------------------------


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--format", choices=FORMATS, default="auto",
                        help="output format (auto: github under GitHub Actions, text on a terminal, parsable otherwise)")
    parser.add_argument("-o", "--output-file", help="write the report to this file instead of standard output")
    parser.add_argument("--fail-on", choices=("error", "warning", "info", "never"),
                        help="lowest severity that makes the exit code 1 (default: warning, or fail-on in the config)")
    parser.add_argument("-c", "--config", help="configuration file (default: the nearest .dockaudit.yaml)")
    parser.add_argument("--show-suppressed", action="store_true", help="also report suppressed findings, marked")


def _format_and_file(text: str) -> tuple[str, str]:
    fmt, eq, path = text.partition("=")
    if not eq or not path or fmt not in FORMATS or fmt == "auto":
        choices = ", ".join(f for f in FORMATS if f != "auto")
        raise argparse.ArgumentTypeError(f"expected FORMAT=FILE with FORMAT one of {choices}, got {text!r}")
    return fmt, path


def _add_check(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    check = sub.add_parser(name, help=summary, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories; - reads standard input")
    _add_report_options(check)
    check.add_argument("--no-inline-ignores", action="store_true", help="ignore # dockaudit ignore=… comments")
    check.add_argument("--kind", choices=("shell", "markdown", "compose"), help="read every file as this kind")
    check.add_argument("--compose", action="append", default=[], metavar="FILE",
                       help="also check FILE as a Compose file, whatever its name (repeatable)")
    check.add_argument("--stdin-filename", help="the name to report for standard input")
    check.add_argument("--profile", choices=("default", "cis", "strict"),
                       help="the rule profile, over the configuration's (cis: CIS hardening on every "
                            "container that may keep running; strict: every rule)")
    check.add_argument("--also-output", metavar="FORMAT=FILE", type=_format_and_file, action="append",
                       help="also write the report in FORMAT to FILE (repeatable), e.g. sarif=dockaudit.sarif")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument("--diff", action="store_true",
                        help="print the safe fixes as a unified diff instead of the report "
                        "(exit 1 when there is one)")
    fixing.add_argument("--fix", action="store_true",
                        help="make the safe fixes in the files, then report what is left")
    known = check.add_mutually_exclusive_group()
    known.add_argument("--baseline", metavar="FILE",
                       help="report and fail only on findings this baseline does not hold")
    known.add_argument("--write-baseline", metavar="FILE",
                       help="record today's findings in FILE as known (then report as --baseline FILE)")
    check.set_defaults(func=cmd_check)


def _add_show(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    show = sub.add_parser(name, help=summary)
    show.add_argument("paths", nargs="+", metavar="PATH")
    show.add_argument("-f", "--format", choices=("text", "json"), default="text")
    show.add_argument("--inspect", action="store_true", help="the files are docker inspect JSON")
    show.add_argument("--kind", choices=("shell", "markdown", "compose"), help="read every file as this kind")
    show.add_argument("--compose", action="append", default=[], metavar="FILE",
                      help="also show FILE as a Compose file, whatever its name (repeatable)")
    show.add_argument("--config", metavar="FILE", help="use this configuration (its purpose: globs)")
    show.set_defaults(func=cmd_show)


def _add_inspect(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    inspect = sub.add_parser(name, help=summary, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    inspect.add_argument("paths", nargs="+", metavar="FILE", help="inspect JSON files; - reads standard input")
    _add_report_options(inspect)
    inspect.set_defaults(func=cmd_inspect)


def _add_live(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    live = sub.add_parser(name, help=summary, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    live.add_argument("-H", "--host", action="append",
                      help="engine address: unix://, tcp:// (TLS from DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), "
                      "ssh://user@host (repeatable; default: DOCKER_HOST, else the current context)")
    live.add_argument("--context", action="append", help="a Docker CLI context, as docker context ls lists it (repeatable)")
    live.add_argument("--all-contexts", action="store_true", help="every Docker CLI context")
    live.add_argument("-a", "--all", action="store_true", help="every container, not only running ones")
    live.add_argument("--name", action="append", help="only containers whose name matches (repeatable)")
    live.add_argument("--label", action="append", help="only containers with this label, KEY or KEY=VALUE (repeatable)")
    live.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the engine (default 10)")
    _add_report_options(live)
    live.set_defaults(func=cmd_live)


def _add_rules(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    rules = sub.add_parser(name, help=summary)
    rules.add_argument("-f", "--format", choices=("text", "json"), default="text")
    rules.add_argument("-c", "--config", help="configuration file")
    rules.set_defaults(func=cmd_rules)


def _add_explain(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    explain = sub.add_parser(name, help=summary)
    explain.add_argument("rule", metavar="ID")
    explain.set_defaults(func=cmd_explain)


def _add_config(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    config = sub.add_parser(name, help=summary)
    config.add_argument("path", nargs="?", help="the directory whose configuration to show (default: here)")
    config.add_argument("-c", "--config", help="configuration file")
    config.set_defaults(func=cmd_config)


def _add_install_docker_plugin(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    plugin = sub.add_parser(name, help=summary)
    plugin.add_argument("--uninstall", action="store_true", help="remove the plugin instead")
    plugin.set_defaults(func=cmd_install_docker_plugin)


def _add_enforce(sub: argparse._SubParsersAction, name: str, summary: str) -> None:
    from dockaudit.enforce.cli import add_parser

    add_parser(sub, name, summary)


# Every subcommand: its name, its one-line help, and what adds its arguments.
SUBCOMMANDS = (
    ("check", "check shell scripts, Markdown and Compose files", _add_check),
    ("show", "print what dockaudit understood of each docker command", _add_show),
    ("inspect", "check saved `docker inspect` JSON", _add_inspect),
    ("live", "audit the containers of a Docker engine (read-only)", _add_live),
    ("rules", "list every rule: id, name, severity, sources, enabled, plugin", _add_rules),
    ("explain", "show a rule's documentation", _add_explain),
    ("config", "print the effective configuration", _add_config),
    ("install-docker-plugin", "make `docker audit …` run dockaudit (a docker CLI plugin for this user)",
     _add_install_docker_plugin),
    ("enforce", "judge requests at the engine: a Docker authorization plugin", _add_enforce),
)


def build_parser(prog: str = "dockaudit", only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with *only*, the other subcommands are listed but get no arguments.

    A run uses one subcommand: building the arguments of the others (and importing
    what they need) would only slow every start.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Audit how containers are started: docker run/create in shell scripts and "
        "Markdown, saved docker inspect output, and live Docker hosts.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dockaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary, add in SUBCOMMANDS:
        if only is None or name == only:
            add(sub, name, summary)
        else:
            sub.add_parser(name, help=summary)
    return parser


def _subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand *argv* names, when its first word is one (the parser needs only that one)."""
    if argv and argv[0] in {name for name, _, _ in SUBCOMMANDS}:
        return argv[0]
    return None


def main(argv: Sequence[str] | None = None, prog: str = "dockaudit") -> int:
    if argv is None:  # the process's own command line: the process ends when this returns
        try:
            return _main(sys.argv[1:], prog)
        finally:
            # The collector's last pass at interpreter shutdown would walk every object still
            # alive to free what exit frees anyway (15 ms of a live audit of 30 containers).
            gc.freeze()
    return _main(argv, prog)


def _main(argv: Sequence[str], prog: str) -> int:
    parser = build_parser(prog, only=_subcommand(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    if args.command == "check" and not args.paths and not args.compose:
        print_error("no files given (use - for standard input)")
        return EXIT_ERROR
    if args.command == "check" and args.fix and "-" in args.paths:
        print_error("--fix cannot rewrite standard input (--diff shows the fixes)")
        return EXIT_ERROR
    try:
        return args.func(args)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # an internal error is a message and exit 2, never a traceback
        print_error(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("DOCKAUDIT_DEBUG"):
            raise
        return EXIT_ERROR


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
