"""DA3xx: process and lifecycle — one service per container, restarts, health, OOM."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from typing import Any, Iterable, Sequence

from dockaudit.model import ContainerSpec, ImageRef, Location, Process, Severity, Source, known
from dockaudit.rulebase import BOTH, LIVE, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import for_subject, option

THEME = "process"

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})
_SUPERVISORS = frozenset({
    "supervisord", "runsvdir", "s6-svscan", "systemd", "init", "monit", "circusd",
    "pm2", "pm2-runtime", "god",
})
_INIT_PATHS = frozenset({"/sbin/init", "/usr/sbin/init", "/lib/systemd/systemd",
                         "/usr/lib/systemd/systemd", "/bin/systemd"})
# Programs that wrap or idle rather than serve: not counted as services in `top`.
_WRAPPERS = frozenset(_SHELLS | {
    "tini", "dumb-init", "docker-init", "catatonit", "su-exec", "gosu", "sudo", "su",
    "s6-supervise", "runsv", "sleep", "tail", "ps", "top", "cat",
})
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_BACKGROUND = re.compile(r"(?<![&|<>])&(?![&>])")
_SERVICE_START = re.compile(
    r"(?:\bservice\s+([\w.@-]+)\s+(?:re)?start|/etc/init\.d/([\w.@-]+)\s+(?:re)?start"
    r"|\bsystemctl\s+(?:re)?start\s+([\w.@-]+))\b"
)
_KEEP_ALIVE = re.compile(r"\btail\s+-[fF]\s+/dev/null\b|\bsleep\s+(?:infinity|inf)\b"
                         r"|\bwhile\s+(?:true|:)\s*;\s*do\s+sleep\b")
_SCRIPT_SUPERVISOR = re.compile(r"\bsupervisord\b|\brunsvdir\b|\bs6-svscan\b|/sbin/init\b"
                                r"|/lib/systemd/systemd\b")
_SSHD = re.compile(r"(?:^|[\s/;&|(])sshd(?![\w.-])|(?:\bservice\s+|/etc/init\.d/)sshd?\s+(?:re)?start\b"
                   r"|\bsystemctl\s+(?:re)?start\s+sshd?\b")


def _base(word: str) -> str:
    return posixpath.basename(word.rstrip(":")) if word else word


def _argv(spec: ContainerSpec) -> tuple[Any, ...] | None:
    """The words the container runs as far as the command line says: entrypoint + command.

    None when the entrypoint is unknown. Without --entrypoint it is the image's,
    and only the command is returned.
    """
    if not known(spec.entrypoint):
        return None
    return tuple(spec.entrypoint or ()) + tuple(spec.command)


def _command_loc(spec: ContainerSpec) -> Location | None:
    """Where the container's command starts: its first word, else --entrypoint."""
    if spec.command or spec.entrypoint is None:
        return spec.where("command")
    return spec.where("entrypoint")


def _shell_script(argv: Sequence[Any]) -> str | Any | None:
    """The script of `sh -c SCRIPT` / `bash -lc SCRIPT` in *argv*, else None."""
    for i, word in enumerate(argv[:-1]):
        if not known(word):
            return None
        if i == 0 and _base(word) not in _SHELLS:
            return None
        if i == 0:
            continue
        if not word.startswith("-"):
            return None  # `sh script.sh …`: options end at the script
        if not word.startswith("--") and "c" in word[1:]:
            return argv[i + 1]
    return None


def _process_program(process: Process) -> str:
    """The program a `top` row runs: `nginx` for "nginx: worker process"."""
    first = process.command.split(None, 1)[0] if process.command.strip() else ""
    if first.startswith("[") and first.endswith("]"):
        return first
    return _base(first)


def _static_findings(argv: Sequence[Any]) -> list[str]:
    """What in the command starts more than one service."""
    found: list[str] = []
    known_words = [w for w in argv if known(w)]
    for word in known_words:
        if word in _INIT_PATHS or _base(word) in _SUPERVISORS - {"init"}:
            found.append(f"runs the process supervisor {word}")
            break
    script = _shell_script(argv)
    if script is None or not known(script):
        return found
    bare = _QUOTED.sub("''", script)
    supervisor = _SCRIPT_SUPERVISOR.search(bare)
    if supervisor and not found:
        found.append(f"runs the process supervisor {supervisor.group(0)}")
    services = [next(g for g in m.groups() if g) for m in _SERVICE_START.finditer(bare)]
    if len(services) >= 2:
        found.append(f"starts {len(services)} services ({', '.join(services)})")
    if _BACKGROUND.search(bare):
        found.append("starts a process in the background with `&`")
    keep_alive = _KEEP_ALIVE.search(bare)
    if keep_alive and bare[: keep_alive.start()].strip(" \t\n;&|"):
        found.append(f"keeps the container alive with `{keep_alive.group(0)}` after starting "
                     "other processes")
    return found


class MultiProcess(Rule):
    """The container runs several services.

    One service per container lets the engine restart, health-check, limit
    and log each one on its own; the container stops when its service dies.
    `service a start && service b start && tail -f /dev/null`, background
    `&` jobs, supervisord or `/sbin/init` hide crashed services behind a
    process that never exits, and mix their logs and signals. On a live host
    the rule also reads `top`: a process supervisor, a keep-alive beside
    other programs, or more distinct programs than `max-programs`.

    **Anti-pattern**
    ```bash
    docker run -d myorg/lamp:1 sh -c "service apache2 start && service mysql start && tail -f /dev/null"
    ```

    **Best practice**
    ```bash
    docker run -d --name web myorg/web:1 apache2-foreground
    ```
    """

    id = "DA301"
    name = "multi-process"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME
    options = {
        "max-programs": Option(
            2, int,
            "live: distinct long-running programs in `top` before the container counts as "
            "running several services (helpers such as log rotators are common)",
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.is_task and not ctx.broad:
            return  # a job that starts a helper in the background and ends is not a service
        argv = _argv(spec)
        found = _static_findings(argv) if argv else []
        if found:
            yield Violation(
                f"the command {'; '.join(found)}: several services in one container",
                _command_loc(spec),
                "run one service per container (one docker run each) on a shared network",
            )
        elif spec.origin.source is Source.LIVE:
            yield from self._live(spec, ctx)

    def _live(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        processes = spec.runtime.processes if spec.runtime is not None else None
        if not processes:
            return
        programs = [_process_program(p) for p in processes]
        # supervisord runs as `python3 /usr/bin/supervisord`: look at the script word too
        heads = (_base(w) for p in processes for w in p.command.split()[:2])
        supervisor = next((h for h in heads if h in _SUPERVISORS), None)
        if supervisor is not None:
            yield Violation(
                f"the process supervisor {supervisor} runs several services in the container",
                None,
                "run one service per container",
            )
            return
        services = sorted({p for p in programs if p and p not in _WRAPPERS
                           and not p.startswith("[")})
        idles = [p.command for p in processes if _KEEP_ALIVE.search(p.command)]
        if idles and services:
            yield Violation(
                f"`{idles[0]}` keeps the container alive beside {', '.join(services)}: "
                "the services run in the background",
                None,
                "run the service in the foreground as the container's command",
            )
            return
        limit = option(self, ctx, "max-programs")
        if len(services) > limit:
            yield Violation(
                f"{len(services)} different programs run in the container "
                f"({', '.join(services)})",
                None,
                "run one service per container",
            )


class SshdInContainer(Rule):
    """The container runs an SSH server.

    sshd in a container adds keys to manage, a port to protect and a second
    process to supervise, for nothing: `docker exec` gives a shell, and
    volumes or `docker cp` move files.

    **Anti-pattern**
    ```bash
    docker run -d -p 127.0.0.1:2222:22 myorg/app:1 /usr/sbin/sshd -D
    ```

    **Best practice**
    ```bash
    docker run -d --name app myorg/app:1
    ```
    """

    id = "DA302"
    name = "sshd-in-container"
    severity = Severity.WARNING
    sources = BOTH
    cis = "5.7"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        argv = _argv(spec) or ()
        runs_sshd = any(known(w) and _base(w) == "sshd" for w in argv)
        script = _shell_script(argv) if argv else None
        if not runs_sshd and script is not None and known(script):
            runs_sshd = bool(_SSHD.search(script))
        if runs_sshd:
            yield Violation(
                "the command runs sshd: an SSH server in the container",
                _command_loc(spec),
                "remove the SSH server; use docker exec for a shell",
            )
            return
        processes = spec.runtime.processes if spec.runtime is not None else None
        if processes and any(_process_program(p) == "sshd" for p in processes):
            yield Violation(
                "sshd is running in the container",
                None,
                "remove the SSH server; use docker exec for a shell",
            )


_DEFAULT_SHELL_IMAGES = [
    "ubuntu", "debian", "centos", "alpine", "busybox", "fedora", "rockylinux", "almalinux",
    "amazonlinux", "oraclelinux", "archlinux", "opensuse/leap", "opensuse/tumbleweed",
    "photon", "clearlinux", "mageia", "alt", "sl", "kalilinux/kali-rolling",
]
_HUB = frozenset({None, "docker.io", "index.docker.io", "registry-1.docker.io"})
_ARCH_NAMESPACES = frozenset({"library", "amd64", "arm64v8", "arm32v7", "arm32v6", "arm32v5",
                              "i386", "ppc64le", "s390x", "riscv64", "mips64le"})
_INTERACTIVE_SHELL_ARGS = frozenset({"-l", "-i", "-il", "-li", "--login", "--interactive", "-"})


def _is_shell_image(image: ImageRef, names: Sequence[str]) -> bool:
    if image.registry not in _HUB:
        return False
    repository = image.repository.lower()
    parts = repository.split("/")
    if len(parts) == 2 and parts[0] in _ARCH_NAMESPACES:
        repository = parts[1]
    return repository in {n.lower().removeprefix("library/") for n in names}


def _parse_time(text: str | None) -> dt.datetime | None:
    """An RFC 3339 timestamp as the engine writes it (nanoseconds allowed)."""
    if not text or text.startswith("0001-01-01"):
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone == "Z" else zone
    try:
        return dt.datetime.fromisoformat(f"{base}.{micro}{zone}")
    except ValueError:
        return None


class DetachedNoForeground(Rule):
    """A detached container whose command is an interactive shell exits at once.

    With `-d` and no `-i`/`-t`, a shell gets no input: it reads end-of-file
    and exits with status 0 right after the start. That happens with an
    explicit `bash`/`sh` command and with the default command of shell
    images (ubuntu, debian, centos, alpine, busybox, …). Give the container a
    foreground program. On a live host: the container exited with status 0
    within `max-seconds` of its start.

    **Anti-pattern**
    ```bash
    docker run -d --name box ubuntu:24.04
    ```

    **Best practice**
    ```bash
    docker run -d --name box ubuntu:24.04 sleep 3600
    ```
    """

    id = "DA303"
    name = "detached-no-foreground"
    severity = Severity.ERROR
    sources = BOTH
    theme = THEME
    options = {
        "shell-images": Option(
            _DEFAULT_SHELL_IMAGES, list,
            "Docker Hub images whose default command is a shell", item_type=str,
        ),
        "max-seconds": Option(
            10, int, "live: an exit with status 0 this soon after the start counts as at once",
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.origin.source is Source.LIVE:
            yield from self._live(spec, ctx)
            return
        if not spec.detach or spec.interactive or spec.tty or spec.incomplete:
            return
        argv = _argv(spec)
        if argv is None:
            return
        if not argv:
            image = spec.image
            if not known(image) or image is None:
                return
            if not _is_shell_image(image, option(self, ctx, "shell-images")):
                return
            what = f"{image.raw} runs a shell by default"
        else:
            if not all(known(w) for w in argv):
                return
            if _base(argv[0]) not in _SHELLS - {"busybox"}:
                return
            if not set(argv[1:]) <= _INTERACTIVE_SHELL_ARGS:
                return
            what = f"the command {' '.join(argv)} is an interactive shell"
        yield Violation(
            f"-d without -i/-t: {what}, which reads no input and exits at once",
            spec.where("detach"),
            "give the container a foreground command (the service to run), or use -dit",
        )

    def _live(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        state = spec.runtime
        if state is None or state.status != "exited" or state.exit_code != 0:
            return
        started, finished = _parse_time(state.started_at), _parse_time(state.finished_at)
        if started is None or finished is None:
            return
        # an engine under load can record the start after the process already ended:
        # a negative run time is an exit at once too
        seconds = max(0.0, (finished - started).total_seconds())
        if seconds <= option(self, ctx, "max-seconds"):
            yield Violation(
                f"the container exited with status 0 {seconds:.1f}s after it started: "
                "it has no foreground process",
                None,
                "give the container a foreground command (the service to run)",
            )


class NoRestartPolicy(Rule):
    """A long-running container has no restart policy.

    Without `--restart`, the service stays down after a crash or a daemon or
    host restart until someone notices. `unless-stopped` or
    `on-failure:5` bring it back on their own.

    **Anti-pattern**
    ```bash
    docker run -d --name web nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --name web --restart unless-stopped nginx:1.25
    ```
    """

    id = "DA304"
    name = "no-restart-policy"
    severity = Severity.INFO
    profile = "cis"
    sources = BOTH
    theme = THEME
    service_only = True

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.auto_remove is True:  # --rm cannot be combined with a restart policy
            return
        policy = spec.restart_policy
        if policy is None:
            if not spec.incomplete:
                yield Violation(
                    "no restart policy: the service stays down after a crash or a reboot",
                    None,
                    "add --restart unless-stopped (or on-failure:5)",
                )
        elif known(policy.name) and policy.name in ("no", ""):
            yield Violation(
                "--restart no: the service stays down after a crash or a reboot",
                spec.where("restart_policy"),
                "use --restart unless-stopped (or on-failure:5)",
            )


class RestartUnbounded(Rule):
    """`--restart on-failure` retries without a useful limit.

    A container that fails at start (bad configuration, missing dependency)
    is restarted again and again, flooding logs and hiding the real error.
    Cap the retries (CIS recommends 5).

    **Anti-pattern**
    ```bash
    docker run -d --restart on-failure myorg/worker:2.1
    ```

    **Best practice**
    ```bash
    docker run -d --restart on-failure:5 myorg/worker:2.1
    ```
    """

    id = "DA305"
    name = "restart-unbounded"
    severity = Severity.INFO
    sources = BOTH
    cis = "5.15"
    theme = THEME
    options = {"max-retries": Option(5, int, "the largest acceptable on-failure retry count")}

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        policy = spec.restart_policy
        if policy is None or not known(policy.name) or policy.name != "on-failure":
            return
        retries = policy.max_retries
        if not known(retries):
            return
        limit = option(self, ctx, "max-retries")
        if retries is None or retries <= 0:
            message = for_subject(spec, "--restart on-failure without a retry limit restarts a failing container "
                                        "forever",
                                  "--restart-condition on-failure without --restart-max-attempts replaces a "
                                  "failing task forever")
        elif retries > limit:
            message = for_subject(spec, f"--restart on-failure:{retries}",
                                  f"--restart-max-attempts {retries}") + f" allows more than {limit} retries"
        else:
            return
        yield Violation(message, spec.where("restart_policy"),
                        for_subject(spec, f"use --restart on-failure:{limit}", f"use --restart-max-attempts {limit}"))


class HealthcheckDisabled(Rule):
    """The container has no healthcheck.

    `--no-healthcheck` switches off the image's HEALTHCHECK: the engine then
    reports the container as running even when the service inside hangs, and
    restart tooling cannot react. Live, the rule reports containers with no
    healthcheck at all.

    **Anti-pattern**
    ```bash
    docker run -d --no-healthcheck myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --health-cmd "wget -qO- http://localhost:8080/health || exit 1" myorg/api:3.2
    ```
    """

    id = "DA306"
    name = "healthcheck-disabled"
    severity = Severity.INFO
    sources = BOTH
    cis = "5.27"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        check = spec.healthcheck
        if check is not None and known(check.test) and check.disabled:
            yield Violation(
                "--no-healthcheck disables the image's healthcheck: a hung service looks healthy",
                spec.where("healthcheck"),
                "remove --no-healthcheck, or give --health-cmd",
            )
        elif check is None and spec.origin.source is Source.LIVE:
            yield Violation(
                "the container has no healthcheck: a hung service looks healthy",
                None,
                "add a HEALTHCHECK to the image or --health-cmd to the container",
            )


class NoInit(Rule):
    """The container runs without `--init`.

    The container's main process is PID 1: it does not reap zombie children
    and ignores signals it has no handler for, so `docker stop` waits for the
    timeout and then kills it. `--init` runs a tiny init (tini) as PID 1 that
    forwards signals and reaps zombies.

    **Anti-pattern**
    ```bash
    docker run -d myorg/worker:2.1
    ```

    **Best practice**
    ```bash
    docker run -d --init myorg/worker:2.1
    ```
    """

    id = "DA307"
    name = "no-init"
    severity = Severity.INFO
    sources = BOTH
    theme = THEME
    service_only = True
    enabled_by_default = False

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.init is True or not known(spec.init) or spec.incomplete:
            return
        if spec.init is False and "init" in spec.locations:
            yield Violation("--init=false: PID 1 neither reaps zombies nor forwards signals",
                            spec.where("init"), "use --init")
            return
        yield Violation(
            "no --init: PID 1 neither reaps zombies nor forwards signals",
            None,
            "add --init",
        )


class Unhealthy(Rule):
    """The container's healthcheck reports it unhealthy.

    The engine keeps running an unhealthy container: whatever it serves is
    failing right now.

    **Anti-pattern**
    ```bash
    docker run -d --health-cmd false myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --health-cmd "wget -qO- http://localhost:8080/health || exit 1" myorg/api:3.2
    ```
    """

    id = "DA308"
    name = "unhealthy"
    severity = Severity.ERROR
    sources = LIVE
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        state = spec.runtime
        if state is not None and state.health_status == "unhealthy":
            yield Violation(
                "the container's healthcheck reports it unhealthy",
                None,
                "read the last probes (docker inspect --format '{{json .State.Health}}') "
                "and the logs",
            )


class RestartLoop(Rule):
    """The container keeps restarting.

    A container that is restarting, or has restarted more often than
    `restart-threshold`, crashes at or soon after start: its restart policy
    hides the failure.

    **Anti-pattern**
    ```bash
    docker run -d --restart always alpine:3.19 false
    ```

    **Best practice**
    ```bash
    docker run -d --restart on-failure:5 myorg/worker:2.1
    ```
    """

    id = "DA309"
    name = "restart-loop"
    severity = Severity.ERROR
    sources = LIVE
    theme = THEME
    options = {"restart-threshold": Option(5, int, "restart count above which a container loops")}

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        state = spec.runtime
        if state is None:
            return
        limit = option(self, ctx, "restart-threshold")
        if state.status == "restarting":
            yield Violation(
                f"the container is restarting (restarted {state.restart_count} times)",
                None,
                "read its logs (docker logs) for the error it exits with",
            )
        elif state.restart_count > limit:
            yield Violation(
                f"the container has restarted {state.restart_count} times (more than {limit})",
                None,
                "read its logs (docker logs) for the error it exits with",
            )


class OomKilled(Rule):
    """The container was killed for running out of memory.

    The kernel's OOM killer stopped it: its memory limit is too low for its
    workload, or it leaks.

    **Anti-pattern**
    ```bash
    docker run -d -m 8m myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d -m 512m myorg/api:3.2
    ```
    """

    id = "DA310"
    name = "oom-killed"
    severity = Severity.WARNING
    sources = LIVE
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        state = spec.runtime
        if state is not None and state.oom_killed:
            limit = spec.memory if known(spec.memory) and spec.memory else None
            shown = f" at its limit of {limit // (1024 * 1024)} MiB" if limit else ""
            yield Violation(
                f"the container was OOM-killed{shown}",
                None,
                "raise -m/--memory to what it really uses, or fix the leak",
            )
