"""Values in the engine's terms: the parsers, and ContainerSpec built from commands."""

from __future__ import annotations

import pytest

from dockaudit.model import (
    UNKNOWN,
    DeviceMapping,
    EnvVar,
    Healthcheck,
    Link,
    Mount,
    RestartPolicy,
    Source,
    ThrottleDevice,
    Ulimit,
    known,
)
from dockaudit.spec import spec_from_command
from dockaudit.values import (
    normalize_capability,
    parse_bytes,
    parse_duration,
    parse_image_ref,
    parse_int,
    parse_mount_csv,
    parse_nano_cpus,
    parse_port_spec,
    parse_volume_spec,
    template_of_text,
)
from test_grammar_helpers import parse


def spec(command: str):
    result = spec_from_command(parse(command))
    assert result is not None
    return result


# --- parsers -------------------------------------------------------------------


@pytest.mark.parametrize("text,value", [
    ("512m", 536870912), ("10MB", 10485760), ("256MiB", 268435456), ("1.5g", 1610612736),
    ("1024", 1024), ("2b", 2), ("1 k", 1024), ("6m", 6291456), ("1e3", 1000),
])
def test_bytes_are_binary(text: str, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["512x", "-1", "m", "", "1kbb", "1.2.3m", "1e999"])
def test_bad_bytes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_go_integers() -> None:
    assert parse_int("0x10") == 16 and parse_int("010") == 8 and parse_int("-5") == -5
    assert parse_int("1_000") == 1000
    with pytest.raises(ValueError):
        parse_int("65536", 16, signed=False)
    with pytest.raises(ValueError):
        parse_int("1.5")


def test_nano_cpus_and_durations() -> None:
    assert parse_nano_cpus("0.5") == 500_000_000 and parse_nano_cpus("1/4") == 250_000_000
    assert parse_duration("1m30s") == 90_000_000_000 and parse_duration("100ms") == 100_000_000
    assert parse_duration("1.5h") == 5_400_000_000_000 and parse_duration("0") == 0
    with pytest.raises(ValueError):
        parse_duration("30")


def test_port_specs_as_the_engine_stores_them() -> None:
    assert [(p.key, p.host_ip, p.host_port) for p in parse_port_spec("8000-8002:8000-8002")] == [
        ("8000/tcp", "", "8000"), ("8001/tcp", "", "8001"), ("8002/tcp", "", "8002")]
    assert [(p.key, p.host_port) for p in parse_port_spec("9000-9010:80")] == [
        ("80/tcp", "9000-9010")]
    assert [(p.key, p.host_ip, p.host_port) for p in parse_port_spec("[::1]:8443:443")] == [
        ("443/tcp", "::1", "8443")]
    assert [(p.key, p.host_ip, p.host_port) for p in parse_port_spec("0.0.0.0::53/udp")] == [
        ("53/udp", "0.0.0.0", "")]
    assert [(p.key, p.host_port) for p in parse_port_spec("80")] == [("80/tcp", "")]
    assert [(p.key, p.host_port) for p in parse_port_spec("published=8080,target=80,"
                                                          "protocol=udp")] == [("80/udp", "8080")]


def test_partly_unknown_ports() -> None:
    (port,) = parse_port_spec(template_of_text("127.0.0.1:$PORT:80").text)
    assert (port.host_ip, port.host_port, port.container_port) == ("127.0.0.1", UNKNOWN, "80")
    (port,) = parse_port_spec(template_of_text('"$PORT":80').text)
    assert port.host_ip is UNKNOWN and port.host_port is UNKNOWN and port.key == "80/tcp"
    (port,) = parse_port_spec(template_of_text("$P").text)
    assert port.container_port is UNKNOWN


def test_volume_specs() -> None:
    assert parse_volume_spec("/h:/c:ro") == Mount("bind", "/c", "/h", True, "rprivate", ("ro",))
    assert parse_volume_spec("data:/d") == Mount("volume", "/d", "data")
    assert parse_volume_spec("/anon").anonymous
    assert parse_volume_spec("/anon:ro").read_only
    assert parse_volume_spec("./rel:/c").source == "./rel"  # the client absolutises it
    assert parse_volume_spec("/h:/c:shared").propagation == "shared"
    with pytest.raises(ValueError, match="invalid characters"):
        parse_volume_spec("rel/x:/c")


def test_mount_csv() -> None:
    m = parse_mount_csv("type=bind,src=/h,dst=/m,readonly,bind-propagation=rslave")
    assert (m.type, m.source, m.target, m.read_only, m.propagation, m.flag) == (
        "bind", "/h", "/m", True, "rslave", "--mount")
    m = parse_mount_csv("type=volume,dst=/av")
    assert m.anonymous
    m = parse_mount_csv('type=volume,src=vol,dst=/v,"volume-opt=o=size=1m,uid=0"')
    assert m.options == ("volume-opt=o=size=1m,uid=0",)
    m = parse_mount_csv("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700")
    assert m.type == "tmpfs" and m.source is None
    with pytest.raises(ValueError, match="bind-propagation=rprivate"):
        parse_mount_csv("type=bind,src=/h,dst=/m,bind-recursive=readonly")


@pytest.mark.parametrize("text,ref", [
    ("nginx", (None, "library/nginx", None, None)),
    ("nginx:1.25", (None, "library/nginx", "1.25", None)),
    ("docker.io/bitnami/postgresql:16", (None, "bitnami/postgresql", "16", None)),
    ("ghcr.io/org/app@sha256:" + "b" * 64, ("ghcr.io", "org/app", None, "sha256:" + "b" * 64)),
    ("localhost:5000/app:dev", ("localhost:5000", "app", "dev", None)),
    ("registry.example.com:443/a/b/c", ("registry.example.com:443", "a/b/c", None, None)),
])
def test_image_references(text: str, ref: tuple) -> None:
    parsed = parse_image_ref(text)
    assert parsed is not None
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest) == ref


@pytest.mark.parametrize("text", ["YOUR_USER/app", "...", "MyApp", "app:", "a b", "", ":tag"])
def test_invalid_image_references(text: str) -> None:
    assert parse_image_ref(text) is None


def test_capabilities() -> None:
    assert normalize_capability("net_admin") == "CAP_NET_ADMIN"
    assert normalize_capability("CAP_SYS_TIME") == "CAP_SYS_TIME"
    assert normalize_capability("all") == "ALL"


# --- ContainerSpec from a command -------------------------------------------------


def test_only_run_and_create_have_a_spec() -> None:
    assert spec_from_command(parse("docker rm -f web")) is None
    assert spec("docker create alpine:3.19").subcommand == "create"


def test_resources() -> None:
    s = spec("docker run -m 512m --memory-reservation 256m --cpus 0.5 -c 512 --pids-limit 100 "
             "--shm-size 128m --memory-swappiness 10 --oom-score-adj 500 alpine:3.19")
    assert (s.memory, s.memory_swap, s.memory_reservation) == (536870912, None, 268435456)
    assert (s.nano_cpus, s.cpu_shares, s.pids_limit, s.shm_size) == (
        500_000_000, 512, 100, 134217728)
    assert (s.memory_swappiness, s.oom_score_adj) == (10, 500)
    assert spec("docker run -m 512m --memory-swap -1 alpine:3.19").memory_swap == -1
    assert spec("docker run --pids-limit 0 alpine:3.19").pids_limit is None
    assert spec("docker run --pids-limit -1 alpine:3.19").pids_limit is None
    s = spec("docker run --ulimit nproc=512 --ulimit nofile=1024:2048 --ulimit nproc=64 "
             "--device-write-bps /dev/sda:1mb alpine:3.19")
    assert s.ulimits == (Ulimit("nofile", 1024, 2048), Ulimit("nproc", 64, 64))
    assert s.blkio_throttles[0] == ThrottleDevice("write-bps", "/dev/sda", 1048576,
                                                  s.blkio_throttles[0].loc)


def test_unknown_values_stay_unknown() -> None:
    s = spec('docker run -m "$MEM" --cpus ${CPUS} -e KEY=$VAL -e "$PAIR" '
             '-v "$DATA":/var/lib/mysql -v $HOME/conf:/conf -v "$VOL" --name "$NAME" $IMAGE')
    assert s.memory is UNKNOWN and s.nano_cpus is UNKNOWN and s.name is UNKNOWN
    assert s.image is UNKNOWN
    assert s.env[0].key == "KEY" and s.env[0].value is UNKNOWN
    assert s.env[1].key is UNKNOWN
    data, conf, whole = s.mounts
    assert (data.type, data.source, data.target) == ("volume", UNKNOWN, "/var/lib/mysql")
    assert (conf.type, conf.source, conf.target) == ("bind", "~/conf", "/conf")  # under the home
    assert whole.type is UNKNOWN and whole.target is UNKNOWN
    assert not s.incomplete


def test_unknown_bool_or_map_key_makes_the_spec_incomplete() -> None:
    s = spec("docker run --privileged=$PRIV alpine:3.19")
    assert s.privileged is False and s.incomplete
    assert spec("docker run --log-opt $LOGOPT alpine:3.19").incomplete
    assert spec("docker run $OPTS alpine:3.19").incomplete


def test_ports_and_expose() -> None:
    s = spec("docker run -p 80 -p 127.0.0.1:8080:80/udp -p 8081:80 -P --expose 7100-7101/udp "
             "alpine:3.19")
    assert [(p.key, p.host_ip, p.host_port) for p in s.ports] == [
        ("80/tcp", "", ""), ("80/udp", "127.0.0.1", "8080"), ("80/tcp", "", "8081")]
    assert s.publish_all
    assert s.expose == ("7100/udp", "7101/udp")  # published ports are not repeated
    assert s.where("ports[1]") == s.ports[1].loc


def test_network() -> None:
    s = spec("docker run --net mynet --network other --network-alias web --link db:d --link cache "
             "--dns 1.1.1.1 --add-host a=1.2.3.4 --add-host gw:host-gateway -h box alpine:3.19")
    assert s.network_mode == "mynet" and s.networks == ("mynet", "other")
    assert s.network_aliases == ("web",)
    assert [(link.container, link.alias) for link in s.links] == [("db", "d"),
                                                                  ("cache", "cache")]
    assert s.extra_hosts == ("a:1.2.3.4", "gw:host-gateway")
    assert s.hostname == "box" and s.dns == ("1.1.1.1",)
    s = spec("docker run --network name=n1,alias=api,ip=10.0.0.2 alpine:3.19")
    assert s.network_mode == "n1" and s.network_aliases == ("api",)
    assert isinstance(s.links, tuple) and all(isinstance(x, Link) for x in s.links)


def test_security() -> None:
    s = spec("docker run --privileged --cap-add net_admin --cap-add ALL --cap-drop all "
             "--security-opt seccomp:unconfined --security-opt no-new-privileges "
             "--pid host --ipc container:db --userns host --uts host --cgroupns host "
             "--device /dev/null:/dev/mynull:r --device /dev/vda -u 0:0 --group-add audio "
             "--read-only alpine:3.19")
    assert s.privileged and s.read_only_rootfs
    assert s.cap_add == ("CAP_NET_ADMIN", "ALL") and s.cap_drop == ("ALL",)
    assert s.security_opt == ("seccomp=unconfined", "no-new-privileges")
    assert (s.pid_mode, s.ipc_mode, s.userns_mode, s.uts_mode, s.cgroupns_mode) == (
        "host", "container:db", "host", "host", "host")
    assert s.devices == (DeviceMapping("/dev/null", "/dev/mynull", "r", s.devices[0].loc),
                         DeviceMapping("/dev/vda", "/dev/vda", "rwm", s.devices[1].loc))
    assert s.user == "0:0" and s.group_add == ("audio",)
    # the field points at the last option, each item at its own value word
    command = s.origin.loc
    assert s.where("cap_add").column < s.where("cap_add[1]").column
    assert s.where("cap_add[0]").column < s.where("cap_add").column
    assert (s.where("cap_add[1]").end_column - s.where("cap_add[1]").column) == len("ALL")
    assert s.mounts == () and command is not None
    assert s.devices[1].loc == s.where("devices[1]")


def test_storage() -> None:
    s = spec("docker run -v /h:/c:ro -v data:/d -v /anon --tmpfs /t:rw,exec,size=64m "
             "--mount type=bind,src=/s,dst=/m,readonly --volumes-from other:ro "
             "--storage-opt size=10G alpine:3.19")
    kinds = [(m.type, m.source, m.target, m.read_only, m.flag) for m in s.mounts]
    assert kinds == [("bind", "/h", "/c", True, "--volume"), ("volume", "data", "/d", False,
                                                              "--volume"),
                     ("volume", None, "/anon", False, "--volume"),
                     ("tmpfs", None, "/t", False, "--tmpfs"), ("bind", "/s", "/m", True,
                                                               "--mount")]
    assert s.mounts[3].options == ("rw", "exec", "size=64m")
    assert s.volumes_from == ("other:ro",) and s.storage_opt == {"size": "10G"}


def test_lifecycle_and_identity() -> None:
    s = spec("docker run -d --rm --init --name web1 --restart on-failure:3 --health-cmd 'curl x' "
             "--health-interval 30s --health-retries 3 --log-driver json-file "
             "--log-opt max-size=10m --stop-signal SIGINT -e A=1 -e B -l a=b -l flag "
             '--entrypoint /bin/sh -w /app registry.example.com/app:1.0 -c "echo $X"')
    assert s.detach and s.auto_remove and s.init is True and s.name == "web1"
    assert s.restart_policy == RestartPolicy("on-failure", 3)
    assert s.healthcheck == Healthcheck(("CMD-SHELL", "curl x"), 30_000_000_000, None, None, 3)
    assert (s.log_driver, dict(s.log_opts), s.stop_signal) == (
        "json-file", {"max-size": "10m"}, "SIGINT")
    assert s.env == (EnvVar("A", "1", s.env[0].loc), EnvVar("B", None, s.env[1].loc))
    assert dict(s.labels) == {"a": "b", "flag": ""}
    assert s.entrypoint == ("/bin/sh",) and s.workdir == "/app"
    assert s.image.registry == "registry.example.com" and s.image.tag == "1.0"
    assert s.command == ("-c", UNKNOWN)
    assert s.origin.source is Source.STATIC and s.origin.tool == "docker"
    assert s.is_service
    assert spec("docker run --no-healthcheck alpine:3.19").healthcheck.disabled
    assert spec("docker run --entrypoint '' alpine:3.19").entrypoint == ()
    only_interval = spec("docker run --health-interval 10s alpine:3.19").healthcheck
    assert only_interval.test is UNKNOWN and only_interval.interval_ns == 10_000_000_000
    assert spec("docker run --init=false alpine:3.19").init is False
    assert spec("docker run alpine:3.19").init is None


def test_locations_point_at_the_setting_words() -> None:
    command = "docker run -d --privileged -m 1g nginx:1.25 nginx -g 'daemon off;'"
    s = spec(command)
    assert s.where("privileged").column == command.index("--privileged") + 1
    assert s.where("memory").column == command.index("-m ") + 1
    assert s.where("image").column == command.index("nginx:1.25") + 1
    command_loc = s.where("command")
    assert (command_loc.column, command_loc.end_column) == (
        command.index("nginx -g") + 1, len(command) + 1)
    assert s.where("user") == s.origin.loc  # not set: the whole command


def test_spec_of_an_invalid_value_is_unknown() -> None:
    s = spec("docker run -m 512x --restart sometimes alpine:3.19")
    assert s.memory is UNKNOWN
    assert s.restart_policy is not None and not known(s.restart_policy.name)


def test_podman_lists_split_on_commas() -> None:
    s = spec("podman run --cap-add SYS_ADMIN,net_raw -p 80:80,443:443 alpine:3.19")
    assert s.cap_add == ("CAP_SYS_ADMIN", "CAP_NET_RAW")
    assert [p.key for p in s.ports] == ["80/tcp", "443/tcp"]
    assert s.origin.tool == "podman"
