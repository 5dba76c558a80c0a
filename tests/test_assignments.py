"""The assignments: one source, two editions, and formative checks that never give the answer away.

- The instructor notebooks (with their reference solutions) pass every check.
- The student notebooks (the handed-out copies, without solution cells) run without error and
  every check says "not yet done".
- bookdata.check and friends: right value ✅, starter ⏳, wrong value ❌ without showing the answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from jupyter_cache import get_cache  # noqa: E402

import bookdata  # noqa: E402
from conftest import BUILD_CACHE, CHAPTERS, CHECK_CALL, FAILURES, HANDOUT, book  # noqa: E402  (book: book.py)

ASSIGNMENTS = sorted(CHAPTERS.glob("assignment_*.ipynb"))
CHECK_LINE = re.compile(r"^(✅|⏳|❌) (\S+?)(?::| looks right)(.*)$")
MARKER = "Reference solution"
# A gated solution (sphinx-exercise): a cell that opens it (which may hold the solution's prose), its code cells, and a
# cell that closes it; in the instructor edition they fold into one dropdown.
GATE_START = re.compile(r"^(`{3,})\{solution-start\} (\S+)\n")
GATE_END = re.compile(r"^(`{3,})\{solution-end\}\n\1\s*$")
BARE_GATE_START = re.compile(r"^(`{3,})\{solution-start\} \S+\n(?::[^\n]*\n)*\1\s*$")


def is_gate_marker(cell) -> bool:
    """Whether ``cell`` only opens or closes a gated solution: it holds no solution text, so no MARKER either."""
    return cell.cell_type == "markdown" and bool(GATE_END.match(cell.source) or BARE_GATE_START.match(cell.source))


def executed(cache_path: Path, path: Path, by: str):
    """The notebook at ``path`` as it was executed, read from a jupyter-cache (so it is not run twice).

    The cache matches on code cells. A notebook that could not be executed is not in the cache: that fails here,
    with the notebook's error when the run recorded it (nbval reports its own failures).
    """
    cache = get_cache(cache_path)
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        failures = cache_path / FAILURES
        error = json.loads(failures.read_text()).get(path.name, "") if failures.exists() else ""
        pytest.fail(
            f"{by} did not execute {path} successfully (no entry in {cache_path})" + (f":\n{error}" if error else "")
        )
    return cache.get_cache_bundle(record.pk).nb


def _check_calls(notebook) -> int:
    return sum(
        len(CHECK_CALL.findall(cell.source))
        for cell in notebook.cells
        if cell.cell_type == "code" and not book.is_solution(cell)
    )


def _check_lines(notebook) -> list[re.Match]:
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                match = CHECK_LINE.match(line)
                if match:
                    lines.append(match)
    return lines


@pytest.fixture(scope="module", params=ASSIGNMENTS, ids=lambda path: path.stem)
def editions(request, handout_runs, built_book):
    """Each assignment: (source, the run the book shows, a student's run of the handed-out notebook)."""
    source = nbformat.read(request.param, as_version=4)
    return (
        request.param,
        source,
        executed(BUILD_CACHE, request.param, "the build"),
        executed(handout_runs, HANDOUT / "chapters" / request.param.name, "running the handed-out notebook"),
    )


def test_a_notebook_missing_from_a_run_is_named_with_its_error(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()  # an empty cache: the notebook did not execute
    (cache / FAILURES).write_text(json.dumps({ASSIGNMENTS[0].name: "CellExecutionError: planted in cell 3"}))
    with pytest.raises(pytest.fail.Exception) as failure:
        executed(cache, ASSIGNMENTS[0], "running the handed-out notebook")
    assert ASSIGNMENTS[0].name in str(failure.value) and "planted in cell 3" in str(failure.value)


def test_there_are_three_assignment_notebooks():
    assert [path.stem for path in ASSIGNMENTS] == [
        "assignment_1_verify_claim",
        "assignment_2_energy_flows",
        "assignment_3_policy_memo",
    ]


# ---- The two editions --------------------------------------------------------------------------------------


def test_instructor_notebook_passes_every_check(editions):
    path, source, instructor, _ = editions
    lines = _check_lines(instructor)
    assert len(lines) == _check_calls(source) > 0, (
        f"{path.name}: {len(lines)} check lines for {_check_calls(source)} checks"
    )
    not_passed = [match.group(0) for match in lines if match.group(1) != "✅"]
    assert not not_passed, f"{path.name}: the reference solutions fail these checks: {not_passed}"


def test_student_notebook_runs_and_every_check_says_not_yet_done(editions):
    path, source, _, student = editions
    lines = _check_lines(student)
    assert len(lines) == _check_calls(source), (
        f"{path.name}: {len(lines)} check lines for {_check_calls(source)} checks"
    )
    not_pending = [match.group(0) for match in lines if match.group(0) != f"⏳ {match.group(2)}: not yet done"]
    assert not not_pending, f"{path.name}: checks that are not 'not yet done' in the student edition: {not_pending}"


def test_student_notebook_holds_no_solution(editions):
    path, _, _, student = editions
    leaks = [index for index, cell in enumerate(student.cells) if MARKER in cell.source or book.is_solution(cell)]
    assert not leaks, f"{path.name}: student edition cells {leaks} still carry a solution"


def test_student_notebook_prints_no_reference_answer(editions):
    path, _, _, student = editions
    outputs = "\n".join(output.get("text", "") for cell in student.cells for output in cell.get("outputs", []))
    assert "✅" not in outputs and "❌" not in outputs, f"{path.name}: the student edition judged an answer"


def test_solution_cells_are_marked_and_only_they_are(editions):
    path, source, _, _ = editions
    solutions = [cell for cell in source.cells if book.is_solution(cell)]
    assert solutions, f"{path.name}: no solution cells"
    unmarked = [cell.source[:60] for cell in solutions if MARKER not in cell.source and not is_gate_marker(cell)]
    marked_elsewhere = [
        cell.source[:60] for cell in source.cells if not book.is_solution(cell) and MARKER in cell.source
    ]
    assert not unmarked, f"{path.name}: solution cells without '{MARKER}': {unmarked}"
    assert not marked_elsewhere, f"{path.name}: non-solution cells mention '{MARKER}': {marked_elsewhere}"
    for cell in solutions:
        if cell.cell_type == "code":
            assert cell.source.startswith(f"# {MARKER}"), f"{path.name}: {cell.source[:60]!r}"
            assert "hide-input" not in cell.metadata["tags"], (
                f"{path.name}: solution code folded on its own, outside its solution's dropdown: {cell.source[:60]!r}"
            )


def test_each_reference_solution_comes_before_the_check_it_feeds(editions):
    path, source, _, _ = editions
    last_check = max(
        index for index, cell in enumerate(source.cells) if cell.cell_type == "code" and CHECK_CALL.search(cell.source)
    )
    late = [
        index
        for index, cell in enumerate(source.cells)
        if cell.cell_type == "code" and book.is_solution(cell) and index > last_check
    ]
    assert not late, f"{path.name}: solution code cells {late} come after the last check, so no check tests them"


def test_instructor_guide_is_instructor_only_and_no_student_page_links_to_it():
    assert "chapters/instructor_guide" in book.INSTRUCTOR_ONLY
    pages = [path for path in CHAPTERS.glob("*.md") if path.stem != "instructor_guide"]
    pages += [path for path in CHAPTERS.glob("*.ipynb")]
    linking = [path.name for path in pages if "instructor_guide" in path.read_text(encoding="utf-8")]
    assert not linking, f"these pages link to the instructor guide, which the student edition drops: {linking}"


# ---- bookdata.check ----------------------------------------------------------------------------------------

RIGHT = 45.63
RIGHT_PRINT = bookdata.fingerprint_of(RIGHT)


def test_right_value_gets_a_tick(capsys):
    assert bookdata.check("Q1", 45.6, fingerprint=RIGHT_PRINT) is True
    assert capsys.readouterr().out.strip() == "✅ Q1 looks right"


def test_value_within_the_rounding_tolerance_is_accepted(capsys):
    assert bookdata.check("Q1", 45.6349, fingerprint=RIGHT_PRINT)
    assert bookdata.check("Q1", 45.58, fingerprint=RIGHT_PRINT)
    assert not bookdata.check("Q1", 45.7, fingerprint=RIGHT_PRINT)


def test_wrong_value_gets_a_cross_without_the_right_value(capsys):
    assert bookdata.check("Q1", 12.0, fingerprint=RIGHT_PRINT, hint="Check the years.") is False
    out = capsys.readouterr().out
    assert out.startswith("❌ Q1:") and "Check the years." in out
    for shown in ("45.6", "45.63", "46"):
        assert shown not in out, f"the feedback reveals the answer: {out!r}"


@pytest.mark.parametrize("starter", [..., None, "", "   \n"], ids=["ellipsis", "none", "empty", "blank"])
def test_untouched_starter_is_not_yet_done(capsys, starter):
    assert bookdata.check("Q3", starter, fingerprint=RIGHT_PRINT) is False
    assert capsys.readouterr().out.strip() == "⏳ Q3: not yet done"


def test_table_without_a_required_column_is_named(capsys):
    table = pd.DataFrame({"year": [2023, 2024], "value_usd_bn": [240.1, 244.8]})
    assert bookdata.check("Q2", table, columns=["year", "value_usd_bn", "source"]) is False
    out = capsys.readouterr().out
    assert out.startswith("❌ Q2:") and "'source'" in out


def test_table_of_the_wrong_shape_or_missing_rows_is_flagged(capsys):
    series = pd.Series([1.0, 2.0], index=[2022, 2023])
    assert not bookdata.check("Q4", series, shape=(3, None))
    assert "expected 3 rows, got 2" in capsys.readouterr().out
    assert not bookdata.check("Q4", series, rows=[2022, 2023, 2024])
    assert "2024" in capsys.readouterr().out


def test_table_fingerprint_counts_only_the_asked_rows_and_columns_in_any_order(capsys):
    expected = pd.DataFrame({"Russia": [86.25, 107.0], "Saudi Arabia": [87.49, 85.96]}, index=[2022, 2023])
    fingerprint = bookdata.fingerprint_of(expected, columns=["Russia", "Saudi Arabia"], rows=[2022, 2023])
    answer = expected.reindex([2021, 2023, 2022])[["Saudi Arabia", "Russia"]].assign(extra=1)
    assert bookdata.check("Q5", answer, columns=["Russia", "Saudi Arabia"], rows=[2022, 2023], fingerprint=fingerprint)
    answer.loc[2023, "Russia"] = 100.0
    assert not bookdata.check(
        "Q5", answer, columns=["Russia", "Saudi Arabia"], rows=[2022, 2023], fingerprint=fingerprint
    )


def test_missing_values_must_stay_missing(capsys):
    fingerprint = bookdata.fingerprint_of(pd.Series([32.2, float("nan")], index=[2003, 2005]))
    assert bookdata.check("Q6", pd.Series([32.2, pd.NA], index=[2003, 2005], dtype="Float64"), fingerprint=fingerprint)
    assert not bookdata.check("Q6", pd.Series([32.2, 84.6], index=[2003, 2005]), fingerprint=fingerprint)


def test_answer_outside_the_choices_lists_them(capsys):
    assert bookdata.check("Q7", " Partly  Supported", choices=["supported", "partly supported"])
    assert not bookdata.check("Q7", "mostly true", choices=["supported", "partly supported"])
    assert "supported, partly supported" in capsys.readouterr().out


def test_text_check_counts_words_up_to_the_source_list(capsys):
    memo = "word " * 850 + "\nSources\n" + "reference " * 400
    assert bookdata.check_text("M1", memo, min_words=800, max_words=1000, must_include=["word"])
    assert "(850 words)" in capsys.readouterr().out
    assert not bookdata.check_text("M1", "word " * 100, min_words=800)
    assert "100 words" in capsys.readouterr().out
    assert not bookdata.check_text("M1", memo, min_words=800, must_include=["Recommendation"])
    assert "'Recommendation'" in capsys.readouterr().out


def test_figure_check_asks_for_a_labelled_axis_and_a_source_line(capsys):
    figure, axes = plt.subplots()
    axes.bar([2023, 2024], [1, 2])
    assert not bookdata.check_figure("Q8", figure)
    assert "y axis" in capsys.readouterr().out
    axes.set_ylabel("Million tonnes")
    assert not bookdata.check_figure("Q8", figure)
    assert "source line" in capsys.readouterr().out
    bookdata.source_line(figure, "China's customs")
    assert bookdata.check_figure("Q8", figure)
    assert not bookdata.check_figure("Q8", figure, min_series=2)
    plt.close(figure)
