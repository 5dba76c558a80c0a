"""What keeps the repository easy to carry on: the default edition, the workflows, the students' environment, ruff."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import nbformat
import yaml

from conftest import CHAPTERS, ROOT, book

WORKFLOWS = ROOT / ".github" / "workflows"
BUILD_AND_TEST_TOOLS = {
    "jupyter-book",
    "sphinx",
    "pytest",
    "pytest-xdist",
    "nbval",
    "playwright",
    "axe-playwright-python",
    "ruff",
    "jupyter-cache",
    "filelock",
    "pypdf",
}


def _workflow(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def _runs(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])


def _readme_commands() -> set[str]:
    return set(re.findall(r"python3 book\.py (?:build|test|pdf)", (ROOT / "README.md").read_text(encoding="utf-8")))


def test_the_default_build_is_the_student_edition():
    assert book.parse_arguments(["build"]).edition == "student"
    assert book.HTML["student"] == ROOT / "_build" / "student" / "html"


def test_every_workflow_parses_and_the_readme_names_the_commands_they_run():
    assert {"python3 book.py build", "python3 book.py test", "python3 book.py pdf"} <= _readme_commands()
    for installer in (ROOT / ".ci" / "run", WORKFLOWS / "tests.yml"):  # the README's font, and the page images'
        assert {"fonts-wqy-microhei", "poppler-utils"} <= set(installer.read_text().split()), installer
    assert sorted(path.name for path in WORKFLOWS.glob("*.yml")) == ["linkcheck.yml", "publish.yml", "tests.yml"]
    tests, publish, linkcheck = _workflow("tests.yml"), _workflow("publish.yml"), _workflow("linkcheck.yml")
    assert "pull_request" in tests["on"] and "python3 book.py test" in _runs(tests)
    assert publish["on"]["push"]["branches"] == ["main"] and "python3 book.py build\n" in _runs(publish) + "\n"
    uploads = [
        step for job in publish["jobs"].values() for step in job["steps"] if "upload-pages" in step.get("uses", "")
    ]
    assert [step["with"]["path"] for step in uploads] == ["_build/student/html"], "publish the student edition only"
    assert any("deploy-pages" in step.get("uses", "") for step in publish["jobs"]["deploy"]["steps"])
    assert "schedule" in linkcheck["on"] and "--builder linkcheck" in _runs(linkcheck)
    assert "gh issue create" in _runs(linkcheck)


def _pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return {
        re.sub(r"[-_.]+", "-", name).lower(): version for name, version in (line.split("==") for line in lines if line)
    }


def _imported_modules() -> set[str]:
    sources = [
        cell.source
        for path in CHAPTERS.glob("*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
    ] + [path.read_text(encoding="utf-8") for path in CHAPTERS.glob("*.py")]
    modules = set()
    for source in sources:
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    local = {path.stem for path in CHAPTERS.glob("*.py")}
    return {module for module in modules if module not in sys.stdlib_module_names and module not in local}


def test_the_students_environment_has_every_module_the_notebooks_import_pinned_as_in_requirements():
    students, full = _pins(ROOT / "binder" / "requirements.txt"), _pins(ROOT / "requirements.txt")
    distributions = packages_distributions()
    modules = _imported_modules()
    assert {"pandas", "matplotlib"} <= modules, f"the notebooks' imports were not found: {modules}"
    missing = {
        module: distributions.get(module)
        for module in modules
        if not {re.sub(r"[-_.]+", "-", name).lower() for name in distributions.get(module, [])} & students.keys()
    }
    assert not missing, f"modules the notebooks import but binder/requirements.txt does not install: {missing}"
    differing = {name: (version, full.get(name)) for name, version in students.items() if full.get(name) != version}
    assert not differing, f"binder/requirements.txt pins differ from requirements.txt (binder, full): {differing}"
    assert "jupyterlab-myst" in students
    assert not BUILD_AND_TEST_TOOLS & students.keys(), "the students' environment holds build or test tools"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == (ROOT / "runtime.txt").read_text().strip()


def test_ruff_finds_nothing_to_fix_or_reformat_in_python_files_and_notebooks():
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command, "."], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, f"ruff {' '.join(command)}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
