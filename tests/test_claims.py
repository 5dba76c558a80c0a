"""The claims ledger: complete, verbatim, in the fixed vocabulary, and linked into the built book."""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import bookdata
from conftest import CHAPTERS, SHARED

READING = SHARED / "reading" / "case-reading.txt"
VERDICTS = {"supported", "partly supported", "misattributed", "unsupported", "contested", "too early to tell"}
KINDS = {"fact", "attribution", "interpretation", "prediction"}


@pytest.fixture(scope="module")
def claims():
    return bookdata.load("claims")


@pytest.fixture(scope="module")
def reading_paragraphs():
    if not READING.exists():
        pytest.skip(
            f"the case reading is not part of the book; {READING} is absent here, so the quotation checks are skipped"
        )
    text = READING.read_text(encoding="utf-8")
    # Paragraphs are the long lines; the short ones at the top are the web page's chrome.
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 100]


def test_verdict_and_kind_vocabularies_are_fixed_by_the_descriptor():
    fields = {field["name"]: field for field in bookdata.resource("claims")["schema"]["fields"]}
    assert set(fields["verdict"]["constraints"]["enum"]) == VERDICTS
    assert set(fields["kind"]["constraints"]["enum"]) == KINDS


def test_the_ledger_has_at_least_twenty_claims(claims):
    assert len(claims) >= 20
    assert claims["claim_id"].is_unique


def test_every_paragraph_of_the_reading_has_a_claim(claims, reading_paragraphs):
    uncovered = set(range(1, len(reading_paragraphs) + 1)) - set(claims["paragraph"])
    assert not uncovered, f"paragraphs without a claim: {sorted(uncovered)}"


def test_quotations_are_short_verbatim_excerpts_of_their_paragraph(claims, reading_paragraphs):
    for claim in claims.itertuples():
        words = len(claim.quote.split())
        assert words <= 25, f"{claim.claim_id}: quotation of {words} words (at most 25)"
        paragraph = reading_paragraphs[claim.paragraph - 1]
        assert claim.quote in paragraph, (
            f"{claim.claim_id}: quotation not found verbatim in paragraph {claim.paragraph}"
        )


QUOTED_SHARE_LIMIT = 0.40  # the reading is quoted in short excerpts, never reproduced


def test_quotations_together_cover_at_most_forty_per_cent_of_the_reading(claims):
    if not READING.exists():
        pytest.skip(
            f"the case reading is not part of the book; {READING} is absent here, so the quoted share is not computed"
        )
    text = READING.read_text(encoding="utf-8")
    quoted = [False] * len(text)
    for claim in claims.itertuples():
        start = text.find(claim.quote)
        assert start >= 0, f"{claim.claim_id}: quotation not found in {READING.name}"
        quoted[start : start + len(claim.quote)] = [True] * len(claim.quote)
    words = [match.span() for match in re.finditer(r"\S+", text)]
    quoted_words = sum(any(quoted[start:end]) for start, end in words)
    share = quoted_words / len(words)
    assert share <= QUOTED_SHARE_LIMIT, (
        f"the ledger's quotations cover {quoted_words} of the reading's {len(words)} words ({share:.0%}); "
        f"at most {QUOTED_SHARE_LIMIT:.0%} may be quoted: shorten the longest quotations in data/claims.csv"
    )


class _Anchors(HTMLParser):
    """Collects element ids and the links of each ledger row."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.row_links: dict[str, list[str]] = {}
        self._row: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "tr":
            self._row = next((i for i in (attributes.get("id") or "").split() if i.startswith("claim-")), None)
        if tag == "a" and self._row and attributes.get("href"):
            self.row_links.setdefault(self._row, []).append(attributes["href"])


@functools.cache  # each chapter page is parsed once, not once for every claim that links to it
def _anchors(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_claim_links_to_an_existing_section_of_a_chapter(claims, built_book):
    ledger = built_book / "chapters" / "claims_ledger.html"
    rows = _anchors(ledger).row_links
    for claim in claims.itertuples():
        row = f"claim-{claim.claim_id.lower()}"
        assert row in rows, f"{claim.claim_id}: no row with id {row} in {ledger.name}"
        section_links = [
            href for href in rows[row] if "#" in href and not href.startswith("#") and "bibliography" not in href
        ]
        assert section_links, f"{claim.claim_id}: the row links to no chapter section"
        page, anchor = section_links[0].split("#", 1)
        target = (ledger.parent / page).resolve()
        assert target.is_file(), f"{claim.claim_id}: link to missing page {page}"
        assert anchor in _anchors(target).ids, f"{claim.claim_id}: no anchor #{anchor} in {page}"
        assert anchor == claim.section, f"{claim.claim_id}: links to #{anchor}, ledger says {claim.section}"


VERDICT_BOX = re.compile(
    r"\{admonition\}\s*Verdict on (C\d+):\s*([a-z ]+?)\s*$(.*?)^:::\s*$", flags=re.MULTILINE | re.DOTALL
)
JUDGED_AS_OF = re.compile(r"\*\*Judged as of\*\* (\w+ \d{4})\.")


def verdict_boxes():
    """(notebook, claim, verdict, the box's text) for every verdict box in the chapters."""
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for claim_id, verdict, body in VERDICT_BOX.findall(cell.source):
                    yield path.name, claim_id, verdict, body


def test_verdict_boxes_in_chapters_agree_with_the_ledger(claims):
    ledger = dict(zip(claims["claim_id"], claims["verdict"]))
    boxes = list(verdict_boxes())
    assert len(boxes) >= 20, f"only {len(boxes)} verdict boxes found: has the box format changed?"
    for notebook, claim_id, verdict, _ in boxes:
        assert claim_id in ledger, f"{notebook}: verdict box for unknown claim {claim_id}"
        assert verdict == ledger[claim_id], (
            f"{notebook}: {claim_id} boxed as '{verdict}', ledger says '{ledger[claim_id]}'"
        )


def test_every_verdict_is_dated_and_each_box_gives_the_ledgers_date(claims):
    as_of = dict(zip(claims["claim_id"], claims["judged_as_of"]))
    assert all(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(date)) for date in as_of.values()), (
        "a verdict without a judged_as_of month"
    )
    assert max(as_of.values()) <= f"{bookdata.RECORD_THROUGH[:4]}-12", (
        "a verdict judged as of a date after the horizon's year"
    )
    for notebook, claim_id, _, body in verdict_boxes():
        dates = JUDGED_AS_OF.findall(body)
        assert len(dates) == 1, (
            f"{notebook}: the box on {claim_id} needs one line '**Judged as of** <Month YYYY>.', found {dates}"
        )
        expected = bookdata.month_text(as_of[claim_id])
        assert dates[0] == expected, f"{notebook}: {claim_id} boxed as judged as of {dates[0]}, ledger says {expected}"


def test_predictions_are_judged_against_the_latest_record(claims):
    """Predictions are the verdicts a new record can overturn: each is judged as of the latest date in the ledger."""
    latest = claims["judged_as_of"].max()
    stale = claims[(claims["kind"] == "prediction") & (claims["judged_as_of"] != latest)]
    assert stale.empty, f"predictions not re-judged against the latest record ({latest}): {list(stale['claim_id'])}"


# A box whose verdict is open (issue 19: the claims students judge themselves) is styled `verdict verdict-open`.
VERDICT_CLASS = re.compile(r"\{admonition\}\s*Verdict on (C\d+):(?! open)[^\n]*\n:class:([^\n]*)")


def test_every_verdict_box_is_styled_by_its_verdict_in_the_ledger(claims):
    """Each box carries `verdict verdict-<verdict>` (hyphenated), so 'supported' does not look like an alarm."""
    ledger = dict(zip(claims["claim_id"], claims["verdict"]))
    boxes = 0
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for claim_id, classes in VERDICT_CLASS.findall(cell.source if cell.cell_type == "markdown" else ""):
                boxes += 1
                expected = {"verdict", "verdict-" + ledger[claim_id].replace(" ", "-")}
                assert set(classes.split()) == expected, (
                    f"{path.name}: the box on {claim_id} has class '{classes.strip()}', "
                    f"its ledger verdict '{ledger[claim_id]}' needs ':class: {' '.join(sorted(expected))}'"
                )
    assert boxes >= 20, f"only {boxes} verdict boxes with a :class: line found"
