"""What every subcommand shares: exit codes, usage errors, error messages, rules and configuration.

`dockaudit.cli` and the subcommands kept in their own packages (``enforce``)
build on this module, so that none of them has to import another.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

EXIT_CODES = """\
exit codes:
  0  nothing at or above --fail-on (default: warning)
  1  findings at or above --fail-on
  2  usage or configuration error, unreadable input, engine connection
     failure, or an internal error (other results are still reported)
"""


class UsageError(Exception):
    """A mistake the user can fix (bad arguments, a bad configuration): a message and exit 2."""


def print_error(message: str) -> None:
    from dockaudit.report import printable  # a message may name a file: no raw control characters

    sys.stderr.write(f"dockaudit: error: {printable(message)}\n")


def loaded_rules():
    from dockaudit.api import default_rules

    loaded = default_rules()
    for message in loaded.errors:
        sys.stderr.write(f"dockaudit: warning: {message}\n")
    return loaded


def rules_and_config(args: argparse.Namespace, near: str | None = None):
    """The loaded rules and the configuration for *near* (default: here); exit 2 on a bad config."""
    from dockaudit.config import ConfigError, ConfigFinder

    loaded = loaded_rules()
    try:
        return loaded, ConfigFinder(loaded.rules, getattr(args, "config", None)).for_path(near)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
