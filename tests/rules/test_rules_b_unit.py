"""Unit tests of the DA5xx–DA9xx rules and their data tables on hand-built models (no parsing)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dockaudit.model import (
    UNKNOWN,
    ContainerSpec,
    DeviceMapping,
    DockerCommand,
    EnvVar,
    HostInfo,
    ImageRef,
    Invocation,
    Location,
    Mount,
    OptionUse,
    Origin,
    PortBinding,
    RuntimeState,
    Script,
    ScriptCommand,
    Severity,
    Source,
    Word,
)
from dockaudit.rulebase import Rule, RuleContext
from dockaudit_rules import credentials, images, logs, privileges, script
from dockaudit_rules.eol import eol_entry, tag_matches
from dockaudit_rules.stateful import stateful_data_dirs

TODAY = dt.date(2025, 1, 15)


def at(line: int = 1, column: int = 1) -> Location:
    return Location("s.sh", line, column, line, column + 3)


def image(raw: str) -> ImageRef:
    rest, _, digest = raw.partition("@")
    name, tag = rest, None
    if ":" in rest.rsplit("/", 1)[-1]:
        name, tag = rest.rsplit(":", 1)
    registry = None
    first = name.split("/", 1)[0]
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        registry, name = name.split("/", 1)
    repository = name if "/" in name else f"library/{name}"
    return ImageRef(raw=raw, registry=registry, repository=repository, tag=tag, digest=digest or None)


def spec(line: int = 1, **kw) -> ContainerSpec:
    kw.setdefault("image", image("nginx:1.25"))
    kw.setdefault("origin", Origin(Source.STATIC, loc=at(line)))
    return ContainerSpec(**kw)


def live(**kw) -> ContainerSpec:
    kw.setdefault("runtime", RuntimeState(status="running", running=True))
    return spec(origin=Origin(Source.LIVE), subcommand="create", **kw)


def ctx(rule: type[Rule], host: HostInfo | None = None, today: dt.date = TODAY, broad: bool = False,
        **options) -> RuleContext:
    merged = {name: opt.default for name, opt in rule.options.items()}
    merged.update({k.replace("_", "-"): v for k, v in options.items()})
    return RuleContext(options=merged, today=today, host=host, broad=broad)


def fire(rule: type[Rule], target, **kw) -> list:
    context = ctx(rule, **kw)
    if isinstance(target, ContainerSpec):
        return list(rule().check_container(target, context))
    if isinstance(target, Script):
        return list(rule().check_script(target, context))
    return list(rule().check_command(target, context))


def word(text: str, column: int, line: int = 1, value=None) -> Word:
    if value is None:
        value = UNKNOWN if "$" in text else text.strip("'\"")
    return Word(text=text, value=value, loc=at(line, column))


def command(argv: str, line: int = 1, known_values: bool = True) -> DockerCommand:
    """A DockerCommand from a plain argv line (no quoting), options read naively.

    Enough grammar for these tests: ``--flag value``, ``--flag=value``, boolean
    flags listed in BOOLS, short ``-f``/``-v``/``-u``/``-e``/``-p`` flags.
    """
    tokens = argv.split()
    assert tokens[0] == "docker"
    words, column = [], 1
    for tok in tokens:
        words.append(word(tok, column, line))
        column += len(tok) + 1
    program, rest = words[0], words[1:]
    groups = {"network", "volume", "system", "container"}
    sub: list[str] = []
    i = 0
    while i < len(rest) and not rest[i].text.startswith("-") and (not sub or sub[0] in groups) and len(sub) < 2:
        sub.append(rest[i].text)
        i += 1
    if sub and sub[0] == "container" and len(sub) == 2 and sub[1] != "prune":
        sub = sub[1:]
    shorts = {"-f": "--force", "-v": "--volumes", "-u": "--user", "-e": "--env", "-p": "--publish", "-d": "--detach",
              "-i": "--interactive", "-t": "--tty", "-a": "--all"}
    bools = {"--force", "--volumes", "--privileged", "--detach", "--rm", "--all", "--interactive", "--tty"}
    options, operands = [], []
    while i < len(rest):
        w = rest[i]
        if w.text.startswith("-") and not operands:
            flag, eq, value = w.text.partition("=")
            name = shorts.get(flag, flag)
            if re.fullmatch(r"-[itdfav]{2,}", flag):  # a cluster of boolean shorthands
                options.extend(OptionUse(shorts.get(f"-{c}", f"-{c}"), flag, w, None, None, w.loc) for c in flag[1:])
            elif name in bools:
                options.append(OptionUse(name, flag, w, None, value or None, w.loc))
            elif eq:
                options.append(OptionUse(name, flag, w, w, w.value.split("=", 1)[1] if known_values else UNKNOWN, w.loc))
            else:
                v = rest[i + 1]
                options.append(OptionUse(name, flag, w, v, v.value, w.loc))
                i += 1
        else:
            operands.append(w)
        i += 1
    inv = Invocation("docker", program, tuple(rest), at(line))
    return DockerCommand(inv, tuple(sub), (), tuple(options), tuple(operands))


def entry(argv: str, line: int, spec_kw: dict | None = None) -> ScriptCommand:
    cmd = command(argv, line)
    s = None
    if cmd.subcommand in (("run",), ("create",)):
        kw = dict(spec_kw or {})
        kw.setdefault("subcommand", cmd.subcommand[0])
        name = cmd.option("--name")
        if name is not None:
            kw.setdefault("name", name.value_text)
            kw.setdefault("locations", {"name": name.loc})
        kw.setdefault("detach", cmd.has("--detach"))
        kw.setdefault("auto_remove", cmd.has("--rm"))
        s = spec(line, **kw)
    return ScriptCommand(cmd, s)


def script_of(*entries: ScriptCommand) -> Script:
    return Script(path="s.sh", kind="shell", commands=tuple(entries))


# --- data tables ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "dirs"),
    [
        ("mysql:8.0", ("/var/lib/mysql",)),
        ("docker.io/library/mysql:8.0", ("/var/lib/mysql",)),
        ("library/mariadb:11", ("/var/lib/mysql",)),
        ("postgres:16", ("/var/lib/postgresql/data",)),
        ("bitnami/postgresql:16", ("/bitnami/postgresql",)),
        ("registry.example.com/mirror/postgres:16", ("/var/lib/postgresql/data",)),
        ("mongo:7", ("/data/db", "/data/configdb")),
        ("influxdb:2.7", ("/var/lib/influxdb", "/var/lib/influxdb2")),
        ("mcr.microsoft.com/mssql/server:2022-latest", ("/var/opt/mssql",)),
        ("memcached:1.6", None),
        ("nginx:1.25", None),
        ("myorg/postgres-exporter:1", None),
    ],
)
def test_stateful_data_dirs(raw: str, dirs) -> None:
    assert stateful_data_dirs(image(raw)) == dirs


def test_stateful_extra_adds_and_removes() -> None:
    assert stateful_data_dirs(image("myorg/ledger:3"), {"myorg/ledger": ["/srv/ledger"]}) == ("/srv/ledger",)
    assert stateful_data_dirs(image("redis:7"), {"redis": []}) is None
    assert stateful_data_dirs(UNKNOWN) is None
    assert stateful_data_dirs(None) is None


def test_minio_data_dir_comes_from_its_command() -> None:
    minio = image("minio/minio:RELEASE.2024-01-01T00-00-00Z")
    assert stateful_data_dirs(minio) == ("/data",)
    assert stateful_data_dirs(minio, command=["server", "/mnt/store", "--console-address", ":9001"]) == ("/mnt/store",)
    assert stateful_data_dirs(minio, command=["server", "http://minio{1...4}/data"]) == ("/data",)


@pytest.mark.parametrize(
    ("tag", "prefix", "expected"),
    [
        ("3.8", "3.8", True),
        ("3.8.18-slim", "3.8", True),
        ("3.80", "3.8", False),
        ("12-alpine", "12", True),
        ("120", "12", False),
        ("8u212-jre", "8", True),
        ("xenial-20210804", "xenial", True),
        ("xenialx", "xenial", False),
    ],
)
def test_tag_prefix_matching(tag: str, prefix: str, expected: bool) -> None:
    assert tag_matches(tag, prefix) is expected


def test_eol_lookup_prefers_the_longest_prefix_and_handles_retired_images() -> None:
    entry = eol_entry(image("postgres:9.6.24"))
    assert entry is not None and (entry.release, entry.eol) == ("9.6", dt.date(2021, 11, 11))
    entry = eol_entry(image("centos"))
    assert entry is not None and entry.release == "*"
    assert eol_entry(image("python:3.12-slim")) is None
    assert eol_entry(image("node")) is None  # no tag: DA701's business
    extra = eol_entry(image("myorg/app:1.4.2"), {"myorg/app": {"1.4": "2020-01-31"}})
    assert extra is not None and extra.eol == dt.date(2020, 1, 31)
    with pytest.raises(ValueError, match="not a date"):
        eol_entry(image("myorg/app:1.4"), {"myorg/app": {"1.4": "soon"}})


# --- DA5xx ---------------------------------------------------------------


def test_privileged() -> None:
    assert fire(privileges.Privileged, spec(privileged=True))
    assert not fire(privileges.Privileged, spec())


def test_dangerous_capability_normalises_names() -> None:
    hits = fire(privileges.DangerousCapability, spec(cap_add=("CAP_SYS_ADMIN", "CAP_CHOWN", "ALL", UNKNOWN)))
    assert [v.message.split(" grants")[0] for v in hits] == ["--cap-add SYS_ADMIN", "--cap-add ALL"]
    host_net = {"cap_add": ("CAP_NET_ADMIN",), "network_mode": "host"}
    configured = fire(privileges.DangerousCapability, spec(**host_net), capabilities=["sys_admin"])
    assert configured == []
    assert fire(privileges.DangerousCapability, spec(**host_net), capabilities=["net_admin"])


def test_network_capability_in_the_containers_own_namespace() -> None:
    own = spec(cap_add=("CAP_NET_ADMIN", "NET_RAW"))
    assert fire(privileges.DangerousCapability, own) == []
    assert fire(privileges.DangerousCapability, own, broad=True)
    assert fire(privileges.DangerousCapability, spec(cap_add=("CAP_NET_ADMIN",), network_mode="host"))


def test_privileged_covers_capabilities() -> None:
    both = spec(cap_add=("SYS_ADMIN",), privileged=True)
    assert fire(privileges.DangerousCapability, both) == []
    assert fire(privileges.Privileged, both)


def test_capabilities_not_dropped() -> None:
    assert fire(privileges.CapabilitiesNotDropped, spec(detach=True))
    assert not fire(privileges.CapabilitiesNotDropped, spec(cap_drop=("ALL",)))
    assert not fire(privileges.CapabilitiesNotDropped, spec(cap_drop=(UNKNOWN,)))
    assert not fire(privileges.CapabilitiesNotDropped, spec(incomplete=True))


def test_host_namespaces() -> None:
    assert fire(privileges.HostPid, spec(pid_mode="host"))
    assert not fire(privileges.HostPid, spec(pid_mode="container:app"))
    assert not fire(privileges.HostPid, spec(pid_mode=UNKNOWN))
    assert fire(privileges.HostIpc, spec(ipc_mode="host"))
    hits = fire(privileges.HostNamespace, spec(uts_mode="host", userns_mode="host", cgroupns_mode="private"))
    assert [v.message.split()[0] for v in hits] == ["--uts", "--userns"]


def test_security_opt_forms() -> None:
    assert fire(privileges.SeccompDisabled, spec(security_opt=("seccomp:unconfined",)))
    assert not fire(privileges.SeccompDisabled, spec(security_opt=("seccomp=/p.json",)))
    hits = fire(privileges.MacDisabled, spec(security_opt=("apparmor=unconfined", "label=disable", "label=level:s0")))
    assert len(hits) == 2


def test_no_new_privileges() -> None:
    rule = privileges.NoNewPrivileges
    assert fire(rule, spec())
    for form in ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"):
        assert not fire(rule, spec(security_opt=(form,)))
    assert fire(rule, spec(security_opt=("no-new-privileges=false",)))
    assert not fire(rule, spec(security_opt=(UNKNOWN,)))
    assert fire(rule, live())
    assert not fire(rule, live(), host=HostInfo(no_new_privileges=True))


def test_root_user_static_and_live() -> None:
    rule = privileges.RootUser
    for user in ("0", "root", "0:0", "root:root", "ROOT"):
        assert fire(rule, spec(user=user)), user
    for user in ("1000", "1000:0", "app", UNKNOWN, None):
        assert not fire(rule, spec(user=user)), user
    root = RuntimeState(status="running", effective_user="")
    assert fire(rule, live(runtime=root))
    assert fire(rule, live(runtime=RuntimeState(status="running", effective_user="0")))
    assert not fire(rule, live(runtime=RuntimeState(status="running", effective_user="nginx")))
    assert not fire(rule, live(runtime=RuntimeState(status="running", effective_user=None)))
    assert not fire(rule, live(user="1000", runtime=root))


def test_host_device_severity() -> None:
    devices = tuple(
        DeviceMapping(path, path, loc=at(1, i)) for i, path in enumerate(
            ["/dev/sda", "/dev/nvme0n1p2", "/dev/kmsg", "/dev/fuse", "/dev/mapper/vg-root", UNKNOWN], 1)
    )
    hits = fire(privileges.HostDevice, spec(devices=devices))
    assert [(v.loc.column, v.severity) for v in hits] == [
        (1, Severity.ERROR), (2, Severity.ERROR), (3, Severity.ERROR), (5, Severity.ERROR)
    ]  # /dev/fuse, like a sound card or a GPU, is what the program needs: cis only
    hits = fire(privileges.HostDevice, spec(devices=devices), broad=True)
    assert [(v.loc.column, v.severity) for v in hits][3] == (4, None)
    rules = ("a *:* rwm", "c *:* rwm", "b 8:* rw", "c 10:200 rwm", "c 188:* rwm")
    hits = fire(privileges.HostDevice, spec(device_cgroup_rules=rules))
    assert [v.severity for v in hits] == [Severity.ERROR, Severity.WARNING, Severity.ERROR]


def test_exec_privileged() -> None:
    hits = fire(privileges.ExecPrivileged, command("docker exec --privileged -u root web sh"))
    assert [v.loc.column for v in hits] == [13, 26]
    assert not fire(privileges.ExecPrivileged, command("docker exec -u app web sh"))
    assert not fire(privileges.ExecPrivileged, command("docker run --privileged -u root web"))


# --- DA6xx ---------------------------------------------------------------


def test_log_unbounded_defaults() -> None:
    rule = logs.LogUnbounded
    assert fire(rule, spec(detach=True))
    assert fire(rule, spec(log_driver="json-file", log_opts={"max-file": "3"}))
    assert not fire(rule, spec(log_opts={"max-size": "10m"}))
    assert not fire(rule, spec(log_opts={"max-size": UNKNOWN}))
    assert fire(rule, spec(log_opts={"max-size": "-1"}))
    assert not fire(rule, spec(log_driver="local"))
    assert not fire(rule, spec(log_driver=UNKNOWN))
    assert not fire(rule, spec(incomplete=True))
    assert not fire(rule, spec(), default_log_driver="journald")
    rotated = HostInfo(default_log_driver="json-file", default_log_opts={"max-size": "20m"})
    assert not fire(rule, live(log_driver="json-file"), host=rotated)
    assert fire(rule, live(log_driver="json-file"), host=HostInfo(default_log_driver="json-file"))
    assert not fire(rule, live(), host=HostInfo(default_log_driver="journald"))


def test_logging_disabled() -> None:
    assert fire(logs.LoggingDisabled, spec(log_driver="none"))
    assert not fire(logs.LoggingDisabled, spec(log_driver="local"))


def test_log_opt_invalid() -> None:
    rule = logs.LogOptInvalid
    hits = fire(rule, command("docker run --log-driver syslog --log-opt max-size=10m --log-opt tag=x img"))
    assert [v.loc.column for v in hits] == [32]
    assert fire(rule, command("docker run --log-opt foo=bar img"))
    assert not fire(rule, command("docker run --log-opt max-size=10m img"))
    assert not fire(rule, command("docker run --log-opt foo=bar img"), default_log_driver="loki")
    missing = fire(rule, command("docker run --log-driver awslogs --log-opt awslogs-region=x img"))
    assert [v.message.split(" needs ")[1].split(":")[0] for v in missing] == ["--log-opt awslogs-group"]
    assert len(fire(rule, command("docker run --log-driver splunk img"))) == 2
    assert fire(rule, command("docker run --log-driver none --log-opt max-size=1m img"))
    assert fire(rule, command("docker run --log-opt max-buffer-size=4m img"))
    assert not fire(rule, command("docker run --log-opt mode=non-blocking --log-opt max-buffer-size=4m img"))
    assert not fire(rule, command("docker exec --log-opt foo=bar web"))


# --- DA7xx ---------------------------------------------------------------


def test_image_latest() -> None:
    assert fire(images.ImageLatest, spec(image=image("nginx")))
    assert fire(images.ImageLatest, spec(image=image("nginx:latest")))
    assert not fire(images.ImageLatest, spec(image=image("nginx:1.25")))
    assert not fire(images.ImageLatest, spec(image=image("nginx@sha256:abc")))
    assert not fire(images.ImageLatest, spec(image=UNKNOWN))
    tag_unknown = ImageRef("nginx:$V", None, "library/nginx", UNKNOWN, None)
    assert not fire(images.ImageLatest, spec(image=tag_unknown))


def test_image_no_digest() -> None:
    assert fire(images.ImageNoDigest, spec(image=image("nginx:1.25")))
    assert not fire(images.ImageNoDigest, spec(image=image("nginx:1.25@sha256:abc")))


def test_image_eol_uses_context_today() -> None:
    node18 = spec(image=image("node:18-alpine"))
    assert not fire(images.ImageEol, node18, today=dt.date(2025, 4, 30))
    assert fire(images.ImageEol, node18, today=dt.date(2025, 5, 1))
    assert fire(images.ImageEol, spec(image=image("ubuntu:trusty")))
    assert not fire(images.ImageEol, spec(image=image("ubuntu:24.04")))
    extra = {"myorg/app": {"1": "2024-12-31"}}
    assert fire(images.ImageEol, spec(image=image("myorg/app:1.2")), extra_eol=extra)


def test_untrusted_registry() -> None:
    rule = images.UntrustedRegistry
    assert not fire(rule, spec(image=image("nginx:1.25")))  # not configured: silent
    assert fire(rule, spec(image=image("nginx:1.25")), trusted_registries=["registry.example.com"])
    assert not fire(rule, spec(image=image("nginx:1.25")), trusted_registries=["docker.io"])
    assert not fire(rule, spec(image=image("nginx:1.25")), trusted_registries=["index.docker.io"])
    trusted = ["ghcr.io/acme"]
    assert not fire(rule, spec(image=image("ghcr.io/acme/api:1")), trusted_registries=trusted)
    assert fire(rule, spec(image=image("ghcr.io/acmeevil/api:1")), trusted_registries=trusted)


def test_stale_image_live_only() -> None:
    stale = RuntimeState(status="running", image_id="sha256:aaa", tag_image_id="sha256:bbb")
    assert fire(images.StaleImage, live(runtime=stale))
    same = RuntimeState(status="running", image_id="sha256:aaa", tag_image_id="sha256:aaa")
    assert not fire(images.StaleImage, live(runtime=same))
    assert not fire(images.StaleImage, live(runtime=RuntimeState(status="running", image_id="sha256:aaa")))
    assert images.StaleImage.sources == frozenset({Source.LIVE})


# --- DA8xx ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shaped"),
    [
        ("MYSQL_ROOT_PASSWORD", True), ("DB_PASS", True), ("GITHUB_TOKEN", True), ("API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True), ("STRIPE_APIKEY", True), ("SSH_PRIVATE_KEY", True),
        ("GOOGLE_CREDENTIALS", True), ("ENCRYPTION_KEY", True),
        ("POSTGRES_PASSWORD_FILE", False), ("JWT_PUBLIC_KEY", False), ("SORT_KEY", False),
        ("AWS_ACCESS_KEY_ID", False), ("TOKEN_URL", False), ("TOKENIZERS_PARALLELISM", False),
        ("PWD", False), ("KEYCLOAK_ADMIN", False), ("PASSWORD_MIN_LENGTH", False), ("MONKEY", False),
    ],
)
def test_credential_shaped_keys(key: str, shaped: bool) -> None:
    assert credentials.credential_shaped(key) is shaped


def test_secret_in_env_static_and_live() -> None:
    rule = credentials.SecretInEnv
    env = (
        EnvVar("MYSQL_ROOT_PASSWORD", "password", loc=at(1, 15)),
        EnvVar("MYSQL_PASSWORD", None, loc=at(1, 40)),
        EnvVar("REDIS_PASSWORD", UNKNOWN, loc=at(1, 60)),
        EnvVar("API_TOKEN", "", loc=at(1, 80)),
        EnvVar("MYSQL_RANDOM_ROOT_PASSWORD", "yes", loc=at(1, 90)),
        EnvVar("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/sa.json", loc=at(1, 99)),
    )
    hits = fire(rule, spec(env=env))
    assert [v.loc.column for v in hits] == [15]
    assert "password" not in hits[0].message.split("=", 1)[1]  # the secret itself is never printed
    assert fire(rule, live(env=(EnvVar("GITHUB_TOKEN", "ghp_x"),)))
    assert not fire(rule, spec(env=env[:1]), allow_keys=["mysql_root_password"])
    assert fire(rule, spec(env=(EnvVar("LDAP_BIND", "s3cret"),)), extra_keys=["LDAP_BIND"])


def test_secret_in_url() -> None:
    rule = credentials.SecretInUrl
    hits = fire(rule, spec(env=(EnvVar("DATABASE_URL", "postgres://app:s3cret@db:5432/app"),)))
    assert len(hits) == 1 and "s3cret" not in hits[0].message and "app:****@db:5432" in hits[0].message
    assert not fire(rule, spec(env=(EnvVar("DATABASE_URL", "postgres://app@db/app"),)))
    assert not fire(rule, spec(env=(EnvVar("DATABASE_URL", UNKNOWN),)))
    assert fire(rule, spec(command=("psql", "postgresql://u:pw@db/x")))
    assert not fire(rule, spec(command=("sh", "-c", "psql postgresql://u:$PW@db/x")))


def test_secret_in_args() -> None:
    rule = credentials.SecretInArgs
    assert fire(rule, spec(command=("redis-server", "--requirepass", "s3cret")))
    assert fire(rule, spec(command=("sh", "-c", "mysqldump -uroot -ps3cret app > /b.sql")))
    assert fire(rule, spec(command=("aws", "s3", "ls"), entrypoint=("env", "KEY=AKIAIOSFODNN7EXAMPLE")))
    assert not fire(rule, spec(command=("mysql", "-uroot", "-p")))
    assert not fire(rule, spec(command=("sh", "-c", 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD"')))
    assert not fire(rule, spec(command=("app", "--token", "$TOKEN")))
    assert not fire(rule, spec(command=("app", "--password-file", "/run/secrets/pw")))
    assert not fire(rule, spec(command=("python", "-p", "8080")))


# --- DA9xx ---------------------------------------------------------------


def test_duplicate_name() -> None:
    rule = script.DuplicateName
    twice = script_of(entry("docker run -d --name web nginx", 1), entry("docker run -d --name web nginx", 2))
    hits = fire(rule, twice)
    assert [(v.loc.line, v.loc.column) for v in hits] == [(2, 15)]
    removed = script_of(
        entry("docker run -d --name web nginx", 1), entry("docker rm -f web", 2), entry("docker run -d --name web nginx", 3)
    )
    assert not fire(rule, removed)
    foreground = script_of(entry("docker run --rm --name t alpine", 1), entry("docker run --rm --name t alpine", 2))
    assert not fire(rule, foreground)
    stopped = script_of(
        entry("docker run -d --rm --name t alpine", 1), entry("docker stop t", 2), entry("docker run -d --name t alpine", 3)
    )
    assert not fire(rule, stopped)
    unknown_rm = ScriptCommand(
        DockerCommand(Invocation("docker", word("docker", 1, 2), (), at(2)), ("rm",), (), (),
                      (word("$(docker ps -aq)", 11, 2),))
    )
    assert not fire(rule, script_of(twice.commands[0], unknown_rm, twice.commands[1]))
    renamed = script_of(twice.commands[0], entry("docker rename web web-old", 2), entry("docker run -d --name web nginx", 3))
    assert not fire(rule, renamed)


def test_near_miss() -> None:
    assert script.near_miss("wordpresdb", ["wordpressdb", "web"]) == "wordpressdb"
    assert script.near_miss("web2", ["web1"]) is None
    assert script.near_miss("api", ["app"]) == "app"
    assert script.near_miss("cache", ["db"]) is None


def test_unknown_container() -> None:
    rule = script.UnknownContainer
    s = script_of(
        entry("docker run -d --name wordpressdb mysql", 1),
        entry("docker run -d --link wordpresdb:mysql --volumes-from wordpressdb wordpress", 2),
        entry("docker exec -it wordpresdb sh", 3),
        entry("docker stop legacy", 4),
    )
    hits = fire(rule, s)
    assert [(v.loc.line, v.loc.column) for v in hits] == [(2, 15), (3, 17)]
    assert "did you mean \"wordpressdb\"" in hits[0].message


def test_unknown_network() -> None:
    rule = script.UnknownNetwork
    s = script_of(
        entry("docker network create app-net", 1),
        entry("docker run -d --network app_net api", 2),
        entry("docker run -d --network host api", 3),
        entry("docker network connect app-nt api", 4),
    )
    hits = fire(rule, s)
    assert [(v.loc.line, v.loc.column) for v in hits] == [(2, 15), (4, 24)]


def test_duplicate_host_port() -> None:
    rule = script.DuplicateHostPort

    def ports(line: int, *bindings: tuple[str, str, str]) -> dict:
        return {"ports": tuple(PortBinding("80", proto, ip, port, loc=at(line, 15)) for ip, port, proto in bindings)}

    clash = script_of(
        entry("docker run -d --name a web", 1, ports(1, ("", "8080", "tcp"))),
        entry("docker run -d --name b web", 2, ports(2, ("127.0.0.1", "8080", "tcp"))),
    )
    assert [v.loc.line for v in fire(rule, clash)] == [2]
    apart = script_of(
        entry("docker run -d --name a web", 1, ports(1, ("127.0.0.1", "8080", "tcp"))),
        entry("docker run -d --name b web", 2, ports(2, ("10.0.0.1", "8080", "tcp"), ("", "8080", "udp"))),
    )
    assert not fire(rule, apart)
    ranged = script_of(
        entry("docker create --name a web", 1, ports(1, ("0.0.0.0", "9000-9010", "tcp"))),
        entry("docker run -d --name b web", 2, ports(2, ("", "9005", "tcp"))),
    )
    assert fire(rule, ranged)
    freed = script_of(
        entry("docker run -d --name a web", 1, ports(1, ("", "8080", "tcp"))),
        entry("docker stop a", 2),
        entry("docker rm a", 3),
        entry("docker run -d --name b web", 4, ports(4, ("", "8080", "tcp"))),
    )
    assert not fire(rule, freed)
    v6 = script_of(
        entry("docker run -d --name a web", 1, ports(1, ("0.0.0.0", "8080", "tcp"))),
        entry("docker run -d --name b web", 2, ports(2, ("::1", "8080", "tcp"))),
    )
    assert not fire(rule, v6)
    unknown = script_of(
        entry("docker run -d --name a web", 1, ports(1, ("", UNKNOWN, "tcp"))),
        entry("docker run -d --name b web", 2, ports(2, ("", UNKNOWN, "tcp"))),
    )
    assert not fire(rule, unknown)


def test_removes_all_containers() -> None:
    rule = script.RemovesAllContainers
    rm_all = DockerCommand(
        Invocation("docker", word("docker", 1), (), at()), ("rm",), (), (), (word("$(docker ps -aq)", 14),)
    )
    assert [v.loc.column for v in fire(rule, rm_all)] == [14]
    filtered = DockerCommand(
        Invocation("docker", word("docker", 1), (), at()), ("rm",), (), (),
        (word("$(docker ps -aq --filter label=x=y)", 14),),
    )
    assert not fire(rule, filtered)
    exited = DockerCommand(
        Invocation("docker", word("docker", 1), (), at()), ("rm",), (), (),
        (word("$(docker ps -aq --filter status=exited)", 14),),
    )
    assert fire(rule, exited)  # every exited container on the host, not only the script's
    assert fire(rule, command("docker container prune -f"))
    assert fire(rule, command("docker system prune -af"))
    assert not fire(rule, command("docker image prune -af"))


def test_removes_volumes() -> None:
    rule = script.RemovesVolumes
    db = entry("docker run -d --name db postgres", 1, {"image": image("postgres:16")})
    assert [v.loc.column for v in fire(rule, script_of(db, entry("docker rm -f -v db", 2)))] == [14]
    named = entry(
        "docker run -d --name db postgres", 1,
        {"image": image("postgres:16"), "mounts": (Mount("volume", "/var/lib/postgresql", "pg"),)},
    )
    assert not fire(rule, script_of(named, entry("docker rm -f -v db", 2)))
    web = entry("docker run -d --name web nginx", 1)
    assert not fire(rule, script_of(web, entry("docker rm -f -v web", 2)))
    assert fire(rule, script_of(command_entry("docker volume prune -f")))
    assert fire(rule, script_of(command_entry("docker system prune -af --volumes")))
    assert not fire(rule, script_of(command_entry("docker system prune -af")))
    custom = entry("docker run -d --name l myorg/ledger", 1, {"image": image("myorg/ledger:1")})
    extra = {"myorg/ledger": ["/srv/ledger"]}
    assert fire(rule, script_of(custom, entry("docker rm -v l", 2)), extra_stateful_images=extra)


def command_entry(argv: str, line: int = 1) -> ScriptCommand:
    return ScriptCommand(command(argv, line))


def test_network_create_invalid() -> None:
    rule = script.NetworkCreateInvalid

    def messages(*argvs: str) -> list[str]:
        return [v.message for v in fire(rule, script_of(*(command_entry(a, i) for i, a in enumerate(argvs, 1))))]

    assert messages("docker network create --subnet 172.28.0.0/16 --gateway 172.29.0.1 b") == [
        "--gateway 172.29.0.1 is outside --subnet 172.28.0.0/16"
    ]
    assert "host bits" in messages("docker network create --subnet 10.0.0.1/24 b")[0]
    assert "not a valid CIDR" in messages("docker network create --subnet 10.0.300.0/24 b")[0]
    assert "without --subnet" in messages("docker network create --gateway 10.0.0.1 b")[0]
    assert messages(
        "docker network create --subnet 10.1.0.0/16 front", "docker network create --subnet 10.1.128.0/24 back"
    )[0].startswith("--subnet 10.1.128.0/24 overlaps 10.1.0.0/16")
    assert not messages(
        "docker network create --subnet 10.1.0.0/16 front",
        "docker network rm front",
        "docker network create --subnet 10.1.0.0/16 front",
    )
    assert not messages(
        "docker network create --subnet 172.30.0.0/24 --subnet fd00::/64 --gateway fd00::1 --ip-range 172.30.0.128/25 d"
    )


def test_network_connect_special() -> None:
    rule = script.NetworkConnectSpecial
    assert [v.loc.column for v in fire(rule, script_of(command_entry("docker network connect host web")))] == [24]
    host = entry("docker run -d --name agent img", 1, {"network_mode": "host"})
    hits = fire(rule, script_of(host, command_entry("docker network connect backend agent", 2)))
    assert [(v.loc.line, v.loc.column) for v in hits] == [(2, 32)]
    bridge = entry("docker run -d --name api img", 1, {"network_mode": "bridge"})
    assert not fire(rule, script_of(bridge, command_entry("docker network connect backend api", 2)))
