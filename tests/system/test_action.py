"""The GitHub Action (action.yml), run step by step the way a GitHub runner runs it.

`Runner` reads action.yml, evaluates the ``if:`` conditions and ``${{ }}``
expressions it uses (inputs, steps' outputs, the action path), and runs each
``run:`` step as ``bash --noprofile --norc -eo pipefail FILE`` in the
workspace, with the environment and files GitHub gives a step:
``GITHUB_WORKSPACE``, ``GITHUB_ACTION_PATH``, ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``, ``GITHUB_PATH``, ``GITHUB_ENV``, ``RUNNER_TEMP``,
``GITHUB_ACTIONS=true``. Steps that use other actions (setup-python, the
SARIF upload) cannot run here: the Python running the tests stands in for
setup-python, and the upload step is checked for what it would be given.

The action installs dockaudit from its own checkout (a snapshot of this working
tree) into a virtual environment, which needs PyPI or a wheel cache for the
dependencies, as the pre-commit test does. action.yml itself is validated
against the SchemaStore schema for action metadata, as vendored by the
check-jsonschema package.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.report.report_samples import validate_sarif

CHECKOUT = Path(__file__).resolve().parents[2]
ACTION = CHECKOUT / "action.yml"

BAD = "#!/bin/sh\ndocker run -d --privileged nginx:1.25\n"
MARKDOWN = "# Run it\n\n```sh\ndocker run -d -p 5432:5432 postgres:16.2\n```\n"


# --- the runner ------------------------------------------------------------------------------

_CONTEXT_REFERENCE = re.compile(r"\b(inputs|steps|github|env)((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


@dataclass
class StepRun:
    name: str
    returncode: int | None  # None: skipped, or a step using another action
    stdout: str = ""
    stderr: str = ""
    with_: dict[str, str] = field(default_factory=dict)


class Runner:
    """Runs a composite action's steps as a GitHub runner would, as far as they run here."""

    def __init__(self, action: dict, action_path: Path, workspace: Path, temp: Path, python_bin: Path) -> None:
        self.action = action
        self.action_path = action_path
        self.workspace = workspace
        self.temp = temp
        self.path = [str(python_bin), *_system_path()]  # setup-python puts its Python first
        self.env: dict[str, str] = {}
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = ""
        self.failed = False

    def run(self, inputs: dict[str, str]) -> list[StepRun]:
        declared = self.action["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        self.inputs = {name: inputs.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
        return [self._step(i, step) for i, step in enumerate(self.action["runs"]["steps"])]

    def action_outputs(self) -> dict[str, str]:
        return {name: self.expand(spec["value"]) for name, spec in self.action.get("outputs", {}).items()}

    def _step(self, index: int, step: dict) -> StepRun:
        name = step.get("name", f"step {index}")
        condition = str(step.get("if", "success()"))
        if not self.truth(condition):
            return StepRun(name, None)
        if "uses" in step:
            return StepRun(name, None, with_={k: self.expand(str(v)) for k, v in step.get("with", {}).items()})
        assert step.get("shell") == "bash", f"{name}: a composite run step must name its shell"
        assert "${{" not in step["run"], f"{name}: an expression in a script is an injection risk; use env"
        files = {key: self.temp / f"{key.lower()}-{index}" for key in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV")}
        summary = self.temp / f"summary-{index}.md"
        for path in (*files.values(), summary):
            path.write_text("", encoding="utf-8")
        script = self.temp / f"step-{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {
            "PATH": os.pathsep.join(self.path), "HOME": str(self.temp), "LANG": "C.UTF-8",
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_STEP_SUMMARY": str(summary), **{key: str(path) for key, path in files.items()},
            **self.env,
            **{key: self.expand(str(value)) for key, value in step.get("env", {}).items()},
        }
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=self.workspace, env=env, capture_output=True, text=True, timeout=900)
        if "id" in step:
            self.outputs[step["id"]] = _key_values(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        self.env.update(_key_values(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        added = [line for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines() if line]
        self.path = [*reversed(added), *self.path]
        self.summary += summary.read_text(encoding="utf-8")
        self.failed = self.failed or proc.returncode != 0
        return StepRun(name, proc.returncode, proc.stdout, proc.stderr)

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(self.evaluate(m.group(1))), text)

    def truth(self, condition: str) -> bool:
        expression = condition.strip()
        if expression.startswith("${{") and expression.endswith("}}"):
            expression = expression[3:-2]
        if "always()" in expression:
            return bool(self.evaluate(expression.replace("always()", "True")))
        if "success()" not in expression and "failure()" not in expression and self.failed:
            return False  # an if: without a status function means success() && …
        return bool(self.evaluate(expression.replace("success()", str(not self.failed))
                                  .replace("failure()", str(self.failed))))

    def evaluate(self, expression: str) -> object:
        """The few expression forms action.yml uses: contexts, 'strings', ==, !=, &&, ||, !."""
        values: list[object] = []

        def literal(match: re.Match) -> str:
            values.append(match.group(1).replace("''", "'"))
            return f" _v{len(values) - 1} "

        def reference(match: re.Match) -> str:
            values.append(self._lookup(match.group(1), match.group(2)[1:].split(".")))
            return f" _v{len(values) - 1} "

        python = _CONTEXT_REFERENCE.sub(reference, _LITERAL.sub(literal, expression))
        python = python.replace("&&", " and ").replace("||", " or ")
        python = re.sub(r"!(?!=)", " not ", python)
        assert re.fullmatch(r"[\s_v0-9a-zA-Z=!()]*", python), f"unsupported expression: {expression}"
        return eval(python, {"__builtins__": {}}, {f"_v{i}": v for i, v in enumerate(values)})

    def _lookup(self, context: str, keys: list[str]) -> str:
        if context == "inputs":
            return self.inputs[keys[0]]
        if context == "steps":
            assert keys[1] == "outputs", keys
            return self.outputs.get(keys[0], {}).get(keys[2], "")
        if context == "github" and keys == ["action_path"]:
            return str(self.action_path)
        if context == "env":
            return self.env.get(keys[0], "")
        raise AssertionError(f"a context the test runner does not know: {context}.{'.'.join(keys)}")


def _key_values(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as GitHub reads GITHUB_OUTPUT and GITHUB_ENV."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _system_path() -> list[str]:
    return [d for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
            if os.path.isdir(d) and not os.path.exists(os.path.join(d, "dockaudit"))]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action's checkout: this working tree's files, tracked and new, without what git ignores."""
    if not (CHECKOUT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=CHECKOUT, capture_output=True, text=True, check=True).stdout
    snapshot = tmp_path_factory.mktemp("action") / "dockaudit-action"
    for name in filter(None, listed.split("\0")):
        if (CHECKOUT / name).is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(CHECKOUT / name, snapshot / name)
    return snapshot


@pytest.fixture(scope="module")
def python_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What setup-python provides: a folder whose python3 is a Python >= 3.11."""
    folder = tmp_path_factory.mktemp("setup-python")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    for name in ("python3", "python"):
        (folder / name).symlink_to(base)
    return folder


@pytest.fixture(scope="module")
def installed(action, action_path, python_bin, tmp_path_factory) -> Runner:
    """The action's steps up to the installation, run once for the module."""
    workspace = tmp_path_factory.mktemp("workspace")
    runner = Runner(action, action_path, workspace, tmp_path_factory.mktemp("runner-temp"), python_bin)
    runner.inputs = {n: str(s.get("default", "")) for n, s in action["inputs"].items()}
    steps = action["runs"]["steps"]
    install = next(i for i, s in enumerate(steps) if s.get("name") == "Install dockaudit")
    for index in range(install + 1):
        result = runner._step(index, steps[index])
        assert result.returncode in (None, 0), result.stdout + result.stderr
    assert any(Path(p, "dockaudit").exists() for p in runner.path), "the install step put no dockaudit on PATH"
    return runner


@pytest.fixture
def run_action(installed: Runner, action: dict, tmp_path: Path):
    """Run the action's steps after the installation in a fresh workspace with the given inputs."""

    runs = iter(range(100))

    def go(files: dict[str, str], **inputs: str) -> tuple[Runner, dict[str, StepRun]]:
        number = next(runs)
        workspace = tmp_path / f"workspace-{number}"
        temp = tmp_path / f"runner-temp-{number}"
        workspace.mkdir()
        temp.mkdir()
        for name, text in files.items():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            (workspace / name).write_text(text, encoding="utf-8")
        runner = Runner(action, installed.action_path, workspace, temp, Path(installed.path[0]))
        runner.path = list(installed.path)
        steps = action["runs"]["steps"]
        start = next(i for i, s in enumerate(steps) if s.get("name") == "Install dockaudit") + 1
        declared = action["inputs"]
        runner.inputs = {n: inputs.get(n.replace("-", "_"), str(s.get("default", ""))) for n, s in declared.items()}
        assert set(inputs) <= {n.replace("-", "_") for n in declared}
        return runner, {steps[i]["name"]: runner._step(i, steps[i]) for i in range(start, len(steps))}

    return go


# --- the tests -------------------------------------------------------------------------------


def test_action_yml_is_valid_against_the_published_schema(tmp_path: Path) -> None:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert tool, "check-jsonschema is a test dependency (pyproject's test extra)"
    ok = subprocess.run([tool, "--builtin-schema", "vendor.github-actions", str(ACTION)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # the check can fail: the same file with a step that has no shell
    broken = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    del broken["runs"]["steps"][1]["shell"]
    (tmp_path / "action.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    failed = subprocess.run([tool, "--builtin-schema", "vendor.github-actions", str(tmp_path / "action.yml")],
                            capture_output=True, text=True)
    assert failed.returncode == 1


def test_findings_fail_the_step_with_annotations_a_summary_and_sarif(run_action) -> None:
    runner, steps = run_action({"deploy.sh": BAD, "docs/run.md": MARKDOWN, "docs/notes.txt": "plain\n"})
    ran = steps["Run dockaudit"]
    assert ran.returncode == 0, ran.stderr  # the verdict comes last, after the upload
    assert "::error file=deploy.sh,line=2," in ran.stdout and "title=DA501 privileged::" in ran.stdout
    assert "file=docs/run.md,line=4" in ran.stdout
    assert "## dockaudit" in runner.summary and "| DA501 | privileged | error | 1 |" in runner.summary
    outputs = runner.action_outputs()
    assert outputs["exit-code"] == "1" and outputs["sarif-file"] == "dockaudit.sarif"
    sarif = json.loads((runner.workspace / "dockaudit.sarif").read_text(encoding="utf-8"))
    validate_sarif(sarif)
    assert "DA501" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert steps["Upload SARIF to code scanning"].returncode is None and not steps["Upload SARIF to code scanning"].with_
    verdict = steps["Verdict"]
    assert verdict.returncode == 1 and "::error title=dockaudit::problems" in verdict.stdout


def test_inputs_reach_dockaudit(run_action) -> None:
    config = "rules:\n  DA501: {enabled: false}\n"
    runner, steps = run_action({"deploy.sh": BAD, "ci/audit.yaml": config},
                               paths="deploy.sh", config="ci/audit.yaml", fail_on="error",
                               sarif_file="out/results.sarif", upload_sarif="true")
    annotations = steps["Run dockaudit"].stdout
    assert "title=DA501" not in annotations and "title=DA" in annotations  # DA501 off, the rest on
    assert steps["Verdict"].returncode == 0, steps["Verdict"].stdout  # warnings only, fail-on error
    # the upload step would run, given the SARIF file the run step wrote
    upload = steps["Upload SARIF to code scanning"]
    assert upload.with_ == {"sarif_file": "out/results.sarif", "category": "dockaudit"}
    validate_sarif(json.loads((runner.workspace / "out" / "results.sarif").read_text(encoding="utf-8")))

    service = {"deploy.sh": "docker run -d nginx:1.25\n"}
    _, default = run_action(service, fail_on="never")
    _, strict = run_action(service, profile="strict", fail_on="never")
    default_rules = set(re.findall(r"title=(DA\d+)", default["Run dockaudit"].stdout))
    strict_rules = set(re.findall(r"title=(DA\d+)", strict["Run dockaudit"].stdout))
    assert "DA208" in strict_rules - default_rules  # off by default, on in strict
    assert strict["Verdict"].returncode == 0


def test_a_baseline_and_paths_with_hostile_text(run_action, installed: Runner) -> None:
    dockaudit = next(Path(p, "dockaudit") for p in installed.path if Path(p, "dockaudit").exists())
    files = {"deploy.sh": BAD}
    runner, steps = run_action(files, paths="deploy.sh $(touch pwned) ; touch pwned2", fail_on="never")
    assert not (runner.workspace / "pwned").exists() and not (runner.workspace / "pwned2").exists()
    # the words arrive as file names, verbatim
    assert runner.action_outputs()["exit-code"] == "2"
    assert "file=$(touch,title=dockaudit::no such file or directory" in steps["Run dockaudit"].stdout
    assert steps["Verdict"].returncode == 2

    baseline_dir = runner.workspace.parent / "baseline"
    baseline_dir.mkdir()
    (baseline_dir / "deploy.sh").write_text(BAD, encoding="utf-8")
    subprocess.run([str(dockaudit), "check", "--write-baseline", "known.json", "deploy.sh"],
                   cwd=baseline_dir, capture_output=True, check=True)
    files = {"deploy.sh": BAD, "known.json": (baseline_dir / "known.json").read_text(encoding="utf-8")}
    runner, steps = run_action(files, baseline="known.json")
    assert steps["Verdict"].returncode == 0, steps["Run dockaudit"].stdout + steps["Run dockaudit"].stderr
    assert "known findings not shown" in steps["Run dockaudit"].stderr
    assert "known findings not shown" in runner.summary


def test_a_missing_file_is_exit_2_and_said_in_the_summary(run_action) -> None:
    runner, steps = run_action({}, paths="missing.sh", upload_sarif="true")
    assert runner.action_outputs()["exit-code"] == "2"
    assert "missing.sh" in runner.summary and "no such file" in runner.summary
    assert steps["Upload SARIF to code scanning"].with_["sarif_file"] == "dockaudit.sarif"  # it says so too
    assert steps["Verdict"].returncode == 2


def test_nothing_to_check_is_exit_2_with_no_sarif_to_upload(run_action) -> None:
    runner, steps = run_action({}, paths="", upload_sarif="true")
    assert runner.action_outputs() == {"sarif-file": "", "exit-code": "2"}
    assert "no files given" in steps["Run dockaudit"].stderr
    assert steps["Upload SARIF to code scanning"].returncode is None and not steps["Upload SARIF to code scanning"].with_
    assert steps["Verdict"].returncode == 2
