"""The printed book (issue 21): `python3 book.py pdf --edition both` joins each edition's built pages and prints
them with the browser tests' Chromium (pdf.py). Both PDFs are printed once a session (from the built editions), then
read with pypdf; page images of chapter 1's first figure and of a code cell go to test-artifacts/pdf/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pypdf
import pytest

import bookdata
import pdf
from browser import ARTIFACTS as ALL_ARTIFACTS
from conftest import CHAPTERS, ROOT, book

pytestmark = pytest.mark.browser  # Chromium prints the PDFs
ARTIFACTS = ALL_ARTIFACTS / "pdf"
EDITIONS = ("instructor", "student")
SAMPLES = ["人民币", "习近平", "Владимир Путин", "рубль", "СПФС"]  # the glossary's names and terms in their own script
FIGURE_NUMBER = re.compile(r"Fig\. \d+(?:\.\d+)?")


@pytest.fixture(scope="session")
def printed(both_editions) -> dict[str, Path]:
    """Both editions' PDFs, printed once (book.py pdf in a process of its own: the browser tests' Playwright may
    be running in this one). The seconds it took go to test-artifacts/pdf/timing.json."""
    missing = pdf.missing_tools() + ([] if shutil.which("pdftotext") else ["poppler (apt-get install poppler-utils)"])
    if missing and os.environ.get("CI"):
        pytest.fail(f"the PDF tests need {' and '.join(missing)}")
    if missing:
        pytest.skip(f"the PDF tests are skipped: they need {' and '.join(missing)}")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, ROOT / "book.py", "pdf", "--edition", "both"], capture_output=True, text=True
    )
    assert result.returncode == 0, f"book.py pdf failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    facts = {"seconds": round(time.perf_counter() - start, 1)}
    for edition in EDITIONS:
        path = pdf.pdf_path(edition)
        facts[edition] = {"pages": len(pypdf.PdfReader(path).pages), "megabytes": round(path.stat().st_size / 1e6, 1)}
    (ARTIFACTS / "timing.json").write_text(json.dumps(facts, indent=1) + "\n")
    return {edition: pdf.pdf_path(edition) for edition in EDITIONS}


def _text(path: Path) -> list[str]:
    """The text of each page, by poppler's pdftotext (a twentieth of the time pypdf takes)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True, check=True, text=True).stdout
    return text.split("\f")[:-1]  # a form feed ends each page


@pytest.fixture(scope="session")
def page_texts(printed) -> dict[str, list[str]]:
    """Each edition's text, page by page (read once: pypdf takes seconds a book)."""
    return {edition: _text(path) for edition, path in printed.items()}


@pytest.fixture(scope="session")
def texts(page_texts) -> dict[str, str]:
    return {edition: "\n".join(pages) for edition, pages in page_texts.items()}


def _spaced(text: str) -> str:
    """Text with each run of spaces and line breaks as one space."""
    return " ".join(text.split())


def _flat(text: str) -> str:
    """Text without spaces and line breaks, ligatures (ﬂ, ﬁ) spelt out: a wrapped phrase is found whole."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class SinglePage(HTMLParser):
    """The chapter titles, figure numbers and captions, and each chapter's visible code lines (inputs and outputs
    not folded away) of an edition's single page."""

    def __init__(self, html: str):
        super().__init__()
        self.titles: list[str] = []
        self.figures: set[str] = set()
        self.captions: dict[str, str] = {}
        self.code: dict[str, list[str]] = {}
        self._stack: list[tuple[str, bool]] = []  # (tag, opens a folded box)
        self._into: str | None = None  # "title", "caption" or "code", while its text is read
        self._buffer = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"):
            return
        self._stack.append((tag, tag == "details" and "hide" in (dict(attrs).get("class") or "").split()))
        folded = any(hidden for _, hidden in self._stack)
        into = {"h2": "title", "figcaption": "caption", "pre": "code" if self.titles and not folded else None}
        if into.get(tag):
            self._into, self._buffer = into[tag], ""

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop()[0] != tag:
            pass
        text, into = self._buffer, self._into
        if (tag, into) == ("h2", "title"):
            self.titles.append(text.strip().rstrip("#").strip())
        elif (tag, into) == ("figcaption", "caption") and FIGURE_NUMBER.match(text.strip()):
            self.captions[FIGURE_NUMBER.match(text.strip()).group()] = " ".join(text.split())
        elif (tag, into) == ("pre", "code"):
            self.code.setdefault(self.titles[-1], []).extend(line for line in text.splitlines() if line.strip())
        else:
            return
        self._into = None

    def handle_data(self, data):
        if self._into:
            self._buffer += data
        self.figures.update(FIGURE_NUMBER.findall(data))


@pytest.fixture(scope="session")
def pages(printed) -> dict[str, SinglePage]:
    return {edition: SinglePage(pdf.single_page(edition).read_text(encoding="utf-8")) for edition in EDITIONS}


def test_each_edition_has_a_title_page_contents_page_numbers_and_bookmarks(printed, pages):
    for edition, path in printed.items():
        reader = pypdf.PdfReader(path)
        first, total = reader.pages[0].extract_text(), len(reader.pages)
        for wanted in ("China and Russia after 2022", f"{edition.capitalize()} edition", "CC BY 4.0", "The record"):
            assert wanted in first, f"{path.name}: the title page lacks {wanted!r}: {first[:300]!r}"
        assert "Contents" in reader.pages[1].extract_text(), f"{path.name}: page 2 is not the table of contents"
        assert re.search(rf"\b10 / {total}\b", reader.pages[9].extract_text()), f"{path.name}: page 10 has no number"
        bookmarks = []

        def walk(items):
            for item in items:
                walk(item) if isinstance(item, list) else bookmarks.append(_spaced(item.title))

        walk(reader.outline)
        doubled = [title for title in map(_flat, bookmarks) if title and title == title[: len(title) // 2] * 2]
        assert not doubled, f"{path.name}: bookmarks with their title twice: {doubled}"
        wanted = [part["caption"] for part in pdf.book_facts(edition)["parts"]] + pages[edition].titles
        missing = [title for title in wanted if not any(_spaced(title) in bookmark for bookmark in bookmarks)]
        assert not missing, f"{path.name}: no bookmark for {missing} (or one that lost a space where it wrapped)"


def test_every_link_within_the_printed_book_finds_its_target(printed):
    """Links between pages become links within the book (pdf.JOIN_SCRIPT prefixes each page's ids with its name):
    every one must lead to an element of the joined page, or the PDF has a dead link."""
    for edition in EDITIONS:
        html = pdf.single_page(edition).read_text(encoding="utf-8")
        ids = {unescape(found) for found in re.findall(r'\sid="([^"]+)"', html)}
        targets = {unescape(found) for found in re.findall(r'\shref="#([^"]+)"', html)}
        missing = sorted(targets - ids)
        assert len(targets) > 500, f"{edition}: only {len(targets)} links within the book; the page was not joined"
        assert not missing, f"{edition}: {len(missing)} links within the book lead nowhere, e.g. {missing[:8]}"


def test_links_lead_within_the_pdf_or_to_the_web(printed):
    """Cross-references, citations and the contents are links within the PDF; no link points at a local file."""
    for path in printed.values():
        kinds = {}
        for page in pypdf.PdfReader(path).pages:
            for link in (annotation.get_object() for annotation in page.get("/Annots") or []):
                action = link.get("/A")
                kind = "within" if action is None else str(action.get_object().get("/URI", "")).split(":")[0]
                kinds[kind] = kinds.get(kind, 0) + 1
        assert kinds.get("within", 0) > 1000 and kinds.get("https", 0) > 500, f"{path.name}: links {kinds}"
        assert not set(kinds) - {"within", "https", "http", "mailto"}, f"{path.name}: links {kinds}"


def test_every_chapter_title_and_figure_number_is_printed(texts, pages):
    for edition, text in texts.items():
        flat, page = _flat(text), pages[edition]
        assert len(page.titles) >= 15 and len(page.figures) >= 20, f"{edition}: the single page was not read"
        missing = [title for title in page.titles if _flat(title) not in flat]
        assert not missing, f"{edition} PDF: chapter titles not printed: {missing}"
        missing = sorted(number for number in page.figures if _flat(number) not in flat)
        assert not missing, f"{edition} PDF: figure numbers not printed: {missing}"


def _tail(line: str) -> str:
    """The end of a code line, from its last word of three letters or more: on the page, wrapped or not."""
    words = list(re.finditer(r"[^\W\d_]{3,}", line))
    return _flat(line[words[-1].start() :]) if words else ""


def test_the_longest_code_line_of_each_chapter_prints_to_its_last_word(texts, pages):
    for edition, text in texts.items():
        flat = _flat(text)
        longest = {chapter: max(lines, key=len) for chapter, lines in pages[edition].code.items()}
        assert len(longest) >= 8, f"{edition}: too few chapters with code: {list(longest)}"
        clipped = [f"{chapter}: {line!r}" for chapter, line in longest.items() if _tail(line) not in flat]
        assert not clipped, f"{edition} PDF: code lines cut at the margin:\n" + "\n".join(clipped)


def test_an_overlong_code_line_is_caught_once_the_print_style_is_removed(printed, tmp_path):
    """The check above can fail: a planted output line runs off the page when print.css is taken away."""
    page = pdf.single_page("student")
    head = re.search(r"<head>.*</head>", page.read_text(encoding="utf-8"), re.DOTALL).group()
    line = "planted = [" + ", ".join(f"'item{number:03d}'" for number in range(40)) + ", 'zebrafinch']"
    body = (
        '<main class="print-book"><article class="bd-article"><section class="print-chapter" id="planted">'
        '<h2>Planted</h2><div class="cell_output docutils container">'
        '<div class="output text_plain highlight-myst-ansi notranslate">'
        f'<div class="highlight"><pre><span></span>{line}</pre></div></div></div></section></article></main>'
    )
    found = {}
    for style in ("with", "without"):
        copy = tmp_path / f"planted-{style}.html"  # the single page's <base> finds the styles from here
        html = f"<!DOCTYPE html><html>{head}<body>{body}</body></html>"
        copy.write_text(html if style == "with" else html.replace("print.css", "no-print.css"), encoding="utf-8")
        script = "import sys, pdf, pathlib; print(pdf.print_file(*map(pathlib.Path, sys.argv[1:])))"
        command = [sys.executable, "-c", script, copy, tmp_path / f"{style}.pdf"]
        reported = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
        found[style] = (_tail(line) in _flat("".join(_text(tmp_path / f"{style}.pdf"))), reported != "[]")
    # (its end printed, print_file reported something past the margin): book.py pdf fails on the latter
    assert found == {"with": (True, False), "without": (False, True)}, f"the planted line: {found}"


def test_every_font_is_embedded_a_cjk_font_among_them(printed):
    for path in printed.values():
        fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True).stdout
        rows = [line.split() for line in fonts.splitlines()[2:]]  # name, type, encoding, emb, sub, uni, object id
        assert len(rows) >= 5, f"{path.name}: pdffonts found too few fonts:\n{fonts}"
        assert all(row[-5] == "yes" for row in rows), f"{path.name}: fonts not embedded:\n{fonts}"
        assert re.search(r"WenQuanYi|CJK|SourceHan|DroidSansFallback", fonts), f"{path.name}: no CJK font:\n{fonts}"


def test_chinese_and_cyrillic_names_print_as_text(texts):
    for edition, text in texts.items():
        missing = [sample for sample in SAMPLES if _flat(sample) not in _flat(text)]
        assert not missing, f"{edition} PDF: these names print as boxes or not at all: {missing}"


def _solution_phrases() -> list[str]:
    """From every solution-tagged cell, its longest run of six plain words that no other cell or page has."""
    cells = [cell for path in sorted(CHAPTERS.glob("*.ipynb")) for cell in nbformat.read(path, as_version=4).cells]
    pages = [path.read_text(encoding="utf-8") for path in CHAPTERS.glob("*.md")]
    others = [
        cell.source + json.dumps(cell.metadata, ensure_ascii=False) for cell in cells if not book.is_solution(cell)
    ]
    elsewhere = _flat(" ".join(others + pages))  # captions are in the cells' metadata
    phrases = []
    for cell in filter(book.is_solution, cells):
        runs = re.findall(r"(?:[A-Za-z]{2,}[,;]? ){5}[A-Za-z]{2,}", re.sub(r"\{[^}]*\}`[^`]*`", "", cell.source))
        phrases += [max(runs, key=len)] if runs and _flat(max(runs, key=len)) not in elsewhere else []
    return phrases


def test_the_student_pdf_holds_no_solution_and_the_instructor_pdf_prints_them(texts):
    phrases = _solution_phrases()
    assert len(phrases) >= 30, f"too few solution phrases found: {phrases}"
    printed = {
        edition: [phrase for phrase in phrases if _flat(phrase) in _flat(text)] for edition, text in texts.items()
    }
    assert not printed["student"], f"the student PDF prints solution text: {printed['student']}"
    missing = [phrase for phrase in phrases if phrase not in printed["instructor"]]
    assert len(missing) <= len(phrases) // 10, f"the instructor PDF lacks these solutions: {missing}"
    assert "Instructor guide" not in texts["student"]


def test_the_student_pdf_gives_no_withheld_verdict(texts):
    """The claims students judge themselves (the `assessed_in` column of data/claims.csv, when it exists: issue 19)
    print without their verdicts in the student PDF, and with them in the instructor's: no claim id followed, before
    the next claim's id, by its verdict."""
    claims = bookdata.load("claims")
    column = next((name for name in ("assessed_in", "assessed") if name in claims.columns), None)
    if column is None:
        pytest.skip("data/claims.csv has no assessed claims yet (issue 19): no verdict is withheld")
    assessed = claims[claims[column].notna() & (claims[column].astype(str) != "")]
    given = {}
    for edition, text in texts.items():
        text = " ".join(text.split())
        verdict = r"\b{}\b(?:(?!\bC\d\d\b).){{0,300}}?(?<![\w-])(?<!partly ){}\b"
        given[edition] = [
            claim.claim_id
            for claim in assessed.itertuples()
            if re.search(verdict.format(claim.claim_id, claim.verdict), text)
        ]
    assert not given["student"], f"the student PDF gives the verdicts of assessed claims: {given['student']}"
    assert len(given["instructor"]) == len(assessed), f"the instructor PDF gives only these verdicts: {given}"


def test_pages_with_chapter_one_s_first_figure_and_a_code_cell_are_saved_as_images(printed, pages, page_texts):
    texts = [_flat(text) for text in page_texts["student"]]
    chapter_one = next(title for title in pages["student"].titles if title.startswith("1."))
    wanted = {
        "chapter-1-first-figure": _flat(pages["student"].captions["Fig. 1.1"])[:60],
        "code-cell": _tail(max(pages["student"].code[chapter_one], key=len)),
    }
    for name, needle in wanted.items():
        number = next((index + 1 for index, text in enumerate(texts) if needle in text), None)
        assert number, f"no page of the student PDF holds {needle!r}"
        command = ["pdftoppm", "-f", str(number), "-l", str(number), "-r", "110", "-png", "-singlefile"]
        subprocess.run([*command, printed["student"], ARTIFACTS / name], check=True)
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
