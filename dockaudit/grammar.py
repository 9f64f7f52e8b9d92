"""The Docker CLI option grammar: an `Invocation` read the way the CLI reads it.

`parse_invocation` applies the pflag rules the Docker CLI uses (``-itd``
clusters, ``-m512m``, ``--opt=value``, bools that never take the next word,
options stop at the image for run/create, ``--`` ends options, last wins for
scalars) with the option table of `dockaudit.options`. Everything the CLI or
the engine would reject becomes a `UsageProblem`:

- DA002 an unknown option (with the closest real one), a global option after
  the subcommand, a run-only flag on ``create``;
- DA003 a missing or malformed value, an invalid image reference;
- DA004 docker options after the image (they become the container command);
- DA005 options the engine refuses together;
- DA006 deprecated options.

Only Docker's grammar is exact: under podman and nerdctl an unknown option is
not an error (their extra flags are many), and value checks that differ
between the tools are skipped.

It never raises: any invocation gives a `DockerCommand`.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from dockaudit import values as N
from dockaudit.model import (
    UNKNOWN,
    DockerCommand,
    Invocation,
    Location,
    OptionUse,
    UsageProblem,
    Word,
    known,
)
from dockaudit.options import CommandGrammar, FlagSpec, global_grammar, grammar_for, option_table
from dockaudit.spelling import closest

# Subcommands that also exist under "container" (the canonical tuple drops it).
_CONTAINER_ALIASES = frozenset({
    "run", "create", "update", "exec", "rm", "stop", "start", "restart", "kill", "ps", "logs",
    "inspect", "attach", "commit", "cp", "diff", "export", "pause", "port", "rename", "top",
    "unpause", "wait", "stats",
})
_MANAGEMENT = frozenset({
    "container", "network", "volume", "system", "image", "builder", "buildx", "compose",
    "config", "context", "manifest", "node", "plugin", "secret", "service", "stack", "swarm",
    "trust", "checkpoint", "scout", "sbom", "pod", "machine", "namespace", "apparmor",
})
_IMAGE_COMMANDS = (("run",), ("create",))


def option_values(cmd: DockerCommand, name: str) -> list[tuple[OptionUse, N.Template]]:
    """Every value given to option *name*, as templates, split on commas where the tool does.

    Docker never splits list options on commas; podman and nerdctl split
    some (``--cap-add A,B``), and ``network create --subnet`` always does.
    """
    grammar = grammar_for(cmd.invocation.program, cmd.subcommand)
    spec = grammar.flags.get(name) if grammar else None
    out: list[tuple[OptionUse, N.Template]] = []
    for use in cmd.all(name):
        template = N.value_template(use)
        if template is None:
            continue
        if spec is not None and spec.comma_splits and "," in template.text:
            out.extend((use, N.Template(t, template.expansions))
                       for t in template.text.split(","))
        else:
            out.append((use, template))
    return out


# --- reading an invocation -------------------------------------------------


def _span(first: Location, last: Location) -> Location:
    return Location(first.path, first.line, first.column, last.end_line, last.end_column)


class _Parser:
    """pflag over the words of one invocation."""

    def __init__(self, inv: Invocation) -> None:
        self.inv = inv
        self.program = inv.program
        self.exact = inv.program not in option_table()["programs"]
        self.words = inv.words
        self.i = 0
        self.problems: list[UsageProblem] = []
        self.incomplete = False
        self.truncated = False  # the words ended where a value was due

    # -- problems

    def problem(self, rule_id: str, message: str, loc: Location, fix: str | None = None) -> None:
        self.problems.append(UsageProblem(rule_id, message, loc, fix))

    # -- words

    def template(self, word: Word) -> N.Template:
        return N.word_template(word)

    def parse_flags(self, grammar: CommandGrammar, uses: list[OptionUse],
                    operands: list[Word], *, root: bool = False) -> bool:
        """Read options until the first operand (or to the end when interspersed).

        Returns True when ``--`` was seen.
        """
        while self.i < len(self.words):
            word = self.words[self.i]
            tpl = self.template(word)
            text = tpl.text
            if word.is_known and text == "--":
                self.i += 1
                return True
            if not word.is_known and not text.startswith("-"):
                if not root and self._may_hide_options(grammar, word, tpl):
                    self.incomplete = True  # may expand to options nobody can see
                    self.i += 1
                    continue
                if root:
                    return False
                if not self._operand(grammar, word, operands):
                    return False
                continue
            if len(text) < 2 or not text.startswith("-"):
                if root:
                    return False
                if not self._operand(grammar, word, operands):
                    return False
                continue
            self.i += 1
            if text.startswith("--"):
                self._long(grammar, word, tpl, uses, root)
            else:
                self._short(grammar, word, tpl, uses, root)
        return False

    def _may_hide_options(self, grammar: CommandGrammar, word: Word, tpl: N.Template) -> bool:
        """Whether an unknown word in option position reads as options, not the image.

        Only a word that starts with an expansion can hold options. A quoted
        one (one word) is taken for an option when a docker option follows
        it (``"$TTY" --rm …``). An unquoted one may split into several: it is
        taken for options unless its name says image (``$IMAGE``), nothing
        follows it, or the next word cannot be an image (``/bin/bash``).
        """
        if not tpl.text.startswith(N.SENTINEL) or grammar.interspersed:
            return False
        names = " ".join(tpl.expansions).upper()
        if any(k in names for k in ("IMAGE", "IMG", "REPO", "TAG")):
            return False
        if self.i + 1 >= len(self.words):
            return False
        after = self.words[self.i + 1]
        if not word.splits:
            return after.is_known and _is_option_of(grammar, after.value)
        if after.is_known and not after.value.startswith("-") and (
                after.value.startswith((".", "/")) or N.image_ref_error(after.value)):
            return False
        return True

    def _operand(self, grammar: CommandGrammar, word: Word, operands: list[Word]) -> bool:
        """Take an operand; False when options stop here (not interspersed)."""
        if not grammar.interspersed:
            return False
        operands.append(word)
        self.i += 1
        return True

    def _value_word(self) -> Word | None:
        if self.i < len(self.words):
            word = self.words[self.i]
            self.i += 1
            return word
        return None

    def _record(self, uses: list[OptionUse], spec: FlagSpec, spelled: str, flag: Word,
                value: Word | None, value_text: str | Any | None) -> None:
        loc = flag.loc if value is None or value is flag else _span(flag.loc, value.loc)
        uses.append(OptionUse(spec.canonical, spelled, flag, value, value_text, loc))

    def _missing(self, flag: Word, spelled: str) -> None:
        self.truncated = True
        if self.inv.context == "markdown":
            return  # in Markdown, "docker run -v …" may stop mid-command: an excerpt
        self.problem("DA003", f"{spelled} needs a value, but the command ends here", flag.loc,
                      f"give {spelled} a value")

    def _long(self, grammar: CommandGrammar, word: Word, tpl: N.Template,
              uses: list[OptionUse], root: bool) -> None:
        text = tpl.text
        name, eq, rest = text.partition("=")
        if N.SENTINEL in name:
            self.incomplete = True  # the option's name itself is unknown
            return
        spec = grammar.flags.get(name)
        if spec is None:
            self._unknown_long(grammar, word, name, bool(eq), root)
            return
        if not spec.takes_value:
            value_text: str | Any | None = None
            if eq:
                value_text = N.part(rest)
                if known(value_text):
                    try:
                        N.parse_go_bool(rest)
                    except ValueError:
                        self.problem("DA003", f'invalid argument "{rest}" for "{name}" flag: '
                                     "use true or false", word.loc, f"{name} or {name}=false")
                        return
            self._record(uses, spec, name, word, word if eq else None, value_text)
            return
        if eq:
            self._record(uses, spec, name, word, word, N.part(rest))
            return
        value = self._value_word()
        if value is None:
            self._missing(word, name)
            return
        self._record(uses, spec, name, word, value, value.value)

    def _unknown_long(self, grammar: CommandGrammar, word: Word, name: str, has_eq: bool,
                      root: bool) -> None:
        glob = global_grammar(self.program)
        if not root and name in glob.flags:
            gspec = glob.flags[name]
            if not self.exact:  # podman/nerdctl global options are persistent
                if gspec.takes_value and not has_eq:
                    self._value_word()
                return
            self.problem(
                "DA002", f"{name} is a global option of docker: it must come before the "
                f"subcommand ({self.program} {name} … {' '.join(grammar.subcommand)})",
                word.loc, f"move {name} before '{' '.join(grammar.subcommand)}'")
            if gspec.takes_value and not has_eq:
                self._value_word()
            return
        if not grammar.exact or (root and not self.exact):
            self.incomplete = True  # a flag of the tool we do not know: arity unknown
            return
        where = " ".join(grammar.subcommand) or "docker"
        guess = closest(name, grammar.names())
        hint = f"; did you mean {guess}?" if guess else ""
        self.problem("DA002", f"unknown option {name} for '{where}'{hint}", word.loc,
                     f"use {guess}" if guess else f"remove {name}")
        if guess and grammar.flags[guess].takes_value and not has_eq:
            self._value_word()  # most likely a misspelt option with its value

    def _short(self, grammar: CommandGrammar, word: Word, tpl: N.Template,
               uses: list[OptionUse], root: bool) -> None:
        text = tpl.text
        cluster = text[1:]
        j = 0
        while j < len(cluster):
            c = cluster[j]
            if c == N.SENTINEL:
                self.incomplete = True  # the rest of the cluster is unknown
                return
            spec = grammar.shorts.get(c)
            if spec is None:
                self._unknown_short(grammar, word, text, c, root)
                return
            rest = cluster[j + 1:]
            if not spec.takes_value:
                if rest.startswith("="):
                    value_text = N.part(rest[1:])
                    if known(value_text):
                        try:
                            N.parse_go_bool(value_text)
                        except ValueError:
                            self.problem("DA003", f'invalid argument "{value_text}" for '
                                         f'"-{c}, {spec.name}" flag: use true or false',
                                         word.loc)
                            return
                    self._record(uses, spec, text, word, word, value_text)
                    return
                self._record(uses, spec, text, word, None, None)
                j += 1
                continue
            if rest:
                value = rest[1:] if rest.startswith("=") else rest
                self._record(uses, spec, text, word, word, N.part(value))
                return
            value_word = self._value_word()
            if value_word is None:
                self._missing(word, f"-{c}")
                return
            self._record(uses, spec, text, word, value_word, value_word.value)
            return

    def _unknown_short(self, grammar: CommandGrammar, word: Word, text: str, c: str,
                       root: bool) -> None:
        if not grammar.exact:
            self.incomplete = True
            return
        glob = global_grammar(self.program)
        where = " ".join(grammar.subcommand) or "docker"
        if not root and c in glob.shorts and text == "-" + c:
            gspec = glob.shorts[c]
            self.problem(
                "DA002", f"-{c} ({gspec.name}) is a global option of docker: it must come before "
                f"the subcommand ({self.program} -{c} … {where})", word.loc,
                f"move -{c} before '{where}'")
            if gspec.takes_value:
                self._value_word()
            return
        long_name = "-" + text.split("=", 1)[0]
        if long_name in grammar.flags:
            spec = grammar.flags[long_name]
            self.problem("DA002", f"unknown shorthand flag: '{c}' in {text}: single-dash long "
                         f"options were removed; use {long_name}", word.loc,
                         f"use {long_name}")
            if spec.takes_value and "=" not in text:
                self._value_word()
            return
        if c == "d" and grammar.subcommand == ("create",):
            self.problem("DA002", f"unknown shorthand flag: 'd' in {text}: docker create has no "
                         "-d (a created container is not started)", word.loc,
                         "drop -d, or use docker run -d")
            return
        guess = closest(long_name, grammar.names()) if len(text) > 2 else None
        hint = f"; did you mean {guess}?" if guess else ""
        self.problem("DA002", f"unknown shorthand flag: '{c}' in {text} for '{where}'{hint}",
                     word.loc, f"use {guess}" if guess else f"remove -{c}")


def _is_option_of(grammar: CommandGrammar, text: str) -> bool:
    """Whether *text* spells an option of *grammar* (``--rm``, ``--name=x``, ``-it``)."""
    if text.startswith("--"):
        return text.split("=", 1)[0] in grammar.flags
    if len(text) < 2 or text[0] != "-":
        return False
    for j, c in enumerate(text[1:]):
        spec = grammar.shorts.get(c)
        if spec is None:
            return c == "=" and j > 0
        if spec.takes_value:
            return True
    return True


# One tuple for each subcommand, however many commands of a long script name it.
_SUBCOMMANDS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _subcommand(words: tuple[Word, ...], start: int) -> tuple[tuple[str, ...], int]:
    """The canonical subcommand at *start* and the index after it."""
    found, after = _read_subcommand(words, start)
    return _SUBCOMMANDS.setdefault(found, found), after


def _read_subcommand(words: tuple[Word, ...], start: int) -> tuple[tuple[str, ...], int]:
    if start >= len(words) or not words[start].is_known:
        return (), start
    first = words[start].value
    if first not in _MANAGEMENT:
        return (first,), start + 1
    if start + 1 >= len(words) or not words[start + 1].is_known or \
            words[start + 1].value.startswith("-"):
        return (first,), start + 1
    second = words[start + 1].value
    if first == "container":
        if second in _CONTAINER_ALIASES:
            return (second,), start + 2
        if second in ("ls", "list"):
            return ("ps",), start + 2
    return (first, second), start + 2


def parse_invocation(inv: Invocation) -> DockerCommand:
    """Read *inv* as the CLI would; usage problems go in ``problems``. Never raises."""
    try:
        return _parse(inv)
    except Exception as exc:
        return DockerCommand(
            inv, (), (), (), inv.words,
            (UsageProblem("DA002", f"dockaudit could not read this command ({exc!r})",
                          inv.loc),),
            incomplete=True)


def _parse(inv: Invocation) -> DockerCommand:
    parser = _Parser(inv)
    global_uses: list[OptionUse] = []
    parser.parse_flags(global_grammar(inv.program), global_uses, [], root=True)
    if parser.i < len(inv.words) and not inv.words[parser.i].is_known:
        parser.incomplete = True  # the subcommand itself is unknown
    subcommand, parser.i = _subcommand(inv.words, parser.i)
    grammar = grammar_for(inv.program, subcommand) if subcommand else None
    uses: list[OptionUse] = []
    operands: list[Word] = []
    if grammar is not None:
        parser.parse_flags(grammar, uses, operands)
    operands.extend(inv.words[parser.i:])
    cmd = DockerCommand(inv, subcommand, tuple(global_uses), tuple(uses), tuple(operands),
                        (), parser.incomplete)
    if grammar is not None:
        _check(cmd, grammar, parser)
    if not parser.problems:
        return cmd  # the command as checked is the whole of it
    return DockerCommand(inv, subcommand, tuple(global_uses), tuple(uses), tuple(operands),
                         tuple(parser.problems), parser.incomplete)


# --- value checks (DA003) ---------------------------------------------------


_KIND_CHECKS: dict[str, Callable[[str], Any]] = {
    "int": N.parse_int,
    "int64": N.parse_int,
    "uint16": lambda t: N.parse_int(t, 16, signed=False),
    "uint64": lambda t: N.parse_int(t, 64, signed=False),
    "bytes": N.parse_bytes,
    "decimal": N.parse_nano_cpus,
    "duration": N.parse_duration,
    "ip": N.check_ip,
    "map": N.parse_key_value,
    "ulimit": N.parse_ulimit,
    "port": N.parse_port_spec,
    "service-port": lambda t: _service_port(t),
    "network": N.parse_network,
    "volume": N.parse_volume_spec,
    "mount": N.parse_mount_csv,
    "gpu-request": N.check_gpus,
    "weight-device": N.parse_weight_device,
}


def _kind_check(spec: FlagSpec, text: str) -> None:
    if spec.name == "--memory-swap":
        N.parse_memory_swap(text)
    elif spec.kind == "throttle-device":
        N.parse_throttle_device(text, N.THROTTLE_KINDS.get(spec.name, "read-bps"))
    elif spec.kind in _KIND_CHECKS:
        _KIND_CHECKS[spec.kind](text)


def _range(low: int, high: int, message: str, allow: tuple[int, ...] = ()) -> Callable[[str], None]:
    def check(text: str) -> None:
        value = N.parse_int(text, 64)
        if value not in allow and not low <= value <= high:
            raise ValueError(message.format(value=value))
    return check


def _min_memory(what: str) -> Callable[[str], None]:
    def check(text: str) -> None:
        value = N.parse_bytes(text)
        if 0 < value < N.MIN_MEMORY:
            raise ValueError(f"Minimum {what} allowed is 6MB ({text} is {value} bytes)")
    return check


def _capability(text: str) -> None:
    cap = N.normalize_capability(text)
    if cap != "ALL" and cap not in N.CAPABILITIES:
        raise ValueError(f'unknown capability: "{cap}"'
                         + (" (one capability per --cap-add/--cap-drop)" if "," in text else ""))


def _absolute(text: str) -> None:
    if text and not text.startswith("/"):
        raise ValueError(f"the working directory '{text}' is invalid, it needs to be an "
                         "absolute path")


def _one_of(*choices: str, what: str) -> Callable[[str], None]:
    def check(text: str) -> None:
        if text.lower() not in choices:
            raise ValueError(f"invalid {what} '{text}': use " + ", ".join(choices))
    return check


def _volumes_from(text: str) -> None:
    name, colon, mode = text.partition(":")
    if not name or (colon and mode not in ("ro", "rw")):
        raise ValueError(f"invalid mode for --volumes-from: {text}")


def _health_retries(text: str) -> None:
    if N.parse_int(text, 64) < 0:
        raise ValueError("Retries in Healthcheck cannot be negative")


_FLAG_CHECKS: dict[str, Callable[[str], Any]] = {
    "--memory": _min_memory("memory limit"),
    "--memory-reservation": _min_memory("memory reservation"),
    "--memory-swappiness": _range(0, 100, "invalid value: {value}. Valid memory swappiness "
                                  "range is 0-100", allow=(-1,)),
    "--oom-score-adj": _range(-1000, 1000, "Invalid value {value}, range for oom score adj is "
                              "[-1000, 1000]"),
    "--blkio-weight": _range(10, 1000, "Range of blkio weight is from 10 to 1000", allow=(0,)),
    "--restart": N.parse_restart_policy,
    "--cap-add": _capability,
    "--cap-drop": _capability,
    "--security-opt": N.parse_security_opt,
    "--env": N.parse_env,
    "--log-opt": lambda t: N.parse_key_value(t, "log options"),
    "--storage-opt": lambda t: N.parse_key_value(t, "storage options"),
    "--sysctl": N.parse_sysctl,
    "--expose": N.parse_expose,
    "--add-host": N.parse_add_host,
    "--dns": N.check_ip,
    "--link-local-ip": N.check_ip,
    "--mac-address": N.check_mac,
    "--link": N.parse_link,
    "--tmpfs": N.parse_tmpfs,
    "--device": N.parse_device,
    "--device-cgroup-rule": N.check_device_cgroup_rule,
    "--cpuset-cpus": N.check_cpuset,
    "--cpuset-mems": N.check_cpuset,
    "--name": N.check_container_name,
    "--stop-signal": N.parse_signal,
    "--signal": N.parse_signal,
    "--workdir": _absolute,
    "--health-interval": N.check_health_duration,
    "--health-timeout": N.check_health_duration,
    "--health-start-period": N.check_health_duration,
    "--health-start-interval": N.check_health_duration,
    "--health-retries": _health_retries,
    "--pull": _one_of("missing", "always", "never", what="pull option"),
    "--attach": _one_of("stdin", "stdout", "stderr", what="stream"),
    "--volumes-from": _volumes_from,
    "--ip": lambda t: N.check_ip(t, 4),
    "--ip6": lambda t: N.check_ip(t, 6),
    **{f: (lambda flag: lambda t: N.check_namespace_mode(flag, t))(f)
       for f in ("--pid", "--ipc", "--uts", "--userns", "--cgroupns")},
}
def _service_port(text: str) -> None:
    """A --publish of a service: run's short and long forms, but no address (Swarm publishes on all)."""
    for binding in N.parse_port_spec(text):
        if known(binding.host_ip) and binding.host_ip:
            raise ValueError("hostip is not supported")


def _exactly(*choices: str, message: str) -> Callable[[str], None]:
    """A value the CLI or the daemon compares as it is written (no case folding)."""
    def check(text: str) -> None:
        if text not in choices:
            raise ValueError(message.format(value=text))
    return check


# docker service create/update: the CLI checks --mode and --publish, the daemon the rest when the
# service is created; a service that cannot be created is an error either way.
_SERVICE_CHECKS: dict[str, Callable[[str], Any]] = {
    "--mode": _exactly("replicated", "global", "replicated-job", "global-job",
                       message="unknown mode: {value}, only replicated and global supported"),
    "--restart-condition": _exactly("none", "on-failure", "any", message='invalid RestartCondition: "{value}"'),
    "--update-failure-action": _exactly("pause", "continue", "rollback",
                                        message="unrecognized update failure action {value}"),
    "--rollback-failure-action": _exactly("pause", "continue", "rollback",
                                          message="unrecognized update failure action {value}"),
    "--update-order": _exactly("stop-first", "start-first", message="unrecognized update order {value}"),
    "--rollback-order": _exactly("stop-first", "start-first", message="unrecognized update order {value}"),
    "--endpoint-mode": _exactly("vip", "dnsrr", message='invalid resolution mode: "{value}"'),
}
_SERVICE_SUBCOMMANDS = (("service", "create"), ("service", "update"))


# Checks whose accepted values differ between docker and podman/nerdctl.
_DOCKER_ONLY_CHECKS = frozenset({
    "--security-opt", "--pid", "--ipc", "--uts", "--userns", "--cgroupns", "--network",
    "--volume", "--mount", "--device", "--restart", "--gpus", "--log-opt", "--sysctl",
    "--tmpfs", "--workdir", "--pull", "--name",
})
# Values the whole-network rules judge (DA907), not the grammar.
_UNCHECKED = {("network", "create"): frozenset({"--subnet", "--ip-range", "--gateway",
                                                 "--aux-address"})}


_WINDOWS_VOLUME = re.compile(r"^[A-Za-z]:|:[A-Za-z]:")


@functools.lru_cache(maxsize=4096)  # values repeat: see values._remembered
def value_error(spec: FlagSpec, text: str, program: str = "docker",
                subcommand: tuple[str, ...] = ("run",), volume_driver: str | None = None
                ) -> str | None:
    """Why *text* is not a valid value of option *spec*, or None when it is."""
    name = spec.canonical
    if name in _UNCHECKED.get(subcommand, ()):
        return None
    if name == "--volume" and _WINDOWS_VOLUME.search(text):
        return None  # c:\\data:c:\\data is a Windows engine's syntax: not the Linux parser's to judge
    exact = program not in option_table()["programs"]
    if not exact and name in _DOCKER_ONLY_CHECKS:
        return None
    try:
        if spec.kind == "bool":
            N.parse_go_bool(text)
            return None
        if name == "--volume" and spec.kind == "volume":
            N.parse_volume_spec(text, local_driver=volume_driver in (None, "local"))
        else:
            _kind_check(spec, text)
        if subcommand in _SERVICE_SUBCOMMANDS:
            check = _SERVICE_CHECKS.get(name)
            if check is not None:
                check(text)
        check = _FLAG_CHECKS.get(name)
        if check is not None and (subcommand in _IMAGE_COMMANDS or name in (
                "--signal", "--env", "--memory", "--memory-reservation", "--restart",
                "--blkio-weight")):
            check(text)
    except ValueError as exc:
        return str(exc)
    return None


def _check(cmd: DockerCommand, grammar: CommandGrammar, parser: _Parser) -> None:
    driver_use = cmd.option("--volume-driver")
    driver = driver_use.value_text if driver_use is not None else None
    driver = driver if known(driver) else "unknown"
    flag_specs = grammar.by_canonical
    for use in cmd.options:
        spec = flag_specs.get(use.name)
        if spec is None:
            continue
        # an alias may be deprecated while the name it stands for is not (--time, --timeout)
        named = grammar.flags.get(use.spelled.split("=", 1)[0] if use.spelled.startswith("--") else use.name)
        if named is not None and named.deprecated and parser.exact:
            parser.problem("DA006", named.deprecated, use.flag.loc,
                           f"remove {use.spelled}" if use.spelled.startswith("--") else None)
        if use.value is None or spec.kind == "bool" and use.value_text is None:
            continue
        text = use.value_text
        if not known(text):
            continue
        error = value_error(spec, text, cmd.invocation.program, cmd.subcommand, driver)
        if error is not None:
            parser.problem("DA003", f"invalid value \"{text}\" for {_shown(use)}: {error}",
                           use.loc)
        elif parser.exact and use.name == "--security-opt":
            _deprecated_security_opt(parser, use, text)
        elif parser.exact and use.name == "--mount" and "bind-nonrecursive" in text:
            parser.problem("DA006", "--mount bind-nonrecursive is deprecated (removed in CLI "
                           "29): use bind-recursive=disabled", use.loc,
                           "use bind-recursive=disabled")
    if grammar.image:
        _check_image(cmd, grammar, parser)
    if parser.exact and cmd.subcommand in _IMAGE_COMMANDS + (("update",),):
        for message, loc, fix in _conflicts(cmd):
            parser.problem("DA005", message, loc, fix)


def _shown(use: OptionUse) -> str:
    spelled = use.spelled
    if spelled.startswith("--"):
        return spelled.split("=", 1)[0]
    return f"{spelled.split('=', 1)[0]} ({use.name})"


def _deprecated_security_opt(parser: _Parser, use: OptionUse, text: str) -> None:
    key, eq, _ = text.partition("=")
    if eq or ":" not in text:
        return
    key, _, value = text.partition(":")
    parser.problem("DA006", f"--security-opt {text}: the ':' separator is deprecated "
                   f"(since Docker 1.11); write {key}={value}", use.loc,
                   f"--security-opt {key}={value}")


def _check_image(cmd: DockerCommand, grammar: CommandGrammar, parser: _Parser) -> None:
    sub = " ".join(cmd.subcommand)
    if not cmd.operands:
        # in Markdown a command without an image is an excerpt ("docker run -d -p 80:80 …")
        if not cmd.incomplete and not parser.truncated and cmd.invocation.context != "markdown":
            parser.problem("DA003", f"{cmd.invocation.program} {sub} needs an image",
                           cmd.invocation.loc, f"{cmd.invocation.program} {sub} [OPTIONS] "
                           "IMAGE [COMMAND]")
        return
    image = cmd.operands[0]
    if image.is_known:
        error = N.image_ref_error(image.value)
        dash = image.value[:1]
        if error is not None and dash in _DASHES:
            # "–name C8O" pasted from a word processor: the CLI takes it for the image
            parser.problem("DA003", f"\"{image.value}\" starts with {_DASHES[dash]}, not \"-\": docker "
                           "takes it for the image name and the rest for the command",
                           image.loc, f"type the option with ASCII hyphens: --{image.value.lstrip(''.join(_DASHES))}")
            return
        if error is not None:
            parser.problem("DA003", f"invalid image reference \"{image.value}\": {error}",
                           image.loc, "use a lower-case name such as registry/namespace/app:tag")
            return
    if len(cmd.operands) > 1 and cmd.option("--entrypoint") is None:
        _options_after_image(cmd, grammar, parser)


_DASHES = {"\u2013": "an en dash (\u2013)", "\u2014": "an em dash (\u2014)", "\u2212": "a minus sign (\u2212)",
           "\u2010": "a Unicode hyphen (\u2010)", "\u2011": "a non-breaking hyphen (\u2011)"}


def _followed_by_option(cmd: DockerCommand, grammar: CommandGrammar, index: int) -> bool:
    if index >= len(cmd.operands) or not cmd.operands[index].is_known:
        return False
    return _is_option_of(grammar, cmd.operands[index].value)


def _options_after_image(cmd: DockerCommand, grammar: CommandGrammar, parser: _Parser) -> None:
    """DA004: the first word after the image is unmistakably a docker option.

    Many images take options of their own (``postgres -c …``, ``solr -h …``,
    ``spiped -d``), so a short option counts only when its value has the
    shape docker's would (``-p 80:80``, ``-v /h:/c``, ``-e K=V``) or when it
    is a cluster of docker's one-letter switches (``-it``); long options
    count when their value is valid for docker. Any docker option counts when
    another docker option follows it (``tiny:1 -m 512m --rm``).
    """
    word = cmd.operands[1]
    if not word.is_known or not _is_option_of(grammar, word.value) or word.value == "--help":
        return
    text: str = word.value
    after = cmd.operands[2] if len(cmd.operands) > 2 else None
    next_value = after.value if after is not None and after.is_known else None
    value: str | None = None
    if text.startswith("--"):
        name, eq, rest = text.partition("=")
        spec = grammar.flags[name]
        if spec.takes_value:
            value = rest if eq else next_value
            if value is None or value_error(spec, value, cmd.invocation.program,
                                            cmd.subcommand) is not None:
                return
    else:
        specs = [grammar.shorts.get(c) for c in text[1:]]
        if all(s is not None and not s.takes_value for s in specs):
            if len(specs) < 2 and not _followed_by_option(cmd, grammar, 2):
                return  # a lone -d or -i is as likely the image's own
        else:
            spec = grammar.shorts[text[1]]
            value = text[2:].lstrip("=") or next_value
            if len(specs) > 1 and not spec.takes_value or value is None or \
                    value_error(spec, value, cmd.invocation.program, cmd.subcommand) is not None:
                return
            shape = {"-p": ":", "-v": ":/", "-e": "="}.get(text[:2], "\0")
            if not all(c in value for c in shape) and \
                    not _followed_by_option(cmd, grammar, 2 if text[2:] else 3):
                return
    image = cmd.operands[0].text
    shown = text if value is None or text.endswith(value) else f"{text} {value}"
    parser.problem(
        "DA004", f"{text} comes after the image {image}: docker passes it to the container as "
        "its command instead of reading it as an option", word.loc,
        f"move {shown} before {image}")


# --- conflicts (DA005) ------------------------------------------------------

_BUILTIN_NETWORKS = ("bridge", "host", "none", "default")


def _known_value(cmd: DockerCommand, name: str, parse: Callable[[str], Any]) -> tuple[
        OptionUse | None, Any]:
    """The last use of *name* and its parsed value (UNKNOWN when not knowable or invalid)."""
    use = cmd.option(name)
    if use is None:
        return None, None
    if use.value_text is None:
        return use, True
    if not known(use.value_text):
        return use, UNKNOWN
    try:
        return use, parse(use.value_text)
    except ValueError:
        return use, UNKNOWN


def _bool_set(cmd: DockerCommand, name: str) -> OptionUse | None:
    use, value = _known_value(cmd, name, N.parse_go_bool)
    return use if value is True else None


def _network_names(cmd: DockerCommand) -> list[tuple[OptionUse, str | Any]]:
    out = []
    for use in cmd.all("--network"):
        text = use.value_text
        if not known(text):
            out.append((use, UNKNOWN))
            continue
        try:
            out.append((use, N.parse_network(text)[0]))
        except ValueError:
            out.append((use, UNKNOWN))
    return out


def _conflicts(cmd: DockerCommand) -> list[tuple[str, Location, str | None]]:
    """Combinations the Docker CLI or engine refuses (see reference/verified.md)."""
    found: list[tuple[str, Location, str | None]] = []
    create = cmd.subcommand != ("update",)

    cpus, nano = _known_value(cmd, "--cpus", N.parse_nano_cpus)
    for other in ("--cpu-period", "--cpu-quota"):
        use, value = _known_value(cmd, other, N.parse_int)
        if cpus is not None and use is not None and known(nano) and known(value) and \
                nano > 0 and value > 0:
            later = max(cpus, use, key=lambda u: (u.loc.line, u.loc.column))
            found.append((f"--cpus cannot be combined with {other}: the engine refuses both "
                          "(Conflicting options: Nano CPUs and CPU "
                          f"{'Period' if other == '--cpu-period' else 'Quota'})", later.loc,
                          f"use either --cpus or {other}"))

    mem_use, mem = _known_value(cmd, "--memory", N.parse_bytes)
    swap_use, swap = _known_value(cmd, "--memory-swap", N.parse_memory_swap)
    res_use, res = _known_value(cmd, "--memory-reservation", N.parse_bytes)
    if create and swap_use is not None and known(swap) and swap > 0 and \
            (mem_use is None or (known(mem) and mem == 0)):
        found.append(("--memory-swap needs --memory: the engine refuses a swap limit without a "
                      "memory limit", swap_use.loc, "add -m/--memory (swap is memory + swap)"))
    if swap_use is not None and mem_use is not None and known(swap) and known(mem) and \
            mem > 0 and 0 < swap < mem:
        found.append((f"--memory-swap {swap_use.value_text} is below --memory "
                      f"{mem_use.value_text}: --memory-swap is memory plus swap and must be at "
                      "least --memory", swap_use.loc, "raise --memory-swap to at least --memory"))
    if res_use is not None and mem_use is not None and known(res) and known(mem) and \
            mem > 0 and res > mem:
        found.append((f"--memory-reservation {res_use.value_text} is above --memory "
                      f"{mem_use.value_text}: the engine refuses a reservation over the limit",
                      res_use.loc, "lower --memory-reservation below --memory"))
    if not create:
        return found

    rm = _bool_set(cmd, "--rm")
    restart_use, policy = _known_value(cmd, "--restart", N.parse_restart_policy)
    if rm is not None and restart_use is not None and known(policy) and known(policy.name) and \
            policy.name != "no":
        found.append((f"--rm cannot be combined with --restart {restart_use.value_text}: "
                      "conflicting options", restart_use.loc,
                      "drop --rm for a service, or --restart for a one-off task"))

    detach = _bool_set(cmd, "--detach")
    attach = cmd.option("--attach")
    if detach is not None and attach is not None:
        found.append(("-a/--attach cannot be combined with -d/--detach: conflicting options",
                      attach.loc, "drop -a, or drop -d to stay attached"))

    if _bool_set(cmd, "--no-healthcheck") is not None:
        for use in cmd.options:
            if use.name.startswith("--health-"):
                found.append((f"--no-healthcheck conflicts with {use.name}", use.loc,
                              f"drop --no-healthcheck or {use.name}"))
                break

    driver_use = cmd.option("--log-driver")
    if driver_use is not None and driver_use.value_text == "none" and cmd.has("--log-opt"):
        found.append(("--log-opt with --log-driver none: the CLI refuses logging options for "
                      "driver none", cmd.all("--log-opt")[0].loc,
                      "drop the --log-opt options or choose another driver"))

    found.extend(_network_conflicts(cmd))
    found.extend(_duplicate_mounts(cmd))
    return found


def _network_conflicts(cmd: DockerCommand) -> list[tuple[str, Location, str | None]]:
    found: list[tuple[str, Location, str | None]] = []
    networks = _network_names(cmd)
    if any(not known(name) for _, name in networks):
        return found
    names = [name for _, name in networks]
    mode = names[0] if names else None
    mode_use = networks[0][0] if networks else None
    if len(names) > 1 and any(n in _BUILTIN_NETWORKS or n.startswith("container:")
                              for n in names):
        found.append((f"--network {names[0]} and --network {names[1]}: a container on "
                      f"{', '.join(n for n in names if n in _BUILTIN_NETWORKS or n.startswith('container:'))}"
                      " cannot join other networks", networks[1][0].loc,
                      "keep one --network, or connect user-defined networks only"))
    if mode is not None and mode.startswith("container:"):
        clashes = {
            "--publish": "port publishing", "--publish-all": "port publishing",
            "--expose": "port exposing", "--hostname": "a hostname", "--dns": "--dns",
            "--add-host": "--add-host", "--mac-address": "--mac-address", "--link": "--link",
        }
        for flag, what in clashes.items():
            use = cmd.option(flag) if flag != "--publish-all" else _bool_set(cmd, flag)
            if use is not None:
                found.append((f"--network {mode} cannot be combined with {_shown(use)} "
                              f"({what}): the container shares another container's network",
                              use.loc, f"drop {_shown(use)}, or set it on the container "
                              f"{mode.split(':', 1)[1]}"))
    if mode == "host":
        for flag in ("--link", "--mac-address"):
            use = cmd.option(flag)
            if use is not None:
                found.append((f"--network host cannot be combined with {flag}", use.loc,
                              f"drop {flag}, or use a user-defined network"))
    user_defined = mode is not None and mode not in _BUILTIN_NETWORKS and \
        not mode.startswith("container:")
    if not user_defined:
        where = "the default bridge" if mode in (None, "default", "bridge") else \
            f"--network {mode}"
        for flag in ("--network-alias", "--ip", "--ip6"):
            use = cmd.option(flag)
            if use is not None:
                found.append((f"{_shown(use)} only works on a user-defined network, not on "
                              f"{where}", use.loc,
                              "create a network (docker network create NAME) and add "
                              "--network NAME"))
    if mode == "host":
        for use, tpl in option_values(cmd, "--sysctl"):
            if tpl.known and tpl.text.startswith("net."):
                found.append((f"--sysctl {tpl.text} with --network host: net.* sysctls cannot "
                              "be set in the host's network namespace (the container fails to "
                              "start)", use.loc, "drop the sysctl or the host network"))
    del mode_use
    return found


def _duplicate_mounts(cmd: DockerCommand) -> list[tuple[str, Location, str | None]]:
    found: list[tuple[str, Location, str | None]] = []
    seen: dict[str, OptionUse] = {}
    for use in cmd.options:
        if use.name not in ("--volume", "--mount") or not known(use.value_text):
            continue
        try:
            mount = (N.parse_volume_spec(use.value_text) if use.name == "--volume"
                     else N.parse_mount_csv(use.value_text))
        except ValueError:
            continue
        if use.name == "--volume" and mount.source is None:
            continue  # an anonymous -v is overridden by a mount on the same path
        target = mount.target.rstrip("/") or "/"
        if target in seen:
            found.append((f"two mounts on {target} ({_shown(seen[target])} and {_shown(use)}): "
                          "the engine refuses a duplicate mount point", use.loc,
                          "mount each container path once"))
        else:
            seen[target] = use
    return found
