#!/usr/bin/env python3
"""Generate dockaudit/data/options.json, the option table the grammar loads.

The source of truth is the Docker CLI option reference (docker_run_flags.yaml):
run/create, update, network create and volume create come from it, with the
value kinds, aliases and deprecations it records. Subcommands the reference
does not describe (exec, rm, stop, start, ps, network connect, prune, ...)
and the podman/nerdctl extras are listed here, as the CLIs define them.

    python tools/gen_options.py REFERENCE_YAML [OUTPUT_JSON]

The output is JSON rather than YAML because the grammar loads it on every
`dockaudit check`, and json parses an order of magnitude faster.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "dockaudit" / "data" / "options.json"

# pflag types of the network/volume create tables, as grammar value kinds.
PFLAG_KINDS = {
    "string": "string",
    "bool": "bool",
    "map": "map",
    "list": "list",
    "bytes": "bytes",
    "stringSlice": "list",
    "ipNetSlice": "cidr",
    "ipSlice": "ip",
    "int": "int",
}


def _flag(name: str, short: str | None = None, kind: str = "string", **extra: Any) -> dict:
    entry: dict[str, Any] = {"name": name, "kind": kind}
    if short:
        entry["short"] = short.lstrip("-")
    entry.update({k: v for k, v in extra.items() if v})
    return entry


def _bool(name: str, short: str | None = None, **extra: Any) -> dict:
    return _flag(name, short, "bool", **extra)


# Subcommands outside the reference: option sets of the Docker CLI.
EXTRA_COMMANDS: dict[str, dict[str, Any]] = {
    "exec": {
        "interspersed": False,
        "flags": [
            _bool("--detach", "d"),
            _flag("--detach-keys"),
            _flag("--env", "e", "list", repeatable=True),
            _flag("--env-file", None, "list", repeatable=True),
            _bool("--interactive", "i"),
            _bool("--privileged"),
            _bool("--tty", "t"),
            _flag("--user", "u"),
            _flag("--workdir", "w"),
            _bool("--help"),
        ],
    },
    "rm": {"flags": [_bool("--force", "f"), _bool("--volumes", "v"), _bool("--link", "l"),
                     _bool("--help")]},
    "stop": {"flags": [_flag("--timeout", "t", "int"),
                       _flag("--time", None, "int", alias_of="--timeout",
                             deprecated="--time is deprecated: use --timeout"),
                       _flag("--signal", "s"), _bool("--help")]},
    "restart": {"flags": [_flag("--timeout", "t", "int"),
                          _flag("--time", None, "int", alias_of="--timeout",
                                deprecated="--time is deprecated: use --timeout"),
                          _flag("--signal", "s"), _bool("--help")]},
    "kill": {"flags": [_flag("--signal", "s"), _bool("--help")]},
    "start": {"flags": [_bool("--attach", "a"), _bool("--interactive", "i"), _flag("--detach-keys"),
                        _flag("--checkpoint"), _flag("--checkpoint-dir"), _bool("--help")]},
    "ps": {"flags": [_bool("--all", "a"), _flag("--filter", "f", "list", repeatable=True),
                     _flag("--format"), _flag("--last", "n", "int"), _bool("--latest", "l"),
                     _bool("--no-trunc"), _bool("--quiet", "q"), _bool("--size", "s"),
                     _bool("--help")]},
    "network connect": {"flags": [
        _flag("--alias", None, "list", repeatable=True), _flag("--ip", None, "ip"),
        _flag("--ip6", None, "ip"), _flag("--link", None, "list", repeatable=True),
        _flag("--link-local-ip", None, "list", repeatable=True),
        _flag("--driver-opt", None, "list", repeatable=True), _flag("--gw-priority", None, "int"),
        _bool("--help")]},
    "network disconnect": {"flags": [_bool("--force", "f"), _bool("--help")]},
    "network rm": {"flags": [_bool("--force", "f"), _bool("--help")]},
    "volume rm": {"flags": [_bool("--force", "f"), _bool("--help")]},
    "volume prune": {"flags": [_bool("--all", "a"), _bool("--force", "f"),
                               _flag("--filter", None, "list", repeatable=True), _bool("--help")]},
    "network prune": {"flags": [_bool("--force", "f"),
                                _flag("--filter", None, "list", repeatable=True), _bool("--help")]},
    "container prune": {"flags": [_bool("--force", "f"),
                                  _flag("--filter", None, "list", repeatable=True),
                                  _bool("--help")]},
    "system prune": {"flags": [_bool("--all", "a"), _bool("--force", "f"),
                               _flag("--filter", None, "list", repeatable=True),
                               _bool("--volumes"), _bool("--help")]},
}

# What podman and nerdctl add to run/create: name -> takes a value.
PODMAN_RUN_FLAGS = {
    "--pod": True, "--pod-id-file": True, "--uidmap": True, "--gidmap": True,
    "--subuidname": True, "--subgidname": True, "--systemd": True, "--rootfs": False,
    "--secret": True, "--replace": False, "--rmi": False, "--sdnotify": True,
    "--env-host": False, "--env-merge": True, "--unsetenv": True, "--unsetenv-all": False,
    "--http-proxy": False, "--tz": True, "--umask": True, "--passwd": False,
    "--passwd-entry": True, "--group-entry": True, "--image-volume": True, "--hostuser": True,
    "--init-path": True, "--personality": True, "--cgroups": True, "--cgroup-conf": True,
    "--seccomp-policy": True, "--read-only-tmpfs": False, "--requires": True, "--pidfile": True,
    "--preserve-fds": True, "--timeout": True, "--health-on-failure": True,
    "--health-startup-cmd": True, "--health-log-destination": True, "--arch": True,
    "--os": True, "--variant": True, "--authfile": True, "--creds": True, "--cert-dir": True,
    "--no-hosts": False, "--hosts-file": True, "--no-hostname": False, "--chrootdirs": True,
    "--rdt-class": True, "--retry": True, "--retry-delay": True, "--shm-size-systemd": True,
    "--tls-verify": False, "--decryption-key": True, "--label-file": True, "--log-level": True,
}
NERDCTL_RUN_FLAGS = {
    "--init-binary": True, "--cgroup-conf": True, "--rdt-class": True, "--umask": True,
    "--systemd": True, "--rootfs": False, "--pidfile": True, "--ipfs-address": True,
    "--verify": True, "--cosign-key": True, "--namespace": True,
}

PODMAN_GLOBALS = [
    _flag("--url"), _flag("--connection", "c"), _bool("--remote", "r"), _flag("--identity"),
    _flag("--log-level"), _flag("--root"), _flag("--runroot"), _flag("--runtime"),
    _flag("--storage-driver"), _flag("--storage-opt", None, "list", repeatable=True),
    _flag("--cgroup-manager"), _flag("--events-backend"), _flag("--tmpdir"),
    _flag("--module", None, "list", repeatable=True), _flag("--ssh"), _flag("--out"),
    _flag("--config"), _flag("--tls-cert"), _flag("--tls-key"), _flag("--tls-ca"),
    _flag("--host", "H", alias_of="--url"), _flag("--context"), _bool("--help", "h"),
    _bool("--version", "v"), _flag("--network-cmd-path"), _flag("--conmon"),
    _flag("--hooks-dir", None, "list", repeatable=True), _bool("--syslog"),
]
NERDCTL_GLOBALS = [
    _flag("--address", "a"), _flag("--host", "H", alias_of="--address"),
    _flag("--namespace", "n"), _flag("--snapshotter"),
    _flag("--storage-driver", None, alias_of="--snapshotter"), _flag("--cni-path"),
    _flag("--cni-netconfpath"), _flag("--data-root"), _flag("--cgroup-manager"),
    _bool("--insecure-registry"), _flag("--hosts-dir", None, "list", repeatable=True),
    _bool("--experimental"), _flag("--host-gateway-ip"), _flag("--bridge-ip"), _bool("--debug"),
    _bool("--debug-full"), _bool("--kube-hide-dupe"), _bool("--selinux-enabled"),
    _flag("--cdi-spec-dirs", None, "list", repeatable=True), _flag("--userns-remap"),
    _bool("--help", "h"), _bool("--version", "v"),
]


def _container_flag(entry: dict) -> dict:
    extra: dict[str, Any] = {}
    if entry.get("repeatable"):
        extra["repeatable"] = True
    if entry.get("alias_of"):
        extra["alias_of"] = entry["alias_of"]
    if entry.get("ostype") == "windows":
        extra["windows_only"] = True
    if entry["name"] in DEPRECATED:
        extra["deprecated"] = DEPRECATED[entry["name"]]
    return _flag(entry["name"], entry.get("short"), entry["kind"], **extra)


# Flags whose use itself is deprecated (the reference also records hidden
# aliases and cgroup-v1-only caveats under "deprecation": those are not).
DEPRECATED = {
    "--kernel-memory": "--kernel-memory is deprecated: kernel memory limits are no longer "
    "supported by the kernel, API 1.42+ ignores them and CLI 29 makes the flag a no-op",
    "--disable-content-trust": "--disable-content-trust is deprecated: content trust was "
    "removed from the Docker CLI (a no-op since 29.0)",
}


def build(reference: dict) -> dict:
    run: list[dict] = []
    create: list[dict] = []
    for entry in reference["container_options"] + reference["run_create_command_options"]:
        flag = _container_flag(entry)
        if "run" in entry["commands"]:
            run.append(flag)
        if "create" in entry["commands"]:
            create.append(flag)
    update = [
        _flag(e["name"], e.get("short"), e["kind"], deprecated=DEPRECATED.get(e["name"]))
        for e in reference["update_options"]["flags"]
    ] + [_bool("--help")]

    def pflag_table(flags: list[dict]) -> list[dict]:
        out = []
        for e in flags:
            kind = PFLAG_KINDS[e["pflag_type"]]
            out.append(_flag(e["name"], e.get("short"), kind,
                             repeatable=bool(e.get("repeatable")),
                             comma_splits=bool(e.get("comma_splits"))))
        return out + [_bool("--help")]

    commands: dict[str, Any] = {
        "run": {"interspersed": False, "image": True, "flags": run},
        "create": {"interspersed": False, "image": True, "flags": create},
        "update": {"flags": update},
        "network create": {"flags": pflag_table(reference["network_create_options"]["flags"])},
        "volume create": {"flags": pflag_table(reference["volume_create_options"]["flags"])},
    }
    commands.update(EXTRA_COMMANDS)
    global_flags = []
    for e in reference["global_options"]:
        kind = "string" if e["takes_value"] else "bool"
        global_flags.append(_flag(e["name"], e.get("short"), kind))

    podman = reference["compat"]["podman"]
    nerdctl = reference["compat"]["nerdctl"]
    return {
        "source": reference["meta"]["source"]["repo"] + "@"
        + reference["meta"]["source"]["commit"].split()[0],
        "commands": commands,
        "global": global_flags,
        "programs": {
            "podman": {
                "run_flags": PODMAN_RUN_FLAGS,
                "aliases": podman["flag_name_normalisation"],
                "comma_splits": sorted(s.split("/")[0] for s in podman["comma_splitting_slices"]),
                "global": PODMAN_GLOBALS,
            },
            "nerdctl": {
                "run_flags": NERDCTL_RUN_FLAGS,
                "aliases": {"--dns-opt": "--dns-option", "--net": "--network"},
                "comma_splits": sorted(s.split("/")[0] for s in nerdctl["comma_splitting_slices"]),
                "global": NERDCTL_GLOBALS,
            },
        },
    }


def render(reference_path: Path) -> str:
    reference = yaml.safe_load(reference_path.read_text(encoding="utf-8"))
    return json.dumps(build(reference), separators=(",", ":"), sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print("usage: gen_options.py REFERENCE_YAML [OUTPUT_JSON]", file=sys.stderr)
        return 2
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    output.write_text(render(Path(argv[0])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
