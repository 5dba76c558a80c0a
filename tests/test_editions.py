"""Two editions from one source: the instructor edition shows solutions, the student edition has none anywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import (
    BUILD_CACHE,
    CHAPTERS,
    CHECK_CALL,
    HANDOUT,
    RUN_AS_HANDED_OUT,
    WITH_SOLUTIONS,
    book,
    solutions_come_last,
)
from test_assignments import GATE_END, GATE_START, executed, is_gate_marker

SENTINEL = "Reference solution"
# Issue 19: a verdict box of a claim that students judge themselves is a solution cell of its own (see withheld.py).
WITHHELD_BOX = re.compile(r"\A:::\{admonition\} Verdict on C\d\d: [a-z ]+\n.*^:::\Z", re.MULTILINE | re.DOTALL)


def _notebooks():
    return sorted(CHAPTERS.glob("*.ipynb"))


def test_every_solution_cell_carries_the_sentinel_and_no_other_cell_does():
    solution_cells = 0
    for path in _notebooks():
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            tagged = book.is_solution(cell)
            solution_cells += tagged
            if tagged and not WITHHELD_BOX.match(cell.source):
                assert SENTINEL in cell.source or is_gate_marker(cell), (
                    f"{path.name} cell {index}: a solution cell without '{SENTINEL}'"
                )
            else:
                assert SENTINEL not in cell.source, f"{path.name} cell {index}: '{SENTINEL}' outside a solution cell"
                assert "{solution" not in cell.source, (
                    f"{path.name} cell {index}: a solution directive in an untagged cell"
                )
    assert solution_cells > 0, "no solutions found: the editions test would prove nothing"


# A {solution} directive block (or a gated solution's opening or closing one), closed by the fence that opened it
# (solutions may hold fenced code of their own).
SOLUTION_BLOCK = re.compile(r"^(`{3,}|:{3,})\{solution(?:-start|-end)?\}.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
SOLUTIONS_HEADING = re.compile(rf"^#+ {SENTINEL}s[ \t]*$", re.MULTILINE)
EXERCISE_LABEL = re.compile(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n(?::[^\n]*\n)*?:label: (\S+)", re.MULTILINE)


def test_a_solution_cell_holds_nothing_but_solutions():
    """The student edition drops solution cells whole, so any other text in one (the next exercise, a rubric)
    would silently vanish from it. Between a gated solution's start and end, a cell's whole text is the solution's."""
    for path in _notebooks():
        gate = False
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            gate = bool(GATE_START.match(cell.source)) or (gate and not GATE_END.match(cell.source))
            withheld_box = WITHHELD_BOX.match(cell.source)
            if cell.cell_type == "markdown" and book.is_solution(cell) and not gate and not withheld_box:
                rest = SOLUTIONS_HEADING.sub("", SOLUTION_BLOCK.sub("", cell.source)).strip()
                assert not rest, (
                    f"{path.name} cell {index}: the solution cell also holds {rest[:100]!r}, which the student edition loses"
                )


FOLDS = {"hide-input", "hide-output", "hide-cell"}  # myst-nb's folds of a cell of its own


def test_each_solution_folds_its_prose_code_and_outputs_into_one_dropdown():
    """One fold per solution: a {solution} dropdown, or a gated one (solution-start with `:class: dropdown` ...
    solution-end) around every solution code cell, so that the code's outputs (the answer) fold with it; no solution
    cell folds on its own, and every cell inside a gate is a solution cell (the student edition drops them all)."""
    problems, solution_code = [], 0
    for path in _notebooks():
        gate = None  # the label of the gated solution open at this cell
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            where = f"{path.name} cell {index}"
            tagged = book.is_solution(cell)
            folds = FOLDS & set(cell.metadata.get("tags", []))
            if tagged and folds:
                problems.append(f"{where}: a solution cell with a fold of its own ({', '.join(sorted(folds))})")
            start, end = GATE_START.match(cell.source), GATE_END.match(cell.source)
            if cell.cell_type == "markdown" and re.match(r"^(`{3,}|:{3,})\{solution(?:-start)?\}", cell.source):
                if not re.search(r"^:class: dropdown$", cell.source, re.MULTILINE):
                    problems.append(f"{where}: a solution that is not a dropdown")
            if start and not is_gate_marker(cell):
                problems.append(f"{where}: a solution-start with text of its own, which sphinx-exercise drops")
            if start:
                if gate:
                    problems.append(f"{where}: solution {start.group(2)} opens inside solution {gate}")
                gate = start.group(2)
            elif end:
                if not gate:
                    problems.append(f"{where}: a solution-end with no solution open")
                gate = None
            elif gate and not tagged:
                problems.append(f"{where}: an untagged cell inside solution {gate}")
            elif tagged and cell.cell_type == "code":
                solution_code += 1
                if not gate:
                    problems.append(f"{where}: solution code outside a gated solution (its output would show)")
        if gate:
            problems.append(f"{path.name}: solution {gate} is never closed")
    assert solution_code > 0, "no solution code found: the test would prove nothing"
    assert not problems, "\n".join(problems)


def test_student_edition_keeps_every_exercise(student_edition):
    labels = {
        path.stem: [
            label
            for _, label in EXERCISE_LABEL.findall(
                "\n".join(
                    cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"
                )
            )
        ]
        for path in _notebooks()
    }
    assert sum(map(len, labels.values())) >= 20, f"too few exercises found to prove anything: {labels}"
    missing = [
        f"{page}: {label}"
        for page, page_labels in labels.items()
        for label in page_labels
        if f'id="{label}"' not in (student_edition / "html" / "chapters" / f"{page}.html").read_text(encoding="utf-8")
    ]
    assert not missing, f"exercises missing from the student edition: {missing}"


CHAPTERS_WITH_SOLUTIONS = [path for path in WITH_SOLUTIONS if path.stem[:2].isdigit()]


@pytest.mark.parametrize("path", CHAPTERS_WITH_SOLUTIONS, ids=lambda path: path.stem)
def test_a_chapter_keeps_its_reference_solutions_after_its_exercises(path):
    """So a chapter handed out is the opening of the notebook the build runs, and that run is a student's run of it."""
    assert solutions_come_last(path), (
        f"{path.name}: a code cell that is not a solution follows a reference solution; "
        "keep the reference solutions after all the exercises"
    )


@pytest.mark.parametrize(
    "path", [path for path in WITH_SOLUTIONS if path not in RUN_AS_HANDED_OUT], ids=lambda path: path.stem
)
def test_a_notebook_not_run_as_handed_out_has_the_code_of_the_opening_of_its_source(path, student_edition):
    """What lets the build's run of the source stand for a student's run of the handed-out notebook (see
    conftest.solutions_come_last), checked on the notebook the student edition hands out."""
    handed_out = student_edition / "notebooks" / "chapters" / path.name
    source_code = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    student_code = [cell.source for cell in nbformat.read(handed_out, as_version=4).cells if cell.cell_type == "code"]
    assert 0 < len(student_code) < len(source_code), (
        f"{path.name}: {len(student_code)} of {len(source_code)} code cells handed out"
    )
    assert student_code == source_code[: len(student_code)], (
        f"{path.name}: the handed-out code is not the opening of the source's"
    )


def test_markdown_pages_hold_no_solutions():
    for path in sorted(CHAPTERS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert "{solution}" not in text and SENTINEL not in text, (
            f"{path.name}: solutions belong in tagged notebook cells"
        )


def _files_containing(folder: Path, needle: str) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path.relative_to(folder)))
    return found


def test_student_edition_contains_no_solution_anywhere(student_edition):
    leaks = _files_containing(student_edition / "html", SENTINEL) + _files_containing(
        student_edition / "notebooks", SENTINEL
    )
    assert not leaks, f"solutions leaked into the student edition: {leaks}"
    # The scan above covers these too; make sure they exist, so that it really did.
    assert (student_edition / "html" / "searchindex.js").is_file()
    assert any((student_edition / "html" / "_sources").rglob("*.ipynb")), (
        "no downloadable notebook sources were scanned"
    )


def test_instructor_edition_shows_the_solutions(built_book):
    pages_with_solutions = _files_containing(built_book, SENTINEL)
    for path in WITH_SOLUTIONS:
        assert f"chapters/{path.stem}.html" in pages_with_solutions, (
            f"{path.stem}: solution missing from the instructor page"
        )


def test_instructor_guide_is_only_in_the_instructor_edition(built_book, student_edition):
    assert (built_book / "chapters" / "instructor_guide.html").is_file()
    assert not (student_edition / "html" / "chapters" / "instructor_guide.html").exists()
    assert not _files_containing(student_edition / "html", "instructor_guide.html")


def test_handed_out_notebooks_have_what_the_loader_needs(student_edition):
    handout = student_edition / "notebooks" / "chapters"
    result = subprocess.run(
        [sys.executable, "-c", "import bookdata; print(len(bookdata.load('claims')))"],
        cwd=handout,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"the student notebooks cannot load data next to them:\n{result.stderr[-2000:]}"
    assert int(result.stdout) > 0


def _shown(output) -> dict:
    """What a reader sees of an output (its metadata and prompt numbers aside)."""
    return {key: output[key] for key in ("output_type", "name", "text", "data", "ename", "evalue") if key in output}


@pytest.mark.parametrize("path", RUN_AS_HANDED_OUT, ids=lambda path: path.stem)
def test_student_pages_show_the_outputs_a_student_run_produces(path, built_book, handout_runs):
    """The student edition reuses the instructor edition's executions, with solution cells and check verdicts
    taken off the page; so every other output must be what the notebook without solutions produces by itself.
    (For the other notebooks the two runs are one: see the test above on the opening of the source.)"""
    # built_book first: this worker builds the editions while the worker with test_assignments.py runs the handouts.
    shown_cells = [
        cell
        for cell in executed(BUILD_CACHE, path, "the build").cells
        if cell.cell_type == "code" and not book.is_solution(cell)
    ]
    student_cells = [
        cell
        for cell in executed(handout_runs, HANDOUT / "chapters" / path.name, "running the handed-out notebook").cells
        if cell.cell_type == "code"
    ]
    assert len(shown_cells) == len(student_cells) > 0
    differing = [
        index
        for index, (shown, student) in enumerate(zip(shown_cells, student_cells))
        if not CHECK_CALL.search(shown.source)
        and [_shown(output) for output in shown.outputs] != [_shown(output) for output in student.outputs]
    ]
    assert not differing, (
        f"{path.name}: code cells {differing} (counting cells without solutions) show outputs "
        "in the student edition that the student notebook does not produce"
    )


def test_student_pages_hide_the_checks_verdicts(student_edition):
    html = (student_edition / "html" / "chapters" / "assignment_2_energy_flows.html").read_text(encoding="utf-8")
    page = re.sub(r"<[^>]+>", "", html)
    assert "bookdata.check(" in page, "the check cells should still be on the page, for students to run"
    assert "✅ Q1" not in page and "⏳ Q1" not in page, "a check's verdict is on the student page"
