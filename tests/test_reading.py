"""Issue 19, honest level and time: each chapter shows a reading time counted from its own words at build time, and
a reading path without code that names all its figures and exercises; the landing page says what code is asked."""

from __future__ import annotations

import re

import nbformat
import pytest
from bs4 import BeautifulSoup

import bookdata  # noqa: E402, I001  (chapters/ is on the path: see conftest)
from conftest import CHAPTERS, ROOT

CHAPTER_NAMES = sorted(path.stem for path in CHAPTERS.glob("0[1-5]_*.ipynb"))
SHOWN = re.compile(r"Reading time: about (\d+) minutes \(([\d,]+) words at (\d+) words a minute\)")


def article(html_file) -> BeautifulSoup:
    return BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser").select_one("article")


def page_prose_words(page: BeautifulSoup) -> int:
    """The words a reader sees on a built page, without code, outputs, figures' images or the claims list."""
    for selector in ["div.cell_input", "div.cell_output", "a.headerlink", "script", "style"]:
        for node in page.select(selector):
            node.decompose()
    return sum(1 for token in page.get_text(" ").split() if re.search(r"[^\W_]", token))


def test_prose_words_counts_what_a_reader_reads():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "(label-here)=\n## Two words\n\n:::{admonition} Box title\n:class: note\n\n"
                "See {numref}`fig-x` and {doc}`the data page <data>` {cite:p}`a2020,b2021`.\n:::"
            ),
            nbformat.v4.new_code_cell(
                "x = 1  # code is not read", metadata={"mystnb": {"figure": {"caption": "A cap"}}}
            ),
            nbformat.v4.new_markdown_cell("Not shown to students.", metadata={"tags": ["solution"]}),
        ]
    )
    # "Two words" + "Box title" + "See fig-x and the data page a2020,b2021." + "A cap"
    assert bookdata.prose_words(notebook) == 2 + 2 + 7 + 2
    assert bookdata.reading_minutes(8_000) == 40 and bookdata.reading_minutes(100) == 5


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_each_chapter_shows_the_reading_time_of_its_own_words(name, both_editions):
    words = bookdata.prose_words(nbformat.read(CHAPTERS / f"{name}.ipynb", as_version=4))
    for edition, html in [("instructor", both_editions["instructor"]), ("student", both_editions["student"] / "html")]:
        page = article(html / "chapters" / f"{name}.html")
        shown = SHOWN.search(" ".join(page.get_text(" ").split()))
        assert shown, f"{edition} edition: no 'Reading time: about N minutes (W words ...)' at the top of {name}"
        minutes, shown_words, rate = int(shown[1]), int(shown[2].replace(",", "")), int(shown[3])
        assert (minutes, shown_words, rate) == (
            bookdata.reading_minutes(words),
            round(words, -2),
            bookdata.WORDS_PER_MINUTE,
        ), f"{edition} edition, {name}: the page shows {shown[0]!r} but the notebook has {words} words"
        first_heading = page.find(["h2"])
        assert shown.start() < len(" ".join(page.get_text(" ").split()).split(first_heading.get_text(" "))[0]), (
            f"{name}: the reading time is not above the first section"
        )
    # The page shows at least the 30 minutes how_to_use.md and the instructor guide promise ("half an hour or more").
    assert bookdata.reading_minutes(words) >= 30, f"{name} now reads in under half an hour: update the pages"
    # The count measures the page: within 15% of the words the built student page shows outside code and outputs.
    seen = page_prose_words(article(both_editions["student"] / "html" / "chapters" / f"{name}.html"))
    assert 0.85 * seen <= words <= 1.15 * seen, f"{name}: {words} words counted, {seen} on the page"


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_each_chapter_has_a_reading_path_naming_all_its_figures_and_exercises(name):
    notebook = nbformat.read(CHAPTERS / f"{name}.ipynb", as_version=4)
    top = notebook.cells[0].source
    path = re.search(r":::\{admonition\} Reading without code\n(.*?)\n:::", top, re.DOTALL)
    assert path, f"{name}: no 'Reading without code' box in the first cell"
    assert top.index("Learning objectives") < path.start() < top.index("Claims from the case reading")
    text = "\n".join(cell.source for cell in notebook.cells)
    figures = set(re.findall(r"name: (fig-[\w-]+)", text)) | {
        cell.metadata.get("mystnb", {}).get("figure", {}).get("name") for cell in notebook.cells
    } - {None}
    exercises = set(re.findall(r"```\{exercise\}\n:label: ([\w-]+)", text))
    named = set(re.findall(r"`((?:fig|ex)-[\w-]+)`", path[1]))
    assert figures and exercises, f"{name}: no figures or exercises found"
    assert figures | exercises <= named, f"{name}: the reading path leaves out {sorted(figures | exercises - named)}"


def test_landing_page_and_guides_say_what_code_is_asked_and_how_long_a_chapter_takes():
    pages = {name: (CHAPTERS / f"{name}.md").read_text(encoding="utf-8") for name in ["index", "how_to_use"]}
    guide = (CHAPTERS / "instructor_guide.md").read_text(encoding="utf-8")
    assert "first session of Python" not in pages["index"].replace("more than a first session of Python", "")
    for text in [*pages.values(), guide]:
        assert "Reading without code" in text
        assert not re.search(r"(written for|is) (one|a) (session of )?45.60.minute", text)
    assert all(term in pages["how_to_use"] for term in ["pandas", "matplotlib", "pivot", "groupby", "lambda"])
    assert (ROOT / "references.bib").read_text(encoding="utf-8").count("brysbaert2019reading") == 1
