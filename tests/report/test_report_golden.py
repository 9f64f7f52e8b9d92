"""Golden outputs: ``dockaudit check`` on the bundled examples, in every machine format.

The expected outputs live in ``tests/report/golden/``. After a deliberate change,
regenerate them with ``DOCKAUDIT_UPDATE_GOLDENS=1 pytest tests/report/test_report_golden.py``
and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
from report_samples import validate_sarif

from dockaudit.cli import main

CHECKOUT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = ["fixtures/examples/deploy.sh", "fixtures/examples/tutorial.md"]
FORMATS = ["parsable", "github", "json"]
TODAY = "2026-01-15"  # the end-of-life table is dated: fix "today"
UPDATE = os.environ.get("DOCKAUDIT_UPDATE_GOLDENS") == "1"


def check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.chdir(CHECKOUT)
    monkeypatch.setenv("DOCKAUDIT_TODAY", TODAY)
    for name in ("GITHUB_ACTIONS", "NO_COLOR", "DOCKAUDIT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    code = main(["check", *args])
    out, err = capsys.readouterr()
    assert "internal error" not in err, err
    return code, out


def compare(actual: str, golden: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.is_file():
        pytest.fail(f"{golden} is missing; create it with DOCKAUDIT_UPDATE_GOLDENS=1")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{golden.relative_to(CHECKOUT)} (expected)",
            tofile="actual",
        )
        pytest.fail("output differs from the golden file:\n" + "".join(diff), pytrace=False)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: Path(p).name)
def test_golden_output(example: str, fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(monkeypatch, capsys, "--format", fmt, example)
    assert code == 1, "the examples hold errors: the exit code must say so"
    assert out, "no output"
    compare(out, GOLDEN / f"{Path(example).name}.{fmt}.txt")


def test_the_formats_agree_on_the_findings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """parsable, github, json and sarif report the same findings at the same places."""
    _, parsable = check(monkeypatch, capsys, "--format", "parsable", *EXAMPLES)
    _, github = check(monkeypatch, capsys, "--format", "github", *EXAMPLES)
    _, envelope = check(monkeypatch, capsys, "--format", "json", *EXAMPLES)
    _, sarif = check(monkeypatch, capsys, "--format", "sarif", *EXAMPLES)

    from_parsable = []
    for line in parsable.splitlines():
        where, _severity, rest = line.split(": ", 2)
        path, lineno, col = where.rsplit(":", 2)
        from_parsable.append((path, int(lineno), int(col), rest.rsplit("[", 1)[1].rstrip("]")))

    from_json = [(f["path"], f["line"], f["column"], f["rule"]) for f in json.loads(envelope)["findings"]]

    from_github = []
    for line in github.splitlines():
        props = dict(p.split("=", 1) for p in line.split(" ", 1)[1].split("::", 1)[0].split(","))
        col = props.get("col")
        from_github.append((props["file"], int(props["line"]), col, props["title"].split(" ")[0]))

    log = json.loads(sarif)
    run = log["runs"][0]
    from_sarif = []
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        region = physical["region"]
        from_sarif.append(
            (physical["artifactLocation"]["uri"], region["startLine"], region["startColumn"], result["ruleId"])
        )

    assert from_parsable, "the examples must give findings"
    assert from_parsable == from_json == from_sarif
    assert [(p, n, r) for p, n, _, r in from_github] == [(p, n, r) for p, n, _, r in from_parsable]
    for (_, _, col, _), (_, _, expected, _) in zip(from_github, from_parsable, strict=True):
        assert col is None or int(col) == expected
    validate_sarif(log)  # last: it skips when the schema is not at hand
