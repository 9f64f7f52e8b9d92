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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

from engine import Engine, EngineUnavailable, start_engine

T = TypeVar("T")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@contextmanager
def started_or_skipped(start: Callable[[], T], what: str = "the test engine",
                       errors: tuple[type[Exception], ...] = (EngineUnavailable,)) -> Iterator[T]:
    """What *start* returns, stopped at the end; a skip (a failure in CI) when it cannot start."""
    try:
        started = start()
    except errors as exc:
        if _in_ci():
            pytest.fail(f"{what} did not start: {exc}", pytrace=False)
        pytest.skip(f"{what} cannot run here: {exc}")
    try:
        yield started
    finally:
        started.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The private engine, started once per session and removed at its end."""
    with started_or_skipped(start_engine) as started:
        yield started
