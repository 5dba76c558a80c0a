"""The assignments: one source, two editions, and formative checks that never give the answer away.

- The instructor notebooks (with their reference solutions) pass every check.
- The student notebooks (the handed-out copies, without solution cells) run without error and
  every check says "not yet done".
- bookdata.check and friends: right value ✅, starter ⏳, wrong value ❌ without printing the answer; each wrong answer
  of issue 19 (an empty or whole table, a missing `confidence`, filler with the keywords, a list for a word, a padded memo
  skeleton, a DataFrame for a Series, a source line over the tick labels) fails its check with a hint naming the problem.
"""

from __future__ import annotations

import ast
import hashlib
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
RIGHT_PRINT = bookdata.fingerprint_of(RIGHT, question="Q1")


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
    fingerprint = bookdata.fingerprint_of(
        expected, question="Q5", columns=["Russia", "Saudi Arabia"], rows=[2022, 2023]
    )
    answer = expected.reindex([2021, 2023, 2022])[["Saudi Arabia", "Russia"]].assign(extra=1)
    assert bookdata.check("Q5", answer, columns=["Russia", "Saudi Arabia"], rows=[2022, 2023], fingerprint=fingerprint)
    answer.loc[2023, "Russia"] = 100.0
    assert not bookdata.check(
        "Q5", answer, columns=["Russia", "Saudi Arabia"], rows=[2022, 2023], fingerprint=fingerprint
    )


def test_missing_values_must_stay_missing(capsys):
    fingerprint = bookdata.fingerprint_of(pd.Series([32.2, float("nan")], index=[2003, 2005]), question="Q6")
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


def test_source_line_says_source_once_when_the_text_starts_with_it():
    figure, axes = plt.subplots()
    axes.plot([2016, 2024], [1, 2])
    bookdata.source_line(figure, "Source: China's customs (GAC)")
    assert [text.get_text() for text in figure.texts] == ["Source: China's customs (GAC)"]
    plt.close(figure)


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


# ---- Each wrong answer of issue 19 fails the check that the notebook calls -----------------------------------

A1, A3 = ASSIGNMENTS[0], ASSIGNMENTS[2]
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split()


def filler(words: int) -> str:
    return " ".join(FILLER[index % len(FILLER)] for index in range(words))


def notebook_check(path: Path, question_id: str):
    """The check function and the literal arguments of the call for ``question_id`` in the notebook at ``path``
    (names such as VERDICTS, which only the notebook defines, are left out)."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or book.is_solution(cell) or not CHECK_CALL.search(cell.source):
            continue
        for statement in ast.parse(cell.source).body:
            call = statement.value
            if call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value == question_id:
                arguments = {}
                for keyword in call.keywords:
                    try:
                        arguments[keyword.arg] = eval(ast.unparse(keyword.value), {"list": list, "range": range})
                    except NameError:
                        continue
                return getattr(bookdata, call.func.attr), arguments
    raise AssertionError(f"{path.name}: no check call for {question_id}")


def feedback(capsys, path: Path, question_id: str, answer, **extra) -> tuple[bool, str]:
    """Run the notebook's own check of ``question_id`` on ``answer``: (its result, the line it printed)."""
    function, arguments = notebook_check(path, question_id)
    result = function(question_id, answer, **(arguments | extra))
    return result, capsys.readouterr().out.strip()


@pytest.fixture(scope="module")
def ledger():
    return bookdata.load("claims")


@pytest.fixture(scope="module")
def crude_evidence():
    """The reference evidence of A1 Q8: China's crude imports from its main suppliers, 2021-2024."""
    crude = bookdata.load("china_crude_imports")
    return crude[crude["supplier"].isin(["Russia", "Saudi Arabia", "total"]) & crude["year"].between(2021, 2024)]


def test_a1_q8_accepts_rows_of_a_dataset_with_source_and_confidence(capsys, crude_evidence):
    passed, line = feedback(capsys, A1, "Q8", crude_evidence)
    assert passed, line
    assert "form" in line and "instructor" in line, f"the evidence check does not call itself a form check: {line}"
    pipeline = bookdata.load("power_of_siberia")  # no confidence column: none to keep
    assert feedback(capsys, A1, "Q8", pipeline.iloc[:3])[0]


def test_a1_q8_empty_table_with_a_source_column_fails(capsys):
    passed, line = feedback(capsys, A1, "Q8", pd.DataFrame({"source": pd.Series([], dtype="string")}))
    assert not passed and "empty" in line, line


def test_a1_q8_the_whole_ledger_fails(capsys, ledger):
    passed, line = feedback(capsys, A1, "Q8", ledger)
    assert not passed and "claims ledger" in line, line
    passed, line = feedback(capsys, A1, "Q8", ledger[ledger["claim_id"] == "C08"])
    assert not passed and "claims ledger" in line, line


def test_a1_q8_a_whole_dataset_fails(capsys):
    passed, line = feedback(capsys, A1, "Q8", bookdata.load("china_crude_imports"))
    assert not passed and "every row of the dataset 'china_crude_imports'" in line, line


def test_a1_q8_evidence_without_confidence_fails(capsys, crude_evidence):
    passed, line = feedback(capsys, A1, "Q8", crude_evidence.drop(columns="confidence"))
    assert not passed and "'confidence'" in line, line


def test_a1_q8_changed_values_are_not_evidence(capsys, crude_evidence):
    changed = crude_evidence.assign(crude_imports_mt=crude_evidence["crude_imports_mt"] * 2)
    passed, line = feedback(capsys, A1, "Q8", changed)
    assert not passed and "not rows of any dataset" in line, line


VERDICT_BOX = """
Claim. The relationship "has only continued to grow in the past year" (C42, paragraph 7 of the case reading).
Evidence. China's customs recorded trade with Russia of 146.9 billion dollars in 2021 and 190.3 billion in 2022, a rise
of about 30 per cent, and the rise continued in 2023. All three figures are rated high confidence in the dataset. Trade
fell in 2015 and 2020, but not in or after 2021.
Verdict. Supported: for "the past year" (2022) the growth is large and well documented, although "only" would be wrong
as a statement about the whole period since 2011.
What would change it. A revised customs series showing a fall in 2022, or a reading of "the past year" as a longer
period that includes 2020.
"""


@pytest.mark.parametrize("question_id", ["Q6b", "Q9b"])
def test_a1_verdict_box_filler_with_the_keywords_fails(capsys, question_id):
    _, arguments = notebook_check(A1, question_id)
    words = arguments["min_words"] + 20
    keywords = "These claims need evidence and a verdict, and what would change it matters. "
    passed, line = feedback(capsys, A1, question_id, keywords + filler(words))
    assert not passed and "no part labelled" in line, line
    assert "form check" in line and "instructor" in line, line
    # "claims" is not the label "Claim"
    plural = VERDICT_BOX.replace("Claim.", "Claims.") + filler(40)
    passed, line = feedback(capsys, A1, question_id, plural)
    assert not passed and "'Claim'" in line, line
    # labels at the starts of lines, but with no content of their own
    empty_parts = "Claim.\nEvidence.\nVerdict.\nWhat would change it. " + filler(words)
    passed, line = feedback(capsys, A1, question_id, empty_parts)
    assert not passed and "'Claim' has 0 words of its own" in line, line


def test_a1_verdict_box_with_four_labelled_parts_passes(capsys):
    passed, line = feedback(capsys, A1, "Q6b", VERDICT_BOX)
    assert passed and "form" in line and "instructor" in line, line
    bold = re.sub(r"^(Claim|Evidence|Verdict|What would change it)\.", r"**\1**\n", VERDICT_BOX, flags=re.MULTILINE)
    assert feedback(capsys, A1, "Q6b", bold)[0]


def test_a1_bold_labels_followed_by_their_text_on_the_same_line_pass(capsys):
    """The page's example label, "**Claim**", with the part's text after it on its line; a plain word does not
    count as a label without its full stop or colon."""
    labels = r"^(Claim|Evidence|Verdict|What would change it)\."
    for emphasis in ("**", "__", "_"):
        emphasised = re.sub(labels, emphasis + r"\1" + emphasis, VERDICT_BOX, flags=re.MULTILINE)
        passed, line = feedback(capsys, A1, "Q6b", emphasised)
        assert passed, f"{emphasis}Claim{emphasis}: {line}"
    plain = re.sub(labels, r"\1", VERDICT_BOX, flags=re.MULTILINE)
    passed, line = feedback(capsys, A1, "Q6b", plain)
    assert not passed and "no part labelled" in line, line


@pytest.mark.parametrize("question_id", ["Q6a", "Q9a"])
def test_a1_a_list_is_not_a_verdict(capsys, question_id):
    verdicts = next(field for field in bookdata.resource("claims")["schema"]["fields"] if field["name"] == "verdict")
    choices = verdicts["constraints"]["enum"]
    assert feedback(capsys, A1, question_id, choices[0], choices=choices)[0]
    passed, line = feedback(capsys, A1, question_id, [choices[0]], choices=choices)
    assert not passed and "this is a list" in line, line


def memo_skeleton() -> str:
    text = next(cell.source for cell in nbformat.read(A3, as_version=4).cells if "MEMORANDUM" in cell.source)
    return re.search(r"```markdown\n(.*?)```", text, flags=re.DOTALL).group(1)


def test_a3_memo_skeleton_padded_with_850_filler_words_fails(capsys):
    skeleton = memo_skeleton()
    for heading in ("**Bottom line**", "**Sources**"):  # all the padding in one place, or after the last heading
        passed, line = feedback(capsys, A3, "M1", skeleton.replace(heading, heading + "\n" + filler(850)))
        assert not passed and "words of its own" in line, line
        assert "form check" in line and "instructor" in line, line


def test_a3_memo_with_every_section_written_passes_and_out_of_order_fails(capsys):
    _, arguments = notebook_check(A3, "M1")
    sections = {label: filler(max(least, 10) + 40) for label, least in arguments["parts"].items()}
    memo = "MEMORANDUM\n\n" + "\n\n".join(f"**{label}**\n{text}" for label, text in sections.items())
    passed, line = feedback(capsys, A3, "M1", memo)
    assert passed, line
    swapped = (
        memo.replace("**Options**", "**Swap**")
        .replace("**Evidence**", "**Options**")
        .replace("**Swap**", "**Evidence**")
    )
    passed, line = feedback(capsys, A3, "M1", swapped)
    assert not passed and "order" in line, line


def test_a1_q4_without_the_missing_years_gets_the_hint_to_reindex(capsys):
    """The likeliest slip, pct_change on the years published: the row count and what to do about it."""
    trade = bookdata.load("china_russia_trade")
    total = trade.query("flow == 'total'").set_index("year")["value_usd_bn"]
    passed, line = feedback(capsys, A1, "Q4", total.pct_change() * 100)
    assert not passed and "rows" in line and "eindex" in line, line


def test_a1_q3_one_column_dataframe_is_named_as_such(capsys):
    trade = bookdata.load("china_russia_trade")
    total = trade.query("flow == 'total'").set_index("year")
    passed, line = feedback(capsys, A1, "Q3", total[["value_usd_bn"]])
    assert not passed and "DataFrame with one column" in line and "Series" in line, line
    assert "Filter on flow" not in line, f"the hint names the wrong mistake: {line}"
    passed, line = feedback(capsys, A1, "Q3", total["value_usd_bn"].tolist())
    assert not passed and "this is a list" in line and "Series" in line, line


def test_a1_q5_a_series_for_a_list_of_years_is_named_as_such(capsys):
    growth = pd.Series([-10.0, 5.0, -2.9], index=[2015, 2016, 2020])
    passed, line = feedback(capsys, A1, "Q5", growth[growth < 0])
    assert not passed and "Series" in line and ".index.tolist()" in line, line


def test_a1_q2_the_whole_ledger_or_an_empty_selection_is_named(capsys, ledger):
    columns = ["claim_id", "paragraph", "quote", "section"]
    passed, line = feedback(capsys, A1, "Q2", ledger[columns])
    assert not passed and "every row of the dataset 'claims'" in line, line
    passed, line = feedback(capsys, A1, "Q2", ledger.loc[ledger["kind"] == "Fact", columns])
    assert not passed and "empty" in line, line


def test_a3_q2_a_table_for_a_number_is_named(capsys):
    passed, line = feedback(capsys, A3, "Q2", pd.Series([2]))
    assert not passed and "float(" in line, line


def test_fingerprints_are_salted_so_a_table_of_hashes_of_small_numbers_finds_none():
    assert bookdata.fingerprint_of(2, 0, question="Q2") != hashlib.sha256(b"2").hexdigest()
    assert bookdata.fingerprint_of(2, 0, question="Q2") != bookdata.fingerprint_of(2, 0, question="Q3")
    table = {
        hashlib.sha256(text.encode()).hexdigest()
        for number in range(-1000, 10001)
        for text in (str(number), f"{number}.0", f"{number}.00", f"{number / 10:.1f}")
    }
    sources = [cell.source for path in ASSIGNMENTS for cell in nbformat.read(path, as_version=4).cells]
    stored = {match for source in sources for match in re.findall(r'fingerprint="([0-9a-f]{64})"', source)}
    assert stored and not stored & table


def test_no_page_says_the_fingerprint_cannot_be_reversed():
    pages = [*CHAPTERS.glob("*.md"), *CHAPTERS.glob("*.ipynb")]
    claims = [path.name for path in pages if re.search(r"never shows?\b", path.read_text(encoding="utf-8"))]
    assert not claims, f"these pages say the check never shows the answer, which trial can find: {claims}"


def test_figure_check_fails_when_the_source_line_overlaps_the_tick_labels(capsys):
    figure, axes = plt.subplots(figsize=(6.5, 4), layout="constrained")
    axes.plot([2016, 2024], [1, 2], label="Russia")
    axes.plot([2016, 2024], [2, 1], label="Saudi Arabia")
    axes.set_ylabel("Million tonnes")
    axes.legend()
    figure.text(0.01, 0.005, "Source: China's customs (GAC)", ha="left", va="bottom", fontsize=10)  # no room kept
    assert not bookdata.check_figure("Q2", figure, min_series=2, legend=True)
    line = capsys.readouterr().out
    assert "overlaps" in line and "tick labels" in line, line
    figure.get_layout_engine().set(rect=(0, 0.08, 1, 0.92))  # the axes above the source line
    assert bookdata.check_figure("Q2", figure, min_series=2, legend=True), capsys.readouterr().out
    plt.close(figure)
