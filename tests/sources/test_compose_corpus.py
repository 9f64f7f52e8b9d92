"""The real Compose files of the corpus (shared/corpus/compose.tsv, 221 files, 671 services).

The files are fetched into DOCKAUDIT_CORPUS/compose (CI does not have them:
the tests skip there). Each is read under its own file name, alone (no .env
or override beside it): no internal error, every service found, and the
files that hold no Compose services refused with a message.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path, PurePosixPath

import pytest

from dockaudit.api import default_rules
from dockaudit.config import Config
from dockaudit.engine import Engine
from dockaudit.sources.compose import read_compose
from dockaudit.sources.compose_load import ComposeError
from tests.conftest import corpus_dir, shared_dir

SERVICES = 671


def _rows() -> list[dict]:
    shared = shared_dir()
    if shared is None or not (shared / "corpus" / "compose.tsv").is_file():
        return []
    with (shared / "corpus" / "compose.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    corpus = corpus_dir()
    if corpus is None:
        pytest.skip("the whole-file corpus is not fetched (set DOCKAUDIT_CORPUS to its folder)")
    rows = _rows()
    if not rows:
        pytest.skip("shared/corpus/compose.tsv is not beside this checkout")
    folder = corpus / "compose"
    if not folder.is_dir():
        pytest.skip(f"the Compose files are not fetched into {folder}")
    engine = Engine(default_rules().rules, Config())
    scratch = tmp_path_factory.mktemp("compose-corpus")
    out = []
    for index, row in enumerate(rows):
        text = (folder / row["saved_name"]).read_text(encoding="utf-8", errors="replace")
        shown = str(scratch / str(index) / PurePosixPath(row["path"]).name)  # its own name, alone
        try:
            read = read_compose(text, shown, base_dir=Path(shown).parent)
        except ComposeError as exc:
            out.append((row, None, str(exc), []))
            continue
        result = engine.check_script(read.script)
        out.append((row, len(read.script.commands), None, result.errors))
    return out


def test_every_service_of_the_corpus_is_found(results):
    assert len(results) == 221
    assert sum(int(row["services"]) for row, *_ in results) == SERVICES
    wrong = [(row["saved_name"], count, row["services"]) for row, count, _, _ in results
             if count is not None and count != int(row["services"])]
    assert wrong == []
    assert sum(count or 0 for _, count, _, _ in results) == SERVICES


def test_only_files_without_services_are_refused_and_with_a_message(results):
    refused = [(row["saved_name"], message) for row, count, message, _ in results if count is None]
    assert all(int(row["services"]) == 0 for row, count, _, _ in results if count is None), refused
    assert all(message for _, message in refused)


def test_no_internal_error_on_the_corpus(results):
    errors = [(row["saved_name"], errors) for row, _, _, errors in results if errors]
    assert errors == []
    assert Counter(bool(count) for _, count, _, _ in results)[True] >= 215
