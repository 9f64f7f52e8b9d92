"""Third-party rule packs: a real pack pip-installed into a test venv, and broken ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGINS = REPO / "fixtures" / "plugins"


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> Path:
    """A venv that sees this environment's packages (dockaudit included) through a .pth file."""
    root = tmp_path_factory.mktemp("plugin-venv")
    venv.EnvBuilder(with_pip=True).create(root)
    python = root / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for pack in ("acme-rules", "broken-rules"):
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--disable-pip-version-check",
                str(PLUGINS / pack),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=root,
        )
    # Only now (after the packs were built in isolation) let the venv see this environment.
    # addsitedir also runs the parent's .pth files (an editable install needs them).
    parent_sites = dict.fromkeys([sysconfig.get_paths()["purelib"], *(p for p in sys.path if p.endswith("site-packages"))])
    Path(site, "parent-env.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parent_sites if Path(p).is_dir())
    )
    return root


def _dockaudit(
    venv_root: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [venv_root / "bin" / "python", "-m", "dockaudit.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_installed_pack_adds_a_rule_that_shows_and_fires(plugin_venv: Path) -> None:
    listed = _dockaudit(plugin_venv, "rules", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows["ACME101"]["plugin"] == "acme"
    assert rows["ACME101"]["name"] == "debug-image"
    assert rows["DA101"]["plugin"] == "builtin"

    result = _dockaudit(
        plugin_venv,
        "check",
        "--format",
        "json",
        "-",
        stdin="docker run -d --memory 64m myapp:debug\n",
    )
    findings = json.loads(result.stdout)["findings"]
    acme = [f for f in findings if f["rule"] == "ACME101"]
    assert len(acme) == 1
    assert acme[0]["message"] == "the image myapp:debug is a debug build"
    assert (acme[0]["line"], acme[0]["column"]) == (1, 28)


def test_broken_packs_are_reported_by_name_and_the_run_goes_on(plugin_venv: Path) -> None:
    result = _dockaudit(
        plugin_venv,
        "check",
        "--format",
        "json",
        "-",
        stdin="docker run --privileged alpine:3.19 true\n",
    )
    assert "plugin 'broken'" in result.stderr and "failed to load" in result.stderr
    assert "acme_dependency_that_does_not_exist" in result.stderr
    assert "plugin 'misspelled'" in result.stderr and "dockaudit_rule" in result.stderr
    assert "Traceback" not in result.stderr
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "DA501" in rules
    assert result.returncode == 1
