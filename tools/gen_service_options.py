#!/usr/bin/env python3
"""Generate dockaudit/data/service_options.json: the options of `docker service create` and `update`.

The facts come from the Docker CLI's own source, the same repository the
run/create reference was taken from: ``cli/command/service/opts.go`` (the
flag-name constants and ``addServiceFlags``, shared by both commands),
``create.go`` and ``update.go`` (the flags each adds, whether options stop at
the first operand). Each ``flags.<Method>(...)`` call gives a flag's name, its
shorthand and its value kind: from the method (``BoolVar``, ``Uint64Var``,
``DurationVar``, ...) or, for ``Var``, from the option type of its target
(`VAR_KINDS`); a target this table does not know stops the generator, so a
new option type is reviewed, never guessed.

    python tools/gen_service_options.py GIT_DIR [OUTPUT_JSON]   # GIT_DIR: a docker/cli clone's .git
    python tools/gen_service_options.py GIT_DIR --check          # exit 1 when the committed file differs

The output is sorted, indented JSON, with the commit and ``git describe`` of
the source, so that a change of the CLI shows as a readable diff.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "dockaudit" / "data" / "service_options.json"
FILES = ("cli/command/service/opts.go", "cli/command/service/create.go", "cli/command/service/update.go")

METHOD_KINDS = {
    "Bool": "bool", "BoolVar": "bool", "BoolVarP": "bool",
    "String": "string", "StringVar": "string", "StringVarP": "string",
    "Int64Var": "int64", "IntVar": "int", "Uint64Var": "uint64", "DurationVar": "duration",
}
# The option types behind flags.Var targets (the last part of the target expression), as grammar kinds.
VAR_KINDS = {
    "limitMemBytes": "bytes", "resMemBytes": "bytes", "swapBytes": "bytes",
    "limitCPU": "decimal", "resCPU": "decimal",
    "replicas": "uint64", "maxConcurrent": "uint64", "maxAttempts": "uint64",
    "stopGrace": "duration", "delay": "duration", "window": "duration", "interval": "duration",
    "timeout": "duration", "startPeriod": "duration", "startInterval": "duration",
    "maxFailureRatio": "float",
    "mounts": "mount", "ulimits": "ulimit", "sysctls": "map",
    "publishPorts": "service-port", "PortOpt": "service-port",
    "credentialSpec": "string", "entrypoint": "string", "ShlexOpt": "string",
    "labels": "list", "containerLabels": "list", "env": "list", "envFile": "list", "constraints": "list",
    "placementPrefs": "list", "placementPrefOpts": "list", "networks": "list", "secrets": "list",
    "configs": "list", "groups": "list", "dns": "list", "dnsOption": "list", "dnsSearch": "list",
    "hosts": "list", "capAdd": "list", "capDrop": "list", "logDriver.opts": "list", "opts": "list",
    "newListOptsVar": "list", "newListOptsVarWithValidator": "list", "NewListOptsRef": "list",
}
REPEATABLE = {"list", "mount", "ulimit", "map", "service-port"}

_CALL = re.compile(r"\bflags\.(\w+)\(")
_CONST = re.compile(r"^\s*(flag\w+)\s*=\s*\"([^\"]+)\"", re.M)


def git_show(git_dir: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{path}"], capture_output=True, text=True,
                          check=True).stdout


def _arguments(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose opening parenthesis is at *start*."""
    args, depth, current, i, quote = [], 0, [], start + 1, None
    while i < len(text):
        c = text[i]
        if quote:
            current.append(c)
            if c == "\\" and quote == '"':
                current.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"`":
            quote = c
            current.append(c)
        elif c in "([{":
            depth += 1
            current.append(c)
        elif c in ")]}":
            if depth == 0:
                args.append("".join(current).strip())
                return args
            depth -= 1
            current.append(c)
        elif c == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    raise SystemExit("unbalanced call in the source")


def _function_body(text: str, signature: str) -> str:
    start = text.index(signature)
    end = text.find("\n}\n", start)
    return text[start:end]


def _var_kind(target: str) -> str | None:
    """The kind of a ``flags.Var`` target: ``&options.a.b`` by ``b`` (or ``a.b``), a constructor
    call ``pkg.NewX(...)`` or a literal ``&pkg.T{}`` by its name."""
    head = target.lstrip("&").split("(", 1)[0].split("{", 1)[0]
    parts = head.split(".")
    return VAR_KINDS.get(".".join(parts[-2:])) or VAR_KINDS.get(parts[-1])


def _flags(body: str, constants: dict[str, str]) -> list[dict]:
    found = []
    for match in _CALL.finditer(body):
        method = match.group(1)
        if method not in METHOD_KINDS and method not in ("Var", "VarP"):
            continue
        line_start = body.rfind("\n", 0, match.start()) + 1
        if body[line_start:match.start()].lstrip().startswith("//"):
            continue
        args = _arguments(body, match.end() - 1)
        has_target = method.endswith(("Var", "VarP"))
        name_arg = args[1] if has_target else args[0]
        name = name_arg.strip('"') if name_arg.startswith('"') else constants.get(name_arg)
        if name is None:
            raise SystemExit(f"unknown flag name {name_arg!r}")
        entry: dict = {"name": f"--{name}"}
        if method.endswith("P"):
            entry["short"] = args[2].strip('"')
        if method in METHOD_KINDS:
            kind = METHOD_KINDS[method]
        else:
            kind = _var_kind(args[0])
            if kind is None:
                raise SystemExit(f"--{name}: no kind for the option type of {args[0]!r}; add it to VAR_KINDS")
        entry["kind"] = kind
        if kind in REPEATABLE:
            entry["repeatable"] = True
        found.append(entry)
    return found


def build(git_dir: str) -> dict:
    opts, create, update = (git_show(git_dir, path) for path in FILES)
    constants = dict(_CONST.findall(opts))
    shared = _flags(_function_body(opts, "func addDetachFlag("), constants)
    shared += _flags(_function_body(opts, "func addServiceFlags("), constants)
    commands = {}
    for name, source, usage in (("service create", create, "IMAGE [COMMAND] [ARG...]"),
                                ("service update", update, "SERVICE")):
        body = _function_body(source, "func new")
        flags = {f["name"]: f for f in _flags(body, constants) + shared}
        flags["--help"] = {"name": "--help", "kind": "bool"}
        entry: dict = {"usage": usage, "flags": sorted(flags.values(), key=lambda f: f["name"])}
        if "SetInterspersed(false)" in body:
            entry["interspersed"] = False
        if usage.startswith("IMAGE"):
            entry["image"] = True
        commands[name] = entry
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    version = subprocess.run(["git", "--git-dir", git_dir, "describe", "--tags", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
    return {"source": {"repository": "github.com/docker/cli", "commit": commit, "version": version,
                       "files": list(FILES)},
            "commands": commands}


def render(git_dir: str) -> str:
    return json.dumps(build(git_dir), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    text = render(argv[0])
    if len(argv) > 1 and argv[1] == "--check":
        if DEFAULT_OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{DEFAULT_OUTPUT} is not what the source gives: run tools/gen_service_options.py", file=sys.stderr)
            return 1
        return 0
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
