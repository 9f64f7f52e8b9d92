"""The docker CLI plugin's entry point: ``python -m dockaudit.dockerplugin ARGS``.

It answers the CLI's metadata request, or resolves the engine the CLI's
global options name and runs `dockaudit.cli` with the rest.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from dockaudit.dockerplugin import (
    METADATA,
    PLUGIN_NAME,
    PluginError,
    Target,
    resolve_target,
    split_arguments,
    with_engine,
)


def main(argv: Sequence[str] | None = None) -> int:
    """The plugin's entry point: ``docker-audit docker-cli-plugin-metadata`` or ``… audit ARGS``."""
    from dockaudit import cli

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["docker-cli-plugin-metadata"]:
        sys.stdout.write(json.dumps(METADATA, indent=2) + "\n")
        return cli.EXIT_OK
    try:
        options, arguments = split_arguments(argv)
        target = resolve_target(options) if arguments[:1] == ["live"] else Target()
    except PluginError as exc:
        sys.stderr.write(f"docker audit: error: {exc}\n")
        return cli.EXIT_ERROR
    os.environ.update(target.environment)
    return cli.main(with_engine(arguments, target), prog=f"docker {PLUGIN_NAME}")


if __name__ == "__main__":
    sys.exit(main())
