"""The format registry: every built-in format by name, imported only when used."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from report_samples import static_report

from dockaudit.report import FORMATTERS, FormatterRegistry, Report, relative_path


def test_the_built_in_formats_are_listed() -> None:
    assert {"text", "json", "sarif", "github", "parsable"} <= set(FORMATTERS)
    assert "sarif" in FORMATTERS
    assert "yaml" not in FORMATTERS


def test_an_unknown_format_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        FORMATTERS["yaml"]


def test_a_plugin_format_can_be_added_and_replaced() -> None:
    registry = FormatterRegistry({"parsable": "dockaudit.report.parsable"})
    registry["count"] = lambda report: f"{len(report.findings)}\n"
    assert list(registry) == ["parsable", "count"]
    assert len(registry) == 2
    assert registry["count"](static_report()) == "3\n"
    registry["parsable"] = lambda report: "custom\n"
    assert registry["parsable"](static_report()) == "custom\n"
    assert len(registry) == 2
    del registry["count"]
    assert list(registry) == ["parsable"]
    with pytest.raises(KeyError):
        del registry["count"]


def test_non_text_formats_do_not_import_rich() -> None:
    script = textwrap.dedent(
        """
        import sys
        from dockaudit.model import Finding, Location, Severity
        from dockaudit.report import FORMATTERS, Report
        finding = Finding("DA501", "privileged", Severity.ERROR, "m", Location("a.sh", 1, 1, 1, 3))
        for name in ("sarif", "github", "parsable", "json"):
            FORMATTERS[name](Report(findings=[finding], rules=[], files={"a.sh": ("docker",)}))
        print(sorted(m for m in sys.modules if m == "rich" or m.startswith("rich.")))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_text_format_is_served_too() -> None:
    text = FORMATTERS["text"](static_report())
    assert "--privileged" in text


@pytest.mark.parametrize(
    ("path", "base", "expected"),
    [
        ("deploy.sh", ".", "deploy.sh"),
        ("./scripts/../deploy.sh", ".", "deploy.sh"),
        ("/srv/repo/ops/run.sh", "/srv/repo", "ops/run.sh"),
        ("/srv/other/run.sh", "/srv/repo", "/srv/other/run.sh"),
    ],
)
def test_relative_paths(path: str, base: str, expected: str) -> None:
    assert relative_path(path, base) == expected
    assert Report(findings=[], rules=[], base_dir=base).relative_path(path) == expected
