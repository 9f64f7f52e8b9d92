"""Unit tests of the DA0xx–DA4xx rules on hand-built models (no parsing involved)."""

from __future__ import annotations

import datetime as dt

import pytest

from dockaudit.model import (
    UNKNOWN,
    ContainerSpec,
    DockerCommand,
    Healthcheck,
    HostInfo,
    ImageRef,
    Invocation,
    Link,
    Location,
    Mount,
    Origin,
    PortBinding,
    Process,
    RestartPolicy,
    RuntimeState,
    Severity,
    Source,
    ThrottleDevice,
    UsageProblem,
    Word,
)
from dockaudit.rulebase import Rule, RuleContext
from dockaudit_rules import command, network, process, resources, storage
from dockaudit_rules.plugin import rules_of

ALL = [rule for module in (command, resources, storage, process, network) for rule in rules_of(module)]
CMD = Location("s.sh", 1, 1, 1, 60)


def loc(column: int) -> Location:
    return Location("s.sh", 1, column, 1, column + 2)


def image(raw: str) -> ImageRef:
    name, _, tag = raw.partition(":")
    registry = None
    if "/" in name and ("." in name.split("/")[0] or ":" in name.split("/")[0]):
        registry, name = name.split("/", 1)
    repository = name if "/" in name else f"library/{name}"
    return ImageRef(raw=raw, registry=registry, repository=repository, tag=tag or None, digest=None)


def spec(**kw) -> ContainerSpec:
    kw.setdefault("image", image("nginx:1.25"))
    kw.setdefault("origin", Origin(Source.STATIC, loc=CMD))
    return ContainerSpec(**kw)


def live(**kw) -> ContainerSpec:
    kw.setdefault("runtime", RuntimeState(status="running", running=True))
    return spec(origin=Origin(Source.LIVE), subcommand="create", **kw)


def run(rule: type[Rule], target, options=None, host: HostInfo | None = None, broad: bool = False):
    ctx = RuleContext(options=options or {}, today=dt.date(2025, 1, 1), host=host, broad=broad)
    instance = rule()
    if isinstance(target, ContainerSpec):
        return list(instance.check_container(target, ctx))
    if isinstance(target, DockerCommand):
        return list(instance.check_command(target, ctx))
    return list(instance.check_host(target, ctx))


def fires(rule, target, **kw) -> bool:
    return bool(run(rule, target, **kw))


# --- declarations -------------------------------------------------------------


def test_ids_are_the_catalogue():
    ids = sorted(r.id for r in ALL)
    expected = (
        [f"DA00{i}" for i in range(1, 9)] + [f"DA10{i}" for i in range(1, 8)]
        + [f"DA2{i:02d}" for i in range(1, 11)] + [f"DA3{i:02d}" for i in range(1, 11)]
        + [f"DA40{i}" for i in range(1, 9)]
    )
    assert ids == expected


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
def test_declaration_and_docstring(rule):
    assert rule.name and rule.theme and isinstance(rule.severity, Severity)
    bad, good = rule.examples()
    assert bad and good, "docstring needs Anti-pattern and Best practice bash blocks"
    assert rule.summary()
    for name, opt in rule.options.items():
        assert opt.validate(opt.default) is None, name


def test_off_rules():
    off = {r.id for r in ALL if not r.enabled_by_default}
    assert off == {"DA208", "DA307"}


def test_service_only_rules():
    marked = {r.id for r in ALL if r.service_only}
    assert marked == {"DA101", "DA102", "DA103", "DA208", "DA304", "DA307", "DA407"}


# --- DA0xx ------------------------------------------------------------------------


def _command(problems, context="code", path="s.sh") -> DockerCommand:
    where = Location(path, 1, 1, 1, 10)
    word = Word("docker", "docker", where)
    inv = Invocation("docker", word, (), where, context=context)
    return DockerCommand(inv, ("run",), (), (), (), problems=tuple(problems))


def test_usage_problems_are_reemitted_under_their_own_id():
    problems = [UsageProblem("DA002", "unknown flag -rm", loc(12), "--rm"),
                UsageProblem("DA004", "flags after image", loc(30))]
    cmd = _command(problems)
    (v,) = run(command.UnknownOption, cmd)
    assert (v.message, v.loc, v.fix) == ("unknown flag -rm", loc(12), "--rm")
    assert [x.loc for x in run(command.OptionsAfterImage, cmd)] == [loc(30)]
    assert run(command.InvalidValue, cmd) == []


def test_tty_needs_interactive_and_a_script():
    from dockaudit.api import check_text

    def ids(text: str, path: str = "s.sh") -> list[str]:
        return [f.rule_id for f in check_text(text, path)]

    assert ids("docker run --rm -it alpine:3.19 sh").count("DA007") == 1
    assert "DA007" not in ids("docker run --rm -t alpine:3.19 sh")  # no -i: no terminal check
    assert "DA007" not in ids("docker run -dit alpine:3.19 sh")
    assert "DA007" not in ids("```sh\ndocker run --rm -it alpine:3.19 sh\n```\n", "README.md")
    assert "DA007" not in ids("docker run --rm -it alpine:3.19 sh", "home/.bashrc")


def test_engine_rules_have_no_checks():
    for rule in (command.ParseFailure, command.UnusedSuppression):
        assert not any(rule.implements(m) for m in
                       ("check_container", "check_command", "check_script", "check_host"))


# --- DA1xx ------------------------------------------------------------------------


def test_memory():
    assert run(resources.MemoryUnlimited, spec())[0].loc is None
    assert not fires(resources.MemoryUnlimited, spec(memory=512 << 20))
    assert not fires(resources.MemoryUnlimited, spec(memory=UNKNOWN))
    assert not fires(resources.MemoryUnlimited, spec(incomplete=True))
    zero = run(resources.MemoryUnlimited, spec(memory=0, locations={"memory": loc(11)}))
    assert zero[0].loc == loc(11)
    assert fires(resources.MemoryUnlimited, live(memory=0))


def test_cpu():
    assert fires(resources.CpuUnlimited, spec())
    for kw in ({"nano_cpus": 500_000_000}, {"cpu_quota": 50000}, {"cpu_shares": 512},
               {"cpuset_cpus": "0,1"}, {"nano_cpus": UNKNOWN}, {"incomplete": True}):
        assert not fires(resources.CpuUnlimited, spec(**kw)), kw
    assert fires(resources.CpuUnlimited, live(nano_cpus=0, cpu_quota=0, cpu_shares=0, cpuset_cpus=""))


def test_pids():
    assert fires(resources.PidsUnlimited, spec())
    assert not fires(resources.PidsUnlimited, spec(pids_limit=100))
    assert not fires(resources.PidsUnlimited, spec(incomplete=True))
    (v,) = run(resources.PidsUnlimited, spec(pids_limit=-1, locations={"pids_limit": loc(11)}))
    assert v.loc == loc(11) and "-1" in v.message


def test_oom_kill_disable():
    where = {"oom_kill_disable": loc(11)}
    (v,) = run(resources.OomKillDisabledUnbounded, spec(oom_kill_disable=True, locations=where))
    assert v.loc == loc(11)
    assert not fires(resources.OomKillDisabledUnbounded, spec(oom_kill_disable=True, memory=1 << 30))
    assert not fires(resources.OomKillDisabledUnbounded, spec(oom_kill_disable=True, memory=UNKNOWN))
    assert not fires(resources.OomKillDisabledUnbounded, spec())


def test_swap():
    assert fires(resources.SwapUnlimited, spec(memory_swap=-1))
    assert not fires(resources.SwapUnlimited, spec(memory_swap=1 << 30))
    assert not fires(resources.SwapUnlimited, spec(memory_swap=UNKNOWN))


def test_blkio():
    throttles = (ThrottleDevice("write-bps", "/dev/sda", 1 << 20, loc(11)),
                 ThrottleDevice("read-iops", "/dev/sda", 100, loc(40)))
    found = run(resources.BlkioBufferedOnly, spec(blkio_throttles=throttles))
    assert [v.loc for v in found] == [loc(11), loc(40)]
    assert "--device-write-bps" in found[0].message


def test_storage_opt_size():
    static = spec(storage_opt={"size": "10G"})
    (v,) = run(resources.StorageOptSize, static)
    assert "size=10G" in v.message and v.severity is None
    assert not fires(resources.StorageOptSize, spec())
    on = live(storage_opt={"size": "10G"})
    assert not fires(resources.StorageOptSize, on, host=HostInfo(storage_driver="overlay2"))
    (w,) = run(resources.StorageOptSize, on, host=HostInfo(storage_driver="aufs"))
    assert w.severity is Severity.WARNING and "aufs" in w.message
    assert run(resources.StorageOptSize, on, host=HostInfo())[0].severity is None


# --- DA2xx ------------------------------------------------------------------------


def bind(source, target, ro=False, column=11, propagation=None):
    return Mount("bind", target, source, read_only=ro, propagation=propagation, loc=loc(column))


def test_stateful_without_volume():
    db = image("postgres:16")
    (v,) = run(storage.StatefulWithoutVolume, spec(image=db))
    assert v.loc is None and "/var/lib/postgresql/data" in v.message
    named = Mount("volume", "/var/lib/postgresql/data", "pgdata", loc=loc(11))
    assert not fires(storage.StatefulWithoutVolume, spec(image=db, mounts=(named,)))
    parent = bind("/srv/pg", "/var/lib/postgresql")
    assert not fires(storage.StatefulWithoutVolume, spec(image=db, mounts=(parent,)))
    anon = Mount("volume", "/var/lib/postgresql/data", None, loc=loc(20))
    (a,) = run(storage.StatefulWithoutVolume, spec(image=db, mounts=(anon,)))
    assert a.loc == loc(20) and "anonymous" in a.message
    unknown_target = Mount("volume", UNKNOWN, "pgdata", loc=loc(11))
    assert not fires(storage.StatefulWithoutVolume, spec(image=db, mounts=(unknown_target,)))
    assert not fires(storage.StatefulWithoutVolume, spec(image=db, command=("psql", "-h", "db")))
    assert not fires(storage.StatefulWithoutVolume, spec(image=db, volumes_from=("data",)))
    assert not fires(storage.StatefulWithoutVolume, spec(image=db, incomplete=True))
    assert not fires(storage.StatefulWithoutVolume, spec(image=UNKNOWN))
    assert not fires(storage.StatefulWithoutVolume, spec())
    mongo = image("mongo:7")
    one = Mount("volume", "/data/db", "mongo-data", loc=loc(11))
    assert not fires(storage.StatefulWithoutVolume, spec(image=mongo, mounts=(one,)))
    extra = {"extra-stateful-images": {"myorg/ledger": ["/ledger"]}}
    assert fires(storage.StatefulWithoutVolume, spec(image=image("myorg/ledger:2")), options=extra)


def test_anonymous_volume():
    anon = Mount("volume", "/cache", None, loc=loc(11))
    (v,) = run(storage.AnonymousVolume, spec(mounts=(anon,)))
    assert v.loc == loc(11) and "/cache" in v.message
    from_image = Mount("volume", "/data", None, flag="image")
    assert not fires(storage.AnonymousVolume, spec(mounts=(from_image,)))
    assert not fires(storage.AnonymousVolume, spec(mounts=(Mount("volume", "/c", "named"),)))


def test_rm_discards_data():
    where = {"auto_remove": loc(12)}
    db = image("mysql:8.4")
    (v,) = run(storage.RmDiscardsData, spec(image=db, auto_remove=True, locations=where))
    assert v.loc == loc(12)
    kept = Mount("volume", "/var/lib/mysql", "mysql-data")
    assert not fires(storage.RmDiscardsData, spec(image=db, auto_remove=True, mounts=(kept,)))
    assert not fires(storage.RmDiscardsData, spec(image=db))
    anon = Mount("volume", "/work", None)
    assert fires(storage.RmDiscardsData, spec(auto_remove=True, mounts=(anon,)))
    assert not fires(storage.RmDiscardsData, spec(auto_remove=True))
    assert not fires(storage.RmDiscardsData, spec(image=db, auto_remove=True, command=("mysql",)))
    assert not fires(storage.RmDiscardsData,
                     spec(image=db, auto_remove=True, command=("cat", "/etc/mysql/my.cnf")))
    shell = {"image": db, "auto_remove": True, "command": ("bash",)}
    assert not fires(storage.RmDiscardsData, spec(interactive=True, tty=True, **shell))
    assert fires(storage.RmDiscardsData, spec(**shell))


def test_volumes_from():
    assert fires(storage.VolumesFrom, spec(volumes_from=("db",)))
    assert not fires(storage.VolumesFrom, spec())


@pytest.mark.parametrize("source", [
    "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
    "/run/user/1000/podman/podman.sock", "/run", "/var/run/", "/", "/run/containerd",
])
def test_socket_mounted(source):
    (v,) = run(storage.DockerSocketMounted, spec(mounts=(bind(source, "/x", ro=True),)))
    assert v.loc == loc(11) and "read-only" in v.message


@pytest.mark.parametrize("source", ["/var/lib/app", "/srv/docker.sockets", "/var", "/running"])
def test_socket_not_mounted(source):
    assert not fires(storage.DockerSocketMounted, spec(mounts=(bind(source, "/x"),)))


def test_socket_unknown_and_volumes():
    assert not fires(storage.DockerSocketMounted, spec(mounts=(bind(UNKNOWN, "/x"),)))
    named = Mount("volume", "/var/run", "run-vol")
    assert not fires(storage.DockerSocketMounted, spec(mounts=(named,)))


@pytest.mark.parametrize("source,sensitive", [
    ("/", True), ("/etc", True), ("/etc/nginx", True), ("/etc/", True), ("/usr/lib", True),
    ("/var/lib/docker", True), ("/var/lib/docker/volumes", True), ("/home/ann/.ssh", True),
    ("/root/.ssh/id_rsa", True), ("/proc", True), ("/sys/fs/cgroup", True),
    ("/var/app-data", False), ("/var", False), ("/etcetera", False), ("/srv/etc", False),
    ("/var/lib/docker-data", False), ("/home/ann/project", False), ("/opt/usr", False),
])
def test_sensitive_path_components(source, sensitive):
    assert fires(storage.SensitiveHostPath, spec(mounts=(bind(source, "/x"),))) is sensitive


def test_sensitive_path_read_only_is_warning():
    assert not fires(storage.SensitiveHostPath, spec(mounts=(bind("/etc/nginx", "/x", ro=True),)))
    (v,) = run(storage.SensitiveHostPath, spec(mounts=(bind("/etc/nginx", "/x", ro=True),)), broad=True)
    assert v.severity is Severity.WARNING
    (ssh,) = run(storage.SensitiveHostPath, spec(mounts=(bind("~/.ssh", "/root/.ssh", ro=True),)))
    assert ssh.severity is Severity.WARNING  # a credential store: reported read-only too
    (w,) = run(storage.SensitiveHostPath, spec(mounts=(bind("/etc", "/x"),)))
    assert w.severity is None and w.loc == loc(11)
    localtime = bind("/etc/localtime", "/etc/localtime", ro=True)
    assert not fires(storage.SensitiveHostPath, spec(mounts=(localtime,)))
    assert fires(storage.SensitiveHostPath, spec(mounts=(bind("/etc/localtime", "/x"),)))


def test_sensitive_path_options():
    mounts = (bind("/srv/secrets/db", "/x"),)
    assert not fires(storage.SensitiveHostPath, spec(mounts=mounts))
    assert fires(storage.SensitiveHostPath, spec(mounts=mounts),
                 options={"extra-sensitive-paths": ["/srv/secrets"]})
    assert not fires(storage.SensitiveHostPath, spec(mounts=(bind("/etc", "/x"),)),
                     options={"sensitive-paths": ["/boot"]})
    assert not fires(storage.SensitiveHostPath, spec(mounts=(bind(UNKNOWN, "/x"),)))


def test_shared_propagation():
    assert fires(storage.SharedPropagation, spec(mounts=(bind("/mnt", "/m", propagation="rshared"),)))
    assert not fires(storage.SharedPropagation, spec(mounts=(bind("/mnt", "/m", propagation="rslave"),)))


def test_writable_rootfs():
    assert fires(storage.WritableRootfs, spec())
    assert not fires(storage.WritableRootfs, spec(read_only_rootfs=True))
    assert not fires(storage.WritableRootfs, spec(incomplete=True))


def test_tmpfs_exec():
    risky = Mount("tmpfs", "/tmp", options=("rw", "exec"), flag="--tmpfs", loc=loc(11))
    (v,) = run(storage.TmpfsExec, spec(mounts=(risky,)))
    assert "exec" in v.message
    safe = Mount("tmpfs", "/tmp", options=("rw", "noexec", "nosuid", "size=64m"), flag="--tmpfs")
    assert not fires(storage.TmpfsExec, spec(mounts=(safe,)))


def test_dangling_volumes():
    host = HostInfo(dangling_volumes=("old", "abc123"), volumes_read=True)
    assert [v.message.split()[1] for v in run(storage.DanglingVolume, host)] == ["old", "abc123"]
    assert not fires(storage.DanglingVolume, HostInfo(dangling_volumes=("x",)))


# --- DA3xx ------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [
    ("sh", "-c", "service nginx start && service mysql start && tail -f /dev/null"),
    ("bash", "-c", "nginx; php-fpm & wait"),
    ("supervisord", "-n"),
    ("/sbin/init",),
    ("bash", "-lc", "service ssh start && tail -f /dev/null"),
    ("sh", "-c", "exec supervisord -c /etc/supervisor.conf"),
])
def test_multi_process_fires(cmd):
    assert fires(process.MultiProcess, spec(command=cmd))


@pytest.mark.parametrize("cmd", [
    (), ("nginx", "-g", "daemon off;"), ("tail", "-f", "/dev/null"),
    ("sh", "-c", "exec gunicorn app:app 2>&1"), ("sh", "-c", "echo 'a & b' && exec app"),
    ("sh", "-c", UNKNOWN), ("sh", "script.sh", "-c", "x & y"),
    ("sh", "-c", "service nginx start && exec tail -F /var/log/nginx/access.log"),
])
def test_multi_process_silent(cmd):
    assert not fires(process.MultiProcess, spec(command=cmd))


def procs(*commands: str) -> RuntimeState:
    rows = tuple(Process(str(i + 1), "root", c) for i, c in enumerate(commands))
    return RuntimeState(status="running", running=True, processes=rows)


def test_multi_process_live():
    one = procs("nginx: master process nginx -g daemon off;", "nginx: worker process")
    assert not fires(process.MultiProcess, live(runtime=one))
    pg = procs("postgres", "postgres: checkpointer", "postgres: walwriter")
    assert not fires(process.MultiProcess, live(runtime=pg))
    sup = procs("/usr/bin/python3 /usr/bin/supervisord -n", "nginx: master", "php-fpm: master")
    (v,) = run(process.MultiProcess, live(runtime=sup))
    assert "supervisord" in v.message
    sup2 = procs("/usr/bin/supervisord -n", "nginx: master")
    assert fires(process.MultiProcess, live(runtime=sup2))
    idle = procs("tail -f /dev/null", "/usr/sbin/mysqld", "/usr/sbin/apache2 -k start")
    assert fires(process.MultiProcess, live(runtime=idle))
    three = procs("/app/a", "/app/b", "/app/c")
    assert fires(process.MultiProcess, live(runtime=three))
    assert not fires(process.MultiProcess, live(runtime=three), options={"max-programs": 3})
    assert not fires(process.MultiProcess, live())


def test_sshd():
    assert fires(process.SshdInContainer, spec(command=("/usr/sbin/sshd", "-D")))
    assert fires(process.SshdInContainer, spec(command=("sh", "-c", "service ssh start && app")))
    assert fires(process.SshdInContainer, spec(command=("bash", "-c", "/usr/sbin/sshd && exec app")))
    assert not fires(process.SshdInContainer, spec(command=("ssh-keygen", "-A")))
    assert not fires(process.SshdInContainer, spec(command=("sh", "-c", "ssh user@host uptime")))
    assert fires(process.SshdInContainer, live(runtime=procs("sshd: /usr/sbin/sshd -D [listener]")))
    assert not fires(process.SshdInContainer, live(runtime=procs("nginx")))


def test_detached_no_foreground_static():
    where = {"detach": loc(12)}
    (v,) = run(process.DetachedNoForeground,
               spec(detach=True, image=image("ubuntu:24.04"), locations=where))
    assert v.loc == loc(12) and "ubuntu:24.04" in v.message
    assert fires(process.DetachedNoForeground, spec(detach=True, command=("bash",)))
    assert fires(process.DetachedNoForeground, spec(detach=True, command=("/bin/sh", "-l")))
    assert fires(process.DetachedNoForeground, spec(detach=True, image=image("arm64v8/alpine:3")))
    for kw in ({"interactive": True}, {"tty": True}, {"incomplete": True},
               {"command": ("sleep", "infinity")}, {"detach": False},
               {"command": ("sh", "-c", "while :; do sleep 1; done")},
               {"entrypoint": ("/app/run",)}, {"entrypoint": UNKNOWN}, {"command": (UNKNOWN,)}):
        base = {"detach": True, "image": image("ubuntu:24.04"), **kw}
        assert not fires(process.DetachedNoForeground, spec(**base)), kw
    assert not fires(process.DetachedNoForeground, spec(detach=True))  # nginx: a server
    assert not fires(process.DetachedNoForeground, spec(detach=True, image=image("myorg/ubuntu:1")))


def test_detached_no_foreground_live():
    def exited(code, start, end):
        return live(runtime=RuntimeState(status="exited", exit_code=code, started_at=start,
                                         finished_at=end))
    quick = exited(0, "2025-01-01T10:00:00.123456789Z", "2025-01-01T10:00:00.456789Z")
    assert fires(process.DetachedNoForeground, quick)
    # as a real engine recorded it: the exit written a moment before the start
    assert fires(process.DetachedNoForeground, exited(0, "2026-11-30T02:29:44.358706945Z", "2026-11-30T02:29:44.3577983Z"))
    assert not fires(process.DetachedNoForeground,
                     exited(0, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z"))
    assert not fires(process.DetachedNoForeground,
                     exited(1, "2025-01-01T10:00:00Z", "2025-01-01T10:00:01Z"))
    assert not fires(process.DetachedNoForeground,
                     exited(0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"))
    assert not fires(process.DetachedNoForeground, live())


def test_restart_policy():
    assert fires(process.NoRestartPolicy, spec(detach=True))
    assert not fires(process.NoRestartPolicy, spec(restart_policy=RestartPolicy("always")))
    assert not fires(process.NoRestartPolicy, spec(auto_remove=True))
    assert not fires(process.NoRestartPolicy, spec(incomplete=True))
    assert fires(process.NoRestartPolicy, live(restart_policy=RestartPolicy("no")))
    assert not fires(process.NoRestartPolicy, spec(restart_policy=RestartPolicy(UNKNOWN)))


def test_restart_unbounded():
    assert fires(process.RestartUnbounded, spec(restart_policy=RestartPolicy("on-failure", 0)))
    assert fires(process.RestartUnbounded, spec(restart_policy=RestartPolicy("on-failure", 10)))
    assert not fires(process.RestartUnbounded, spec(restart_policy=RestartPolicy("on-failure", 5)))
    assert not fires(process.RestartUnbounded, spec(restart_policy=RestartPolicy("on-failure", UNKNOWN)))
    assert not fires(process.RestartUnbounded, spec(restart_policy=RestartPolicy("always")))
    assert fires(process.RestartUnbounded, spec(restart_policy=RestartPolicy("on-failure", 5)),
                 options={"max-retries": 3})


def test_healthcheck():
    off = Healthcheck(("NONE",))
    assert fires(process.HealthcheckDisabled, spec(healthcheck=off))
    assert not fires(process.HealthcheckDisabled, spec())
    assert not fires(process.HealthcheckDisabled, spec(healthcheck=Healthcheck(("CMD-SHELL", "x"))))
    assert fires(process.HealthcheckDisabled, live())
    assert fires(process.HealthcheckDisabled, live(healthcheck=off))
    assert not fires(process.HealthcheckDisabled, live(healthcheck=Healthcheck(("CMD", "true"))))


def test_init():
    assert fires(process.NoInit, spec())
    assert not fires(process.NoInit, spec(init=True))
    assert not fires(process.NoInit, spec(init=UNKNOWN))


def test_live_state_rules():
    sick = RuntimeState(status="running", running=True, health_status="unhealthy")
    assert fires(process.Unhealthy, live(runtime=sick))
    assert not fires(process.Unhealthy, live())
    assert not fires(process.Unhealthy, spec())
    looping = RuntimeState(status="restarting", restart_count=2)
    assert fires(process.RestartLoop, live(runtime=looping))
    many = RuntimeState(status="running", running=True, restart_count=6)
    assert fires(process.RestartLoop, live(runtime=many))
    assert not fires(process.RestartLoop, live(runtime=many), options={"restart-threshold": 10})
    assert not fires(process.RestartLoop, live(runtime=RuntimeState(status="running", restart_count=5)))
    oom = RuntimeState(status="exited", exit_code=137, oom_killed=True)
    (v,) = run(process.OomKilled, live(runtime=oom, memory=64 << 20))
    assert "64 MiB" in v.message
    assert not fires(process.OomKilled, live())


# --- DA4xx ------------------------------------------------------------------------


def port(cp, host_ip="", host_port="", column=11, protocol="tcp"):
    return PortBinding(cp, protocol, host_ip, host_port, loc=loc(column))


def test_links():
    links = (Link("db", "mysql", loc(11)), Link("cache", "cache", loc(30)))
    assert [v.loc for v in run(network.LegacyLink, spec(links=links))] == [loc(11), loc(30)]


def test_ports_ignored():
    s = spec(network_mode="host", ports=(port("80", host_port="80"),))
    (v,) = run(network.PortsIgnored, s)
    assert "discarded" in v.message and v.loc == loc(11)
    assert fires(network.PortsIgnored, spec(network_mode="none", publish_all=True))
    assert not fires(network.PortsIgnored, spec(ports=(port("80", host_port="80"),)))
    assert not fires(network.PortsIgnored, spec(network_mode="host"))


def test_port_all_interfaces():
    (v,) = run(network.PortAllInterfaces, spec(ports=(port("80", host_port="8080"),)))
    assert "8080:80" in v.message and v.loc == loc(11)
    for ip in ("0.0.0.0", "::", "[::]"):
        assert fires(network.PortAllInterfaces, spec(ports=(port("80", ip, "8080"),))), ip
    for ip in ("127.0.0.1", "::1", "[::1]", "10.0.0.5", UNKNOWN):
        assert not fires(network.PortAllInterfaces, spec(ports=(port("80", ip, "8080"),))), ip
    ranged = tuple(port(str(p), "", str(p)) for p in (8000, 8001, 8002))
    assert len(run(network.PortAllInterfaces, spec(ports=ranged))) == 1
    assert fires(network.PortAllInterfaces, spec(publish_all=True))
    assert not fires(network.PortAllInterfaces,
                     spec(network_mode="host", ports=(port("80", "", "80"),)))
    assert not fires(network.PortAllInterfaces,
                     spec(network_mode=UNKNOWN, ports=(port("80", "", "80"),)))


def test_privileged_port():
    assert fires(network.PrivilegedPort, spec(ports=(port("8080", "127.0.0.1", "80"),)))
    assert fires(network.PrivilegedPort, spec(ports=(port("80", "", "80-90"),)))
    assert not fires(network.PrivilegedPort, spec(ports=(port("80", "", "8080"),)))
    assert not fires(network.PrivilegedPort, spec(ports=(port("80", "", ""),)))
    assert not fires(network.PrivilegedPort, spec(ports=(port("80", "", UNKNOWN),)))


def test_sensitive_port():
    (v,) = run(network.SensitivePortPublic, spec(ports=(port("3306", "", "13306"),)))
    assert "3306" in v.message
    assert fires(network.SensitivePortPublic, spec(ports=(port("2222", "0.0.0.0", "22"),)))
    assert not fires(network.SensitivePortPublic, spec(ports=(port("6379", "127.0.0.1", "6379"),)))
    assert not fires(network.SensitivePortPublic, spec(ports=(port("8080", "", "8080"),)))
    assert fires(network.SensitivePortPublic, spec(publish_all=True, expose=("5432/tcp",)))
    assert not fires(network.SensitivePortPublic, spec(publish_all=True, expose=("8080/tcp",)))
    assert fires(network.SensitivePortPublic, spec(ports=(port("8080", "", "8080"),)),
                 options={"ports": [8080]})


def test_host_network():
    assert fires(network.HostNetwork, spec(network_mode="host"))
    assert not fires(network.HostNetwork, spec(network_mode="app-net"))
    assert not fires(network.HostNetwork, spec(network_mode=UNKNOWN))


def test_default_bridge():
    assert run(network.DefaultBridge, spec())[0].loc is None
    assert fires(network.DefaultBridge, spec(network_mode="bridge"))
    assert fires(network.DefaultBridge, live(network_mode="default"))
    for kw in ({"network_mode": "app"}, {"network_mode": "host"}, {"network_mode": UNKNOWN},
               {"incomplete": True}, {"network_mode": "container:db"}):
        assert not fires(network.DefaultBridge, spec(**kw)), kw


def test_random_host_port():
    (v,) = run(network.RandomHostPort, spec(ports=(port("80", "127.0.0.1", ""),)))
    assert "127.0.0.1::80" in v.message
    assert not fires(network.RandomHostPort, spec(ports=(port("80", "", "8080"),)))
    assert not fires(network.RandomHostPort, spec(ports=(port("80", "", UNKNOWN),)))


def test_live_command_is_read_like_a_script():
    background = live(command=("sh", "-c", "sleep 100000 & sleep 100000 & wait"))
    assert fires(process.MultiProcess, background)
    assert fires(process.SshdInContainer, live(command=("/usr/sbin/sshd", "-D")))


# --- the rules on containers recorded from a real engine ---------------------------

RECORDED = [
    ("binds", "DA205", True), ("binds", "DA206", False), ("binds", "DA207", True),
    ("baseline", "DA205", False), ("baseline", "DA206", False),
    ("exited-shell", "DA303", True), ("running", "DA303", False),
    ("running", "DA301", True), ("baseline", "DA301", False),
    ("oom-killed", "DA310", True), ("running", "DA310", False),
    ("unhealthy", "DA308", True), ("healthcheck", "DA308", False),
    ("restart-loop", "DA309", True), ("restart-on-failure", "DA309", False),
    ("restart-on-failure", "DA305", True), ("restart-loop", "DA305", False),
    ("no-healthcheck", "DA306", True), ("healthcheck", "DA306", False),
    ("swap-unlimited", "DA105", True), ("resources", "DA105", False),
    ("swap-unlimited", "DA104", False), ("resources", "DA101", False), ("baseline", "DA101", True),
    ("resources", "DA102", False), ("resources", "DA103", False), ("resources", "DA106", True),
    ("tmpfs", "DA209", True), ("tmpfs", "DA208", False), ("baseline", "DA208", True),
    ("volumes", "DA202", True), ("volumes", "DA204", True), ("baseline", "DA202", False),
    ("mysql", "DA201", True), ("mysql", "DA405", True), ("mysql", "DA403", True),
    ("ports", "DA403", True), ("ports", "DA408", True), ("ports", "DA405", True),
    ("publish-all", "DA403", True), ("publish-all", "DA408", False),
    ("net-host", "DA402", True), ("net-host", "DA406", True), ("net-host", "DA403", False),
    ("links", "DA401", True), ("user-network", "DA407", False), ("net-container", "DA407", False),
    ("baseline", "DA407", True), ("misc", "DA307", False), ("baseline", "DA307", True),
]


@pytest.mark.parametrize("name,rule_id,expected", RECORDED, ids=lambda x: str(x))
def test_recorded_containers(name, rule_id, expected):
    from pathlib import Path

    from dockaudit.sources.inspect import load_inspect_documents, spec_from_inspect

    path = Path(__file__).resolve().parents[2] / "fixtures" / "inspect" / f"{name}.json"
    (doc,) = load_inspect_documents(path.read_text(), str(path))
    rule = next(r for r in ALL if r.id == rule_id)
    assert fires(rule, spec_from_inspect(doc)) is expected


def test_recorded_read_only_etc_is_reported_under_cis():
    from pathlib import Path

    from dockaudit.sources.inspect import load_inspect_documents, spec_from_inspect

    path = Path(__file__).resolve().parents[2] / "fixtures" / "inspect" / "binds.json"
    (doc,) = load_inspect_documents(path.read_text(), str(path))
    (finding,) = run(storage.SensitiveHostPath, spec_from_inspect(doc), broad=True)
    assert finding.severity is Severity.WARNING and "/etc" in finding.message


def test_stays_silent_follows_the_declarations():
    from dockaudit.api import default_rules

    by_id = default_rules().rules
    assert any("`cis` profile" in line for line in by_id["DA406"].stays_silent())
    assert any("developer's own shell set-up" in line for line in by_id["DA007"].stays_silent())
    assert any("restart policy" in line for line in by_id["DA101"].stays_silent())
    assert any("Markdown" in line and "not kept running" in line for line in by_id["DA501"].stays_silent())
    assert not any("profile (or" in line for line in by_id["DA401"].stays_silent())
