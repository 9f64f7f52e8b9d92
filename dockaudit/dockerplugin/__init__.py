"""dockaudit as a docker CLI plugin: ``docker audit check deploy.sh``, ``docker audit live``.

The docker CLI finds plugins as executables named ``docker-<name>`` in its
``cli-plugins`` folders (``$DOCKER_CONFIG/cli-plugins``, by default
``~/.docker/cli-plugins``). It runs ``docker-audit docker-cli-plugin-metadata``
to list the plugin, and ``docker-audit [GLOBAL OPTIONS] audit [ARGS]`` to run
it: the global options the user gave the CLI (``--context``, ``-H``,
``--config``, TLS) come first, and the plugin must honour them as the CLI
does. ``docker audit live`` audits the engine they name, resolved the CLI's way:
``-H``, else ``--context``, else ``DOCKER_HOST``, else ``DOCKER_CONTEXT``, else
the current context of the CLI's configuration, else the local socket. The
plugin passes ``-H`` and ``--context`` on to ``dockaudit live``, which reads the
context store itself.

`install` writes the plugin: a small shell script that runs this package
(its ``__main__``, which hands the arguments to `dockaudit.cli`) with the
Python that dockaudit is installed in.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockaudit import __version__
from dockaudit.sources import contexts

PLUGIN_NAME = "audit"
EXECUTABLE = f"docker-{PLUGIN_NAME}"
MARKER = "# dockaudit docker CLI plugin"
METADATA = {
    "SchemaVersion": "0.1.0",
    "Vendor": "dockaudit",
    "Version": __version__,
    "ShortDescription": "Audit how containers are started: scripts, Markdown, live engines",
    "URL": "https://github.com/dockaudit/dockaudit",
}
# The docker CLI's global options: those taking a value, and flags.
_VALUED = {"--config": "config", "-c": "context", "--context": "context", "-H": "host", "--host": "host",
           "-l": "log_level", "--log-level": "log_level", "--tlscacert": "tlscacert",
           "--tlscert": "tlscert", "--tlskey": "tlskey"}
_FLAGS = {"-D": "debug", "--debug": "debug", "--tls": "tls", "--tlsverify": "tlsverify"}


class PluginError(Exception):
    """The global options do not name an engine; the message says why (the CLI's wording)."""


@dataclass
class GlobalOptions:
    config: str | None = None
    context: str | None = None
    hosts: list[str] = field(default_factory=list)
    tlsverify: bool = False
    tls: bool = False
    tlscacert: str | None = None
    tlscert: str | None = None
    tlskey: str | None = None


@dataclass(frozen=True)
class Target:
    """The engine ``docker audit live`` reads: the ``live`` options that name it, and the
    environment (configuration folder, TLS) to read it with."""

    options: tuple[str, ...] = ()  # --host H or --context C; empty: live resolves it as the CLI does
    environment: dict[str, str] = field(default_factory=dict)


def config_dir(options: GlobalOptions | None = None, environ: dict[str, str] | None = None) -> Path:
    """The docker CLI's configuration folder: --config, else DOCKER_CONFIG, else ~/.docker."""
    if options is not None and options.config:
        return Path(options.config).expanduser()
    return contexts.config_dir(environ)


def split_arguments(argv: Sequence[str]) -> tuple[GlobalOptions, list[str]]:
    """The global options before ``audit``, and the arguments after it."""
    options = GlobalOptions()
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == PLUGIN_NAME:
            return options, list(argv[index + 1 :])
        name, eq, value = word.partition("=")
        if not eq and word.startswith("-") and not word.startswith("--") and len(word) > 2:
            name, value, eq = word[:2], word[2:], "="  # -cprod
        if name in _VALUED:
            if not eq:
                index += 1
                if index >= len(argv):
                    raise PluginError(f"flag needs an argument: {word}")
                value = argv[index]
            attribute = _VALUED[name]
            if attribute == "host":
                options.hosts.append(value)
            elif hasattr(options, attribute):
                setattr(options, attribute, value)
        elif name in _FLAGS:
            attribute = _FLAGS[name]
            if hasattr(options, attribute):
                setattr(options, attribute, value.lower() not in ("false", "0") if eq else True)
        else:
            raise PluginError(f"unknown flag: {word}")
        index += 1
    raise PluginError(f"the plugin was not called as `{EXECUTABLE} [GLOBAL OPTIONS] {PLUGIN_NAME} ...`")


def resolve_target(options: GlobalOptions, environ: dict[str, str] | None = None) -> Target:
    """The engine the docker CLI would talk to with these global options.

    ``-H`` and ``--context`` become the same options of ``live``; without them
    ``live`` resolves ``DOCKER_HOST``, ``DOCKER_CONTEXT`` and the current context
    from the context store itself (dockaudit.sources.contexts), in the CLI's order.
    """
    if options.hosts and options.context:
        raise PluginError("conflicting options: either specify --host or --context, not both")
    if len(options.hosts) > 1:
        raise PluginError("specify only one -H")
    environment = _tls_environment(options)
    if options.config:
        environment["DOCKER_CONFIG"] = str(config_dir(options, environ))
    if options.hosts:
        return Target(("--host", options.hosts[0]), environment)
    if options.context:
        return Target(("--context", options.context), environment)
    return Target((), environment)


def _tls_environment(options: GlobalOptions) -> dict[str, str]:
    """--tlsverify and the certificate options, as the environment dockaudit's client reads."""
    files = {"ca.pem": options.tlscacert, "cert.pem": options.tlscert, "key.pem": options.tlskey}
    given = {name: Path(path).expanduser() for name, path in files.items() if path}
    environment = {}
    if given:
        folders = {path.parent for path in given.values()}
        if len(folders) != 1 or any(path.name != name for name, path in given.items()):
            raise PluginError("dockaudit reads TLS files from one folder, as ca.pem, cert.pem and key.pem")
        environment["DOCKER_CERT_PATH"] = str(folders.pop())
    if options.tlsverify:
        environment["DOCKER_TLS_VERIFY"] = "1"
    return environment


def with_engine(arguments: list[str], target: Target) -> list[str]:
    """``live`` aimed at *target*, unless the arguments name an engine themselves."""
    if not arguments or arguments[0] != "live" or not target.options:
        return arguments
    named = ("-H", "--host", "--context", "--all-contexts")
    if any(a in named or a.startswith(("--host=", "--context=", "-H")) for a in arguments[1:]):
        return arguments
    return [arguments[0], *target.options, *arguments[1:]]


# --- installing -------------------------------------------------------------


def plugin_path(environ: dict[str, str] | None = None) -> Path:
    """Where `install` puts the plugin: the user's cli-plugins folder."""
    return config_dir(None, environ) / "cli-plugins" / EXECUTABLE


def script_text(python: str | None = None) -> str:
    python = python or sys.executable
    # -P: the folder docker runs in is not put on sys.path, so a dockaudit/ there is not imported
    return (
        "#!/bin/sh\n"
        f"{MARKER}: `docker {PLUGIN_NAME} ...` runs dockaudit. Written by `dockaudit install-docker-plugin`;\n"
        "# `dockaudit install-docker-plugin --uninstall` removes it.\n"
        f'exec {shlex.quote(python)} -P -m dockaudit.dockerplugin "$@"\n'
    )


def is_ours(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return MARKER.encode() in handle.read(400)
    except OSError:
        return False


def install(path: Path) -> str:
    """Write the plugin at *path*; returns what was done. Raises OSError or PluginError."""
    if path.exists() and not is_ours(path):
        raise PluginError(f"{path} exists and is not dockaudit's plugin; remove it first")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(script_text(), encoding="utf-8")
    temporary.chmod(temporary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    temporary.replace(path)
    return f"installed {path}: `docker {PLUGIN_NAME} check FILE`, `docker {PLUGIN_NAME} live`"


def uninstall(path: Path) -> str:
    """Remove the plugin at *path* if it is dockaudit's; returns what was done."""
    if not path.exists() and not path.is_symlink():
        return f"nothing to remove: {path} does not exist"
    if not is_ours(path):
        raise PluginError(f"{path} is not dockaudit's plugin; left as it is")
    path.unlink()
    return f"removed {path}"

