"""Shared test set-up: where the repository, its fixtures and the shared material are."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

# The private dockerd for tests marked `engine` (tests/engine_plugin.py).
pytest_plugins = ["engine_plugin"]

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def shared_dir() -> Path | None:
    """The shared reference material beside the checkout, when present (not on a user's machine)."""
    env = os.environ.get("DOCKAUDIT_SHARED")
    candidate = Path(env) if env else REPO.parent / "shared"
    return candidate if candidate.is_dir() else None


def corpus_dir() -> Path | None:
    """The fetched whole-file corpus (DOCKAUDIT_CORPUS), when present."""
    env = os.environ.get("DOCKAUDIT_CORPUS")
    if env and Path(env).is_dir():
        return Path(env)
    return None


@pytest.fixture
def shared() -> Path:
    path = shared_dir()
    if path is None:
        pytest.skip("the shared reference material is not beside this checkout (set DOCKAUDIT_SHARED)")
    return path


@pytest.fixture
def corpus() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip("the whole-file corpus is not fetched (set DOCKAUDIT_CORPUS to its folder)")
    return path


@pytest.fixture(scope="session")
def generate() -> ModuleType:
    """tools/generate.py, the writer of every generated file, as a module."""
    spec = importlib.util.spec_from_file_location("generate", REPO / "tools" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
