"""DA0xx: the docker command itself — what the Docker CLI or engine would reject or mis-read.

The grammar records usage problems on each `DockerCommand`; these rules report
them under their own ids, so that each can be configured and explained on its own.
DA001 (parse failures) and DA008 (unused suppressions) are produced by the engine;
their classes exist for documentation and configuration.
"""

from __future__ import annotations

from typing import Iterable

from dockaudit.model import DockerCommand, Severity
from dockaudit.rulebase import STATIC, Rule, RuleContext, Violation

THEME = "command"


class _UsageProblemRule(Rule):
    """Reports the grammar's usage problems whose rule id is this rule's id."""

    sources = STATIC
    theme = THEME
    reports_usage_problems = True

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        for problem in command.problems:
            if problem.rule_id == self.id:
                yield Violation(problem.message, problem.loc, problem.fix)


class ParseFailure(Rule):
    """A region of the file could not be read as shell.

    dockaudit parses the whole file, then each top-level command on its own,
    then falls back to a quote-aware tokeniser around each docker word. What
    still cannot be read is reported here with its location and the reason,
    so that nothing is skipped silently: a docker command inside that region
    has not been checked.

    **Anti-pattern**
    ```bash
    echo "starting the proxy
    docker run -d nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d nginx:1.25
    ```
    """

    id = "DA001"
    name = "parse-failure"
    severity = Severity.INFO
    sources = STATIC
    theme = THEME


class UnknownOption(_UsageProblemRule):
    """A flag the Docker CLI does not know for this subcommand.

    The CLI refuses the whole command (`unknown flag`), so the container is
    never started. Typical causes are typos (`--cpuset-cpus-1`), single-dash
    long flags (`-rm`), and global flags such as `-H` or `--context` written
    after the subcommand. The message suggests the closest real flag.

    **Anti-pattern**
    ```bash
    docker run -rm alpine:3.19 echo hi
    ```

    **Best practice**
    ```bash
    docker run --rm alpine:3.19 echo hi
    ```
    """

    id = "DA002"
    name = "unknown-option"
    severity = Severity.ERROR


class InvalidValue(_UsageProblemRule):
    """A flag has a missing or malformed value, or the image reference is invalid.

    The CLI or the daemon rejects it: sizes with a bad suffix (`512x`), memory
    below 6 MB, malformed port specs, restart policies such as `always:3`,
    bad ulimits or durations, mount CSV errors or relative mount paths,
    `--cpus` with too many decimals, sysctls outside the namespaced set, or an
    image reference such as `YOUR_USER/app` (upper case is not allowed).

    **Anti-pattern**
    ```bash
    docker run -d -m 512x nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d -m 512m nginx:1.25
    ```
    """

    id = "DA003"
    name = "invalid-value"
    severity = Severity.ERROR


class OptionsAfterImage(_UsageProblemRule):
    """Docker flags written after the image name become the container's command.

    Option parsing stops at the image: `docker run nginx -p 80:80` starts nginx
    with the arguments `-p 80:80` and publishes nothing. The image's entrypoint
    usually fails on them, or worse, silently ignores them.

    **Anti-pattern**
    ```bash
    docker run -d nginx:1.25 -p 8080:80
    ```

    **Best practice**
    ```bash
    docker run -d -p 127.0.0.1:8080:80 nginx:1.25
    ```
    """

    id = "DA004"
    name = "options-after-image"
    severity = Severity.ERROR


class ConflictingOptions(_UsageProblemRule):
    """A combination of options the engine rejects.

    Examples: `--cpus` with `--cpu-period`/`--cpu-quota`; `--memory-swap`
    without `-m` or below it; `--memory-reservation` above `-m`; `--rm` with a
    restart policy; `--network container:X` with `-p`, `-P`, `--expose`, `-h`,
    `--dns`, `--add-host` or `--mac-address`; `--network host` with `--link`;
    `--network-alias` or `--ip` without a user-defined network; `-d` on
    `docker create`. The command fails when it runs.

    **Anti-pattern**
    ```bash
    docker run -d --rm --restart always nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped nginx:1.25
    ```
    """

    id = "DA005"
    name = "conflicting-options"
    severity = Severity.ERROR


class DeprecatedOption(_UsageProblemRule):
    """A deprecated option or spelling.

    Deprecated options such as `--kernel-memory` are ignored by current
    engines or removed from newer CLIs, so the setting silently has no
    effect; legacy spellings like `--security-opt seccomp:unconfined` may stop
    being accepted. (`--link` has a rule of its own, DA401.)

    **Anti-pattern**
    ```bash
    docker run -d --kernel-memory 64m nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d -m 256m nginx:1.25
    ```
    """

    id = "DA006"
    name = "deprecated-option"
    severity = Severity.WARNING


class TtyInScript(Rule):
    """`-it` in a script fails where no terminal is attached.

    `docker run -it` and `docker exec -it` check that standard input is a
    terminal: under CI, cron or any redirected input they fail with "the input
    device is not a TTY", and `-t` alone still mixes carriage returns into
    output that is piped or saved to a file.

    **Stays silent** for `-t` without `-i` (the CLI checks the terminal only
    when both are given), with `-d` (nothing is attached), on `docker create`,
    in Markdown (a person at a terminal types it) and in a developer's own
    shell set-up (dotfiles and shell functions are run from a terminal).

    **Anti-pattern**
    ```bash
    docker run --rm -it alpine:3.19 echo hi
    ```

    **Best practice**
    ```bash
    docker run --rm alpine:3.19 echo hi
    ```
    """

    id = "DA007"
    name = "tty-in-script"
    severity = Severity.INFO
    sources = STATIC
    theme = THEME
    purposes = frozenset({"deploy", "ci-test", "build"})
    subcommands = frozenset({("run",), ("exec",)})

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        if command.subcommand not in self.subcommands or command.invocation.context == "markdown":
            return
        if _flag_set(command, "--detach"):
            return
        tty = next((use for use in reversed(command.options) if use.name == "--tty"), None)
        if tty is None or not _flag_set(command, "--tty") or not _flag_set(command, "--interactive"):
            return
        shown = tty.spelled if tty.spelled != "-t" else "-t"
        yield Violation(
            f"{shown} (a terminal with -i) needs a terminal: where none is attached (CI, cron, a pipe) docker fails "
            "with \"the input device is not a TTY\"",
            tty.flag.loc,
            "drop -t in scripts (keep -i to pass standard input)",
        )


def _flag_set(command: DockerCommand, name: str) -> bool:
    """The last use of boolean flag *name* turns it on (``-t``, ``--tty``, ``--tty=true``)."""
    use = command.option(name)
    return use is not None and (use.value_text is None or use.value_text in ("true", "1", "t", "T", "TRUE", "True"))


class UnusedSuppression(Rule):
    """An inline ignore comment that suppressed nothing.

    A stale `# dockaudit ignore=…` hides nothing today but will silently hide
    a real problem later, when the command changes. Remove it, or correct
    the rule id it names.

    **Anti-pattern**
    ```bash
    # dockaudit ignore=DA501 -- needs privileges
    docker run --rm alpine:3.19 echo hi
    ```

    **Best practice**
    ```bash
    docker run --rm alpine:3.19 echo hi
    ```
    """

    id = "DA008"
    name = "unused-suppression"
    severity = Severity.INFO
    sources = STATIC
    theme = THEME
