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
        dtype={field["name"]: PANDAS_DTYPES.get(field["type"], "string") for field in fields if field["type"] != "date"},
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
    """Apply the book's matplotlib style (an opaque light figure that reads in both themes)."""
    import matplotlib.pyplot as plt

    plt.style.use(STYLE_SHEET)


def source_line(figure, text: str) -> None:
    """Print the source under a figure, so a downloaded image still says where it came from."""
    figure.text(0.01, 0.005, f"Source: {text}", ha="left", va="bottom", fontsize=8, color="#4a4a4a")


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
