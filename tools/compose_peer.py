"""compose-lint, the closest peer, and dockaudit on the same real Compose files.

Every file of shared/corpus/compose.tsv (fetched into ``$DOCKAUDIT_CORPUS/compose``)
is copied under its own name into a folder of its own, and both tools check
it: compose-lint (``--format json``) and dockaudit under the ``strict``
profile, the one whose scope matches compose-lint's (it includes what
dockaudit ships off: capabilities not dropped, writable root filesystem, no
digest). Each compose-lint finding whose check has a dockaudit counterpart
(``COUNTERPART``) is matched on the same service; the misses are listed with
the reason, and what dockaudit reports on top is counted by rule.

compose-lint checks that have no dockaudit counterpart are counted apart
(``UNMAPPED``, with why). Where compose-lint is wrong, dockaudit does not
follow it (``PEER_WRONG``): a ``%%IMAGE%%`` template placeholder is not an
untagged image but a value filled in before the file is used.

Usage::

    python tools/compose_peer.py [--corpus DIR] [--compose-lint PATH] [-v]

compose-lint comes from PyPI (``pip install compose-lint==0.36.2``, as bench/run.py
installs it); by default the one on PATH or in the bench's venv is used.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]

from dockaudit.api import default_rules  # noqa: E402
from dockaudit.config import Config  # noqa: E402
from dockaudit.engine import Engine  # noqa: E402
from dockaudit.model import Script, known  # noqa: E402
from dockaudit.sources.compose import read_compose  # noqa: E402
from dockaudit.sources.compose_load import ComposeError  # noqa: E402

# compose-lint check -> the dockaudit rules any one of which is its counterpart
COUNTERPART: dict[str, frozenset[str]] = {
    "CL-0001": frozenset({"DA205"}),  # docker socket mounted
    "CL-0002": frozenset({"DA501"}),  # privileged
    "CL-0003": frozenset({"DA509"}),  # no-new-privileges not set
    "CL-0004": frozenset({"DA701"}),  # image not pinned to a version
    "CL-0005": frozenset({"DA403"}),  # ports on every interface
    "CL-0006": frozenset({"DA503"}),  # capabilities not dropped
    "CL-0007": frozenset({"DA208"}),  # writable root filesystem
    "CL-0008": frozenset({"DA406"}),  # host network
    "CL-0009": frozenset({"DA507", "DA508"}),  # seccomp / AppArmor / SELinux off
    "CL-0010": frozenset({"DA504", "DA505", "DA506"}),  # host pid / ipc / uts / userns
    "CL-0011": frozenset({"DA502"}),  # dangerous capability
    "CL-0013": frozenset({"DA205", "DA206"}),  # sensitive host path
    "CL-0014": frozenset({"DA602"}),  # logging disabled
    "CL-0016": frozenset({"DA511"}),  # host device
    "CL-0017": frozenset({"DA207"}),  # shared propagation
    "CL-0018": frozenset({"DA510"}),  # explicit root user
    "CL-0019": frozenset({"DA702"}),  # no digest
    "CL-0020": frozenset({"DA801"}),  # credential in environment
    "CL-0021": frozenset({"DA802"}),  # credential in a connection string
    "CL-0022": frozenset({"DA209"}),  # tmpfs exec/suid/dev
    "CL-0024": frozenset({"DA502"}),  # capability that executes on the host
    "CL-0025": frozenset({"DA206"}),  # writable host root
    "CL-0026": frozenset({"DA101", "DA102"}),  # no memory or CPU limit (by message, below)
}
UNMAPPED = {
    "CL-0027": "capabilities of lesser risk (CHOWN, SETUID, …): dockaudit flags only those that break isolation",
    "CL-0028": "capabilities that reach the host network: dockaudit flags NET_ADMIN and NET_RAW-class risks in DA502 only",
    "CL-0029": "capabilities that affect host availability (SYS_NICE, SYS_RESOURCE …): not a dockaudit check",
    "CL-0030": "capabilities that disclose host data (SYSLOG …): not a dockaudit check",
}
PEER_WRONG = {
    "a %%IMAGE%% template placeholder, not an untagged image": re.compile(r"%%[A-Z_]+%%"),
    "a <placeholder> to fill in, not a value": re.compile(r"<[A-Za-z][-\w ]*>"),
}


OFF_BY_DEFAULT = {"CL-0006": "DA503", "CL-0007": "DA208", "CL-0019": "DA702"}


def why_missed(rule: str, line: str, spec, message: str, profile: str = "strict") -> str:
    """Why dockaudit has no counterpart for a compose-lint finding, when it is by design."""
    if spec is not None and not spec.is_service:
        return "a one-shot service (its command ends, or another service waits for it to complete)"
    if rule == "CL-0006" and spec is not None and spec.privileged:
        return "privileged: DA501 reports it; dropping capabilities means nothing there"
    if rule in OFF_BY_DEFAULT and profile != "strict":
        return f"{OFF_BY_DEFAULT[rule]} is off by default; the strict profile turns it on"
    if rule in ("CL-0004", "CL-0019") and spec is not None and spec.image_origin == "built":
        return "the project builds this image (build: with image: naming it): nothing is pulled"
    if "$" in line:
        return "a value from a variable with no value and no default: unknown, never a violation"
    if rule == "CL-0005" and spec is not None and not known(spec.network_mode):
        return "the network's name is a variable: it may be host, where ports are not published"
    if rule == "CL-0013" and ("/run/" in line or "/var/run/" in line):
        return "a service's own socket under /run: DA205 flags runtime sockets and /run itself, not every file"
    if rule == "CL-0013" and "~" in line:
        return "a home-relative source (~/.ssh) is unknown to dockaudit, in scripts as in Compose"
    if rule == "CL-0020" and ("/run/secrets/" in line or "://" in line and "@" not in line):
        return "the value is a secret's file path or an address without credentials"
    return ""


@dataclass
class Tally:
    matched: int = 0
    missed: list[tuple[str, str, str, str]] = field(default_factory=list)  # file, service, rule, why
    peer_wrong: list[tuple[str, str, str, str]] = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)
    by_rule: Counter = field(default_factory=Counter)  # matched per compose-lint check
    added: Counter = field(default_factory=Counter)  # dockaudit rules compose-lint has no finding for
    files: int = 0
    services: int = 0


def _compose_lint() -> str:
    found = shutil.which("compose-lint")
    if found:
        return found
    bench = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dockaudit-bench" / "venv"
    return str(bench / "bin" / "compose-lint")


def _expected(rule: str, message: str) -> frozenset[str]:
    if rule == "CL-0026":  # one check for both limits: the message says which are missing
        wanted = set()
        if "memory" in message.lower():
            wanted.add("DA101")
        if "cpu" in message.lower():
            wanted.add("DA102")
        return frozenset(wanted or {"DA101", "DA102"})
    return COUNTERPART[rule]


def dockaudit_by_service(path: Path, engine: Engine) -> tuple[dict[str, set[str]], dict] | None:
    """The dockaudit rules reported on each service of the file, and the specs (None when not read)."""
    try:
        read = read_compose(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except ComposeError:
        return None
    out: dict[str, set[str]] = {}
    specs = {}
    for service, command in zip(read.services, read.script.commands, strict=True):
        alone = Script(path=str(path), kind="compose", commands=(command,), lines=read.script.lines)
        out[service] = {f.rule_id for f in engine.check_script(alone).findings}
        specs[service] = command.spec
    return out, specs


def peer_findings(tool: str, paths: list[Path], batch: int = 40) -> dict[str, list[dict]]:
    """compose-lint's findings by file, many files to a process; a batch it refuses goes file by file."""
    out: dict[str, list[dict]] = defaultdict(list)
    for start in range(0, len(paths), batch):
        chunk = [str(p) for p in paths[start:start + batch]]
        proc = subprocess.run([tool, "check", "--format", "json", "--allow-partial-coverage", *chunk],
                              capture_output=True, text=True, timeout=600)
        try:
            findings = json.loads(proc.stdout).get("findings", [])
        except json.JSONDecodeError:
            if len(chunk) > 1:
                for path, found in peer_findings(tool, [Path(c) for c in chunk], 1).items():
                    out[path] += found
            continue
        for finding in findings:
            out[finding["file"]].append(finding)
    return out


def compare(corpus: Path, rows: list[dict], tool: str, scratch: Path, profile: str = "strict") -> Tally:
    tally = Tally()
    engine = Engine(default_rules().rules, Config(profile=profile))
    paths = []
    for index, row in enumerate(rows):
        target = scratch / str(index) / PurePosixPath(row["path"]).name
        target.parent.mkdir(parents=True)
        shutil.copyfile(corpus / "compose" / row["saved_name"], target)
        paths.append((row, target))
    peer = peer_findings(tool, [target for _, target in paths])
    for row, target in paths:
        read = dockaudit_by_service(target, engine)
        theirs = peer.get(str(target), [])
        if read is None:
            continue
        ours, specs = read
        tally.files += 1
        tally.services += len(ours)
        text = target.read_text(encoding="utf-8", errors="replace").splitlines()
        explained: dict[str, set[str]] = defaultdict(set)
        for finding in theirs:
            rule, service, message = finding.get("rule_id"), finding.get("service"), finding.get("message", "")
            if rule in UNMAPPED or rule not in COUNTERPART:
                tally.unmapped[rule] += 1
                continue
            line = text[finding["line"] - 1] if 0 < finding.get("line", 0) <= len(text) else ""
            wrong = next((why for why, pattern in PEER_WRONG.items() if pattern.search(line)), None)
            name = row["saved_name"]
            if wrong is not None:
                tally.peer_wrong.append((name, service, rule, wrong))
                continue
            wanted = _expected(rule, message)
            got = ours.get(service, set())
            if wanted & got:
                tally.matched += 1
                tally.by_rule[rule] += 1
                explained[service] |= wanted & got
            else:
                why = why_missed(rule, line, specs.get(service), message, profile)
                tally.missed.append((name, service, rule, why or f"{message[:90]} | {line.strip()[:80]}"))
        for service, rules in ours.items():
            for rule in rules - explained[service]:
                tally.added[rule] += 1
    return tally


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("DOCKAUDIT_CORPUS"))
    parser.add_argument("--compose-lint", default=None)
    parser.add_argument("--profile", default="strict", help="dockaudit's profile (default: strict)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.corpus or not (Path(args.corpus) / "compose").is_dir():
        print("compose_peer: no corpus (--corpus or DOCKAUDIT_CORPUS, with a compose/ folder)", file=sys.stderr)
        return 2
    tool = args.compose_lint or _compose_lint()
    with (REPO.parent / "shared" / "corpus" / "compose.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    with tempfile.TemporaryDirectory() as scratch:
        tally = compare(Path(args.corpus), rows, tool, Path(scratch), args.profile)
    mapped = tally.matched + len(tally.missed)
    print(f"files {tally.files}, services {tally.services}")
    print(f"compose-lint findings with a dockaudit counterpart: {mapped}; "
          f"dockaudit reports {tally.matched}, misses {len(tally.missed)}")
    wrong = Counter(why for *_, why in tally.peer_wrong)
    print(f"compose-lint is wrong (not followed): {len(tally.peer_wrong)} {dict(wrong)}")
    print(f"compose-lint findings of checks dockaudit does not have: {sum(tally.unmapped.values())} "
          f"{dict(sorted(tally.unmapped.items()))}")
    print(f"matched by check: {dict(sorted(tally.by_rule.items()))}")
    print(f"dockaudit adds: {sum(tally.added.values())} {dict(sorted(tally.added.items()))}")
    reasons = Counter(why for *_, why in tally.missed)
    for why, count in reasons.most_common():
        print(f"missed, {count}: {why}")
    if args.verbose:
        for item in tally.missed:
            print("MISS", *item)
    if args.verbose:
        for item in tally.peer_wrong:
            print("PEER WRONG", *item)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
