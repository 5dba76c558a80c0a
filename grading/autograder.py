#!/usr/bin/env python3
"""Build an otter-grader autograder for the coded questions of each assignment, from the instructor notebooks.

    python3 grading/autograder.py     # writes _build/autograder/<assignment>/autograder.zip (and its sources)

A coded question is one whose formative check compares the answer with a stored fingerprint, for example
`bookdata.check("Q3", total_trade_usd_bn, ..., fingerprint="...")`. Each becomes an otter test file: a public case
worth nothing (is the variable answered?) and a hidden case worth one point that compares the student's variable
with the reference solution's, to the check's decimal places (see grading/reference.py). Verdicts, choices, texts
and figures have no test: the instructor marks them with the rubrics of the instructor guide.

The reference answers are computed when grading: the autograder holds the opening of the instructor notebook up to
its last coded question (reference_solution.py) and runs it after the student's notebook, on the data it ships. It
also holds what the notebook needs to run: data/, references.bib, and bookdata as a package (bookdata/__init__.py is
chapters/bookdata.py, beside book.mplstyle), so that the helper finds data/ one folder up, as in the book. Gradescope
builds its grading image from binder/requirements.txt, the students' environment. The student notebooks hold none
of this: they are made as before (handout.py without_solutions).
"""

from __future__ import annotations

import ast
import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "_build" / "autograder"
ASSIGNMENTS = sorted((ROOT / "chapters").glob("assignment_*.ipynb"))
sys.path.insert(0, str(ROOT))
import book  # noqa: E402  (the environment, and which cells are solutions)

CONFIG = {"show_hidden": True}  # Gradescope shows each question's result to students once the grades are published

TEST_FILE = '''"""{question} of {notebook}: `{variable}` matches the reference solution (decimals={decimals}, as its check)."""

from otter.test_files import test_case

import reference

OK_FORMAT = False
name = "{question}"
points = 1


@test_case(points=0)
def is_answered(env):
    reference.assert_answered(env, "{variable}")


@test_case(points=1, hidden=True)
def matches_the_reference(env):
    reference.assert_answer(env, "{variable}", decimals={decimals})
'''


def coded_questions(cells: list[dict]) -> list[tuple[int, str, str, int]]:
    """(cell index, question id, variable, decimals) of each `bookdata.check` call that has a fingerprint."""
    sys.path.insert(0, str(ROOT / "chapters"))
    import bookdata

    default_decimals = inspect.signature(bookdata.check).parameters["decimals"].default
    questions = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or book.is_solution(cell) or "bookdata.check(" not in cell.source:
            continue
        for call in ast.walk(ast.parse(cell.source)):
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "bookdata.check":
                keywords = {keyword.arg: keyword.value for keyword in call.keywords}
                if "fingerprint" in keywords:
                    decimals = ast.literal_eval(keywords["decimals"]) if "decimals" in keywords else default_decimals
                    questions.append((index, ast.literal_eval(call.args[0]), call.args[1].id, decimals))
    return questions


def reference_solution(path: Path, cells: list[dict], end: int) -> str:
    """The code cells before cell `end`, as one script (IPython syntax made plain Python)."""
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    header = f"# The opening of chapters/{path.name}, with its reference solutions. Written by grading/autograder.py.\n"
    return header + "".join(
        f"\n# %% cell {index}\n{transform(cell.source)}"
        for index, cell in enumerate(cells[:end])
        if cell.cell_type == "code"
    )


def build(path: Path) -> Path:
    """The autograder of one assignment: its sources in _build/autograder/<name>/source, and autograder.zip."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    questions = coded_questions(cells)
    folder = OUTPUT / path.stem
    source = folder / "source"
    if source.exists():
        shutil.rmtree(source)
    (source / "tests").mkdir(parents=True)
    for _, question, variable, decimals in questions:
        test = TEST_FILE.format(question=question, notebook=path.name, variable=variable, decimals=decimals)
        (source / "tests" / f"{question}.py").write_text(test, encoding="utf-8")
    (source / "reference_solution.py").write_text(reference_solution(path, cells, questions[-1][0]), encoding="utf-8")
    shutil.copy2(ROOT / "grading" / "reference.py", source / "reference.py")
    (source / "bookdata").mkdir()
    shutil.copy2(ROOT / "chapters" / "bookdata.py", source / "bookdata" / "__init__.py")
    shutil.copy2(ROOT / "chapters" / "book.mplstyle", source / "bookdata" / "book.mplstyle")
    shutil.copytree(ROOT / "data", source / "data")
    shutil.copy2(ROOT / "references.bib", source / "references.bib")
    shutil.copy2(ROOT / "binder" / "requirements.txt", source / "requirements.txt")
    (source / "otter_config.json").write_text(json.dumps(CONFIG, indent=1) + "\n", encoding="utf-8")
    python = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    otter = Path(sys.executable).with_name("otter.exe" if sys.platform == "win32" else "otter")
    files = ["bookdata", "data", "references.bib", "reference.py", "reference_solution.py"]
    options = ["--tests-dir", "tests", "--output-path", folder / "autograder.zip", "--config", "otter_config.json"]
    options += ["--requirements", "requirements.txt", "--no-environment", "--python-version", python]
    subprocess.run([str(otter), "generate", *map(str, options), *files], cwd=source, check=True)
    graded = ", ".join(f"{question} ({variable})" for _, question, variable, _ in questions)
    print(f"{folder.relative_to(ROOT) / 'autograder.zip'}: {len(questions)} coded questions, 1 point each: {graded}")
    return folder / "autograder.zip"


def main() -> int:
    python = book.ensure_environment()
    if Path(sys.prefix).resolve() != book.VENV.resolve():  # run again with the environment's Python and packages
        return subprocess.run([python, Path(__file__).resolve(), *sys.argv[1:]]).returncode
    for path in ASSIGNMENTS:
        build(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
