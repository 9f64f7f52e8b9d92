"""Compose 1.29 as the oracle of the Compose source.

Debian's docker-compose creates the services of fixtures/compose/oracle on the
private engine (``up --no-start``); each container read back from the engine
must equal the service as dockaudit reads it from the file, field by field.
What Compose 1.29 adds of its own is listed, with the reason, in
tools/compose_oracle.py.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "tools"))

import compose_oracle as O

pytest_plugins = ["engine_plugin"]


@pytest.fixture(scope="module")
def results(engine, tmp_path_factory):
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("docker-compose is not installed (tools/test.sh installs it)", pytrace=False)
        pytest.skip("docker-compose is not installed (tools/test.sh installs it)")
    return O.run_oracle(engine, tmp_path_factory.mktemp("compose-oracle"))


@pytest.mark.engine
def test_compose_creates_what_dockaudit_reads(results):
    assert [r.service for r in results] == ["admin", "api", "db", "web", "worker"]
    assert [r for r in results if r.diffs] == [], O.report(results)


@pytest.mark.engine
def test_the_stated_compose_differences_are_the_only_ones(results):
    expected = {e.split(":")[0] for r in results for e in r.expected}
    # each kind of allowance the tool makes is exercised, so none is a blanket pass
    assert {"labels", "network_aliases", "links", "volumes_from"} <= expected


@pytest.mark.engine
def test_nothing_of_the_project_is_left_on_the_engine(results, engine):
    api = engine.client().api
    assert api.containers(all=True, filters={"label": "com.docker.compose.project"}) == []
    assert not [v for v in api.volumes().get("Volumes") or [] if v["Name"].startswith("daorc")]
