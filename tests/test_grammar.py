"""The grammar's pflag rules and each usage problem, case by case (no reference needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockaudit.grammar import option_values, parse_invocation
from dockaudit.model import UNKNOWN, Invocation, Location, Word
from test_grammar_helpers import invocation, parse, rule_ids


def opts(command: str) -> list[tuple[str, object]]:
    return [(u.name, u.value_text) for u in parse(command).options]


def operands(command: str) -> list[object]:
    return [w.value for w in parse(command).operands]


# --- subcommands and global options ------------------------------------------


@pytest.mark.parametrize("command,subcommand", [
    ("docker run alpine", ("run",)),
    ("docker container run alpine", ("run",)),
    ("docker container create alpine", ("create",)),
    ("docker container ls -a", ("ps",)),
    ("docker container prune -f", ("container", "prune")),
    ("docker system prune -af --volumes", ("system", "prune")),
    ("docker network create net1", ("network", "create")),
    ("docker volume create v", ("volume", "create")),
    ("docker rm -f web", ("rm",)),
    ("docker compose up -d", ("compose", "up")),
    ("docker", ()),
])
def test_subcommand_is_canonical(command: str, subcommand: tuple[str, ...]) -> None:
    assert parse(command).subcommand == subcommand


def test_global_options_before_the_subcommand() -> None:
    cmd = parse("docker -H unix:///run/d.sock --log-level warn -D=false --tls container create "
                "--name web1 tiny:1 sleep 1")
    assert cmd.subcommand == ("create",)
    assert [(u.name, u.value_text) for u in cmd.global_options] == [
        ("--host", "unix:///run/d.sock"), ("--log-level", "warn"), ("--debug", "false"),
        ("--tls", None)]
    assert cmd.problems == ()
    assert parse("docker -c prod run alpine").global_options[0].name == "--context"


@pytest.mark.parametrize("command,flag", [
    ("docker create -H unix:///x --name web1 tiny:1", "-H"),
    ("docker run --context prod alpine", "--context"),
    ("docker run --tlsverify alpine", "--tlsverify"),
    ("docker run -D alpine", "-D"),
])
def test_global_option_after_the_subcommand_is_da002(command: str, flag: str) -> None:
    cmd = parse(command)
    assert [p.rule_id for p in cmd.problems] == ["DA002"]
    assert "global option" in cmd.problems[0].message and flag in cmd.problems[0].message
    assert cmd.operands[0].value in ("tiny:1", "alpine")  # its value is not taken for the image


def test_shorthand_collision_is_decided_by_position() -> None:
    # -c/-l/-v are global before the subcommand, run options after it
    assert parse("docker -l debug run alpine").global_options[0].name == "--log-level"
    assert opts("docker run -c 512 -l a=b -v /d alpine") == [
        ("--cpu-shares", "512"), ("--label", "a=b"), ("--volume", "/d")]


# --- pflag rules -------------------------------------------------------------


def test_clusters() -> None:
    assert opts("docker run -itd alpine") == [
        ("--interactive", None), ("--tty", None), ("--detach", None)]
    assert opts("docker run -itp 127.0.0.1:1:80 alpine") == [
        ("--interactive", None), ("--tty", None), ("--publish", "127.0.0.1:1:80")]
    assert opts("docker run -dp127.0.0.1:18081:80 alpine")[1] == ("--publish",
                                                                  "127.0.0.1:18081:80")
    assert opts("docker run -itm64m -eFOO=bar alpine")[2:] == [("--memory", "64m"),
                                                               ("--env", "FOO=bar")]


def test_attached_and_equals_values() -> None:
    assert opts("docker run -m512m alpine") == [("--memory", "512m")]
    assert opts("docker run -m=512m -e=K=V alpine") == [("--memory", "512m"), ("--env", "K=V")]
    assert opts("docker run --memory=512m alpine") == [("--memory", "512m")]
    assert opts("docker run --env=A=B=C alpine") == [("--env", "A=B=C")]
    assert opts("docker run -t=false alpine") == [("--tty", "false")]


def test_value_is_the_next_word_even_if_it_looks_like_a_flag() -> None:
    assert opts("docker run --name --rm alpine") == [("--name", "--rm")]
    assert operands("docker run --name --rm alpine") == ["alpine"]


def test_bools_never_consume_the_next_word() -> None:
    cmd = parse("docker create --pull never --rm false tiny:1 sleep 1")
    assert [w.value for w in cmd.operands] == ["false", "tiny:1", "sleep", "1"]
    assert parse("docker run --rm=false alpine").option("--rm").value_text == "false"


def test_options_stop_at_the_image() -> None:
    cmd = parse("docker create --name after tiny:1 -m 512m --rm")
    assert [u.name for u in cmd.options] == ["--name"]
    assert [w.value for w in cmd.operands] == ["tiny:1", "-m", "512m", "--rm"]


def test_double_dash_ends_options() -> None:
    assert operands("docker create --name dd -- tiny:1 sleep 1") == ["tiny:1", "sleep", "1"]
    assert operands("docker rm -- -f") == ["-f"]


def test_interspersed_subcommands_read_options_anywhere() -> None:
    cmd = parse("docker rm web -f db")
    assert [u.name for u in cmd.options] == ["--force"]
    assert [w.value for w in cmd.operands] == ["web", "db"]
    cmd = parse("docker network create net1 --subnet 10.0.0.0/24")
    assert cmd.option("--subnet").value_text == "10.0.0.0/24"


def test_exec_stops_at_the_container() -> None:
    cmd = parse("docker exec -it -u root web sh -c 'id -u'")
    assert [u.name for u in cmd.options] == ["--interactive", "--tty", "--user"]
    assert [w.value for w in cmd.operands] == ["web", "sh", "-c", "id -u"]


def test_last_wins_and_repeatables_accumulate() -> None:
    cmd = parse("docker create -h first --hostname second -u a -u b -m 64m -m 128m "
                "-e A=1 -e B=2 tiny:1")
    assert cmd.option("--hostname").value_text == "second"
    assert cmd.option("--memory").value_text == "128m"
    assert [u.value_text for u in cmd.all("--env")] == ["A=1", "B=2"]


def test_aliases_resolve_to_the_canonical_name() -> None:
    cmd = parse("docker run --net host --net-alias x --dns-opt ndots:2 alpine")
    assert [(u.name, u.spelled) for u in cmd.options] == [
        ("--network", "--net"), ("--network-alias", "--net-alias"),
        ("--dns-option", "--dns-opt")]


def test_docker_lists_do_not_split_on_commas() -> None:
    cmd = parse("docker run --cap-add SYS_ADMIN,NET_ADMIN alpine")
    assert [t.text for _, t in option_values(cmd, "--cap-add")] == ["SYS_ADMIN,NET_ADMIN"]
    assert "DA003" in [p.rule_id for p in cmd.problems]
    cmd = parse("docker network create --subnet 10.0.0.0/24,10.1.0.0/24 n")
    assert [t.text for _, t in option_values(cmd, "--subnet")] == ["10.0.0.0/24", "10.1.0.0/24"]


def test_option_loc_spans_flag_and_value() -> None:
    cmd = parse("docker run -m 512m alpine")
    use = cmd.option("--memory")
    assert (use.loc.column, use.loc.end_column) == (12, 19)
    assert use.flag.loc.column == 12 and use.value.loc.column == 15


# --- words whose value is unknown ---------------------------------------------


def test_unknown_values_are_unknown() -> None:
    cmd = parse('docker run -m "$MEM" --cpus=${CPUS:-1} "$IMAGE" "$@"')
    assert opts('docker run -m "$MEM" --cpus=${CPUS:-1} "$IMAGE"') == [
        ("--memory", UNKNOWN), ("--cpus", UNKNOWN)]
    assert cmd.operands[0].value is UNKNOWN
    assert not cmd.incomplete and cmd.problems == ()


def test_splitting_word_in_flag_position_makes_the_command_incomplete() -> None:
    cmd = parse("docker run $DOCKER_OPTS -d nginx:1.25")
    assert cmd.incomplete
    assert [u.name for u in cmd.options] == ["--detach"]
    assert [w.value for w in cmd.operands] == ["nginx:1.25"]


def test_splitting_image_variable_is_the_image() -> None:
    cmd = parse("docker run -d $IMAGE serve")
    assert cmd.operands[0].text == "$IMAGE"
    assert parse("docker run -d $X").operands[0].text == "$X"  # the last word


def test_unknown_option_name_makes_the_command_incomplete() -> None:
    cmd = parse("docker run --$FLAG=1 alpine")
    assert cmd.incomplete and cmd.problems == ()


def test_unknown_attached_value_keeps_the_flag() -> None:
    assert opts("docker run -itm$MEM alpine")[-1] == ("--memory", UNKNOWN)
    assert opts('docker run "--memory=$MEM" alpine') == [("--memory", UNKNOWN)]


# --- DA002 unknown options -------------------------------------------------------


@pytest.mark.parametrize("command,needle", [
    ("docker run --cpuset-cpus-1 0 nginx", "did you mean --cpuset-cpus?"),
    ("docker run -rm nginx", "use --rm"),
    ("docker create -itd tiny:1", "'d' in -itd"),
    ("docker create --sig-proxy=false tiny:1", "--sig-proxy"),
    ("docker run --no-such-flag alpine", "--no-such-flag"),
    ("docker run --memroy 1g alpine", "did you mean --memory?"),
])
def test_unknown_option_is_da002(command: str, needle: str) -> None:
    cmd = parse(command)
    problems = [p for p in cmd.problems if p.rule_id == "DA002"]
    assert len(problems) == 1 and needle in problems[0].message


def test_misspelt_option_keeps_parsing_sensibly() -> None:
    assert operands("docker run --cpuset-cpus-1 0 nginx:1.25 true") == ["nginx:1.25", "true"]
    assert operands("docker run -name web nginx:1.25") == ["nginx:1.25"]


def test_unknown_subcommand_options_are_not_judged() -> None:
    cmd = parse("docker logs --tail 10 -f web")
    assert cmd.problems == () and cmd.options == ()


def test_podman_and_nerdctl_extras_are_accepted() -> None:
    cmd = parse("podman run --pod mypod --userns=keep-id --security-opt mask=/x -d alpine:3.19")
    assert cmd.problems == ()
    assert cmd.option("--pod").value_text == "mypod"
    assert cmd.operands[0].value == "alpine:3.19"
    cmd = parse("podman run --no-such-thing alpine:3.19")
    assert cmd.problems == () and cmd.incomplete
    cmd = parse("podman run --cap-add SYS_ADMIN,NET_ADMIN --healthcheck-command true alpine:3.19")
    assert [t.text for _, t in option_values(cmd, "--cap-add")] == ["SYS_ADMIN", "NET_ADMIN"]
    assert cmd.option("--health-cmd").value_text == "true"
    assert parse("nerdctl --namespace k8s.io run --rm alpine:3.19").problems == ()


# --- DA003 invalid values --------------------------------------------------------


@pytest.mark.parametrize("command,needle", [
    ("docker run -m 512x alpine", "invalid suffix"),
    ("docker run -m 4m alpine", "6MB"),
    ("docker run --memory-reservation 1000000 -m 1g alpine", "6MB"),
    ("docker run --cpus 0.0000000001 alpine", "too precise"),
    ("docker run --cpus 0.001 alpine", "0.01"),
    ("docker run --stop-timeout 1.5 alpine", "invalid syntax"),
    ("docker run --blkio-weight 70000 alpine", "out of range"),
    ("docker run --health-interval 5 alpine", "missing unit"),
    ("docker run --health-interval 100us alpine", "1ms"),
    ("docker run -p 70000:80 alpine", "invalid hostPort"),
    ("docker run -p 80:80,443:443 alpine", "invalid IP address: 80"),
    ("docker run -p 8000-8002:80-81 alpine", "invalid ranges"),
    ("docker run --restart always:3 alpine", "always"),
    ("docker run --restart sometimes alpine", "sometimes"),
    ("docker run --ulimit nofile=2048:1024 alpine", "soft limit"),
    ("docker run --mount type=bind,src=rel,dst=/m alpine", "must be absolute"),
    ("docker run --mount src=/x alpine", "target is required"),
    ("docker run -v rel/x:/c alpine", "invalid characters"),
    ("docker run -v /a:/b:ro:extra alpine", "too many colons"),
    ("docker run -v /a:rel alpine", "must be absolute"),
    ("docker run -v /a:/b:rx alpine", "invalid mode"),
    ("docker run --ip 1.2.3 --network n alpine", "not an ip"),
    ("docker run --device /dev/sda:rel alpine", "absolute"),
    ("docker run --sysctl vm.swappiness=1 alpine", "not allowed"),
    ("docker run --log-opt max-size alpine", "key value"),
    ("docker run --gpus count=x alpine", "count"),
    ("docker run --security-opt foo alpine", "Invalid --security-opt"),
    ("docker run --pid foo alpine", "invalid PID mode"),
    ("docker run --userns keep-id alpine", "invalid USER mode"),
    ("docker run --cap-add NOT_A_CAP alpine", "unknown capability"),
    ("docker run --stop-signal NOTASIG alpine", "Invalid signal"),
    ("docker run --name 'bad name' alpine", "Invalid container name"),
    ("docker run --memory-swappiness 200 alpine", "0-100"),
    ("docker run --oom-score-adj 2000 alpine", "-1000"),
    ("docker run -w app alpine", "absolute path"),
    ("docker run --expose abc alpine", "--expose"),
    ("docker run YOUR_USER/app", "invalid reference format"),
    ("docker run ...", "invalid reference format"),
    ("docker run MyApp:1", "must be lowercase"),
    ("docker run -d", "needs an image"),
    ("docker run -m", "needs a value"),
    ("docker stop -t x web", "invalid syntax"),
    ("docker update --cpus abc web", "rational"),
])
def test_invalid_value_is_da003(command: str, needle: str) -> None:
    problems = [p for p in parse(command).problems if p.rule_id == "DA003"]
    assert len(problems) == 1, [p.message for p in parse(command).problems]
    assert needle in problems[0].message


def test_da003_points_at_the_option() -> None:
    cmd = parse("docker run --rm -m 512x alpine")
    assert cmd.problems[0].loc.column == 17


@pytest.mark.parametrize("command", [
    "docker run -m 6m --memory-swap -1 alpine:3.19",
    "docker run -p [::1]:8443:443 -p 0.0.0.0::53/udp -p 9000-9010:80 alpine:3.19",
    "docker run -p published=8080,target=80,protocol=udp alpine:3.19",
    "docker run --mount 'type=volume,src=vol,dst=/v,\"volume-opt=o=size=1m,uid=0\"' alpine:3.19",
    "docker run --gpus '\"device=0,1\",capabilities=compute' alpine:3.19",
    "docker run -v ./data:/data -v /h:/c:ro,Z -v named:/n:nocopy alpine:3.19",
    "docker run --add-host gw:host-gateway --add-host 'b:::1' alpine:3.19",
    "docker run --cpus 1/2 --health-start-period 1m30s alpine:3.19",
    "docker run --restart on-failure --restart=unless-stopped alpine:3.19",
    "docker run localhost:5000/team/app@sha256:" + "a" * 64 + " true",
    "docker run 2628d347b196de5b5948068f1f26f102147f5dd5c2c5a73b5e602071320e7f20",
    "docker run --ulimit core=-1 --sysctl fs.mqueue.msg_max=20 alpine:3.19",
    "docker run --stop-signal SIGRTMIN+3 --stop-signal 9 alpine:3.19",
])
def test_valid_values_give_no_problem(command: str) -> None:
    assert parse(command).problems == ()


# --- DA004 options after the image -------------------------------------------


@pytest.mark.parametrize("command,fires", [
    ("docker run nginx -p 80:80", True),
    ("docker run -d nginx:1.25 --name web", True),
    ("docker run ubuntu:22.04 -it bash", True),
    ("docker run --rm postgres:16 -c shared_buffers=256MB", False),  # -c is the image's flag
    ("docker run --rm mysql:8 --character-set-server=utf8mb4", False),
    ("docker run --rm alpine:3.19 ls -l /", False),
    ("docker run --rm hadolint/hadolint --help", False),
    ("docker run --entrypoint /bin/sh alpine:3.19 -c 'echo hi'", False),
    ("docker run nginx:1.25 -v", False),  # -v without a value is not a docker -v
])
def test_options_after_image_is_da004(command: str, fires: bool) -> None:
    cmd = parse(command)
    da004 = [p for p in cmd.problems if p.rule_id == "DA004"]
    assert bool(da004) == fires
    if fires:
        assert da004[0].loc == cmd.operands[1].loc


# --- DA005 conflicts ---------------------------------------------------------------


@pytest.mark.parametrize("command,needle", [
    ("docker run --cpus 1 --cpu-quota 50000 alpine", "--cpu-quota"),
    ("docker run --cpus 1 --cpu-period 100000 alpine", "--cpu-period"),
    ("docker update --cpus 1 --cpu-quota 1000 web", "--cpu-quota"),
    ("docker run --memory-swap 1g alpine", "needs --memory"),
    ("docker run -m 512m --memory-swap 256m alpine", "below --memory"),
    ("docker run -m 64m --memory-reservation 128m alpine", "above --memory"),
    ("docker run --rm --restart always alpine", "--rm"),
    ("docker run -d -a stdout alpine", "--attach"),
    ("docker run --no-healthcheck --health-cmd true alpine", "--no-healthcheck"),
    ("docker run --log-driver none --log-opt max-size=1m alpine", "driver none"),
    ("docker run --net container:db -p 80:80 alpine", "port publishing"),
    ("docker run --net container:db -P alpine", "port publishing"),
    ("docker run --net container:db --expose 80 alpine", "port exposing"),
    ("docker run --net container:db -h x alpine", "hostname"),
    ("docker run --net container:db --dns 1.1.1.1 alpine", "--dns"),
    ("docker run --net container:db --add-host a:1.2.3.4 alpine", "--add-host"),
    ("docker run --net container:db --mac-address 02:42:ac:11:00:98 alpine", "--mac-address"),
    ("docker run --net host --link db:db alpine", "--link"),
    ("docker run --network-alias web alpine", "user-defined network"),
    ("docker run --net host --network-alias x alpine", "user-defined network"),
    ("docker run --ip 172.17.0.9 alpine", "user-defined network"),
    ("docker run --network bridge --network host alpine", "cannot join"),
    ("docker run --net host --sysctl net.ipv4.ip_forward=1 alpine", "net.*"),
    ("docker run -v /h:/x -v /tmp:/x alpine", "duplicate mount point"),
    ("docker run --mount type=bind,src=/h,dst=/x -v /h:/x/ alpine", "duplicate mount point"),
])
def test_conflict_is_da005(command: str, needle: str) -> None:
    problems = [p for p in parse(command).problems if p.rule_id == "DA005"]
    assert len(problems) == 1, [p.message for p in parse(command).problems]
    assert needle in problems[0].message


@pytest.mark.parametrize("command", [
    "docker run -d --rm --restart no alpine:3.19",
    "docker run --rm=false --restart always alpine:3.19",
    "docker run -m 512m --memory-swap -1 --memory-reservation 256m alpine:3.19",
    "docker run --memory-swap 1g -m $MEM alpine:3.19",
    "docker run --network mynet --network-alias web --ip 10.0.0.5 alpine:3.19",
    "docker run --net host -h custom --expose 80 -p 80:80 alpine:3.19",
    "docker run -v /x -v /srv/data:/x alpine:3.19",
    "docker run --cpus 1 --cpu-shares 512 alpine:3.19",
    "docker run --network $NET --network-alias web alpine:3.19",
    "docker run --no-healthcheck=false --health-cmd true alpine:3.19",
])
def test_accepted_combinations_are_not_da005(command: str) -> None:
    assert "DA005" not in rule_ids(command)


# --- DA006 deprecated, DA007 tty -------------------------------------------------


@pytest.mark.parametrize("command,count", [
    ("docker run --kernel-memory 50m alpine:3.19", 1),
    ("docker run --security-opt seccomp:unconfined alpine:3.19", 1),
    ("docker run --security-opt label:disable --security-opt label=type:x alpine:3.19", 1),
    ("docker run --disable-content-trust alpine:3.19", 1),
    ("docker run --mount type=bind,src=/a,dst=/b,bind-nonrecursive alpine:3.19", 1),
    ("docker update --kernel-memory 10m web", 1),
    ("docker run --link db:db --net-alias x --net n alpine:3.19", 0),
    ("podman run --security-opt seccomp:unconfined alpine:3.19", 0),
])
def test_deprecated_is_da006(command: str, count: int) -> None:
    assert rule_ids(command).count("DA006") == count


def test_seccomp_colon_fix_names_the_new_spelling() -> None:
    problem = parse("docker run --security-opt seccomp:unconfined alpine:3.19").problems[0]
    assert problem.fix == "--security-opt seccomp=unconfined"


def test_en_dash_option_says_what_happened() -> None:
    (problem,) = [p for p in parse("docker run -d \u2013name C8O -p 80:80 myorg/app:1").problems
                  if p.rule_id == "DA003"]
    assert "en dash" in problem.message and problem.fix.endswith("--name")


@pytest.mark.parametrize("command", ["docker run -it alpine:3.19 sh", "docker exec -t web ls"])
def test_tty_is_not_a_usage_problem(command: str) -> None:
    """Whether -t matters depends on -i, -d and the file: the DA007 rule decides, not the grammar."""
    assert not [p for p in parse(command).problems if p.rule_id == "DA007"]


# --- robustness ------------------------------------------------------------------


_word_text = st.sampled_from([
    "run", "create", "-it", "-d", "--rm", "-p", "80:80", "-m", "512x", "--", "-", "$X", '"$Y"',
    "--name=x", "-rm", "--network", "container:a", "alpine", "=", "--=", "-=", "''", "-e",
    "--mount", "type=bind", "-v", "a:b:c:d", "--cpus", "1e999", "--restart", "on-failure:-1",
    "-H", "--context", "network", "container", "\\", "${A:-x}", "`x`", "--health-cmd",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_word_text, max_size=12), st.sampled_from(["docker", "podman", "nerdctl"]))
def test_never_raises(texts: list[str], program: str) -> None:
    words = []
    col = 8
    for text in texts:
        value = UNKNOWN if ("$" in text or "`" in text) else text.strip("'\"")
        words.append(Word(text, value, Location("f.sh", 1, col, 1, col + len(text)),
                          splits=text.startswith("$")))
        col += len(text) + 1
    loc = Location("f.sh", 1, 1, 1, col)
    inv = Invocation(program, Word(program, program, Location("f.sh", 1, 1, 1, 7)),
                     tuple(words), loc)
    cmd = parse_invocation(inv)
    assert all(p.loc.path == "f.sh" for p in cmd.problems)
    assert "could not read" not in " ".join(p.message for p in cmd.problems)
    from dockaudit.spec import spec_from_command

    spec_from_command(cmd)


def test_helper_invocation_positions() -> None:
    inv = invocation("docker run -d nginx", line=4)
    assert inv.words[2].loc == Location("case.sh", 4, 15, 4, 20)


# --- unknown words next to the image (found in real scripts) ---------------------


@pytest.mark.parametrize("command,image,incomplete", [
    # a quoted variable followed by docker options is an option ("-it" or nothing)
    ('docker run "$it" --rm -v "$(pwd)":/w alpine:3.19 sh', "alpine:3.19", True),
    # ... but the image when what follows is not a docker option
    ('docker run --rm --entrypoint cut "$1" -d: -f1-2 /etc/passwd', '"$1"', False),
    # an unquoted variable followed by a path is the image, not options
    ("docker run -u 1000 $BUILD_WITH /bin/bash -c make", "$BUILD_WITH", False),
    # a word that starts with literal text is an operand even when it splits
    ("docker run -d quay.io/coreos/etcd:${ETCD_VER} /usr/local/bin/etcd", "quay.io/coreos/etcd:${ETCD_VER}", False),
    ("docker run $OPTS nginx:1.25 nginx -g x", "nginx:1.25", True),
])
def test_unknown_words_near_the_image(command: str, image: str, incomplete: bool) -> None:
    cmd = parse(command)
    assert cmd.operands[0].text == image
    assert cmd.incomplete == incomplete
    assert [p.rule_id for p in cmd.problems] == []


def test_two_docker_options_after_the_image_are_da004() -> None:
    assert "DA004" in rule_ids("docker create --name after tiny:1 -m 512m --rm")
    assert "DA004" not in rule_ids("docker run -d --init spiped:1 -d -s '[0.0.0.0]:9200' -t x:1")
    assert "DA004" not in rule_ids("docker run -it solr:9 -h myhostname")
    assert "DA004" not in rule_ids("docker run selenium/standalone-chrome:4 -p 4444")
    assert "DA004" not in rule_ids("docker run ... --read-only")  # DA003 already
