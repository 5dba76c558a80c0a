"""Shared fixtures: the repository layout, the two built editions, the handed-out notebooks run as students run them.

Two pytest-xdist workers take a test file (or notebook, for nbval) at a time each (pytest.ini). The first test that
needs an edition builds both, as `python3 book.py build --edition both` does, holding a file lock that others wait on.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock

from browser import browser, checked_looks, site, student_site, tab  # noqa: F401  (the browser tests' fixtures)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(CHAPTERS))
sys.path.insert(0, str(ROOT))
import book  # noqa: E402  (the README's build command: the tests build exactly as it does)

sys.path.insert(0, str(ROOT / "_ext"))
from book_hooks import CHECK_CALL  # noqa: E402, F401  (the cells whose verdicts the student pages hide)

BUILD_CACHE = ROOT / "_build" / ".jupyter_cache"  # the build's executions (instructor notebooks, with solutions)
HANDOUT = book.STUDENT / "notebooks"  # the notebooks the student edition hands out
HANDOUT_CACHE = ROOT / "_build" / ".handout_cache"  # their executions, by the tests
FAILURES = "failures.json"  # in HANDOUT_CACHE: each handed-out notebook that failed, with its error
LOCK = ROOT / "_build" / "tests.lock"  # held while a worker builds the editions or runs the handed-out notebooks

WITH_SOLUTIONS = [
    path
    for path in sorted(CHAPTERS.glob("*.ipynb"))
    if any(book.is_solution(cell) for cell in nbformat.read(path, as_version=4).cells)
]


def solutions_come_last(path: Path) -> bool:
    """Whether every solution code cell comes after all other code cells: then the handed-out notebook is the opening
    of the notebook, and the build's run of it, in a fresh kernel, is a student's run of the handed-out one."""
    kinds = [book.is_solution(cell) for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    return kinds == sorted(kinds)


# The handed-out notebooks that need a run of their own: those with code after a solution (the assignments, whose
# checks follow the answers they judge). The chapters keep their reference solutions last (a test checks it).
RUN_AS_HANDED_OUT = [path for path in WITH_SOLUTIONS if not solutions_come_last(path)]


def toc_files() -> list[str]:
    """Every document named in _toc.yml, root first."""
    root, parts = book.toc_parts()
    return [root, *[file for _, files in parts for file in files]]


@pytest.fixture(scope="session")
def both_editions() -> dict[str, Path]:
    """Both editions, built as `python3 book.py build --edition both` builds them (once: see the top of this file)."""
    LOCK.parent.mkdir(exist_ok=True)
    with FileLock(LOCK):
        assert book.build("both") == 0, "the editions failed to build (output above)"
    return {"instructor": book.HTML["instructor"], "student": book.STUDENT}


@pytest.fixture(scope="session")
def built_book(both_editions) -> Path:
    """The instructor edition's HTML: _build/html."""
    return both_editions["instructor"]


@pytest.fixture(scope="session")
def student_edition(both_editions) -> Path:
    """The student edition, _build/student: its HTML in html/, the notebooks handed out in notebooks/."""
    return both_editions["student"]


@pytest.fixture(scope="session")
def handout_runs(student_edition) -> Path:
    """The handed-out notebooks that the build's runs do not already cover (RUN_AS_HANDED_OUT), executed as
    students run them, into a jupyter-cache of their own: its path. Each runs once (jupyter-cache skips a notebook
    it holds already)."""
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # the kernels leave no __pycache__ in the handed-out folder
    with FileLock(LOCK):
        book.prepare_cache(HANDOUT, HANDOUT_CACHE)
        failures = book.execute([HANDOUT / "chapters" / path.name for path in RUN_AS_HANDED_OUT], HANDOUT_CACHE, 600)
        # The tests that read these runs report a failed notebook with its error (see test_assignments.executed).
        (HANDOUT_CACHE / FAILURES).write_text(json.dumps({Path(uri).name: error for uri, error in failures.items()}))
    return HANDOUT_CACHE
