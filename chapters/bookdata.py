"""Load the module's datasets and draw its figures in one style.

Every number in the book comes through :func:`load`, which refuses a dataset
that does not match its descriptor in ``data/datapackage.json``. A refusal is
a :class:`DataError` whose message names the file and the place (line and
column), so that a broken CSV stops the build instead of drawing a wrong chart.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import re
from pathlib import Path

import pandas as pd

BOOK_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = BOOK_ROOT / "data"
DESCRIPTOR = DATA_DIR / "datapackage.json"
BIBLIOGRAPHY = BOOK_ROOT / "references.bib"
STYLE_SHEET = Path(__file__).resolve().parent / "book.mplstyle"

# Frictionless field types mapped to the pandas dtypes students will see.
PANDAS_DTYPES = {
    "integer": "Int64",
    "number": "float64",
    "string": "string",
    "boolean": "boolean",
    "year": "Int64",
}


class DataError(ValueError):
    """A dataset does not match its descriptor, or names an unknown source."""


def descriptor() -> dict:
    """The data package descriptor, as a dict."""
    return json.loads(DESCRIPTOR.read_text(encoding="utf-8"))


MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def month_text(value: str) -> str:
    """'2026-06' -> 'June 2026'; '2026-12-05' -> '5 December 2026'; '2025' -> '2025'."""
    parts = str(value).split("-")
    if len(parts) == 1:
        return parts[0]
    month = MONTH_NAMES[int(parts[1]) - 1]
    return f"{int(parts[2])} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"


# The record's horizon, set once in data/datapackage.json: the month the record runs to and the last
# calendar year every time series should reach (a series that stops earlier says why in its descriptor).
RECORD_THROUGH: str = descriptor()["record_through"]  # e.g. "2026-06"
LAST_FULL_YEAR: int = int(descriptor()["last_full_year"])  # e.g. 2025
RECORD_THROUGH_TEXT: str = month_text(RECORD_THROUGH)  # e.g. "June 2026"

# Reading time. A chapter's record line says {{ reading_time }}; the book's Sphinx hooks write in the value below at
# every build (reading_time_text), from the notebook's own prose, so it cannot go stale or be typed by hand.
WORDS_PER_MINUTE = 200  # study reading of dense prose; why this rate: chapters/how_to_use.md, "Reading time"
READING_TIME = "{{ reading_time }}"
_NOT_READ = [  # MyST a reader never sees: fences, directives' names and options, labels, comments, targets, URLs
    (re.compile(r"^[ \t]*(```+|:::+)[ \t]*(\{[\w:-]+\})?", re.MULTILINE), ""),  # a title after it is read
    (re.compile(r"^[ \t]*(:[\w-]+:|\([\w-]+\)=).*$", re.MULTILINE), ""),
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),
    (re.compile(r"\{[\w:-]+\}`([^`<]*?)\s*(<[^`]*>)?`"), r"\1"),
    (re.compile(r"\]\([^)\s]*\)"), "]"),
]


def prose_words(notebook: dict) -> int:
    """The words a student reads on a chapter's page: its markdown cells and figure captions, without solutions,
    code or markup. A role counts as its text (a citation or a glued number as one word)."""
    texts = []
    for cell in notebook["cells"]:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            texts.append(source)
        texts.append(cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", ""))
    text = "\n".join(texts)
    for pattern, replacement in _NOT_READ:
        text = pattern.sub(replacement, text)
    return sum(1 for token in text.split() if re.search(r"[^\W_]", token))


def reading_minutes(words: int) -> int:
    """Minutes to read ``words`` at WORDS_PER_MINUTE, to the nearest five (at least five)."""
    return max(5, 5 * round(words / WORDS_PER_MINUTE / 5))


def reading_time_text(notebook_text: str) -> str:
    """The notebook's JSON text with READING_TIME replaced by its reading time, e.g. "about 35 minutes (7,000 words
    at 200 words a minute)"; a text without READING_TIME is returned unchanged."""
    if READING_TIME not in notebook_text:
        return notebook_text
    words = prose_words(json.loads(notebook_text))
    shown = f"about {reading_minutes(words)} minutes ({round(words, -2):,} words at {WORDS_PER_MINUTE} words a minute)"
    return notebook_text.replace(READING_TIME, shown)


def resource(name: str) -> dict:
    """The descriptor entry of one dataset; a clear error if there is none."""
    resources = {entry["name"]: entry for entry in descriptor()["resources"]}
    if name not in resources:
        known = ", ".join(sorted(resources))
        raise DataError(f"unknown dataset '{name}' (not in {DESCRIPTOR}); known datasets: {known}")
    return resources[name]


def bibliography_keys() -> frozenset[str]:
    """The citation keys defined in references.bib."""
    text = BIBLIOGRAPHY.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE))


# The source tiers of references.bib (issue 15), strongest first: a data row rests on the strongest tier among its sources.
TIERS = ("official", "wire", "specialist", "state media", "secondary", "unverified relay")


def source_tiers() -> dict[str, str]:
    """Each citation key of references.bib with its ``tier`` field ('' where an entry has none)."""
    text = BIBLIOGRAPHY.read_text(encoding="utf-8")
    tiers = {}
    for entry in re.split(r"^(?=@\w+\s*\{)", text, flags=re.MULTILINE):
        key = re.match(r"@\w+\s*\{\s*([^,\s]+)\s*,", entry)
        if key:
            tier = re.search(r"^\s*tier\s*=\s*\{([^}]*)\}", entry, flags=re.MULTILINE)
            tiers[key.group(1)] = tier.group(1).strip() if tier else ""
    return tiers


def row_tier(source_cell, tiers: dict[str, str]) -> str:
    """The tier a data row rests on: the strongest tier among the keys of its ``source`` cell."""
    found = [tiers.get(key.strip(), "") for key in str(source_cell).split(";") if key.strip()]
    ranked = [TIERS.index(tier) for tier in found if tier in TIERS]
    return TIERS[min(ranked)] if ranked else ""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_checksum(path: Path, entry: dict) -> None:
    expected = entry.get("hash", "").removeprefix("sha256:")
    actual = sha256_of(path)
    if expected != actual:
        raise DataError(
            f"{path}: checksum mismatch: the descriptor records sha256 {expected or '(none)'} "
            f"but the file has {actual}. If the edit is intended, update the hash in {DESCRIPTOR.name}."
        )


def _check_schema(path: Path, entry: dict) -> None:
    # Imported here because frictionless is slow to import and most callers
    # only need it once per kernel.
    from frictionless import Resource

    # The checksum is checked above with a clearer message than frictionless gives.
    frictionless_entry = {key: value for key, value in entry.items() if key != "hash"}
    frictionless_entry["path"] = path.name
    report = Resource(frictionless_entry, basepath=str(path.parent)).validate()
    if report.valid:
        return
    errors = report.flatten(["type", "rowNumber", "fieldName", "cell", "note", "message"])
    header_errors = [error for error in errors if error[0] in {"missing-label", "incorrect-label", "extra-label"}]
    problems = []
    # A header problem shifts every column, so the row errors it causes would only be noise.
    for kind, line, column, cell, note, message in header_errors or errors:
        if kind == "missing-label":
            problems.append(f"{path}: missing column '{column}' (the descriptor requires it)")
        elif kind == "type-error":
            expected = re.search(r'type is "(\w+)', note or "")
            expected_type = expected.group(1) if expected else "value of the column's type"
            problems.append(f"{path}, line {line}, column '{column}': '{cell}' is not a valid {expected_type}")
        elif kind == "constraint-error":
            problems.append(f"{path}, line {line}, column '{column}': value '{cell}' breaks {note}")
        elif line is not None:
            problems.append(f"{path}, line {line}, column '{column}': {note or message}")
        else:
            problems.append(f"{path}: {message}")
    shown = problems[:10]
    if len(problems) > len(shown):
        shown.append(f"... and {len(problems) - len(shown)} more problems in {path}")
    problems = shown
    raise DataError("\n".join(problems))


def _check_sources(path: Path, frame: pd.DataFrame) -> None:
    known = bibliography_keys()
    for index, cell in frame["source"].items():
        for key in str(cell).split(";"):
            key = key.strip()
            if key not in known:
                line = index + 2  # the header is line 1
                raise DataError(
                    f"{path}, line {line}, column 'source': unknown source key '{key}' "
                    f"(not defined in {BIBLIOGRAPHY.name})"
                )


def load(name: str) -> pd.DataFrame:
    """Read dataset ``name`` from data/, validated against the descriptor.

    Returns a DataFrame with the descriptor's types (numbers as float64, years
    and counts as nullable Int64, dates as datetime64, text as string). Missing
    values stay missing (NA): nothing is filled in.
    """
    entry = resource(name)
    path = DATA_DIR / entry["path"]
    if not path.exists():
        raise DataError(f"{path}: file not found (dataset '{name}' in {DESCRIPTOR.name})")
    _check_checksum(path, entry)
    _check_schema(path, entry)
    fields = entry["schema"]["fields"]
    frame = pd.read_csv(
        path,
        dtype={
            field["name"]: PANDAS_DTYPES.get(field["type"], "string") for field in fields if field["type"] != "date"
        },
        keep_default_na=False,
        na_values=[""],
    )
    for field in fields:
        if field["type"] == "date":
            frame[field["name"]] = pd.to_datetime(frame[field["name"]], format="%Y-%m-%d")
    if "source" in frame.columns:
        _check_sources(path, frame)
    return frame


def use_style() -> None:
    """Apply the book's matplotlib style (an opaque light figure that reads in both themes); in a notebook, show
    figures at twice the pixel density, so they stay sharp on high-density screens and open full size on a click."""
    import matplotlib.pyplot as plt

    plt.style.use(STYLE_SHEET)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing is displayed inline
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def show(frame, digits: int = 1):
    """A table for the page: no row numbers (a named index becomes a column), floats to `digits` decimals, gaps as "–".

    Only the display changes; the frame and its numbers are untouched.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(frame.name if frame.name is not None else "value")
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()  # a named index (year, kind ...) is data: keep it as a column
    styler = frame.rename_axis(columns=None).style.format(precision=digits, na_rep="–")
    dates = frame.select_dtypes("datetime").columns
    if len(dates):  # a day is a day: no "00:00:00"
        styler = styler.format(lambda day: f"{day:%Y-%m-%d}", subset=list(dates), na_rep="–")
    if pd.api.types.is_integer_dtype(frame.index):  # a row number, not data; unnamed labels stay visible
        styler = styler.hide(axis="index")
    return styler.set_table_attributes('class="dataframe"')


# The Okabe-Ito colours of book.mplstyle's colour cycle, by name, for a series that must keep its colour wherever it
# appears (a test checks that they are the style sheet's cycle).
COLOURS = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "purple": "#CC79A7",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "black": "#000000",
    "yellow": "#F0E442",
}


# Lower confidence is a lighter shade of the same colour in every figure (never hatching or another marker, which
# would make one series look like two kinds of data).
CONFIDENCE_SHADE = {"high": 1.0, "medium": 0.5, "low": 0.3}


def tint(colour, confidence: str = "medium") -> tuple[float, float, float]:
    """`colour` as a figure of this confidence shows it: itself when high, mixed towards white below that."""
    from matplotlib.colors import to_rgb

    strength = CONFIDENCE_SHADE[confidence]
    return tuple(1 - strength * (1 - channel) for channel in to_rgb(colour))


# Figures are drawn at the size they are shown: at most the width of the text column, with text of at least
# 10 pt. On a laptop the column is 741 CSS pixels wide (sphinx-book-theme at 1366 px) and a figure is shown at its
# natural width (figure.dpi pixels per inch) or shrunk to the column, whichever is narrower; no text may then be
# under 10 px.
WIDEST_FIGURE_IN = 7
SMALLEST_TEXT_PT = 10
COLUMN_PX = 741
SMALLEST_TEXT_PX = 10


def text_px_at_column(figure, text) -> float:
    """How many CSS pixels high `text` (a matplotlib Text) is when `figure` is shown in the book's column."""
    width_in = figure.get_figwidth()
    shown_px = min(COLUMN_PX, width_in * figure.dpi)
    return text.get_fontsize() / 72 * shown_px / width_in


def too_small_texts(figure) -> list[str]:
    """The visible texts of a drawn `figure` under 10 pt or under 10 px in the column, with their sizes."""
    from matplotlib.text import Text

    return [
        f"{text.get_text()[:40]!r} ({text.get_fontsize():g} pt, {text_px_at_column(figure, text):.1f} px)"
        for text in figure.findobj(Text)
        if text.get_visible()
        and text.get_text().strip()
        and (text.get_fontsize() < SMALLEST_TEXT_PT or text_px_at_column(figure, text) < SMALLEST_TEXT_PX)
    ]


def source_line(figure, text: str) -> None:
    """Print the source under a finished figure (call it last), so a downloaded image still says where it came
    from; reserve room for it below the axes, and refuse a figure whose text would be too small to read."""
    text = re.sub(r"^\s*source:\s*", "", text, flags=re.IGNORECASE)  # the line says "Source:" itself
    line = figure.text(0.01, 0.005, f"Source: {text}", ha="left", va="bottom", fontsize=10, color="#4a4a4a")
    # The layout engine ignores figure text: keep the axes above the source line's height (plus a small gap).
    height = line.get_window_extent(figure.canvas.get_renderer()).height / figure.bbox.height + 0.01
    if figure.get_layout_engine() is None:  # a figure drawn without the book's style
        figure.set_layout_engine("constrained")
    figure.get_layout_engine().set(rect=(0, height, 1, 1 - height))
    figure.draw_without_rendering()  # lays out the tick labels, which exist only once the figure is drawn
    small = too_small_texts(figure)
    if small or figure.get_figwidth() > WIDEST_FIGURE_IN:
        titles = [axes.get_title(loc) for axes in figure.axes for loc in ("left", "center")]
        title = next((text for text in titles if text), "untitled")
        raise ValueError(
            f"figure {title!r} is not readable in the {COLUMN_PX} px column: it is {figure.get_figwidth():g} in "
            f"wide (at most {WIDEST_FIGURE_IN}) and has {len(small)} texts under {SMALLEST_TEXT_PT} pt or "
            f"{SMALLEST_TEXT_PX} px: {'; '.join(small[:5]) or 'none'}."
        )


def refresh_hashes() -> list[str]:
    """Record each CSV's current sha256 in the descriptor (run after an intended edit)."""
    package = descriptor()
    changed = []
    for entry in package["resources"]:
        digest = "sha256:" + sha256_of(DATA_DIR / entry["path"])
        if entry.get("hash") != digest:
            entry["hash"] = digest
            changed.append(entry["name"])
    DESCRIPTOR.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


if __name__ == "__main__":
    # `python chapters/bookdata.py` re-records the checksums after editing data/.
    print("updated hashes:", ", ".join(refresh_hashes()) or "none")


# ---- Formative checks for the assignments ----
#
# Each coded question of an assignment is followed by a call to `check`, which
# prints one line of feedback and returns True or False:
#
#     ✅ Q1 looks right      ⏳ Q1: not yet done      ❌ Q1: <what to look at>
#
# `check` looks at the form of an answer (a number, a word, a list, a Series or a DataFrame; its columns, row count
# and index labels) and then at its value. The notebook does not hold the expected value, only its *fingerprint*:
# the sha256 of the question id and the answer rounded to `decimals` places. A fingerprint hides the answer from a
# glance at the notebook, not from trial: anyone can try values until the check says ✅ (the check is such a
# trial), and a small whole number is found in a few tries. The question id in it only stops a look-up in a
# published table of hashes (the sha256 of "2" is well known). The checks give feedback; they are not a grade.
#
# `check_evidence`, `check_text` and `check_figure` are form checks: they say whether an evidence table, a written
# answer or a chart has the required parts; the instructor marks what the parts say.

DONE, NOT_YET, WRONG = "✅", "⏳", "❌"
FORM_ONLY = "a form check: your instructor marks the content"


def _is_starter(answer) -> bool:
    """True for the placeholders handed out in the notebooks: ``...``, None or a text with no words ("...")."""
    return answer is ... or answer is None or (isinstance(answer, str) and not re.search(r"\w", answer))


def _canonical(answer, decimals: int) -> str:
    """The text a fingerprint is taken of: numbers rounded, text lower-cased, tables row by row."""
    if isinstance(answer, pd.DataFrame):
        return ";".join(_canonical(list(row), decimals) for row in answer.itertuples(index=False))
    if hasattr(answer, "tolist"):  # a pandas Series, a numpy array or a numpy number
        answer = answer.tolist()
    if isinstance(answer, (list, tuple)):
        return "|".join(_canonical(value, decimals) for value in answer)
    if answer is None or answer is pd.NA or answer is pd.NaT or (isinstance(answer, float) and answer != answer):
        return "NA"
    if isinstance(answer, bool):
        return str(answer)
    if isinstance(answer, (int, float)):
        return f"{round(float(answer), decimals) + 0.0:.{decimals}f}"  # + 0.0 turns -0.0 into 0.0
    return " ".join(str(answer).lower().split())


def _selected(answer, columns=None, rows=None):
    """The part of a table that is compared: the given columns and index labels, in that order."""
    if isinstance(answer, pd.DataFrame) and columns is not None:
        answer = answer[list(columns)]
    if isinstance(answer, (pd.DataFrame, pd.Series)) and rows is not None:
        answer = answer.loc[list(rows)]
    return answer


def fingerprint_of(answer, decimals: int = 1, *, question: str = "", columns=None, rows=None) -> str:
    """The sha256 of ``question`` and ``answer`` rounded to ``decimals`` places: what the notebooks store instead
    of answers. It hides the answer from a glance, not from trial (see the comment above).

    For a table, only the given ``columns`` and ``rows`` (index labels) count, in the order given. Pass the id the
    check is called with (``question="Q2"``): the same value has a different fingerprint in each question.
    """
    text = _canonical(_selected(answer, columns, rows), decimals)
    return hashlib.sha256(f"{question}\n{text}".encode("utf-8")).hexdigest()


KINDS = ("number", "word", "list", "Series", "DataFrame")


def _kind_of(answer) -> str:
    """What an answer is, in the words of the checks' messages."""
    if isinstance(answer, pd.DataFrame):
        return "DataFrame"
    if isinstance(answer, pd.Series):
        return "Series"
    if isinstance(answer, (list, tuple, pd.Index)) or getattr(answer, "ndim", 0) == 1:
        return "list"
    if isinstance(answer, str):
        return "word"
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        return "number"  # int, float and numpy numbers
    return type(answer).__name__


def _kind_problem(answer, expect: str) -> str | None:
    """What is wrong with the kind of an answer (a DataFrame where a Series is asked for ...), or None."""
    got = _kind_of(answer)
    if got == expect:
        return None
    what = {"word": "a text", "list": "a list", "number": "a number", "Series": "a pandas Series"}.get(got)
    if got == "DataFrame":
        names = list(answer.columns)
        what = (
            f"a DataFrame with one column ({names[0]!r})" if len(names) == 1 else f"a DataFrame ({len(names)} columns)"
        )
    what = what or f"a {got}"
    if expect == "Series" and got == "DataFrame" and answer.shape[1] == 1:
        column = answer.columns[0]
        return (
            f"this is {what}; the question asks for a Series: take the column with table[{column!r}] (single brackets)"
        )
    if expect == "Series" and got == "list":
        return (
            f"this is {what}; the question asks for a pandas Series, whose index keeps the labels: leave out .tolist()"
        )
    if expect == "list" and got in ("Series", "DataFrame"):
        return (
            f"this is {what}; the question asks for a plain list: the labels of a Series (for example its years) are "
            "series.index.tolist(), its values series.tolist()"
        )
    if expect == "number" and got in ("Series", "DataFrame") and answer.size == 1:
        return f"this is {what} holding one value; take the number out with float(...)"
    if expect == "word":
        return f"this is {what}; the question asks for one word in quotes, on its own" + (
            " (no [ ] around it)" if got == "list" else ""
        )
    asked = {"number": "one number", "list": "a list", "Series": "a pandas Series", "DataFrame": "a DataFrame"}[expect]
    return f"this is {what}; the question asks for {asked}"


_DATASETS: dict[str, pd.DataFrame] = {}


def _datasets() -> dict[str, pd.DataFrame]:
    """Every dataset of data/, loaded once per kernel (only when a check needs to know where an answer comes from)."""
    if not _DATASETS:
        _DATASETS.update({entry["name"]: load(entry["name"]) for entry in descriptor()["resources"]})
    return _DATASETS


def _whole_dataset(answer) -> str | None:
    """The name of the dataset of which ``answer`` is every row (all of its columns or some), or None."""
    if not isinstance(answer, (pd.DataFrame, pd.Series)) or len(answer) == 0:
        return None
    columns = list(answer.columns) if isinstance(answer, pd.DataFrame) else [answer.name]
    for name, frame in _datasets().items():
        if len(frame) == len(answer) and all(column in frame.columns for column in columns):
            mine = answer.reset_index(drop=True) if isinstance(answer, pd.DataFrame) else answer.to_frame()
            if _canonical(mine.reset_index(drop=True), 6) == _canonical(frame[columns], 6):
                return name
    return None


def _form_problem(answer, columns, shape, rows) -> str | None:
    """What is wrong with the form of a table answer (columns, emptiness, shape, index labels), or None."""
    if not isinstance(answer, (pd.DataFrame, pd.Series)):
        return f"expected a table (a pandas DataFrame or Series), got {type(answer).__name__}"
    if columns is not None:
        if not isinstance(answer, pd.DataFrame):
            return f"expected a DataFrame with the columns {list(columns)}, got a Series"
        missing = [column for column in columns if column not in answer.columns]
        if missing:
            return f"missing column {', '.join(map(repr, missing))}; the table has {list(answer.columns)}"
    if len(answer) == 0:
        return "the table is empty (0 rows): the selection kept nothing; print the conditions on their own to see why"
    if shape is not None:
        actual = answer.shape if isinstance(answer, pd.DataFrame) else (len(answer), None)
        for want, got, axis in zip(shape, actual, ("rows", "columns")):
            if want is not None and want != got:
                whole = _whole_dataset(answer) if axis == "rows" else None
                if whole:
                    return f"this is every row of the dataset {whole!r} ({got} rows); the question asks for {want}: select only those"
                return f"expected {want} {axis}, got {got}"
    if rows is not None:
        missing = [label for label in rows if label not in answer.index]
        if missing:
            return f"missing row(s) {missing} in the index"
    return None


def check(
    question_id: str,
    answer,
    *,
    fingerprint: str | None = None,
    decimals: int = 1,
    expect: str | None = None,
    columns=None,
    shape=None,
    rows=None,
    choices=None,
    hint: str = "",
) -> bool:
    """Print one line of feedback on ``answer`` and return True if it looks right.

    fingerprint   the fingerprint of the expected answer (see fingerprint_of, called with question=question_id)
    decimals      the rounding used for the fingerprint: the tolerance of the check
    expect        what the answer must be: "number", "word", "list", "Series" or "DataFrame" (a DataFrame when
                  `columns` are given, one word when `choices` are)
    columns       columns a table must have
    shape         (rows, columns) a table must have; None in either place means "any"
    rows          index labels a table must have (for example years)
    choices       the answer must be one of these (for example the verdict vocabulary)
    hint          what to re-check when a table has the wrong shape or rows, or the value does not match
    """
    if _is_starter(answer):
        print(f"{NOT_YET} {question_id}: not yet done")
        return False
    expect = expect or ("DataFrame" if columns is not None else "word" if choices is not None else None)
    if expect is not None and expect not in KINDS:
        raise ValueError(f"expect must be one of {KINDS}, not {expect!r}")
    problem = _kind_problem(answer, expect) if expect else None
    if problem is None and (columns is not None or shape is not None or rows is not None):
        problem = _form_problem(answer, columns, shape, rows)
        if problem and hint:  # a table of the wrong shape or rows is often the same slip as a wrong value
            problem += f". {hint}"
    if problem is None and choices is not None:
        if _canonical(answer, decimals) not in {_canonical(choice, decimals) for choice in choices}:
            problem = "the answer must be one of: " + ", ".join(map(str, choices))
    if problem is None and fingerprint is not None:
        if isinstance(answer, (pd.DataFrame, pd.Series)) and answer.size == 1 and columns is None:
            problem = "this is a table holding one value; take the number out with float(...)"
        elif fingerprint_of(answer, decimals, question=question_id, columns=columns, rows=rows) != fingerprint:
            whole = _whole_dataset(answer)
            if whole:
                problem = f"this is every row of the dataset {whole!r}; select the rows the question asks for"
            else:
                problem = f"the value does not match (compared rounded to {decimals} decimal places)"
                problem += f". {hint}" if hint else ""
    if problem:
        print(f"{WRONG} {question_id}: {problem}")
        return False
    print(f"{DONE} {question_id} looks right")
    return True


def _row_origin(row: pd.Series, keys: dict) -> str | None:
    """The dataset of data/ that holds ``row`` (compared on the columns they share, with 'source'), or None."""
    for name, frame in _datasets().items():
        shared = tuple(c for c in row.index if c in frame.columns and _canonical(row[c], 6) != "NA")
        if "source" not in shared or len(shared) < 2:
            continue
        if (name, shared) not in keys:
            keys[(name, shared)] = {
                tuple(_canonical(value, 6) for value in values)
                for values in frame[list(shared)].itertuples(index=False)
            }
        if tuple(_canonical(row[c], 6) for c in shared) in keys[(name, shared)]:
            return name
    return None


SMALL_DATASET = 10  # rows; a dataset this small may be the evidence as a whole


def check_evidence(question_id: str, evidence) -> bool:
    """Print one line of feedback on an evidence table (a form check): a DataFrame of rows taken unchanged from
    datasets of data/ (not the claims ledger, not all of a large dataset, not empty), with each row's `source`, and
    `confidence` wherever its dataset rates its rows."""
    if _is_starter(evidence):
        print(f"{NOT_YET} {question_id}: not yet done")
        return False
    problem = _kind_problem(evidence, "DataFrame")
    if problem is None and len(evidence) == 0:
        problem = "the table is empty (0 rows), so it is evidence for nothing: keep the rows your verdict rests on"
    elif problem is None and "source" not in evidence.columns:
        merged = [column for column in evidence.columns if str(column).startswith("source_")]
        problem = "missing column 'source': keep it, so that a reader sees where each figure comes from"
        if merged:
            problem += f" (a merge renamed it to {merged}: stack the datasets' rows with pd.concat instead)"
    elif problem is None and evidence["source"].isna().any():
        problem = f"{int(evidence['source'].isna().sum())} rows have no source"
    if problem is None:
        keys: dict = {}
        origins = [_row_origin(row, keys) for _, row in evidence.iterrows()]
        counts = pd.Series(origins, dtype="object").value_counts()
        unknown = [position for position, origin in enumerate(origins) if origin is None]
        rated = [name for name in counts.index if "confidence" in _datasets()[name].columns]
        if "claims" in counts.index:
            problem = (
                "these are rows of the claims ledger, which records claims and verdicts: it is not evidence. Load "
                "the datasets that bear on your claim (candidate_datasets) and keep the rows you rely on"
            )
        elif unknown:
            problem = (
                f"row(s) at position {unknown[:5]} are not rows of any dataset in data/ (compared on the columns "
                "they share with it, including 'source'): keep the rows as bookdata.load gives them"
            )
        elif len(counts) == 1 and counts.iloc[0] == len(_datasets()[counts.index[0]]) > SMALL_DATASET:
            name = counts.index[0]
            problem = f"this is every row of the dataset {name!r} ({counts.iloc[0]} rows): keep only the rows your verdict rests on"
        elif rated and "confidence" not in evidence.columns:
            problem = (
                f"missing column 'confidence': the dataset {rated[0]!r} rates each row, and the question asks you to "
                "keep the rating so that a reader sees how firm each figure is"
            )
        else:
            found = ", ".join(f"{count} from {name!r}" for name, count in counts.items())
            print(f"{DONE} {question_id}: the form looks right ({found}, with source); {FORM_ONLY}")
            return True
    print(f"{WRONG} {question_id}: {problem} ({FORM_ONLY})")
    return False


def _counted_words(text: str) -> list[str]:
    """The words of ``text`` up to a line that reads 'Sources' (a source list is not counted)."""
    body = re.split(r"^\W*sources\W*$", text, maxsplit=1, flags=re.MULTILINE | re.IGNORECASE)[0]
    return re.findall(r"\w[\w'’.,%-]*", body)


def _label(label: str) -> re.Pattern:
    """A label at the start of a line: 'Claim.', 'Claim:', '## Claim', 'To:', or in bold or italics, followed by its
    text or not ('**Claim** The reading says ...'); not 'Claims ...', nor a sentence that starts with the word."""
    name = re.escape(label.rstrip(":")) + r"(?![^\W_]|-)"  # not a longer word ('_' may close italics)
    emphasised = r"[*_]+" + name + r"[ \t]*[.:?–—-]?[*_]+[ \t]*[.:?–—-]?"
    plain = name + r"[ \t]*(?:[.:?–—-]|$)"
    return re.compile(r"^[ \t>#]*(?:" + emphasised + "|" + plain + ")", flags=re.MULTILINE | re.IGNORECASE)


def _parts(text: str, labels) -> dict[str, str]:
    """Each label found at the start of a line, with its content: the text up to the next label found."""
    found = sorted((match.start(), match.end(), label) for label in labels if (match := _label(label).search(text)))
    return {
        label: text[end : found[index + 1][0] if index + 1 < len(found) else len(text)]
        for index, (_, end, label) in enumerate(found)
    }


def _whole_words(text: str, phrase: str) -> bool:
    """``phrase`` appears in ``text`` as whole words ('Source' is not found in 'resources'), ignoring case."""
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text, flags=re.IGNORECASE) is not None


def check_text(
    question_id: str,
    text,
    *,
    min_words: int = 0,
    max_words: int | None = None,
    parts=None,
    ordered: bool = False,
    must_include=(),
) -> bool:
    """Print one line of feedback on a written answer (a form check: its length and structure, not its content).

    min_words, max_words  the length, counted up to a line that reads 'Sources'
    parts                 {label: minimum words}: each label must start a line ('Claim.', '**Evidence**', 'To:'),
                          followed by content of its own (the words up to the next label) of at least that length
    ordered               the parts must come in the order given
    must_include          phrases the text must contain as whole words (for example "Source:")
    """
    if _is_starter(text):
        print(f"{NOT_YET} {question_id}: not yet done")
        return False
    text = str(text)
    count = len(_counted_words(text))
    parts = dict(parts or {})
    found = _parts(text, parts)
    missing = [phrase for phrase in must_include if not _whole_words(text, phrase)]
    absent = [label for label in parts if label not in found]
    thin = [
        (label, len(_counted_words(found[label])), least)
        for label, least in parts.items()
        if label in found and len(_counted_words(found[label])) < least
    ]
    if absent:
        problem = (
            f"no part labelled {', '.join(map(repr, absent))}: start a line with the label "
            f"(for example '{absent[0]}.' or '**{absent[0]}**'), then write that part"
        )
    elif ordered and list(found) != list(parts):
        problem = f"the parts are not in the order {list(parts)}"
    elif thin:
        problem = "; ".join(
            f"{label!r} has {words} words of its own, write at least {least}" for label, words, least in thin
        )
    elif count < min_words:
        problem = f"{count} words; write at least {min_words}"
    elif max_words is not None and count > max_words:
        problem = f"{count} words; cut to at most {max_words}"
    elif missing:
        problem = f"missing {', '.join(map(repr, missing))}"
    else:
        shape = f"{len(parts)} labelled parts, {count} words" if parts else f"{count} words"
        print(f"{DONE} {question_id}: the form looks right ({shape}); {FORM_ONLY}")
        return True
    print(f"{WRONG} {question_id}: {problem} ({FORM_ONLY})")
    return False


def _overlaps(figure, source) -> str | None:
    """What the source line ``source`` (a figure text) overlaps once ``figure`` is laid out: an axes' tick labels,
    axis labels, title, legend or plotting area; or None."""
    figure.draw_without_rendering()  # lays out the figure and its tick labels, as when it is shown
    box = source.get_window_extent()
    for axes in figure.axes:
        named = [
            (f"{name} tick labels", label)
            for name, axis in (("x", axes.xaxis), ("y", axes.yaxis))
            for label, where in zip(axis.get_ticklabels(), axis.get_ticklocs())
            if min(axis.get_view_interval()) <= where <= max(axis.get_view_interval())  # drawn ticks only
        ]
        named += [("x axis label", axes.xaxis.label), ("y axis label", axes.yaxis.label), ("title", axes.title)]
        for what, text in named:
            if text.get_visible() and text.get_text().strip() and box.overlaps(text.get_window_extent()):
                return f"the {what} ({text.get_text()!r})"
        if axes.get_legend() and box.overlaps(axes.get_legend().get_window_extent()):
            return "the legend"
        if box.overlaps(axes.get_window_extent()):
            return "the plotting area"
    return None


def check_figure(question_id: str, figure, *, min_series: int = 1, legend: bool = False) -> bool:
    """Print one line of feedback on a chart (a form check): labelled axes, enough series, a legend if asked, and
    a source line that does not overlap the axes, their tick labels or their labels."""
    if _is_starter(figure):
        print(f"{NOT_YET} {question_id}: not yet done")
        return False
    if not hasattr(figure, "axes") or not hasattr(figure, "texts"):
        problem = f"expected a matplotlib figure (from plt.subplots()), got {type(figure).__name__}"
    elif not figure.axes:
        problem = "the figure has no axes; draw it with figure, axes = plt.subplots()"
    else:
        axes = figure.axes
        series = sum(len(ax.lines) + len(ax.containers) + len(ax.collections) for ax in axes)
        sources = [text for text in figure.texts if text.get_text().startswith("Source:")]
        if any(not ax.get_ylabel().strip() for ax in axes):
            problem = "label the y axis with what it measures and its unit (axes.set_ylabel)"
        elif series < min_series:
            problem = f"{series} data series drawn; the question asks for at least {min_series}"
        elif legend and not any(ax.get_legend() for ax in axes) and not figure.legends:
            problem = "add a legend (axes.legend()) so a reader can tell the series apart"
        elif not sources:
            problem = 'add a source line under the chart: bookdata.source_line(figure, "...")'
        elif overlap := _overlaps(figure, sources[0]):
            problem = (
                f'the source line overlaps {overlap}: draw it last, with bookdata.source_line(figure, "...") '
                "just before plt.show(), so that it sits below the axes"
            )
        else:
            problem = None
    if problem:
        print(f"{WRONG} {question_id}: {problem} ({FORM_ONLY})")
        return False
    print(f"{DONE} {question_id}: the form looks right; {FORM_ONLY}")
    return True
