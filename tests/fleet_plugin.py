"""pytest plugin: a fleet of three private engines, one of them a Swarm manager.

The session's ``engine`` is the first; two more are started beside it, each with
its own data root, socket and bridge (tests/engine.py). The third runs
``docker swarm init`` on loopback with ports nobody else uses, so that a Swarm
someone else runs on this machine is never touched. As for ``engine``: skipped
with the reason where engines cannot run, a failure in CI.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import Engine, EngineUnavailable, free_port, start_engine, wait_for
from engine_plugin import _in_ci


@dataclass
class Fleet:
    engines: list[Engine]

    @property
    def manager(self) -> Engine:
        return self.engines[2]


def free_udp_port() -> int:
    """A UDP port for Swarm's data path: the engine takes only 1024-49151, below the ephemeral range."""
    for port in random.sample(range(20000, 49152), 200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free UDP port for the Swarm data path")


def swarm_init(engine: Engine) -> None:
    engine.docker("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", f"127.0.0.1:{free_port()}",
                  "--data-path-port", str(free_udp_port()))


@pytest.fixture(scope="session")
def fleet(engine: Engine) -> Iterator[Fleet]:
    started: list[Engine] = []
    try:
        for _ in range(2):
            started.append(start_engine())
        swarm_init(started[1])
    except BaseException as exc:
        for other in started:
            other.stop()
        if not isinstance(exc, EngineUnavailable):
            raise
        if _in_ci():
            pytest.fail(f"the test fleet did not start: {exc}", pytrace=False)
        pytest.skip(f"no test fleet: {exc}")
    try:
        yield Fleet([engine, *started])
    finally:
        for other in started:
            if other.process.poll() is None:
                other.docker("swarm", "leave", "--force", check=False)
            other.stop()


@dataclass
class SshEngine:
    """An engine of the fleet behind an sshd on loopback, and the ssh set-up a client needs."""

    engine: Engine
    host: str  # the Host alias of the client config: ssh://<host> reaches the engine
    bin_dir: Path  # put first on PATH: its ssh is the system's ssh reading the test's config
    port: int


@pytest.fixture(scope="session")
def ssh_engine(fleet, tmp_path_factory) -> Iterator[SshEngine]:
    """An sshd on 127.0.0.1 (its own config, host key and authorized key) whose sessions reach the second
    engine of the fleet: ``docker system dial-stdio`` there talks to that engine's socket."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(sshd).exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        message = "sshd/ssh are not installed (apt-get install openssh-server openssh-client)"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("ssh")
    os.chmod(root, 0o700)
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / key)], check=True)
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    port = free_port()
    engine = fleet.engines[1]
    (root / "sshd_config").write_text("\n".join([
        f"ListenAddress 127.0.0.1:{port}",
        f"HostKey {root / 'host_key'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        f"PidFile {root / 'sshd.pid'}",
        "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "UsePAM no", "StrictModes no",
        f"SetEnv DOCKER_HOST={engine.url} DOCKER_CONFIG={root / 'remote-docker-config'}",
    ]) + "\n")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    process = subprocess.Popen([sshd, "-D", "-e", "-f", str(root / "sshd_config")], stdout=subprocess.DEVNULL,
                               stderr=(root / "sshd.log").open("wb"), start_new_session=True)
    host_key = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (root / "ssh_config").write_text("\n".join([
        "Host fleet-ssh", "  HostName 127.0.0.1", f"  Port {port}", "  User root",
        f"  IdentityFile {root / 'client_key'}", "  IdentitiesOnly yes",
        f"  UserKnownHostsFile {root / 'known_hosts'}", "  StrictHostKeyChecking yes", "  BatchMode yes",
    ]) + "\n")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f"#!/bin/sh\nexec {shutil.which('ssh')} -F {root / 'ssh_config'} \"$@\"\n")
    wrapper.chmod(0o755)
    try:
        wait_for(lambda: _answers(port) or process.poll() is not None, timeout=20, what="sshd")
        if process.poll() is not None:
            raise AssertionError(f"sshd exited: {(root / 'sshd.log').read_text()}")
        yield SshEngine(engine, "fleet-ssh", bin_dir, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
