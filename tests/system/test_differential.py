"""The engine as the oracle of the parser: verdicts and specs of real commands.

A fixed sample of about 300 literal ``docker run``/``docker create`` commands
(every k-th of the rule-case commands and, when the shared corpus is beside
the checkout, the corpus commands) is created on the private engine;
tools/differential.py compares the engine's verdict with dockaudit's DA002,
DA003, DA005 (and DA603) findings, and the spec read back from the created
container with the static spec, field by field. The differences the engine
cannot show are listed, with their reasons, in tools/differential.py.

The full run is ``python tools/differential.py --all``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dockaudit.api import read_script
from tests.conftest import REPO, shared_dir

sys.path.insert(0, str(REPO / "tools"))

import differential as D

pytest_plugins = ["engine_plugin"]

SAMPLE = 300


def _candidate(text: str) -> D.Candidate:
    found, skipped = D.candidates_from_text("t", text + "\n")
    assert found, skipped
    return found[0]


def _argv(text: str) -> list[str]:
    return D.plan_create(_candidate(text), Path("/scratch")).argv


# --- the command sent to the engine -------------------------------------------------


@pytest.mark.parametrize(("text", "argv"), [
    ("docker run -itd --name web -p 80:80 nginx:1.25",
     ["create", "--pull", "never", "-it", "--name", "web", "-p", "80:80", "nginx:1.25"]),
    ("docker run -dp 8080:80 nginx:1.25", ["create", "--pull", "never", "-p", "8080:80", "nginx:1.25"]),
    ("docker container run --detach --sig-proxy=false --detach-keys ctrl-x alpine:3.19 sh",
     ["create", "--pull", "never", "alpine:3.19", "sh"]),
    ("docker run --pull always -d alpine:3.19 -d", ["create", "--pull", "never", "alpine:3.19", "-d"]),
    ("docker create --rm alpine:3.19", ["create", "--pull", "never", "--rm", "alpine:3.19"]),
])
def test_run_becomes_create_without_run_only_options(text, argv):
    assert _argv(text) == argv


def test_cidfile_goes_to_the_scratch_folder():
    argv = _argv("docker run --cidfile /var/run/app.cid alpine:3.19")
    assert "/var/run/app.cid" not in argv
    assert argv[argv.index("--cidfile") + 1].startswith("/scratch/")


def test_containers_and_networks_the_command_names_are_made_first():
    plan = D.plan_create(_candidate(
        "docker run --link db:database --volumes-from data:ro --pid container:agent "
        "--network appnet --name web alpine:3.19"), Path("/scratch"))
    assert plan.containers == {"db", "data", "agent"}
    assert set(plan.networks) == {"appnet"}
    assert plan.names == {"db", "data", "agent", "appnet", "web"}
    plan = D.plan_create(_candidate("docker run --net container:web alpine:3.19"), Path("/s"))
    assert plan.containers == {"web"} and not plan.networks


def test_shell_dependent_commands_are_left_out():
    found, skipped = D.candidates_from_text("t", 'docker run -d "$IMAGE"\npodman run alpine:3.19\n')
    assert found == []
    assert sorted(skipped) == ["a word depends on the shell (variable, substitution, placeholder)",
                               "podman, not docker"]


def test_batches_never_share_a_name():
    cands = [_candidate(t) for t in (
        "docker run --name db alpine:3.19", "docker run --link db alpine:3.19",
        "docker run --name web alpine:3.19", "docker run --network db alpine:3.19")]
    for batch in D.batches(cands, Path("/s"), 10):
        names = [n for c in batch for n in D.plan_create(c, Path("/s")).names]
        assert len(names) == len(set(names))
    assert sum(len(b) for b in D.batches(cands, Path("/s"), 10)) == 4


def test_sample_is_fixed_and_spread():
    items = list(range(1000))
    assert D.sample(items, 300) == D.sample(items, 300)
    assert len(D.sample(items, 300)) == 300 and D.sample(items, 300)[-1] > 990


# --- the comparison ---------------------------------------------------------------


def _static(text: str) -> dict:
    return _candidate(text).static


def test_compare_finds_a_different_value():
    static = _static("docker run -m 512m alpine:3.19 sh")
    live = {**static, "memory": 256 * 1024 * 1024}
    diffs, _ = D.compare(static, live, Path("/s"))
    assert diffs == ["memory: static 536870912 != engine 268435456"]


def test_compare_lists_what_only_one_side_has():
    static = _static("docker run -p 80:80 -p 443:443 alpine:3.19 sh")
    live = {**static, "ports": static["ports"][:1]}
    diffs, _ = D.compare(static, live, Path("/s"))
    assert len(diffs) == 1 and diffs[0].startswith("ports: only static [{")


def test_compare_accepts_only_the_stated_equivalences():
    static = _static("docker run --restart no -m 0 --cap-add SYS_TIME --cap-add CHOWN -e HOME "
                     "alpine:3.19")
    live = {**static, "restart_policy": None, "memory": None, "command": ["sh"],
            "cap_add": ["CAP_CHOWN", "CAP_SYS_TIME"], "env": [{"key": "HOME", "value": "/root"}]}
    diffs, expected = D.compare(static, live, Path("/s"))
    assert diffs == []
    assert len(expected) == 4  # restart no, memory 0, the image's CMD, env from the client
    diffs, _ = D.compare(static, {**live, "restart_policy": {"name": "always", "max_retries": 0}},
                         Path("/s"))
    assert diffs and diffs[0].startswith("restart_policy")


def test_relative_bind_sources_are_made_absolute_like_the_client_does():
    static = _static("docker run -v ./data:/data alpine:3.19 sh")
    mount = {**static["mounts"][0], "source": "/work/data"}
    diffs, expected = D.compare(static, {**static, "mounts": [mount]}, Path("/work"))
    assert diffs == [] and expected == ["bind source ./data: made absolute by the client"]


# --- what the engine taught the parser (each found by the differential run) -------------


def _spec(text: str):
    return read_script(text + "\n", "c.sh", "shell").specs[0]


def test_memory_swap_is_not_invented():
    assert _spec("docker run -m 512m alpine:3.19").memory_swap is None


def test_published_ports_are_not_repeated_as_exposed():
    assert _spec("docker run -p 80:80 --expose 9000 alpine:3.19").expose == ("9000/tcp",)


def test_workdir_is_cleaned_and_empty_options_are_unset():
    assert _spec("docker run -w /path/to/dir/ alpine:3.19").workdir == "/path/to/dir"
    assert _spec("docker run -w //a/./b/../c alpine:3.19").workdir == "/a/c"
    assert _spec('docker run -w "" -u "" alpine:3.19').workdir is None


def test_csv_network_sets_the_endpoint_address():
    spec = _spec("docker run --network=name=my-net,ip=192.0.2.42 alpine:3.19")
    assert (spec.network_mode, spec.ip) == ("my-net", "192.0.2.42")
    assert _spec("docker run --ip 192.0.2.7 --network=name=n,ip=192.0.2.42 alpine:3.19").ip == \
        "192.0.2.7"


def test_mount_with_a_dot_source_is_valid():
    cand = _candidate("docker run --mount type=bind,source=.,target=/foo alpine:3.19")
    assert cand.refusals == []
    assert _candidate("docker run --mount type=bind,source=data,target=/foo alpine:3.19").refusals


def test_anonymous_volume_under_another_mount_is_overridden():
    spec = _spec("docker run -v /dev/shm --tmpfs /dev/shm:size=4G -v /data alpine:3.19")
    assert [(m.type, m.target) for m in spec.mounts] == [("tmpfs", "/dev/shm"), ("volume", "/data")]


# --- against the engine ------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(engine) -> list[D.Result]:
    cands, _ = D.all_candidates(shared_dir())
    oracle = D.Oracle(engine)
    return D.run_differential(D.sample(cands, SAMPLE), oracle)


@pytest.mark.engine
def test_engine_and_parser_agree(results):
    disagreements = D.report([r for r in results if r.verdict == "disagree"])
    assert [r for r in results if r.verdict == "disagree"] == [], disagreements


@pytest.mark.engine
def test_the_sample_exercises_both_verdicts(results):
    compared = [r for r in results if r.verdict != "skipped"]
    assert len(compared) >= 0.95 * len(results), D.report(results, verbose=True)
    accepted = [r for r in compared if r.accepted]
    both_reject = [r for r in compared if r.detail.startswith("both reject")]
    assert len(accepted) >= 0.7 * len(compared)
    assert len(both_reject) >= 10, D.summary(results)


@pytest.mark.engine
def test_nothing_is_left_on_the_engine(results, engine):
    api = engine.client().api
    assert api.containers(all=True) == []
    assert {n["Name"] for n in api.networks()} <= {"bridge", "host", "none"}
    assert (api.volumes().get("Volumes") or []) == []
