"""The rule-case commands turned into Compose files by composerize, for the parity test.

Every rule case (fixtures/rules/*.yaml) that is one literal ``docker run`` or
``docker create`` command is given to composerize (npm), which writes the
Compose service a user would get for it. The pairs are written to
fixtures/compose/composerize.yaml, which tests/sources/test_compose_parity.py reads:
the command and its Compose form must give the same findings.

The converted files are committed (generated data, reproducible with this
script) rather than made in the test, so that the test needs neither npm nor
the network. A command composerize cannot convert is listed with the reason
instead: it fails, it drops an option it has no key for (it says so in a
comment), or it writes a file that Compose (docker-compose 1.29, ``config
-q``) refuses, such as ``volume_from:``.

Usage::

    python tools/composerize_cases.py [--composerize DIR]   # DIR: where node_modules/composerize is

Without ``--composerize``, composerize 1.7.6 is installed with npm into
``~/.cache/dockaudit-composerize``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RULE_CASES = REPO / "fixtures" / "rules"
OUTPUT = REPO / "fixtures" / "compose" / "composerize.yaml"
VERSION = "1.7.6"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dockaudit-composerize"

# composerize reads the command's words with its own parser; what it has no key for is dropped.
_RUNNER = """
const lib = require(require.resolve('composerize', {paths: [process.argv[1]]}));
const composerize = lib.default || lib;
const commands = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = commands.map((command) => {
  try { return {compose: composerize(command)}; } catch (e) { return {error: String(e)}; }
});
process.stdout.write(JSON.stringify(out));
"""


def _install() -> Path:
    if not (CACHE / "node_modules" / "composerize").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(CACHE), f"composerize@{VERSION}"],
                       check=True, capture_output=True, text=True)
    return CACHE


def literal_commands() -> list[dict]:
    """The rule cases that are a single literal docker run/create command."""
    from dockaudit.api import read_script
    from dockaudit.engine import command_text
    from dockaudit.model import UNKNOWN

    out = []
    for path in sorted(RULE_CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data.get("cases", []):
            text = case.get("script")
            if not isinstance(text, str) or case.get("config") or case.get("markdown") or case.get("today"):
                continue
            script = read_script(text, "case.sh", "shell")
            if len(script.commands) != 1 or script.problems:
                continue
            command = script.commands[0].command
            if command.subcommand not in (("run",), ("create",)) or command.invocation.program != "docker":
                continue
            words = command.invocation.words
            if any(w.value is UNKNOWN or w.splits for w in words) or command.problems:
                continue
            out.append({"rule": data["rule"], "case": case["name"], "command": command_text(command)})
    return out


# Keys of the Compose specification newer than docker-compose 1.29, which refuses them.
NEWER_THAN_1_29 = re.compile(r"'(pids|cgroup|uts)'")


def compose_refuses(text: str) -> str | None:
    """What docker-compose (1.29) says is wrong with a Compose file, when it refuses it.

    Its top-level ``name:`` and the keys it is too old for (``NEWER_THAN_1_29``)
    are not held against the file.
    """
    import shutil
    import tempfile

    if shutil.which("docker-compose") is None:
        return None
    body = "\n".join(line for line in text.splitlines() if not line.startswith("name:"))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "docker-compose.yml").write_text(body + "\n", encoding="utf-8")
        proc = subprocess.run(["docker-compose", "config", "-q"], cwd=folder, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if lines and NEWER_THAN_1_29.search(lines[-1]):
        return None
    return lines[-1] if lines else "refused"


def convert(cases: list[dict], where: Path) -> list[dict]:
    proc = subprocess.run(["node", "-e", _RUNNER, str(where)], input=json.dumps([c["command"] for c in cases]),
                          capture_output=True, text=True, check=True, timeout=600)
    results = json.loads(proc.stdout)
    out = []
    for case, result in zip(cases, results, strict=True):
        entry = dict(case)
        if "error" in result:
            entry["not_converted"] = f"composerize fails: {result['error'][:200]}"
        elif "# ignored options" in result["compose"]:
            dropped = [line[2:] for line in result["compose"].splitlines()[1:] if line.startswith("# ")]
            entry["not_converted"] = f"composerize drops {' '.join(dropped)}"
        elif (refused := compose_refuses(result["compose"])) is not None:
            entry["not_converted"] = f"Compose refuses composerize's file: {refused}"
        else:
            entry["compose"] = result["compose"]
        out.append(entry)
    return out


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the Compose files) as literal blocks, readable in review."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--composerize", type=Path, help="folder holding node_modules/composerize")
    args = parser.parse_args(argv)
    where = args.composerize or _install()
    entries = convert(literal_commands(), where)
    header = (f"# Generated by tools/composerize_cases.py with composerize {VERSION}: each literal rule-case\n"
              "# command and the Compose file composerize makes of it. Do not edit by hand.\n")
    OUTPUT.write_text(header + yaml.dump(entries, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                         width=120), encoding="utf-8")
    converted = sum("compose" in e for e in entries)
    print(f"{len(entries)} commands, {converted} converted, written to {OUTPUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
