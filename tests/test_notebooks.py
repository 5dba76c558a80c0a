"""Committed notebooks are clean sources: no outputs, one H1, a Python 3 kernel; and every figure has a label,
a caption with its source, alt text and a source line."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import CHAPTERS

NOTEBOOKS = sorted(CHAPTERS.rglob("*.ipynb"))
H1 = re.compile(r"^# \S", flags=re.MULTILINE)


def test_the_book_has_notebooks():
    assert NOTEBOOKS, "no notebooks found under chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_has_exactly_one_h1(path):
    notebook = nbformat.read(path, as_version=4)
    headings = [
        heading
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for heading in H1.findall(_without_code_blocks(cell.source))
    ]
    assert len(headings) == 1, f"{path.name}: {len(headings)} level-1 headings, expected exactly one"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_uses_the_python3_kernel(path):
    kernelspec = nbformat.read(path, as_version=4).metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3" and kernelspec.get("language") == "python", f"{path.name}: {kernelspec}"


def _without_code_blocks(markdown: str) -> str:
    # A '# comment' inside a fenced block is not a heading.
    return re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_figure_has_label_sourced_caption_alt_text_and_source_line(path):
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        metadata = cell.metadata.get("mystnb", {})
        if "figure" not in metadata:
            continue
        where = f"{path.name} cell {index}"
        assert metadata["figure"].get("name", "").startswith("fig-"), f"{where}: a figure without a fig- label"
        assert "source" in metadata["figure"].get("caption", "").lower(), f"{where}: the caption names no source"
        alt = metadata.get("image", {}).get("alt", "")
        assert len(alt.split()) >= 8, f"{where}: alt text missing or too short to say what the chart shows"
        assert "bookdata.source_line(" in cell.source, f"{where}: no source line drawn on the figure"


def test_named_colours_are_the_style_sheets_cycle():
    """bookdata.COLOURS names the Okabe-Ito colours of book.mplstyle's colour cycle, in its order."""
    import bookdata

    cycle = re.search(r"axes\.prop_cycle: cycler\('color', \[(.*?)\]\)", bookdata.STYLE_SHEET.read_text()).group(1)
    expected = ["#" + colour.strip(" '").upper() for colour in cycle.split(",")]
    assert [colour.upper() for colour in bookdata.COLOURS.values()] == expected
