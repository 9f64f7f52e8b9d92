"""Finding plugin entry points without importing importlib.metadata: same answers, or a hand-over."""

from __future__ import annotations

import importlib.metadata
import json
import os.path
import re
import sys
import zipfile
from pathlib import Path

import pytest

from dockaudit import plugins


def _triples(eps) -> list[tuple[str, str, str]]:
    return [(ep.name, ep.value, ep.group) for ep in eps]


def _metadata(group: str) -> list[tuple[str, str, str]]:
    return _triples(importlib.metadata.entry_points(group=group))


def _dist(parent: Path, folder: str, entry_points: str | None) -> None:
    path = parent / folder
    path.mkdir(parents=True)
    (path / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {folder.split('-')[0]}\nVersion: 1.0\n")
    if entry_points is not None:
        (path / "entry_points.txt").write_text(entry_points, encoding="utf-8")


@pytest.mark.parametrize("name", ["acme", "Acme_Rules", "acme.rules", "a-_.b", "_lead", "trail-", "A__B..C--d", ""])
def test_names_normalise_as_importlib_metadata_normalises(name: str) -> None:
    assert plugins._normalize(name) == re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


@pytest.mark.parametrize("group", ["dockaudit", "console_scripts", "pytest11"])
def test_this_environment_reads_like_importlib_metadata(group: str) -> None:
    # the scan itself, not the hand-over: it must cover a development install
    assert _triples(plugins._scan_entry_points(group)) == _metadata(group)
    if group == "dockaudit":
        assert ("builtin", "dockaudit_rules.plugin", "dockaudit") in _metadata(group)


def test_made_up_environment_reads_like_importlib_metadata(tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "Acme_Rules-1.0.dist-info", (
        "stray = before.any:section\n"
        "[console_scripts]\nacme = acme_rules.cli:main\n\n"
        "# a comment\n[dockaudit]\n  acme   =  acme_rules.plugin \n"
        "nested = acme_rules.more:holder.hooks [extra]\n"
        "[dockaudit.other]\nnot-this = acme_rules.other\n"
        "[[dockaudit]]\ndouble = acme_rules.double\n"
    ))
    _dist(first, "zeta-2.0.dist-info", "[dockaudit]\nzeta = zeta_rules\n")
    _dist(first, "alpha.egg-info", "[dockaudit]\nalpha = alpha_rules\n")
    _dist(first, "no_entry_points-1.0.dist-info", None)
    # the same distribution again, later on the path: importlib.metadata takes the first only
    _dist(second, "acme.rules-2.0.dist-info", "[dockaudit]\nshadowed = old_acme.plugin\n")
    _dist(second, "other-0.1.egg-info", "[dockaudit]\nacme = other_rules\n")
    (second / "filelike-1.0.dist-info").write_text("not a folder")
    (second / "README.txt").write_text("not metadata")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])

    ours = _triples(plugins._scan_entry_points("dockaudit"))
    assert ours == _metadata("dockaudit")
    assert {name for name, _, _ in ours} == {"acme", "nested", "double", "zeta", "alpha"}
    assert ("acme", "other_rules", "dockaudit") in ours  # same entry point name, other distribution
    assert _triples(plugins._scan_entry_points("console_scripts")) == _metadata("console_scripts")
    assert _triples(plugins.group_entry_points("dockaudit")) == ours


def test_the_working_folder_counts_as_importlib_metadata_counts_it(tmp_path: Path, monkeypatch) -> None:
    _dist(tmp_path, "here-1.0.dist-info", "[dockaudit]\nhere = here_rules\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [""])
    assert _triples(plugins._scan_entry_points("dockaudit")) == _metadata("dockaudit") == [
        ("here", "here_rules", "dockaudit")]


def test_zip_archives_are_left_to_importlib_metadata(tmp_path: Path, monkeypatch) -> None:
    archive = tmp_path / "packs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        zf.writestr("zipped-1.0.dist-info/entry_points.txt", "[dockaudit]\nzipped = zipped_rules\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    with pytest.raises(plugins._NotCovered):
        plugins._scan_entry_points("dockaudit")
    assert _triples(plugins.group_entry_points("dockaudit")) == [("zipped", "zipped_rules", "dockaudit")]


@pytest.mark.parametrize("folder", ["Upper-1.0.DIST-INFO", "-1.0.dist-info"])
def test_names_only_metadata_knows_are_left_to_it(tmp_path: Path, monkeypatch, folder: str) -> None:
    _dist(tmp_path, folder, "[dockaudit]\nodd = odd_rules\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    with pytest.raises(plugins._NotCovered):
        plugins._scan_entry_points("dockaudit")
    assert _triples(plugins.group_entry_points("dockaudit")) == _metadata("dockaudit")


def test_a_malformed_file_fails_as_importlib_metadata_fails(tmp_path: Path, monkeypatch) -> None:
    _dist(tmp_path, "bad-1.0.dist-info", "[console_scripts]\nno equals sign here\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    with pytest.raises(Exception) as theirs:
        importlib.metadata.entry_points(group="dockaudit")
    with pytest.raises(type(theirs.value)):
        plugins.group_entry_points("dockaudit")


def test_another_distribution_finder_is_left_to_importlib_metadata(monkeypatch) -> None:
    class Finder:
        @staticmethod
        def find_spec(*args, **kwargs):
            return None

        @staticmethod
        def find_distributions(*args, **kwargs):
            return iter(())

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    with pytest.raises(plugins._NotCovered):
        plugins._scan_entry_points("dockaudit")
    assert _triples(plugins.group_entry_points("dockaudit")) == _metadata("dockaudit")


@pytest.mark.parametrize("value", ["json", "json:dumps", "json : decoder.JSONDecoder [extra]", "os.path:join"])
def test_load_gives_what_importlib_metadata_gives(value: str) -> None:
    theirs = importlib.metadata.EntryPoint(name="x", value=value, group="g").load()
    assert plugins.EntryPoint("x", value, "g").load() is theirs
    assert theirs in (json, json.dumps, json.decoder.JSONDecoder, os.path.join)


def test_load_of_a_malformed_value_fails_alike() -> None:
    with pytest.raises(AttributeError) as theirs:
        importlib.metadata.EntryPoint(name="x", value="not a value!", group="g").load()
    with pytest.raises(AttributeError) as ours:
        plugins.EntryPoint("x", "not a value!", "g").load()
    assert str(ours.value) == str(theirs.value)
