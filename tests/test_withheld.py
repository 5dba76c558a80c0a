"""Issue 19: the verdicts of the claims students judge themselves (data/claims.csv, `assessed_in`) are absent from
every file of the student edition (pages, search index, downloadable sources and data, the handed-out notebooks and
their ledger) and shown in the instructor edition. See withheld.py."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat

import bookdata
import withheld
from conftest import CHAPTERS

CLAIMS = bookdata.load("claims")
ASSESSED = CLAIMS[CLAIMS["assessed_in"].notna()]
NAMED_IN_THE_ISSUE = {"C07", "C11", "C16", "C42", "C44"}
BOX = re.compile(r"^:::\{admonition\} Verdict on (C\d\d): ([a-z ]+)\n(.*?)^:::", re.MULTILINE | re.DOTALL)


def _plain(text: str, page: bool = False) -> str:
    """Text as a reader or a search meets it: no JSON escapes, emphasis or curly quotes; in a page, no tags or
    entities."""
    text = text.replace('\\"', '"').replace("\\n", " ")
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)) if page else text
    text = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "*": None, "¶": " "}))
    return " ".join(text.split())


def _verdict_boxes() -> dict[str, str]:
    """For each assessed claim boxed in a chapter, the opening words of the box's **Verdict.** paragraph (up to
    its first role or glued value): the authors' reasoning, which no other text repeats."""
    boxes = {}
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for claim_id, _, body in BOX.findall(cell.source if cell.cell_type == "markdown" else ""):
                verdict = re.search(r"\*\*Verdict\.\*\* ([^{`\n]{30,80})", body)
                if claim_id in set(ASSESSED["claim_id"]) and verdict:
                    boxes[claim_id] = _plain(verdict.group(1))
    return boxes


BOXES = _verdict_boxes()


def revealed(text: str) -> dict[str, str]:
    """The assessed claims whose verdict the text gives, each with how: the claim's id followed (before the next
    claim's id) by its verdict, or a box titled with it, or the ledger's evidence or the box's reasoning with the id."""
    found = {}
    for claim in ASSESSED.itertuples():
        verdict = re.escape(claim.verdict)
        after_id = rf"\b{claim.claim_id}\b(?:(?!\bC\d\d\b).){{0,300}}?(?<![\w-])(?<!partly ){verdict}\b"
        evidence = _plain(claim.evidence)[:80]
        if re.search(after_id, text, re.DOTALL):
            found[claim.claim_id] = re.search(after_id, text, re.DOTALL).group(0)[:160]
        elif claim.claim_id in text and evidence in text:
            found[claim.claim_id] = f"the ledger's evidence: {evidence}"
        elif claim.claim_id in text and claim.claim_id in BOXES and BOXES[claim.claim_id] in text:
            found[claim.claim_id] = f"the verdict box's reasoning: {BOXES[claim.claim_id]}"
    return found


def _files(folder: Path) -> dict[str, str]:
    """Every text file under folder (pages, scripts, search index, sources, notebooks, data), as plain text."""
    texts = {}
    for path in sorted(path for path in folder.rglob("*") if path.is_file()):
        try:
            texts[str(path.relative_to(folder))] = _plain(path.read_text(encoding="utf-8"), path.suffix == ".html")
        except UnicodeDecodeError:
            continue  # images and fonts
    return texts


def test_the_claims_the_assignments_assess_are_marked_in_the_ledger():
    assignment = nbformat.read(CHAPTERS / "assignment_1_verify_claim.ipynb", as_version=4)
    candidates = set(
        re.findall(
            r'"(C\d\d)":', "".join(cell.source for cell in assignment.cells if "candidate_datasets" in cell.source)
        )
    )
    assert len(candidates) >= 5, f"the candidates of part C were not found: {candidates}"
    missing = (NAMED_IN_THE_ISSUE | candidates | {"C42"}) - set(ASSESSED["claim_id"])
    assert not missing, f"claims assessed but not marked in data/claims.csv (assessed_in): {sorted(missing)}"
    assert set(BOXES) >= NAMED_IN_THE_ISSUE, (
        f"no verdict box with a **Verdict.** line found for {NAMED_IN_THE_ISSUE - set(BOXES)}"
    )


def test_no_assessed_verdict_in_any_file_of_the_student_edition(student_edition):
    files = {
        **_files(student_edition / "html"),
        **{f"notebooks/{name}": text for name, text in _files(student_edition / "notebooks").items()},
    }
    for must in [
        "searchindex.js",
        "_sources/chapters/01_background.ipynb",
        "chapters/claims_ledger.html",
        "notebooks/data/claims.csv",
    ]:
        assert must in files, f"{must} is missing from the student edition, so the scan below would not cover it"
    leaks = {name: found for name, text in files.items() if (found := revealed(text))}
    assert not leaks, "assessed verdicts in the student edition:\n" + "\n".join(
        f"{name}: {claim_id} ({how})" for name, found in leaks.items() for claim_id, how in found.items()
    )


def test_every_assessed_verdict_is_shown_in_the_instructor_edition(built_book):
    pages = {
        page: _plain((built_book / "chapters" / f"{page}.html").read_text(encoding="utf-8"), True)
        for page in ["claims_ledger", *[path.stem for path in CHAPTERS.glob("0*.ipynb")]]
    }
    absent = set(ASSESSED["claim_id"]) - set(revealed(pages["claims_ledger"]))
    assert not absent, f"the instructor edition's ledger does not show the verdicts of {sorted(absent)}"
    boxed = set().union(*(revealed(text) for page, text in pages.items() if page != "claims_ledger"))
    assert set(BOXES) <= boxed, (
        f"the instructor edition's chapters do not show the boxes of {sorted(set(BOXES) - boxed)}"
    )


def test_the_ledger_students_get_validates_and_leaves_only_the_assessed_verdicts_open(student_edition):
    handout = student_edition / "notebooks"
    script = "import bookdata; print(bookdata.load('claims').to_json(orient='records'))"
    result = subprocess.run([sys.executable, "-c", script], cwd=handout / "chapters", capture_output=True, text=True)
    assert result.returncode == 0, f"the handed-out ledger does not load:\n{result.stderr[-2000:]}"
    rows = {row["claim_id"]: row for row in json.loads(result.stdout)}
    for claim in CLAIMS.itertuples():
        shown = (rows[claim.claim_id]["verdict"], rows[claim.claim_id]["evidence"])
        expected = (None, None) if claim.claim_id in set(ASSESSED["claim_id"]) else (claim.verdict, claim.evidence)
        assert shown == expected, f"{claim.claim_id}: the handed-out ledger has {shown}"
    downloads = list((student_edition / "html" / "_downloads").glob("*/claims.csv"))
    assert downloads and all(path.read_bytes() == (handout / "data" / "claims.csv").read_bytes() for path in downloads)
    package = json.loads((handout / "data" / "datapackage.json").read_text(encoding="utf-8"))
    checksum = next(entry["hash"] for entry in package["resources"] if entry["name"] == "claims")
    data_page = (student_edition / "html" / "chapters" / "data.html").read_text(encoding="utf-8")
    assert checksum in data_page, "the student edition's Data page does not give the checksum of the ledger it offers"
    assert withheld.OPEN in _plain(
        (student_edition / "html" / "chapters" / "claims_ledger.html").read_text("utf-8"), True
    )
