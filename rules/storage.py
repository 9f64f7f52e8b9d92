"""DA2xx: storage and state — volumes, bind mounts of host paths, sockets, tmpfs."""

from __future__ import annotations

import posixpath
from typing import Any, Iterable

from dockaudit.model import ContainerSpec, HostInfo, Mount, Severity, known
from dockaudit.rulebase import BOTH, LIVE, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import option
from dockaudit_rules.stateful import stateful_data_dirs

THEME = "storage"

# Client programs shipped in database images: `docker run --rm postgres:16 psql -h db`
# uses the image as a client and keeps no data of its own.
_CLIENT_TOOLS = frozenset({
    "psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "pg_basebackup",
    "mysql", "mysqldump", "mysqladmin", "mysqlcheck", "mysqlpump", "mariadb", "mariadb-dump",
    "mariadb-admin", "mongosh", "mongo", "mongodump", "mongorestore", "mongoexport",
    "mongoimport", "redis-cli", "redis-benchmark", "cqlsh", "nodetool", "rabbitmqctl",
    "rabbitmqadmin", "influx", "clickhouse-client",
    # utilities: `docker run --rm postgres cat /usr/share/postgresql/postgresql.conf.sample`
    "cat", "ls", "echo", "cp", "env", "printenv", "id", "whoami", "true", "tar", "find", "head",
    # one-shot subcommands of a server binary: `consul keygen`, `vault version`
    "keygen", "genkey", "version", "--version", "help", "--help",
})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})

_STATEFUL_OPTION = Option(
    {},
    dict,
    "more stateful images: image name (as `mysql`, `bitnami/postgresql`, "
    "`registry.example.com/team/db`) → list of data directories; [] marks an image as not stateful",
    item_type=list,
)


def _path(value: str) -> str:
    """A path normalised for comparison: no `.`/`..` segments, no trailing slash."""
    if value.startswith("//"):
        value = "/" + value.lstrip("/")
    return posixpath.normpath(value) if value else value


def _covers(target: str, path: str) -> bool:
    """True when a mount at *target* holds *path* (same directory or a parent of it)."""
    target, path = _path(target), _path(path)
    return path == target or target == "/" or path.startswith(target + "/")


def _persistent(mount: Mount) -> bool:
    """A bind mount or a named volume: data that outlives the container."""
    return mount.type == "bind" or (mount.type == "volume" and mount.source is not None)


def _maybe_not_the_server(spec: ContainerSpec) -> bool:
    """True when the container runs a client tool or utility of the image, an interactive
    shell, or something unknown.

    A shell without -i/-t still counts as the server: on a live host the command holds
    the image's default (`sh` for a shell-based image) and must be judged like the script.
    """
    entrypoint = spec.entrypoint
    if not known(entrypoint):
        return True
    not_server = _CLIENT_TOOLS | (_SHELLS if spec.interactive or spec.tty else frozenset())
    # entrypoint wrappers (docker-entrypoint.sh) exec the command: look at both first words
    firsts = [words[0] for words in (tuple(entrypoint or ()), spec.command) if words]
    return any(not known(w) or posixpath.basename(w) in not_server for w in firsts)


def _unpersisted_data_dirs(
    spec: ContainerSpec, extra: Any
) -> tuple[tuple[str, ...], Mount | None] | None:
    """For a stateful image whose data is on no named or bind volume: (its data
    directories, the anonymous/tmpfs mount holding one of them, if any).

    None when the image is not stateful, when one data directory is persisted,
    or when that cannot be known.
    """
    if not known(spec.image) or spec.image is None or _maybe_not_the_server(spec):
        return None
    if spec.image_origin == "own":
        return None  # `$REGISTRY/consul` is the project's own build: the table knows the public one
    env = {e.key: e.value for e in spec.env if known(e.key)}
    dirs = stateful_data_dirs(spec.image, extra, command=spec.command, env=env)
    if not dirs:
        return None
    if spec.volumes_from:  # the data may come from the other container's volumes
        return None
    holder: Mount | None = None
    for mount in spec.mounts:
        if not known(mount.target) or (mount.type == "volume" and not known(mount.source)):
            return None
        if not any(_covers(mount.target, d) for d in dirs):
            continue
        if _persistent(mount):
            return None
        holder = holder or mount
    if spec.incomplete and holder is None:
        return None
    return dirs, holder


class StatefulWithoutVolume(Rule):
    """A database or other stateful image has no volume at its data directory.

    The data then lives in the container's writable layer (or an anonymous
    volume), and is lost with `docker rm`, when the container is recreated to
    upgrade the image, or is left behind under a random volume name. Mount a
    named volume or a host directory at the image's data directory (mysql
    `/var/lib/mysql`, postgres `/var/lib/postgresql/data` — `/var/lib/postgresql`
    from postgres 18 —, mongo `/data/db`, …); where the command moves it
    (`-data-dir /data`, `--datadir`, `--dbpath`, `-D`, `PGDATA`), that directory.
    One persisted data directory is enough for images that list several.

    **Stays silent** for a client tool or one-shot subcommand of the image
    (`psql`, `mysqldump`, `consul keygen`), when the data may come from
    `--volumes-from`, and under the default profile for a container the same
    file removes again (a test database: losing its data is the plan).

    **Anti-pattern**
    ```bash
    docker run -d --name db -e POSTGRES_PASSWORD_FILE=/run/secrets/pg postgres:16
    ```

    **Best practice**
    ```bash
    docker run -d --name db -v pgdata:/var/lib/postgresql/data postgres:16
    ```
    """

    id = "DA201"
    name = "stateful-without-volume"
    severity = Severity.WARNING
    purposes = frozenset({"deploy", "dev", "doc"})  # test and build databases are thrown away
    sources = BOTH
    theme = THEME
    options = {"extra-stateful-images": _STATEFUL_OPTION}

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.lifecycle in ("temporary", "one-shot", "copy-only") and not ctx.broad:
            return  # removed again by the same file (a test database): losing the data is the plan
        found = _unpersisted_data_dirs(spec, option(self, ctx, "extra-stateful-images"))
        if found is None:
            return
        dirs, holder = found
        image = spec.image.raw
        where = " or ".join(dirs)
        if holder is not None:
            kind = "a tmpfs" if holder.type == "tmpfs" else "an anonymous volume"
            yield Violation(
                f"{image} keeps its data in {where}, which is on {kind}: it is lost or "
                "orphaned when the container is removed",
                holder.loc or spec.where("mounts"),
                f"use a named volume, e.g. -v {spec.image.name}-data:{dirs[0]}",
            )
            return
        yield Violation(
            f"{image} keeps its data in {where} but no volume is mounted there: the data is "
            "lost with docker rm",
            None,
            f"mount a named volume, e.g. -v {spec.image.name}-data:{dirs[0]}",
        )


class AnonymousVolume(Rule):
    """An anonymous volume (`-v /path` with no source).

    The engine creates a volume with a random 64-hex name. It outlives the
    container (unless `--rm`), is not reused when the container is
    recreated, and is hard to find or back up later: the data looks lost and
    the disk fills with orphans.

    **Anti-pattern**
    ```bash
    docker run -d -v /var/cache/app myorg/app:1.2
    ```

    **Best practice**
    ```bash
    docker run -d -v app-cache:/var/cache/app myorg/app:1.2
    ```
    """

    id = "DA202"
    name = "anonymous-volume"
    severity = Severity.INFO
    purposes = frozenset({"deploy"})
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        for mount in spec.mounts:
            if not mount.anonymous or mount.flag == "image":
                continue
            target = mount.target if known(mount.target) else "the target"
            yield Violation(
                f"anonymous volume at {target}: it gets a random name and is not reused when "
                "the container is recreated",
                mount.loc or spec.where("mounts"),
                f"name it: -v NAME:{target}" if known(mount.target) else "give the volume a name",
            )


class RmDiscardsData(Rule):
    """`--rm` on a stateful container deletes its data when it stops.

    `--rm` removes the container and its anonymous volumes as soon as it
    exits. For a database whose data directory is not on a named volume or a
    bind mount, or any container with `-v /path` volumes, that data is gone
    after the first stop, crash or host reboot.

    **Anti-pattern**
    ```bash
    docker run -d --rm --name db mysql:8.4
    ```

    **Best practice**
    ```bash
    docker run -d --name db -v mysql-data:/var/lib/mysql mysql:8.4
    ```
    """

    id = "DA203"
    name = "rm-discards-data"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME
    options = {"extra-stateful-images": _STATEFUL_OPTION}

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.auto_remove is not True:
            return
        loc = spec.where("auto_remove")
        found = _unpersisted_data_dirs(spec, option(self, ctx, "extra-stateful-images"))
        if found is not None:
            dirs, _ = found
            yield Violation(
                f"--rm on {spec.image.raw}: its data in {' or '.join(dirs)} is deleted when "
                "the container stops",
                loc,
                f"drop --rm, or mount a named volume at {dirs[0]}",
            )
            return
        anonymous = [m for m in spec.mounts if m.anonymous and m.flag != "image"]
        if anonymous:
            targets = ", ".join(str(m.target) if known(m.target) else "?" for m in anonymous)
            yield Violation(
                f"--rm deletes the anonymous volume(s) at {targets} when the container stops",
                loc,
                "use named volumes for data that must survive, or drop --rm",
            )


class VolumesFrom(Rule):
    """`--volumes-from` ties this container to another one.

    It mounts every volume of the other container at the same paths: the
    dependency is implicit, the set of mounts changes whenever the other
    container changes, and the other container must exist (even stopped)
    for this one to be created. Mount the named volume itself instead.

    **Anti-pattern**
    ```bash
    docker run --rm --volumes-from db alpine:3.19 tar czf /backup/db.tgz /var/lib/mysql
    ```

    **Best practice**
    ```bash
    docker run --rm -v mysql-data:/var/lib/mysql:ro alpine:3.19 tar czf /backup/db.tgz /var/lib/mysql
    ```
    """

    id = "DA204"
    name = "volumes-from"
    severity = Severity.INFO
    purposes = frozenset({"deploy"})  # in tests and examples it is how containers share files
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if not spec.volumes_from:
            return
        names = ", ".join(str(v) if known(v) else "(a name set at run time)"
                          for v in spec.volumes_from)
        yield Violation(
            f"--volumes-from {names} mounts the volumes of another container: an implicit "
            "dependency on it",
            spec.where("volumes_from"),
            "mount the named volumes directly with -v NAME:/path",
        )


_SOCKET_NAMES = frozenset({
    "docker.sock", "containerd.sock", "podman.sock", "crio.sock", "cri-dockerd.sock",
    "dockershim.sock", "buildkitd.sock", "containerd-shim.sock", "docker.socket",
})
_SOCKET_DIRS = frozenset({
    "/", "/run", "/var/run", "/run/containerd", "/var/run/containerd", "/run/podman",
    "/var/run/podman", "/run/crio", "/var/run/crio", "/run/buildkit", "/var/run/buildkit",
    "/run/docker", "/var/run/docker",
})


def _bind_source(mount: Mount) -> str | None:
    if mount.type != "bind" or not known(mount.source) or not mount.source:
        return None
    return _path(mount.source)


class DockerSocketMounted(Rule):
    """A container-runtime socket (or the directory holding it) is mounted.

    Whoever can talk to `docker.sock`, `containerd.sock`, `podman.sock` and
    the like can start a privileged container with the host's root filesystem
    mounted: full root on the host. Mounting `/run`, `/var/run` or `/` hands
    over the same sockets. Read-only (`:ro`) does not help: API calls are
    writes to the socket, not to the file.

    **Anti-pattern**
    ```bash
    docker run -d -v /var/run/docker.sock:/var/run/docker.sock myorg/ci-agent:4
    ```

    **Best practice**
    ```bash
    docker run -d -e DOCKER_HOST=tcp://docker-proxy:2375 myorg/ci-agent:4
    ```

    **Stays silent** under the default profile in tests and CI (a job that
    builds or drives its own engine), for a client tool run by hand in the
    foreground from a developer's shell functions, and in Markdown for
    containers not kept running. One finding per container names the mount
    that hands over the most.
    """

    id = "DA205"
    name = "docker-socket-mounted"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    purposes = frozenset({"deploy", "dev", "doc", "build"})  # CI jobs drive their own engine
    sources = BOTH
    cis = "5.32"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if ctx.purpose == "dev" and spec.is_task and not ctx.broad:
            return  # a docker client wrapped in a shell function, run by hand: it needs the API
        # One finding per container: the mount that hands over the most (a socket before
        # a directory holding one, writable before read-only); the others are the same risk.
        found: list[tuple[tuple[bool, bool], Mount, str]] = []
        for mount in spec.mounts:
            source = _bind_source(mount)
            if source is None:
                continue
            if posixpath.basename(source) in _SOCKET_NAMES:
                what = f"the container runtime socket {source}"
            elif source in _SOCKET_DIRS:
                what = f"{source}, which holds the container runtime sockets"
            else:
                continue
            found.append(((mount.read_only, source == "/"), mount, what))
        if not found:
            return
        _rank, mount, what = min(found, key=lambda item: item[0])
        ro = " (read-only does not restrict the API)" if mount.read_only else ""
        yield Violation(
            f"{mount.flag} mounts {what}{ro}: the container can control the engine and "
            "become root on the host",
            mount.loc or spec.where("mounts"),
            "do not mount the socket; use a restricted API proxy or a rootless engine",
        )


_DEFAULT_SENSITIVE = [
    "/", "/etc", "/boot", "/dev", "/proc", "/sys", "/usr", "/lib", "/lib32", "/lib64",
    "/bin", "/sbin", "/root", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
    "/run/dbus", "/var/run/dbus", "/run/systemd", "/var/run/systemd", "/run/user", "/var/run/user",
    "~/.ssh", "~/.aws", "~/.azure", "~/.docker", "~/.kube", "~/.gnupg", "~/.config/gcloud",
    "~/.netrc", "~/.git-credentials", "~/.password-store", "/etc/shadow", "/etc/gshadow",
    "/etc/ssl/private",
]
# Credentials and control sockets: reported on every container, read-only included.
_ALWAYS = [
    "/root/.ssh", "/run/dbus", "/var/run/dbus", "/run/systemd", "/var/run/systemd", "/run/user",
    "/var/run/user", "~/.ssh", "~/.aws", "~/.azure", "~/.docker", "~/.kube", "~/.gnupg",
    "~/.config/gcloud", "~/.netrc", "~/.git-credentials", "~/.password-store", "/etc/shadow",
    "/etc/gshadow", "/etc/ssl/private",
]
_SOCKETS = ("/run/dbus", "/var/run/dbus", "/run/systemd", "/var/run/systemd", "/run/user", "/var/run/user")
# Files every desktop or tool container reads and that hold no secret.
_DEFAULT_READ_ONLY_OK = [
    "/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo", "/etc/machine-id", "/etc/passwd",
    "/etc/group", "/etc/os-release", "/usr/lib/os-release", "/etc/hostname", "/etc/hosts",
    "/etc/resolv.conf", "/etc/exports", "/usr/share",
]


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _sensitive_match(source: str, pattern: str) -> bool:
    """Component-wise match: `/etc` matches `/etc` and `/etc/nginx`, not `/etcetera`;
    `/` matches only `/`; `~/.ssh` matches a `.ssh` directory in any home."""
    pattern = pattern.strip()
    if pattern.startswith("~/"):
        wanted = _components(pattern[2:])
        parts = _components(source)
        if source.startswith("~/"):
            return parts[1:1 + len(wanted)] == wanted
        return any(parts[i:i + len(wanted)] == wanted for i in range(len(parts)))
    wanted_path = _path(pattern)
    if wanted_path == "/":
        return source == "/"
    wanted = _components(wanted_path)
    return _components(source)[: len(wanted)] == wanted


class SensitiveHostPath(Rule):
    """A system directory, a credential store or a control socket of the host is bind-mounted.

    Mounting `/`, `/etc`, `/boot`, `/dev`, `/proc`, `/sys`, `/usr`, `/lib`,
    `/root`, `/var/lib/docker` and similar gives the container the host's
    configuration or kernel interfaces; writable, it can change the host
    itself. Credential stores (`~/.ssh`, `~/.aws`, `~/.gnupg`, `~/.kube`,
    written `~/…`, `$HOME/…` or `${HOME}/…` too) hand over the user's keys, and
    the host's D-Bus socket lets a root container drive systemd. Paths match
    by component: `/var/app-data` is not `/var/lib/docker`, and only `/`
    itself matches `/`. A read-only mount is a warning rather than an error.

    **Stays silent** for read-only files that hold no secret (`/etc/localtime`,
    `/etc/passwd`, `/etc/machine-id`, `/usr/share/…`: option `read-only-ok`);
    under the default profile also for read-only system directories (a
    monitoring agent reading `/sys`), and, in a developer's own shell set-up,
    for system directories given to a tool run by hand in the foreground.
    Credential stores and control sockets are reported on every container.

    **Anti-pattern**
    ```bash
    docker run -d -v /etc:/host/etc myorg/agent:3
    ```

    **Best practice**
    ```bash
    docker run -d -v /srv/agent/config:/config:ro myorg/agent:3
    ```
    """

    id = "DA206"
    name = "sensitive-host-path"
    severity = Severity.ERROR
    services_only_in = frozenset({"doc"})
    sources = BOTH
    cis = "5.6"
    theme = THEME
    options = {
        "sensitive-paths": Option(
            _DEFAULT_SENSITIVE, list,
            "host paths that must not be bind-mounted (matched by path component; "
            "`~/x` matches x in any home directory)",
            item_type=str,
        ),
        "extra-sensitive-paths": Option(
            [], list, "host paths added to sensitive-paths", item_type=str
        ),
        "read-only-ok": Option(
            _DEFAULT_READ_ONLY_OK, list,
            "host paths (and what is below them) that are fine when mounted read-only",
            item_type=str,
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        patterns = list(option(self, ctx, "sensitive-paths")) + list(
            option(self, ctx, "extra-sensitive-paths")
        )
        read_only_ok = list(option(self, ctx, "read-only-ok"))
        hand_tool = ctx.purpose == "dev" and spec.is_task and not ctx.broad
        for mount in spec.mounts:
            source = _bind_source(mount)
            if source is None:
                continue
            matched = next((p for p in patterns if _sensitive_match(source, p)), None)
            if matched is None:
                continue
            always = any(_sensitive_match(source, p) for p in _ALWAYS)
            loc = mount.loc or spec.where("mounts")
            if any(_sensitive_match(source, p) for p in _SOCKETS):
                yield Violation(
                    f"{mount.flag} mounts the host's {source} (sensitive: {matched}): the container "
                    "can talk to the host's system services (D-Bus, systemd) and, as root, control them",
                    loc,
                    "mount only the specific socket the program needs, or none",
                )
            elif mount.read_only:
                if any(_sensitive_match(source, p) for p in read_only_ok):
                    continue
                if not always and (hand_tool or not ctx.broad):
                    continue
                yield Violation(
                    f"{mount.flag} mounts the host's {source} (sensitive: {matched}) read-only: "
                    "the container can read host configuration or credentials",
                    loc,
                    "mount only the file or directory the container needs",
                    severity=Severity.WARNING,
                )
            elif always or not hand_tool:
                yield Violation(
                    f"{mount.flag} mounts the host's {source} (sensitive: {matched}) writable: "
                    "the container can change the host",
                    loc,
                    "mount only what the container needs, and add :ro",
                )


class SharedPropagation(Rule):
    """A mount uses `shared` or `rshared` propagation.

    Mounts made inside the container then appear on the host (and the other
    way round): a container can mount filesystems over host paths. Keep the
    default `rprivate` unless the container is a storage driver that truly
    needs it.

    **Anti-pattern**
    ```bash
    docker run -d -v /mnt/data:/data:rshared myorg/app:1.2
    ```

    **Best practice**
    ```bash
    docker run -d -v /mnt/data:/data myorg/app:1.2
    ```
    """

    id = "DA207"
    name = "shared-propagation"
    severity = Severity.WARNING
    sources = BOTH
    cis = "5.20"
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        for mount in spec.mounts:
            if mount.propagation in ("shared", "rshared"):
                target = mount.target if known(mount.target) else "the mount"
                yield Violation(
                    f"{mount.propagation} propagation on {target}: mounts made in the container "
                    "reach the host",
                    mount.loc or spec.where("mounts"),
                    "use the default (rprivate), or rslave if host mounts must be seen",
                )


class WritableRootfs(Rule):
    """The container's root filesystem is writable.

    With `--read-only`, an attacker cannot drop tools or change binaries in
    the container, and the application's writes must go to declared volumes
    or tmpfs, which keeps the container disposable.

    **Anti-pattern**
    ```bash
    docker run -d myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --read-only --tmpfs /tmp myorg/api:3.2
    ```
    """

    id = "DA208"
    name = "writable-rootfs"
    severity = Severity.INFO
    sources = BOTH
    cis = "5.13"
    theme = THEME
    service_only = True
    enabled_by_default = False

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        if spec.read_only_rootfs is True or spec.incomplete:
            return
        yield Violation(
            "the root filesystem is writable (no --read-only)",
            None,
            "add --read-only, with --tmpfs or volumes for the paths it writes",
        )


_TMPFS_RISKY = ("exec", "suid", "dev")


class TmpfsExec(Rule):
    """A tmpfs is mounted with `exec`, `suid` or `dev`.

    Docker mounts `--tmpfs` with `noexec,nosuid,nodev` by default because a
    writable, executable scratch directory is where downloaded payloads run.
    Turning those protections back on undoes `--read-only`'s benefit.

    **Anti-pattern**
    ```bash
    docker run -d --read-only --tmpfs /tmp:rw,exec myorg/api:3.2
    ```

    **Best practice**
    ```bash
    docker run -d --read-only --tmpfs /tmp:rw,size=64m myorg/api:3.2
    ```
    """

    id = "DA209"
    name = "tmpfs-exec"
    severity = Severity.INFO
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        for mount in spec.mounts:
            if mount.type != "tmpfs":
                continue
            risky = [o for o in mount.options if known(o) and o.strip().lower() in _TMPFS_RISKY]
            if not risky:
                continue
            target = mount.target if known(mount.target) else "the tmpfs"
            yield Violation(
                f"tmpfs {target} is mounted with {','.join(risky)}: a writable scratch "
                "directory where payloads can run",
                mount.loc or spec.where("mounts"),
                f"remove {','.join(risky)} (the default is noexec,nosuid,nodev)",
            )


class DanglingVolume(Rule):
    """A volume that no container uses.

    Dangling volumes are usually the leftovers of removed containers
    (anonymous volumes, or data someone forgot). They take disk space and
    may hold stale copies of sensitive data. Remove them, or name and
    document the ones that must be kept.

    **Anti-pattern**
    ```bash
    docker run --name scratch -v /data alpine:3.19 true && docker rm scratch
    ```

    **Best practice**
    ```bash
    docker run --rm -v /data alpine:3.19 true
    ```
    """

    id = "DA210"
    name = "dangling-volume"
    severity = Severity.INFO
    sources = LIVE
    theme = THEME

    def check_host(self, host: HostInfo, ctx: RuleContext) -> Iterable[Violation]:
        if not host.volumes_read:
            return
        for volume in host.dangling_volumes:
            yield Violation(
                f"volume {volume} is used by no container",
                None,
                f"remove it if it holds nothing needed: docker volume rm {volume}",
            )
