"""Differential test of the parser against a real engine: the engine is the oracle.

Every ``docker run``/``docker create`` whose words are all literal — from the
shared corpus (``corpus/commands.jsonl``) and from the rule cases
(``fixtures/rules/*.yaml``) — is read by dockaudit and also created on a
private engine (tests/engine.py: its own dockerd and socket, a busybox image
tagged under the command's image name). Then:

- **verdict**: the engine accepts the command exactly when dockaudit reports
  no DA002, DA003 or DA005 problem for it;
- **spec**: for an accepted command, the static spec (what ``dockaudit show``
  prints) and the spec read back from the created container's inspect
  document (``dockaudit show --inspect``) agree field by field.

The command goes to the engine as written, with these changes: ``run``
becomes ``create`` and its run-only options (``-d``, ``--sig-proxy``,
``--detach-keys``) are dropped; ``--pull never`` replaces any ``--pull``
(nothing is ever pulled); ``--cidfile`` writes into a scratch folder. The
containers, networks it names (``--link x``, ``--volumes-from x``,
``--network container:x``, ``--network mynet``) are made first. Nothing is
started and nothing talks to a container; everything is removed after each
batch.

The docker CLI used is /usr/local/bin/docker 28.2.2 when present, the
client whose grammar dockaudit reads (its API is negotiated down to the
engine's 1.41; the Debian docker.io client 20.10 speaks 1.41 natively but
lacks newer options), else the first ``docker`` on PATH.

What the engine cannot show, and so may differ ("expected" below):

| kind | what | why |
|---|---|---|
| verdict | a host file the client reads is missing (``--env-file``, ``--label-file``, a seccomp profile) | the command is valid; the file exists where the script runs |
| verdict | a ``--mount type=bind`` source is missing | the engine checks the host path at create; it exists on the script's host |
| verdict | an option the 28.2.2 client refuses against API 1.41 (``--annotation``, ``--health-start-interval``, ``--mac-address`` …) | an API-version gate of this client and engine pair, not the grammar |
| verdict | several ``--network`` at create | engine 20.10 (API < 1.44) connects one network at create; newer engines take several |
| verdict | a value this host cannot honour: ``--cpus`` above its CPU count, a cpuset beyond its CPUs or memory nodes, ``--storage-opt size`` without xfs quotas, ``--isolation`` of Windows, a logging plugin it lacks | a property of the test host |
| verdict | dockaudit reports what fails only at start (``--ip`` on the default bridge, ``--sysctl net.*`` with ``--network host``, splunk without its token) | ``create`` accepts it; ``run`` fails |
| spec | ``env`` of ``-e KEY`` (no value) | the client copies KEY from its own environment |
| spec | ``env`` with ``--env-file`` | the file's lines are merged into the environment |
| spec | ``command`` when none is given | the engine takes the image's CMD (the test image's ``sh``) |
| spec | ``log_driver`` when none is given | the daemon's default driver is filled in |
| spec | a relative bind source (``./data``) | the client makes it absolute against its working directory |
| spec | ``0`` for a limit, ``--shm-size 64m``, ``--restart no``, ``--cgroupns`` of the daemon's default, ``--ipc private/shareable``, ``--memory-swap`` of exactly 2 x ``--memory``, ``--entrypoint ''`` on an image without one | the engine stores its default, which the inspect reader reads as unset |
| spec | the order of mounts, ports, links, capabilities … (`UNORDERED`) | the engine keeps maps, or the client sorts |

DA004 (docker options after the image) is not a rejection: the engine takes
those words as the container's command, which is why dockaudit flags them.

Usage::

    python tools/differential.py --all          # every literal command (~1,100, a few minutes)
    python tools/differential.py --sample 300   # the fixed sample CI runs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockaudit.api import check_text, read_script
from dockaudit.model import UNKNOWN, DockerCommand, HostInfo, OptionUse, Word, known
from dockaudit.values import parse_network
from dockaudit.sources.inspect import spec_from_inspect
from dockaudit.specjson import spec_to_dict

REPO = Path(__file__).resolve().parents[1]
RULE_CASES = REPO / "fixtures" / "rules"

REJECTING = frozenset({"DA002", "DA003", "DA005"})
# rules about values the engine refuses at create (log options the driver does not take)
REJECTING_RULES = frozenset({"DA603"})
RUN_ONLY = frozenset({"--detach", "--sig-proxy", "--detach-keys"})
BUILTIN_NETWORKS = frozenset({"bridge", "host", "none", "default"})
HELPER_IMAGE = "dockaudit-test/busybox:base"

# Fields that exist on one side only, or that one side cannot know: never compared.
IGNORED: dict[str, str] = {
    "source": "static or live: says which side, by definition",
    "location": "a file position exists only for a script",
    "container": "the container id and name exist only on the engine",
    "tool": "always docker here",
    "service": "a created container is a service by definition; a script decides by -d/--restart",
    "subcommand": "inspect cannot tell run from create (everything here was created)",
    "detach": "-d is dropped to create; inspect has no such setting",
    "incomplete": "a static notion: words that may hide options (none here: all words are literal)",
    "runtime": "state, processes: only a live container has them",
    "env_files": "the client reads the files; the engine sees their lines in env",
    "lifecycle": "decided from the whole file (removed later, --rm, a one-shot): a container has no file",
    "image_origin": "what the file shows of the image (built by it, named by a variable): the engine has a name",
}


# --- the commands ------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One literal run/create command, as dockaudit reads it."""

    ident: str
    text: str
    command: DockerCommand
    static: dict[str, Any]  # spec_to_dict of the static spec
    problems: tuple[tuple[str, str], ...]  # (rule id, message): usage problems and REJECTING_RULES

    @property
    def refusals(self) -> list[str]:
        """What dockaudit says the CLI or engine refuses in this command."""
        return [f"{rule}: {message}" for rule, message in self.problems
                if rule in REJECTING or rule in REJECTING_RULES]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(str(w.value) for w in self.command.invocation.words)


def _literal(words: Iterable[Word]) -> bool:
    return all(w.value is not UNKNOWN and not w.splits for w in words)


def candidates_from_text(ident: str, text: str) -> tuple[list[Candidate], list[str]]:
    """The literal run/create commands of one shell text, and why others were left out."""
    script = read_script(text, "command.sh", "shell")
    findings = [f for f in check_text(text, "command.sh", kind="shell")
                if f.rule_id in REJECTING_RULES and f.location is not None]
    found: list[Candidate] = []
    skipped: list[str] = []
    containers = (c for c in script.commands if c.spec is not None and c.command.subcommand in (("run",), ("create",)))
    for n, entry in enumerate(containers):
        command = entry.command
        inv = command.invocation
        if inv.program != "docker":
            skipped.append(f"{inv.program}, not docker")
        elif not _literal(inv.words):
            skipped.append("a word depends on the shell (variable, substitution, placeholder)")
        elif command.global_options:
            skipped.append("global options aim the client elsewhere")
        else:
            loc = command.loc
            problems = tuple((p.rule_id, p.message) for p in command.problems) + tuple(
                (f.rule_id, f.message) for f in findings
                if loc.line <= f.location.line <= loc.end_line)
            found.append(Candidate(f"{ident}#{n}" if n else ident, text, command,
                                   spec_to_dict(entry.spec), problems))
    return found, skipped


def corpus_candidates(shared: Path) -> tuple[list[Candidate], Counter[str]]:
    path = shared / "corpus" / "commands.jsonl"
    found: list[Candidate] = []
    skipped: Counter[str] = Counter()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            row = json.loads(line)
            if row.get("context") not in ("code", "prompt"):
                skipped["a comment, string or log line, not code"] += 1
                continue
            got, why = candidates_from_text(f"corpus:{number}", row["command"] + "\n")
            found.extend(got[:1])  # the row's own command; a nested one is another row
            skipped.update(why[:1] if not got else [])
    return found, skipped


def fixture_candidates(directory: Path = RULE_CASES) -> tuple[list[Candidate], Counter[str]]:
    import yaml

    found: list[Candidate] = []
    skipped: Counter[str] = Counter()
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for index, case in enumerate(data.get("cases") or []):
            text = case.get("script")
            if isinstance(text, str):
                got, why = candidates_from_text(f"{path.stem}:{index}", text)
                found.extend(got)
                skipped.update(why)
    return found, skipped


def all_candidates(shared: Path | None) -> tuple[list[Candidate], Counter[str]]:
    """Corpus and rule-case commands, each distinct argv once, in a fixed order."""
    found, skipped = fixture_candidates()
    if shared is not None:
        more, why = corpus_candidates(shared)
        found += more
        skipped += why
    seen: set[tuple[str, ...]] = set()
    unique = []
    for cand in found:
        if cand.words not in seen:
            seen.add(cand.words)
            unique.append(cand)
        else:
            skipped["the same words as another command"] += 1
    return unique, skipped


def sample(cands: list[Candidate], size: int) -> list[Candidate]:
    """Every k-th candidate: a fixed, spread-out subset of about *size*."""
    if size <= 0 or size >= len(cands):
        return list(cands)
    step = len(cands) / size
    return [cands[int(i * step)] for i in range(size)]


# --- what goes to the engine ------------------------------------------------------


@dataclass
class Plan:
    """The create argv for one candidate and what must exist first."""

    argv: list[str]
    notes: list[str] = field(default_factory=list)
    containers: set[str] = field(default_factory=set)  # made before, removed after
    networks: dict[str, str | None] = field(default_factory=dict)  # name -> subnet
    names: set[str] = field(default_factory=set)  # every name this plan holds while it runs
    image: str | None = None
    skip: str | None = None


def _index_of(words: tuple[Word, ...], word: Word) -> int:
    return next(i for i, w in enumerate(words) if w is word)


def plan_create(cand: Candidate, scratch: Path) -> Plan:
    command = cand.command
    words = command.invocation.words
    values = [str(w.value) for w in words]
    drop: set[int] = set()
    rewrite: dict[int, str] = {}
    plan = Plan(argv=[])
    for use in command.options:
        if use.name in RUN_ONLY or use.name in ("--pull", "--cidfile"):
            i = _index_of(words, use.flag)
            flag_text = rewrite.get(i, values[i])
            if use.name == "--detach" and not flag_text.startswith("--") and len(flag_text) > 2:
                rewrite[i] = flag_text.replace("d", "", 1)  # -itd -> -it, -dp -> -p
            else:
                drop.add(i)
            if use.value is not None and use.value is not use.flag:
                drop.add(_index_of(words, use.value))
            plan.notes.append(f"dropped {use.spelled}" if use.name != "--cidfile"
                              else "--cidfile into the scratch folder")
            if use.name == "--cidfile":
                plan.argv += ["--cidfile", str(scratch / f"cid-{abs(hash(cand.ident))}")]
    start = 1
    if values[:2] == ["container", "run"] or values[:2] == ["container", "create"]:
        start = 2
    body = [rewrite.get(i, v) for i, v in enumerate(values) if i >= start and i not in drop]
    plan.argv = ["create", "--pull", "never", *plan.argv, *body]
    if command.operands and command.operands[0].is_known:
        image = str(command.operands[0].value)
        if "@" in image:
            plan.skip = "the image is pinned by digest: no local tag can stand for it"
        plan.image = image
    for use in command.options:
        _prerequisites(use, plan)
    return plan


def _prerequisites(use: OptionUse, plan: Plan) -> None:
    value = use.value_text
    if not known(value) or value is None:
        return
    if use.name == "--name":
        plan.names.add(value.lstrip("/"))
    elif use.name in ("--link", "--volumes-from"):
        target = value.split(":", 1)[0].lstrip("/")
        if target:
            plan.containers.add(target)
    elif use.name in ("--pid", "--ipc") and value.startswith("container:"):
        plan.containers.add(value.split(":", 1)[1])
    elif use.name == "--network":
        try:
            name = parse_network(value)[0]
        except ValueError:
            return
        if not known(name):
            return
        if name.startswith("container:"):
            plan.containers.add(name.split(":", 1)[1])
        elif name not in BUILTIN_NETWORKS:
            plan.networks.setdefault(name, None)
    elif use.name in ("--ip", "--ip6"):
        plan.notes.append(f"{use.name} {value}")
    plan.names |= plan.containers | set(plan.networks)


# --- the engine side ---------------------------------------------------------------


def default_cli() -> str:
    modern = Path("/usr/local/bin/docker")
    return str(modern) if modern.exists() else (shutil.which("docker") or "docker")


@dataclass
class Outcome:
    ident: str
    accepted: bool | None  # None: not tried (skip)
    message: str = ""  # the engine's or client's complaint
    document: dict | None = None
    names: dict[str, str] = field(default_factory=dict)  # container id -> name
    notes: list[str] = field(default_factory=list)


class Oracle:
    """Creates commands on a private engine through the docker CLI, cleaning up after each batch."""

    def __init__(self, engine: Any, cli: str | None = None) -> None:
        self.engine = engine
        self.cli = cli or default_cli()
        self.scratch = Path(tempfile.mkdtemp(prefix="da-diff-", dir=str(engine.root)))
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.scratch),
                    "DOCKER_HOST": engine.url, "DOCKER_CONFIG": str(engine.root / "cli-config")}
        self._tag_lock = threading.Lock()
        self.host = self._host_info()

    def _host_info(self) -> HostInfo:
        info = self.engine.client().api.info()
        self.daemon_hostname = info.get("Name")
        self.daemon_cgroupns = "private" if str(info.get("CgroupVersion")) == "2" else "host"
        return HostInfo(default_log_driver=info.get("LoggingDriver") or "json-file",
                        security_options=tuple(info.get("SecurityOptions") or ()))

    def version(self) -> str:
        proc = self.docker("version", "--format", "{{.Client.Version}} (API {{.Client.APIVersion}}) "
                           "against engine {{.Server.Version}} (API {{.Server.APIVersion}})")
        return proc.stdout.strip() or proc.stderr.strip()

    def docker(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([self.cli, *argv], capture_output=True, text=True, env=self.env,
                                  cwd=self.scratch, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess([self.cli, *argv], 124, "", "timed out")

    def tag(self, image: str) -> None:
        with self._tag_lock:
            try:
                self.engine.tag(image)
            except Exception:  # an invalid name: the create below says why
                pass

    def run(self, cand: Candidate) -> Outcome:
        plan = plan_create(cand, self.scratch)
        out = Outcome(cand.ident, None, notes=plan.notes)
        if plan.skip:
            out.message = plan.skip
            return out
        if plan.image:
            self.tag(plan.image)
        api = self.engine.client().api
        made: list[str] = []
        try:
            for name, subnet in plan.networks.items():
                args = ["network", "create", *(["--subnet", subnet] if subnet else []), name]
                self.docker(*args)
            for name in sorted(plan.containers):
                proc = self.docker("create", "--pull", "never", "--name", name, HELPER_IMAGE, "true")
                if proc.returncode == 0:
                    made.append(proc.stdout.strip())
                    out.names[proc.stdout.strip()] = name
            proc = self.docker(*plan.argv, timeout=120)
            if proc.returncode != 0:
                out.accepted = False
                lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
                out.message = next((ln for ln in lines if "rror" in ln), lines[0] if lines else "?")
                return out
            cid = (proc.stdout.strip().splitlines() or [""])[-1]
            if not re.fullmatch(r"[0-9a-f]{64}", cid):
                out.message = "the client made no container (--help?)"
                return out
            made.append(cid)
            out.accepted = True
            out.document = api.inspect_container(cid)
            return out
        finally:
            self.engine.remove_containers(*reversed(made))
            for name in plan.networks:
                try:
                    api.remove_network(name)
                except Exception:
                    pass

    def cleanup(self) -> None:
        api = self.engine.client().api
        self.engine.remove_containers(*(c["Id"] for c in api.containers(all=True)))
        self.engine.remove_networks()
        try:
            api.prune_volumes()
            for volume in (api.volumes().get("Volumes") or []):
                api.remove_volume(volume["Name"], force=True)
        except Exception:
            pass


def batches(cands: list[Candidate], scratch: Path, size: int) -> Iterator[list[Candidate]]:
    """Groups of at most *size* commands that share no container or network name."""
    pending = list(cands)
    while pending:
        batch: list[Candidate] = []
        taken: set[str] = set()
        rest = []
        for cand in pending:
            plan = plan_create(cand, scratch)
            if len(batch) < size and not (plan.names & taken):
                batch.append(cand)
                taken |= plan.names
            else:
                rest.append(cand)
        yield batch
        pending = rest


# --- comparing ------------------------------------------------------------------------


def _canonical_env(static: list, live: list) -> tuple[list, list, list[str]]:
    """Env as a set of KEY=VALUE (last wins); ``-e KEY`` matches what the client filled in."""
    notes = []
    live_keys = {e["key"]: e["value"] for e in live}
    last: dict[str, Any] = {}
    for e in static:
        last[e["key"]] = e["value"]
    s_out = []
    for key, value in last.items():
        if value is None and key in live_keys:
            notes.append(f"env {key}: from the client's environment")
            value = live_keys[key]
        s_out.append((key, value))
    l_out = [(e["key"], e["value"]) for e in live]
    return sorted(s_out, key=repr), sorted(l_out, key=repr), notes


def _sorted(items: list) -> list:
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))


# Lists whose order the engine does not keep (a map, or sorted by the client).
UNORDERED = {
    "mounts": "Binds, Mounts, Tmpfs and Volumes are stored apart",
    "ports": "PortBindings is a map",
    "expose": "ExposedPorts is a map",
    "links": "the engine does not keep the order of links",
    "ulimits": "stored by name",
    "devices": "stored apart from other options",
    "blkio_throttles": "stored by kind",
    "cap_add": "the client sorts and de-duplicates capabilities; the spec keeps the script's order so "
               "each item points at its word",
    "cap_drop": "as cap_add",
}
# Numbers the engine stores as 0 when unset; the inspect reader reads 0 as unset (None).
ZERO_IS_UNSET = ("memory", "memory_reservation", "kernel_memory", "nano_cpus", "cpu_shares",
                 "cpu_period", "cpu_quota", "oom_score_adj", "memory_swap")
DEFAULT_SHM_SIZE = 64 * 1024 * 1024


def _same_meaning(key: str, s: Any, v: Any, static: Mapping[str, Any],
                  daemon_cgroupns: str) -> str | None:
    """Why static value *s* and engine value *v* mean the same although spelt apart, if they do."""
    if v is None and s == 0 and key in ZERO_IS_UNSET:
        return f"{key} 0: the engine's own value for unset"
    if key == "memory_swap" and v is None and isinstance(s, int) and s == 2 * (static.get("memory") or -1):
        return "memory_swap of exactly 2 x memory: what the engine stores when none is given"
    if key == "shm_size" and v is None and s == DEFAULT_SHM_SIZE:
        return "shm_size 64m: the engine's default"
    if key == "restart_policy" and v is None and s == {"name": "no", "max_retries": 0}:
        return "--restart no: the engine's default"
    if key == "ipc_mode" and v is None and s in ("private", "shareable"):
        return f"--ipc {s}: one of the daemon's possible defaults, read as unset"
    if key == "cgroupns_mode" and v is None and s == daemon_cgroupns:
        return f"--cgroupns {s}: this daemon's default"
    if key == "entrypoint" and s == [] and v is None:
        return "--entrypoint '': stored as null when the image has none"
    return None


def compare(static: Mapping[str, Any], live: Mapping[str, Any], cwd: Path,
            daemon_cgroupns: str = "host") -> tuple[list[str], list[str]]:
    """Field-by-field differences (static vs engine) and the expected ones, as text."""
    diffs: list[str] = []
    expected: list[str] = []
    for key in sorted(set(static) | set(live)):
        if key in IGNORED:
            continue
        s, v = static.get(key), live.get(key)
        if key == "name" and s is None:
            continue  # the engine names an unnamed container itself
        if key == "command" and s == []:
            if v:
                expected.append(f"command {v}: the image's CMD")
            continue
        if key == "log_driver" and s is None:
            continue  # the daemon's default driver
        if key == "env":
            if static.get("env_files"):
                expected.append("env: merged with --env-file lines")
                continue
            s, v, notes = _canonical_env(s or [], v or [])
            expected += notes
        elif key in UNORDERED:
            s, v = _sorted(_relative_sources(s or [], cwd, expected)), _sorted(v or [])
        if s == v:
            continue
        why = _same_meaning(key, s, v, static, daemon_cgroupns)
        if why:
            expected.append(why)
        elif isinstance(s, list) and isinstance(v, list):
            only_s = [x for x in s if x not in v]
            only_v = [x for x in v if x not in s]
            diffs.append(f"{key}: only static {json.dumps(only_s)}; only engine {json.dumps(only_v)}")
        else:
            diffs.append(f"{key}: static {json.dumps(s)} != engine {json.dumps(v)}")
    return diffs, expected


def _relative_sources(static: list, cwd: Path, notes: list[str]) -> list:
    out = []
    for item in static:
        if isinstance(item, dict) and isinstance(item.get("source"), str) and \
                item.get("type") == "bind" and item["source"].startswith("."):
            absolute = os.path.normpath(cwd / item["source"])
            notes.append(f"bind source {item['source']}: made absolute by the client")
            item = {**item, "source": absolute}
        out.append(item)
    return out


# --- verdicts --------------------------------------------------------------------------

# engine/client complaints that are not the grammar's business: (pattern, reason)
HOST_SIDE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), why) for p, why in (
        (r"open .*: no such file or directory|opening seccomp profile|"
         r"(env|label) file.*no such file|stat .*: no such file", "a host file the client reads is missing"),
        (r"bind source path does not exist|invalid mount config for type \"bind\": bind source",
         "a --mount bind source is missing on this host"),
        (r"requires API version|API version .* (does not support|only supports)|"
         r"is not supported by the daemon|only supported on API|"
         r"on API version", "an option this client refuses against API 1.41"),
        (r"range of CPUs is from|cpuset|Requested CPUs are not available|"
         r"not available on this system|kernel does not support|"
         r"Your kernel does not support|platform|no matching manifest|"
         r"device or resource busy|cgroup", "a value this test host cannot honour"),
        (r"is already in use by container|Conflict\. The container name", "a scratch name clash"),
        (r"--storage-opt is supported only for", "a storage option this host's storage driver lacks"),
        (r"Container cannot be connected to network endpoints",
         "engine 20.10 (API < 1.44) connects one network at create; newer engines take several"),
        (r"linux only supports 'default'", "a Windows isolation mode on a Linux engine"),
        (r"invalid volume specification: '(?:[A-Za-z]:|[^']*:[A-Za-z]:)",
         "a Windows volume (drive letters): a Linux engine refuses what a Windows engine takes"),
        (r"Requested memory nodes are not available", "a value this test host cannot honour"),
        (r"error looking up logging plugin", "a logging plugin this host lacks"),
    ))

# dockaudit problems for what only fails when the container starts
START_TIME_ONLY = re.compile(
    r"cannot be set in the host's network namespace|only works on a user-defined network|"
    r"the container fails to start|needs --log-opt splunk-token", re.I)


@dataclass
class Result:
    ident: str
    text: str
    verdict: str  # agree, disagree, expected, skipped
    detail: str = ""
    field_diffs: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    accepted: bool | None = None  # the engine's verdict


def judge(cand: Candidate, out: Outcome, oracle: Oracle) -> Result:
    """The verdict on one command: agree, expected (a difference the engine cannot show), disagree."""
    result = _judge(cand, out, oracle)
    result.accepted = out.accepted
    return result


def _judge(cand: Candidate, out: Outcome, oracle: Oracle) -> Result:
    text = " ".join(cand.words)
    if out.accepted is None:
        return Result(cand.ident, text, "skipped", out.message)
    static_errors = cand.refusals
    if not out.accepted:
        if static_errors:
            return Result(cand.ident, text, "agree", f"both reject: {out.message}")
        for pattern, why in HOST_SIDE:
            if pattern.search(out.message):
                return Result(cand.ident, text, "expected", f"{why}: {out.message}")
        return Result(cand.ident, text, "disagree",
                      f"the engine rejects, dockaudit does not: {out.message}")
    if static_errors:
        if all(START_TIME_ONLY.search(e) for e in static_errors):
            return Result(cand.ident, text, "expected",
                          "create accepts what only fails at start: " + "; ".join(static_errors))
        return Result(cand.ident, text, "disagree",
                      "the engine accepts, dockaudit reports: " + "; ".join(static_errors))
    live = spec_to_dict(spec_from_inspect(out.document or {}, oracle.host, names=out.names,
                                          daemon_hostname=oracle.daemon_hostname))
    diffs, expected = compare(cand.static, live, oracle.scratch, oracle.daemon_cgroupns)
    if diffs:
        return Result(cand.ident, text, "disagree", "the specs differ", diffs, expected)
    return Result(cand.ident, text, "agree", "same spec", [], expected)


def run_differential(cands: list[Candidate], oracle: Oracle, workers: int = 4,
                     batch_size: int = 24, progress: Callable[[int], None] | None = None
                     ) -> list[Result]:
    results: list[Result] = []
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in batches(cands, oracle.scratch, batch_size):
            outcomes = list(pool.map(oracle.run, batch))
            oracle.cleanup()
            for cand, out in zip(batch, outcomes, strict=True):
                results.append(judge(cand, out, oracle))
            done += len(batch)
            if progress:
                progress(done)
    return results


def summary(results: list[Result]) -> str:
    counts = Counter(r.verdict for r in results)
    compared = len(results) - counts["skipped"]
    agreeing = counts["agree"] + counts["expected"]
    accepted = sum(1 for r in results if r.accepted)
    lines = [
        f"commands: {len(results)}, compared: {compared}, skipped: {counts['skipped']}",
        f"engine accepted: {accepted}, rejected: {compared - accepted} "
        f"(dockaudit also rejects: {sum(1 for r in results if r.detail.startswith('both reject'))})",
        f"agree: {counts['agree']}, expected differences: {counts['expected']}, "
        f"disagree: {counts['disagree']}",
        f"agreement rate: {agreeing / compared:.1%}" if compared else "agreement rate: n/a",
    ]
    return "\n".join(lines)


def report(results: list[Result], verbose: bool = False) -> str:
    out = [summary(results)]
    for kind in ("disagree",) + (("expected", "skipped") if verbose else ()):
        chosen = [r for r in results if r.verdict == kind]
        if chosen:
            out.append(f"\n{kind} ({len(chosen)}):")
        for r in chosen:
            out.append(f"- {r.ident}: docker {r.text[:300]}\n    {r.detail}")
            out.extend(f"    {d}" for d in r.field_diffs)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--all", action="store_true", help="every literal command")
    group.add_argument("--sample", type=int, default=300, help="a fixed sample of about N")
    parser.add_argument("--docker", help="the docker CLI to use (default: %(default)s)",
                        default=default_cli())
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get(
        "DOCKAUDIT_SHARED", REPO.parent / "shared")), help="the shared material (corpus)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also list expected differences and skips")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "tests"))
    from engine import EngineUnavailable, start_engine

    shared = args.shared if (args.shared / "corpus" / "commands.jsonl").is_file() else None
    cands, skipped = all_candidates(shared)
    chosen = cands if args.all else sample(cands, args.sample)
    try:
        engine = start_engine()
    except EngineUnavailable as exc:
        print(f"differential: no engine: {exc}", file=sys.stderr)
        return 2
    try:
        oracle = Oracle(engine, args.docker)
        print(f"docker {oracle.version()}", file=sys.stderr)
        started = time.monotonic()
        results = run_differential(
            chosen, oracle, progress=lambda n: print(f"\r{n}/{len(chosen)}", end="",
                                                     file=sys.stderr))
        print(f"\r{len(chosen)} commands in {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        engine.stop()
    print(f"left out before comparing: {sum(skipped.values())} "
          f"({', '.join(f'{n} {why}' for why, n in skipped.most_common())})")
    print(report(results, args.verbose))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 1 if any(r.verdict == "disagree" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
