"""pytest plugin: the ``engine`` fixture, a private dockerd for the whole session.

Register it with ``pytest_plugins = ["engine_plugin"]`` in tests/conftest.py (the
tests import their sibling modules by plain name).
Tests that use the engine are marked ``engine`` and ask for the ``engine``
fixture. When the engine cannot start here (no root, no docker.io) they are
skipped with the reason; in CI (``CI=true``) they fail instead, so a broken
set-up cannot pass as green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from engine import Engine, EngineUnavailable, start_engine


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The private engine, started once per session and removed at its end."""
    try:
        started = start_engine()
    except EngineUnavailable as exc:
        if _in_ci():
            pytest.fail(f"the test engine did not start: {exc}", pytrace=False)
        pytest.skip(f"no test engine: {exc}")
    try:
        yield started
    finally:
        started.stop()
