"""pytest plugin: a fleet of three private engines, one of them a Swarm manager.

The session's ``engine`` is the first; two more are started beside it, each with
its own data root, socket and bridge (tests/engine.py). The third runs
``docker swarm init`` on loopback with ports nobody else uses, so that a Swarm
someone else runs on this machine is never touched. As for ``engine``: skipped
with the reason where engines cannot run, a failure in CI.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from engine import Engine, EngineUnavailable, free_port, start_engine
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
