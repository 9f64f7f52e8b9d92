"""``docker audit``: dockaudit as a docker CLI plugin, run by the real docker CLI.

``dockaudit install-docker-plugin`` writes the plugin into a docker
configuration folder of the test's own (``DOCKER_CONFIG``); the docker CLI
then lists it (``docker info``), runs ``docker audit check``, and hands
``docker audit live`` the engine its global options name: ``--context``,
``-H``, ``DOCKER_HOST``, the current context. The engine is the private test
engine, reached only through its Unix socket. The CLI of Debian's docker.io is
used, and any other docker CLI on PATH as well.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from dockaudit.dockerplugin import METADATA
from test_cli import COMMAND

pytestmark = pytest.mark.engine

DEBIAN_DOCKER = Path("/usr/bin/docker")
_found = [str(DEBIAN_DOCKER)] if DEBIAN_DOCKER.exists() else []
_other = shutil.which("docker")
if _other and (not _found or Path(_other).resolve() != DEBIAN_DOCKER.resolve()):
    _found.append(_other)
DOCKER_CLIS = _found or ["docker"]  # none at all: the tests fail saying so

NOWHERE = "unix:///nonexistent/dockaudit-test.sock"


@pytest.fixture(params=DOCKER_CLIS)
def docker_cli(request) -> str:
    if not Path(request.param).exists() and shutil.which(request.param) is None:
        pytest.fail("no docker CLI: tools/test.sh installs docker.io")
    return request.param


@pytest.fixture
def home(tmp_path: Path, engine) -> dict[str, str]:
    """An environment with a docker configuration folder of its own, aimed at nothing."""
    env = {k: v for k, v in engine.env().items() if not k.startswith("DOCKER_")}
    env.update({"DOCKER_CONFIG": str(tmp_path / "docker-config"), "HOME": str(tmp_path), "NO_COLOR": "1"})
    env.pop("GITHUB_ACTIONS", None)
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _install(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return _run([*COMMAND, "install-docker-plugin", *extra], env)


@pytest.fixture
def installed(home: dict[str, str]) -> dict[str, str]:
    result = _install(home)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def container(engine) -> str:
    """A privileged container on the test engine, with a name of its own."""
    name = f"da-plugin-{uuid.uuid4().hex[:10]}"
    engine.docker("create", "--name", name, "--privileged", engine.tag("dockaudit-test/busybox:base"), "true")
    yield name
    engine.remove_containers(name)


def _live_names(result: subprocess.CompletedProcess) -> set[str]:
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return {f["container"]["name"] for f in json.loads(result.stdout)["findings"] if f["container"]}


def test_install_writes_a_plugin_the_cli_lists_and_uninstall_removes_it(home, docker_cli) -> None:
    result = _install(home)
    assert result.returncode == 0, result.stderr
    plugin = Path(home["DOCKER_CONFIG"]) / "cli-plugins" / "docker-audit"
    assert plugin.is_file() and os.access(plugin, os.X_OK)
    assert str(plugin) in result.stdout

    metadata = _run([str(plugin), "docker-cli-plugin-metadata"], home)
    assert metadata.returncode == 0
    assert json.loads(metadata.stdout) == METADATA

    info = _run([docker_cli, "info", "--format", "{{json .ClientInfo.Plugins}}"], home)
    plugins = {p["Name"]: p for p in json.loads(info.stdout or "[]")} if info.stdout.startswith("[") else {}
    if not plugins:  # an older CLI without ClientInfo in --format: the text listing
        info = _run([docker_cli, "info"], home)
        assert "audit: " + METADATA["ShortDescription"] in info.stdout, info.stdout + info.stderr
    else:
        assert plugins["audit"]["Vendor"] == "dockaudit" and "Err" not in plugins["audit"]

    assert _install(home).returncode == 0  # again: replaced in place
    removed = _install(home, "--uninstall")
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert not plugin.exists()
    assert "audit:" not in _run([docker_cli, "info"], home).stdout
    again = _install(home, "--uninstall")
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_a_foreign_plugin_is_never_overwritten_or_removed(home) -> None:
    plugin = Path(home["DOCKER_CONFIG"]) / "cli-plugins" / "docker-audit"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\necho someone else's\n", encoding="utf-8")
    for extra in ((), ("--uninstall",)):
        result = _install(home, *extra)
        assert result.returncode == 2 and "not dockaudit's plugin" in result.stderr
        assert plugin.read_text(encoding="utf-8") == "#!/bin/sh\necho someone else's\n"


def test_docker_audit_check(installed, docker_cli, tmp_path: Path) -> None:
    (tmp_path / "deploy.sh").write_text("#!/bin/sh\ndocker run -d --privileged nginx:1.25\n", encoding="utf-8")
    result = _run([docker_cli, "audit", "check", "--format", "json", "deploy.sh"], installed, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "DA501" in {f["rule"] for f in json.loads(result.stdout)["findings"]}
    helped = _run([docker_cli, "audit", "--help"], installed)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: docker audit")


def test_docker_audit_live_reaches_the_engine_the_cli_names(installed, docker_cli, engine, container) -> None:
    live = ["audit", "live", "--all", "--name", container, "--format", "json"]
    # DOCKER_HOST, as the CLI itself reads it
    assert container in _live_names(_run([docker_cli, *live], {**installed, "DOCKER_HOST": engine.url}))
    # -H wins over a DOCKER_HOST that leads nowhere
    env = {**installed, "DOCKER_HOST": NOWHERE}
    assert container in _live_names(_run([docker_cli, "-H", engine.url, *live], env))
    # a named context wins over DOCKER_HOST
    context = f"da-{uuid.uuid4().hex[:8]}"
    made = _run([docker_cli, "context", "create", context, "--docker", f"host={engine.url}"], installed)
    assert made.returncode == 0, made.stderr
    assert container in _live_names(_run([docker_cli, "--context", context, *live], env))
    assert container in _live_names(_run([docker_cli, "-c", context, *live], installed))
    # the current context of the configuration, when nothing else names an engine
    used = _run([docker_cli, "context", "use", context], installed)
    assert used.returncode == 0, used.stderr
    assert container in _live_names(_run([docker_cli, *live], installed))
    # DOCKER_CONTEXT over the current context
    elsewhere = f"da-{uuid.uuid4().hex[:8]}"
    assert _run([docker_cli, "context", "create", elsewhere, "--docker", f"host={NOWHERE}"], installed).returncode == 0
    failed = _run([docker_cli, *live], {**installed, "DOCKER_CONTEXT": elsewhere})
    assert failed.returncode == 2 and "nonexistent" in failed.stderr
    # and a context that leads nowhere is an error that names the engine, not a traceback
    failed = _run([docker_cli, "--context", elsewhere, *live], installed)
    assert failed.returncode == 2 and "nonexistent" in failed.stderr and "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    ("argv", "context", "hosts", "rest"),
    [
        (["--context", "prod", "audit", "live"], "prod", [], ["live"]),
        (["--context=prod", "-D", "audit", "live", "-a"], "prod", [], ["live", "-a"]),
        (["-cprod", "--log-level", "warn", "audit", "check", "x.sh"], "prod", [], ["check", "x.sh"]),
        (["-H", "unix:///a.sock", "--tlsverify=false", "audit"], None, ["unix:///a.sock"], []),
        (["-Hunix:///a.sock", "audit", "live", "--name", "audit"], None, ["unix:///a.sock"],
         ["live", "--name", "audit"]),
    ],
)
def test_global_options_are_read_the_cli_way(argv, context, hosts, rest) -> None:
    from dockaudit.dockerplugin import split_arguments

    options, arguments = split_arguments(argv)
    assert (options.context, options.hosts, arguments) == (context, hosts, rest)


def test_host_and_context_together_are_refused_as_the_cli_refuses_them() -> None:
    from dockaudit.dockerplugin import PluginError, resolve_target, split_arguments

    options, _ = split_arguments(["-H", "unix:///a.sock", "--context", "prod", "audit", "live"])
    with pytest.raises(PluginError, match="either specify --host or --context"):
        resolve_target(options, {})
