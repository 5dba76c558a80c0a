"""The otter-grader autograders (issue 19, part 7).

`python3 grading/autograder.py` builds one autograder per assignment from the instructor notebooks. Graded with
`otter run` (no Docker, no installation, proxies pointed at a closed port), the instructor notebook gets full marks
and the notebook a student is handed out, untouched, gets zero. The comparison behind the hidden tests accepts
another correct form of an answer and refuses a wrong one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from conftest import CHAPTERS, ROOT

sys.path.insert(0, str(ROOT / "grading"))
import reference  # noqa: E402  (grading/reference.py: the comparison the hidden tests make)

ASSIGNMENTS = sorted(CHAPTERS.glob("assignment_*.ipynb"))
OFFLINE = {name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}


def otter_run(autograder: Path, notebook: Path, output: Path) -> list[dict]:
    """The scored tests of `otter run` on one notebook."""
    output.mkdir(parents=True)
    command = [Path(sys.executable).with_name("otter"), "run", "--no-logo", "-a", autograder, "-o", output, notebook]
    run = subprocess.run(command, env={**os.environ, **OFFLINE}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"otter run failed on {notebook}:\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
    return [test for test in json.loads((output / "results.json").read_text())["tests"] if "max_score" in test]


@pytest.fixture(scope="session")
def grades(student_edition, tmp_path_factory) -> dict[tuple[str, str], list[dict]]:
    """The scored tests of each run, by (assignment, "instructor" or "student"). The autograders are built with the
    documented command; the six runs go two at a time (the suite runs on two cores)."""
    subprocess.run([sys.executable, ROOT / "grading" / "autograder.py"], check=True)
    folder = tmp_path_factory.mktemp("grading")
    runs = {}
    for path in ASSIGNMENTS:
        student = student_edition / "notebooks" / "chapters" / path.name  # the notebook handed out, blank
        autograder = ROOT / "_build" / "autograder" / path.stem / "autograder.zip"
        for kind, notebook in (("instructor", path), ("student", student)):
            runs[(path.stem, kind)] = (autograder, notebook, folder / path.stem / kind)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(otter_run, *run) for key, run in runs.items()}
    return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=lambda path: path.stem)
def test_otter_gives_the_reference_solutions_full_marks_and_a_blank_notebook_zero(grades, path):
    instructor, student = grades[(path.stem, "instructor")], grades[(path.stem, "student")]
    assert len(instructor) >= 3, f"too few coded questions graded: {instructor}"
    assert {test["visibility"] for test in instructor} == {"after_published"}, "students see a result before grades"
    lost = {test["name"]: test["output"] for test in instructor if test["score"] != test["max_score"]}
    assert not lost, f"the reference solutions lose marks: {lost}"
    scored = {test["name"]: test["output"] for test in student if test["score"]}
    assert not scored, f"the blank student notebook scores: {scored}"
    assert [test["name"] for test in student] == [test["name"] for test in instructor]


def test_another_correct_form_of_an_answer_matches_and_a_wrong_one_does_not():
    counts = pd.Series([3, 5], index=pd.Index(["attribution", "fact"], name="kind"), name="count")
    assert reference.difference(counts.sort_values().rename(None), counts, 0.5) is None  # another order and name
    assert reference.difference(counts.astype(float) + 0.4, counts, 0.5) is None  # within the rounding of the check
    assert reference.difference(counts + 1, counts, 0.5) == "2 value(s) differ"
    assert reference.difference(counts.to_frame(), counts, 0.5) == "expected a Series, got a DataFrame"
    rows = pd.DataFrame({"claim_id": ["C01", "C04"], "verdict": ["supported", "contested"]}, index=[0, 3])
    assert reference.difference(rows.reset_index(drop=True), rows, 0.05) is None  # row numbers are not the answer
    assert "columns" in reference.difference(rows[["claim_id"]], rows, 0.05)
    years = pd.Series([1.0, None, 2.5], index=pd.Index([2019, 2020, 2021], name="year"))
    assert reference.difference(years.fillna(0), years, 0.05).startswith("missing values")
    assert reference.difference(years.iloc[:2], years, 0.05).startswith("the index is")
    assert reference.difference([2015, 2020], [2015, 2020], 0.5) is None
    assert reference.difference(pd.Series([2015, 2020]), [2015, 2020], 0.5) == "expected a list, got a Series"
    assert reference.difference(41.96, 42.0, 0.05) is None and reference.difference(41.9, 42.0, 0.05)
