"""The pre-commit hooks, run for real: ``pre-commit try-repo`` on this checkout.

pre-commit installs dockaudit from the repository into its own environment and
runs the hook on a throw-away repository holding one bad and one good file.
This needs PyPI (for pre-commit itself when it is not installed, and for the
hook's environment) and takes about a minute.

``try-repo`` sees only committed and tracked changes of a repository, so the
test snapshots this checkout's working tree (tracked and untracked files,
ignored ones left out) into a temporary repository and tries that: what is
tested is the code as it stands. ``try-repo`` installs the hook anew on every
call, so the other cases go through ``pre-commit run`` with a configuration
naming the snapshot, the way a user's repository uses the hooks, which
installs once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]

BAD_SCRIPT = "#!/bin/sh\ndocker run -d --privileged nginx:1.25\n"
GOOD_SCRIPT = "#!/bin/sh\ndocker run --rm koalaman/shellcheck:v0.10.0 --version\n"
BAD_MARKDOWN = "# Deploy\n\n```bash\ndocker run -d --restart always --privileged nginx:1.25\n```\n"
GOOD_MARKDOWN = "# Check\n\n```bash\ndocker run --rm koalaman/shellcheck:v0.10.0 --version\n```\n"

GOOD_COMPOSE = (
    "services:\n  check:\n    image: koalaman/shellcheck:v0.10.0\n    command: [\"--version\"]\n"
    "    mem_limit: 256m\n    logging:\n      options:\n        max-size: 10m\n"
)
BAD_COMPOSE = "services:\n  web:\n    image: nginx:1.27\n    restart: always\n"
OVERRIDE_COMPOSE = "services:\n  web:\n    privileged: true\n"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "dockaudit tests",
    "GIT_AUTHOR_EMAIL": "tests@dockaudit.invalid",
    "GIT_COMMITTER_NAME": "dockaudit tests",
    "GIT_COMMITTER_EMAIL": "tests@dockaudit.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _run(
    args: list[str], cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return _run(["git", *args], cwd, env).stdout


def _pre_commit(tmp: Path, env: dict[str, str]) -> list[str]:
    """A pre-commit command: the installed one, else one installed into a fresh venv."""
    found = shutil.which("pre-commit")
    if found:
        return [found]
    try:
        import pre_commit  # noqa: F401

        return [sys.executable, "-m", "pre_commit"]
    except ImportError:
        pass
    home = tmp / "pre-commit-venv"
    venv.create(home, with_pip=True)
    python = home / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "pre-commit"], tmp, env)
    return [str(python), "-m", "pre_commit"]


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["DOCKAUDIT_TODAY"] = "2026-01-15"  # end-of-life verdicts depend on the date
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]) -> Path:
    """This checkout's working tree, committed in a repository of its own."""
    if not (CHECKOUT / ".git").exists():
        pytest.skip("not a git checkout: pre-commit installs hooks from a git repository")
    listed = _git(
        CHECKOUT, environment, "ls-files", "-z", "--cached", "--others", "--exclude-standard"
    )
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.split("\0")):
        source = CHECKOUT / name
        if source.is_file():
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(snapshot, environment, "init", "--quiet")
    _git(snapshot, environment, "add", "--all")
    _git(snapshot, environment, "commit", "--quiet", "--no-verify", "-m", "snapshot")
    return snapshot


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]) -> Path:
    """A repository with one bad and one good file of each kind the hooks check."""
    root = tmp_path_factory.mktemp("project")
    for name, text in {
        "bad.sh": BAD_SCRIPT,
        "good.sh": GOOD_SCRIPT,
        "BAD.md": BAD_MARKDOWN,
        "GOOD.md": GOOD_MARKDOWN,
        "compose.yaml": GOOD_COMPOSE,
        "deploy/docker-compose.yml": BAD_COMPOSE,
        "deploy/docker-compose.override.yml": OVERRIDE_COMPOSE,
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    _git(root, environment, "init", "--quiet")
    _git(root, environment, "add", "--all")
    _git(root, environment, "commit", "--quiet", "--no-verify", "-m", "scripts")
    return root


@pytest.fixture(scope="module")
def pre_commit(tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]) -> list[str]:
    return _pre_commit(tmp_path_factory.mktemp("tools"), environment)


@pytest.fixture(scope="module")
def try_repo(pre_commit: list[str], environment: dict[str, str], hook_repo: Path, project: Path):
    """``pre-commit try-repo`` of this checkout; it installs the hook afresh on every call."""

    def run(hook: str, *files: str) -> subprocess.CompletedProcess:
        args = [
            *pre_commit,
            "try-repo",
            str(hook_repo),
            hook,
            "--verbose",
            "--color",
            "never",
            "--files",
            *files,
        ]
        return _run(args, project, environment, check=False)

    return run


@pytest.fixture(scope="module")
def run_hook(pre_commit: list[str], environment: dict[str, str], hook_repo: Path, project: Path):
    """``pre-commit run`` with a configuration naming this checkout, as a user's repository has it."""
    rev = _git(hook_repo, environment, "rev-parse", "HEAD").strip()
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {json.dumps(str(hook_repo))}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: dockaudit\n"
        "      - id: dockaudit-markdown\n"
        "      - id: dockaudit-compose\n",
        encoding="utf-8",
    )
    _git(project, environment, "add", ".pre-commit-config.yaml")
    _git(project, environment, "commit", "--quiet", "--no-verify", "-m", "hooks")

    def run(hook: str, *files: str) -> subprocess.CompletedProcess:
        args = [*pre_commit, "run", hook, "--verbose", "--color", "never", "--files", *files]
        return _run(args, project, environment, check=False)

    return run


def _explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_try_repo_fails_on_a_bad_script(try_repo) -> None:
    result = try_repo("dockaudit", "bad.sh")
    assert result.returncode == 1, _explain(result)
    assert "Failed" in result.stdout, _explain(result)
    assert "bad.sh" in result.stdout and "DA501" in result.stdout, _explain(result)


def test_try_repo_passes_a_good_script(try_repo) -> None:
    result = try_repo("dockaudit", "good.sh")
    assert result.returncode == 0, _explain(result)
    assert "Passed" in result.stdout, _explain(result)


def test_the_shell_hook_leaves_markdown_alone(run_hook) -> None:
    result = run_hook("dockaudit", "BAD.md")
    assert result.returncode == 0, _explain(result)
    assert "no files to check" in result.stdout.lower(), _explain(result)


def test_the_shell_hook_checks_every_script_given(run_hook) -> None:
    result = run_hook("dockaudit", "good.sh", "bad.sh")
    assert result.returncode == 1, _explain(result)
    assert "bad.sh:2:" in result.stdout and "good.sh:" not in result.stdout, _explain(result)


def test_the_markdown_hook_checks_code_blocks(run_hook) -> None:
    bad = run_hook("dockaudit-markdown", "BAD.md")
    assert bad.returncode == 1, _explain(bad)
    assert "BAD.md:4:" in bad.stdout and "DA501" in bad.stdout, _explain(bad)
    good = run_hook("dockaudit-markdown", "GOOD.md", "good.sh")
    assert good.returncode == 0, _explain(good)
    assert "Passed" in good.stdout, _explain(good)


def test_the_compose_hook_checks_compose_files_with_their_override(run_hook) -> None:
    bad = run_hook("dockaudit-compose", "deploy/docker-compose.override.yml", "bad.sh")
    assert bad.returncode == 1, _explain(bad)
    assert "deploy/docker-compose.override.yml:3:5:" in bad.stdout and "DA501" in bad.stdout, _explain(bad)
    assert "deploy/docker-compose.yml:2:3:" in bad.stdout and "bad.sh" not in bad.stdout, _explain(bad)
    good = run_hook("dockaudit-compose", "compose.yaml", "GOOD.md")
    assert good.returncode == 0, _explain(good)
    assert "Passed" in good.stdout, _explain(good)
