"""The reference answers at grading time, and the comparison of a student's answer with them.

grading/autograder.py puts this module into every autograder, beside reference_solution.py: the opening of the
instructor notebook, up to its last coded question. Otter's hidden tests call `assert_answer`, after the student's
notebook has run; the first call runs the reference solution once, in a namespace of its own, on the data shipped
with the autograder.

An answer matches when it has the reference's type (DataFrame, Series, list or number), the same columns and index
labels (in any order), missing values in the same places, and every number within half a unit of the last decimal
place the formative check compares (its `decimals`). Where the reference's index only numbers the rows of the input
table (no name, integers), rows are matched by their values instead, so that a reset index does not cost the mark.
"""

from __future__ import annotations

import contextlib
import functools
import io
import numbers
import runpy
from pathlib import Path

import pandas as pd

SOLUTION = Path(__file__).resolve().parent / "reference_solution.py"


@functools.cache
def reference() -> dict:
    """The variables of the reference solution (its printed output is discarded)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    with contextlib.redirect_stdout(io.StringIO()):
        namespace = runpy.run_path(str(SOLUTION), init_globals={"display": display})
    plt.close("all")
    return namespace


def assert_answered(env: dict, name: str) -> None:
    """Fail unless the notebook gives `name` a value other than the starter's `...` (the public, 0-point test)."""
    assert name in env, f"the notebook defines no variable {name}"
    assert env[name] is not ..., f"{name} is not answered (it is still ...)"


def assert_answer(env: dict, name: str, decimals: int) -> None:
    """Fail (AssertionError, with the reason) unless the student's variable `name` matches the reference's."""
    assert_answered(env, name)
    problem = difference(env[name], reference()[name], 0.5 * 10.0**-decimals)
    assert problem is None, f"{name}: {problem}"


def difference(answer, expected, tolerance: float) -> str | None:
    """What differs between `answer` and `expected`, or None."""
    kinds = [kind for kind in (pd.DataFrame, pd.Series, list, numbers.Number) if isinstance(expected, kind)]
    if not kinds:
        raise TypeError(f"no comparison for a reference answer of type {type(expected).__name__}")
    kind = kinds[0]
    if not isinstance(answer, kind) or isinstance(answer, bool):
        return f"expected a {kind.__name__}, got a {type(answer).__name__}"
    if kind is numbers.Number:
        return None if abs(float(answer) - float(expected)) <= tolerance else "the value differs"
    if kind is list:
        return _values_difference(pd.Series(answer), pd.Series(expected), tolerance)
    if kind is pd.Series:
        answer, expected = answer.to_frame("value"), expected.to_frame("value")
    if sorted(map(str, answer.columns)) != sorted(map(str, expected.columns)):
        return f"the columns are {list(answer.columns)}; expected {list(expected.columns)}"
    answer = answer[list(expected.columns)]
    if expected.index.name is None and pd.api.types.is_integer_dtype(expected.index):  # row numbers only
        answer, expected = (
            frame.sort_values(list(frame.columns)).reset_index(drop=True) for frame in (answer, expected)
        )
    answer, expected = answer.sort_index(), expected.sort_index()
    if len(answer) != len(expected) or any(got != want for got, want in zip(answer.index, expected.index)):
        return f"the index is {list(answer.index)}; expected {len(expected)} rows labelled otherwise"
    for column in expected.columns:
        problem = _values_difference(answer[column], expected[column], tolerance)
        if problem:
            return f"column {column!r}: {problem}" if kind is pd.DataFrame else problem
    return None


def _values_difference(answer: pd.Series, expected: pd.Series, tolerance: float) -> str | None:
    if len(answer) != len(expected):
        return f"{len(answer)} values; expected {len(expected)}"
    missing, expected_missing = answer.isna().to_numpy(), expected.isna().to_numpy()
    if (missing != expected_missing).any():
        return "missing values where the reference has values, or the other way round"
    answer, expected = answer[~missing], expected[~expected_missing]
    if pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(expected):
        if not pd.api.types.is_numeric_dtype(answer):
            return f"expected numbers, got {answer.dtype} values"
        gaps = abs(answer.to_numpy(dtype=float) - expected.to_numpy(dtype=float))
        return None if (gaps <= tolerance).all() else f"{int((gaps > tolerance).sum())} value(s) differ"
    if [str(value) for value in answer] != [str(value) for value in expected]:
        return "the values differ"
    return None
