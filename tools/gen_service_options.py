#!/usr/bin/env python3
"""Extract dockaudit/data/service_options.yaml from a Docker CLI checkout: the options of
`docker service create` and `update`.

This is the explicit step that takes the facts from the CLI; everything after
it is ``tools/generate.py``, which derives ``service_options.json`` (what the
grammar loads) from the YAML and checks it in CI, with no checkout needed.

The facts come from the Docker CLI's own source, the same repository the
run/create options were taken from: ``cli/command/service/opts.go`` (the
flag-name constants and ``addServiceFlags``, shared by both commands),
``create.go`` and ``update.go`` (the flags each adds, whether options stop at
the first operand). Each ``flags.<Method>(...)`` call gives a flag's name, its
shorthand and its value kind: from the method (``BoolVar``, ``Uint64Var``,
``DurationVar``, ...) or, for ``Var``, from the option type of its target
(`VAR_KINDS`); a target this table does not know stops the extraction, so a
new option type is reviewed, never guessed.

    python tools/gen_service_options.py GIT_DIR            # rewrite service_options.yaml
    python tools/gen_service_options.py GIT_DIR --check    # exit 1 when the committed YAML differs
    python tools/generate.py                               # then derive service_options.json

GIT_DIR is a docker/cli clone's .git (a bare clone will do). The YAML is
sorted, one flag a line, with the commit and ``git describe`` of the source,
so that a change of the CLI shows as a readable diff.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "dockaudit" / "data" / "service_options.yaml"
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


HEADER = """\
# The options of docker service create and docker service update as dockaudit's
# grammar reads them, extracted from the Docker CLI's source named below by
# `python tools/gen_service_options.py GIT_DIR` (a docker/cli clone). Review a
# change here like code; dockaudit/data/service_options.json is generated from
# this file by `python tools/generate.py` (CI runs `tools/generate.py --check`).
#
# Each flag: name (long form), short (one letter), kind (how its value is read,
# as in options.yaml; float and service-port are the service commands' own),
# repeatable. Lists are sorted by name.
"""
_PLAIN = re.compile(r"--?[a-z0-9][a-z0-9-]*|[A-Za-z][A-Za-z0-9_.-]*|[a-z0-9/._*-]+")


def _scalar(value: object) -> str:
    """*value* in YAML: plain where that reads back as the same string, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _PLAIN.fullmatch(text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text)


def render_facts(facts: dict) -> str:
    """The facts as reviewable YAML: fixed key order, one flag a line; it reads back as *facts*."""
    source = facts["source"]
    lines = [HEADER.rstrip("\n"), "docker_cli:"]
    lines += [f"  {key}: {_scalar(source[key])}" for key in ("repository", "commit", "version")]
    lines.append("  files:")
    lines += [f"  - {_scalar(path)}" for path in source["files"]]
    lines.append("")
    lines.append("commands:")
    for name, command in sorted(facts["commands"].items()):
        lines.append(f"  {name}:")
        lines += [f"    {key}: {_scalar(command[key])}" for key in ("usage", "image", "interspersed") if key in command]
        lines.append("    flags:")
        for flag in command["flags"]:
            fields = ", ".join(f"{key}: {_scalar(flag[key])}" for key in ("name", "short", "kind", "repeatable")
                               if key in flag)
            lines.append(f"    - {{{fields}}}")
    text = "\n".join(lines) + "\n"
    read_back = yaml.safe_load(text)
    expected = {"docker_cli": source, "commands": facts["commands"]}
    if read_back != expected:
        raise SystemExit("the YAML written does not read back as the facts extracted")
    return text


def render(git_dir: str) -> str:
    return render_facts(build(git_dir))


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
    print(f"wrote {output}; now run python tools/generate.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
