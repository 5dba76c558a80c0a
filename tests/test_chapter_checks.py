"""The chapters' coded exercises get the same formative checks as the assignments: right after the cell a student
fills in comes a cell of `bookdata.check` calls, one for each answer the cell asks for. The handed-out starter gets
"not yet done" and the reference solution gets ✅ (so the fingerprints are those of the right answers)."""

from __future__ import annotations

import contextlib
import io
import re

import nbformat
import pandas as pd
import pytest

import bookdata
from conftest import BUILD_CACHE, CHAPTERS, CHECK_CALL, book
from test_assignments import executed

CHAPTER_NOTEBOOKS = sorted(CHAPTERS.glob("0[1-9]_*.ipynb"))
ANSWER = re.compile(r"^(\w+) = \.\.\.  # your code here", re.MULTILINE)  # a starter's answer, to be filled in
CHECKED = re.compile(r"\bbookdata\.check\(\s*\"([^\"]+)\",\s*(\w+)")  # a check: its question id and the answer's name
CHECK_LINE = re.compile(r"^(✅|⏳|❌) (\S+?)(?::| looks right)(.*)$", re.MULTILINE)


def _code(path):
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def _check_cells(path):
    return [cell for cell in _code(path) if not book.is_solution(cell) and CHECK_CALL.search(cell.source)]


def test_the_chapters_have_checked_exercises():
    assert sum(len(CHECKED.findall(cell.source)) for path in CHAPTER_NOTEBOOKS for cell in _check_cells(path)) >= 30


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=lambda path: path.stem)
def test_each_coded_exercise_is_followed_by_a_check_of_each_answer(path):
    cells = _code(path)
    problems = []
    for index, cell in enumerate(cells):
        answers = ANSWER.findall(cell.source)
        if not answers or book.is_solution(cell):
            continue
        following = cells[index + 1].source if index + 1 < len(cells) else ""
        checked = [name for _, name in CHECKED.findall(following)]
        if checked != answers:
            problems.append(f"code cell {index} asks for {answers}; the cell after it checks {checked}")
    assert not problems, f"{path.name}: " + "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=lambda path: path.stem)
def test_the_reference_solutions_pass_the_chapter_checks(path, monkeypatch):
    """The solution code runs (its glue( calls aside), then the check cells judge what it computed."""
    namespace = {"pd": pd, "bookdata": bookdata, "glue": lambda *args, **kwargs: None}
    for cell in _code(path):
        if book.is_solution(cell):
            exec(cell.source, namespace)
    calls, real_check = [], bookdata.check

    def check(question_id, answer, **options):
        calls.append((question_id, answer, options))
        return real_check(question_id, answer, **options)

    monkeypatch.setattr(bookdata, "check", check)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for cell in _check_cells(path):
            exec(cell.source, namespace)
    lines = CHECK_LINE.findall(output.getvalue())
    assert len(lines) == len(calls) > 0, f"{path.name}: {len(lines)} check lines for {len(calls)} checks"
    failing = []
    for (mark, question_id, message), (_, answer, options) in zip(lines, calls):
        if mark != "✅":
            fingerprint = bookdata.fingerprint_of(
                answer,
                options.get("decimals", 1),
                question=question_id,
                columns=options.get("columns"),
                rows=options.get("rows"),
            )
            failing.append(f"{question_id}:{message} (the reference answer's fingerprint is {fingerprint})")
    assert not failing, f"{path.name}: the reference solutions fail these checks:\n" + "\n".join(failing)


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=lambda path: path.stem)
def test_the_built_chapter_tells_the_starter_it_is_not_yet_done(path, built_book):
    """The build runs a chapter as a student first meets it (its solutions come last), so each check sees the
    starter's `...` and must say so, neither ✅ nor ❌ nor an error."""
    run = executed(BUILD_CACHE, path, "the build")
    checks = [cell for cell in run.cells if cell.cell_type == "code" and CHECK_CALL.search(cell.source)]
    checks = [cell for cell in checks if not book.is_solution(cell)]
    expected = sum(len(CHECKED.findall(cell.source)) for cell in checks)
    text = "\n".join(output.get("text", "") for cell in checks for output in cell.get("outputs", []))
    lines = CHECK_LINE.findall(text)
    assert len(lines) == expected, f"{path.name}: {len(lines)} check lines for {expected} checks:\n{text}"
    not_pending = [f"{mark} {question}{message}" for mark, question, message in lines if mark != "⏳"]
    assert not not_pending, f"{path.name}: checks that judged the untouched starter: {not_pending}"
