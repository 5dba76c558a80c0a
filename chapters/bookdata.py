"""Load the module's datasets and draw its figures in one style.

Every number in the book comes through :func:`load`, which refuses a dataset
that does not match its descriptor in ``data/datapackage.json``. A refusal is
a :class:`DataError` whose message names the file and the place (line and
column), so that a broken CSV stops the build instead of drawing a wrong chart.
"""

from __future__ import annotations

import hashlib
import json
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
# The notebook never holds the expected answer, only its *fingerprint*: the
# sha256 of the answer rounded to `decimals` places. `check` fingerprints the
# student's answer the same way and compares, so it can say "right" or "not yet"
# without showing the answer. The checks give feedback; they are not a grade.

DONE, NOT_YET, WRONG = "✅", "⏳", "❌"


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
    if answer is None or answer is pd.NA or (isinstance(answer, float) and answer != answer):
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


def fingerprint_of(answer, decimals: int = 1, *, columns=None, rows=None) -> str:
    """The sha256 of ``answer`` rounded to ``decimals`` places: what the notebooks store instead of answers.

    For a table, only the given ``columns`` and ``rows`` (index labels) count, in the order given.
    """
    text = _canonical(_selected(answer, columns, rows), decimals)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _form_problem(answer, columns, shape, rows) -> str | None:
    """What is wrong with the form of a table answer (columns, shape, index labels), or None."""
    if not isinstance(answer, (pd.DataFrame, pd.Series)):
        return f"expected a table (a pandas DataFrame or Series), got {type(answer).__name__}"
    if columns is not None:
        if not isinstance(answer, pd.DataFrame):
            return f"expected a DataFrame with the columns {list(columns)}, got a Series"
        missing = [column for column in columns if column not in answer.columns]
        if missing:
            return f"missing column {', '.join(map(repr, missing))}; the table has {list(answer.columns)}"
    if shape is not None:
        actual = answer.shape if isinstance(answer, pd.DataFrame) else (len(answer), None)
        for want, got, axis in zip(shape, actual, ("rows", "columns")):
            if want is not None and want != got:
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
    columns=None,
    shape=None,
    rows=None,
    choices=None,
    hint: str = "",
) -> bool:
    """Print one line of feedback on ``answer`` and return True if it looks right.

    fingerprint   the fingerprint of the expected answer (see fingerprint_of)
    decimals      the rounding used for the fingerprint: the tolerance of the check
    columns       columns a table must have
    shape         (rows, columns) a table must have; None in either place means "any"
    rows          index labels a table must have (for example years)
    choices       the answer must be one of these (for example the verdict vocabulary)
    hint          what to re-check when the value does not match
    """
    if _is_starter(answer):
        print(f"{NOT_YET} {question_id}: not yet done")
        return False
    problem = None
    if columns is not None or shape is not None or rows is not None:
        problem = _form_problem(answer, columns, shape, rows)
    if problem is None and choices is not None:
        if _canonical(answer, decimals) not in {_canonical(choice, decimals) for choice in choices}:
            problem = "the answer must be one of: " + ", ".join(map(str, choices))
    if problem is None and fingerprint is not None:
        if isinstance(answer, (pd.DataFrame, pd.Series)) and answer.size == 1 and columns is None:
            problem = "this is a table holding one value; take the number out with float(...)"
        elif fingerprint_of(answer, decimals, columns=columns, rows=rows) != fingerprint:
            problem = f"the value does not match (compared rounded to {decimals} decimal places)"
            problem += f". {hint}" if hint else ""
    if problem:
        print(f"{WRONG} {question_id}: {problem}")
        return False
    print(f"{DONE} {question_id} looks right")
    return True


def _counted_words(text: str) -> list[str]:
    """The words of ``text`` up to a line that reads 'Sources' (a source list is not counted)."""
    body = re.split(r"^\W*sources\W*$", text, maxsplit=1, flags=re.MULTILINE | re.IGNORECASE)[0]
    return re.findall(r"\w[\w'’.,%-]*", body)


def check_text(question_id: str, text, *, min_words: int = 0, max_words: int | None = None, must_include=()) -> bool:
    """Print one line of feedback on a written answer: its length and the parts it must name."""
    if _is_starter(text):
        print(f"{NOT_YET} {question_id}: not yet done")
        return False
    count = len(_counted_words(str(text)))
    missing = [part for part in must_include if part.lower() not in str(text).lower()]
    if count < min_words:
        problem = f"{count} words; write at least {min_words}"
    elif max_words is not None and count > max_words:
        problem = f"{count} words; cut to at most {max_words}"
    elif missing:
        problem = f"missing {', '.join(map(repr, missing))}"
    else:
        print(f"{DONE} {question_id} looks right ({count} words)")
        return True
    print(f"{WRONG} {question_id}: {problem}")
    return False


def check_figure(question_id: str, figure, *, min_series: int = 1, legend: bool = False) -> bool:
    """Print one line of feedback on a chart: labelled axes, enough series, a legend if asked, a source line."""
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
        if any(not ax.get_ylabel().strip() for ax in axes):
            problem = "label the y axis with what it measures and its unit (axes.set_ylabel)"
        elif series < min_series:
            problem = f"{series} data series drawn; the question asks for at least {min_series}"
        elif legend and not any(ax.get_legend() for ax in axes) and not figure.legends:
            problem = "add a legend (axes.legend()) so a reader can tell the series apart"
        elif not any(text.get_text().startswith("Source:") for text in figure.texts):
            problem = 'add a source line under the chart: bookdata.source_line(figure, "...")'
        else:
            problem = None
    if problem:
        print(f"{WRONG} {question_id}: {problem}")
        return False
    print(f"{DONE} {question_id} looks right")
    return True
