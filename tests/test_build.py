"""The strict build: green on the real book, red on a copy with a failing cell."""

from __future__ import annotations

import json

from conftest import copy_book, seed_cache, strict_build, toc_files


def test_strict_build_makes_a_page_for_every_toc_entry(built_book):
    missing = [name for name in toc_files() if not (built_book / f"{name}.html").is_file()]
    assert not missing, f"no HTML page for TOC entries: {missing}"


def test_a_cell_that_raises_fails_the_build_and_names_the_notebook(tmp_path):
    book = copy_book(tmp_path / "book")
    notebook_path = book / "chapters" / "01_background.ipynb"
    notebook = json.loads(notebook_path.read_text())
    notebook["cells"].append({
        "cell_type": "code", "execution_count": None, "id": "planted-error", "metadata": {}, "outputs": [],
        "source": ["raise RuntimeError('planted failure')"],
    })
    notebook_path.write_text(json.dumps(notebook))
    seed_cache(tmp_path / "out")

    result = strict_build(book, tmp_path / "out")

    log = result.stdout + result.stderr
    assert result.returncode != 0, "a notebook cell raised, yet the strict build exited 0"
    assert "01_background" in log and "planted failure" in log, log[-3000:]


def test_a_broken_cross_reference_fails_the_build(tmp_path):
    book = copy_book(tmp_path / "book")
    page = book / "chapters" / "how_to_use.md"
    page.write_text(page.read_text() + "\nSee {numref}`fig-that-does-not-exist`.\n")
    seed_cache(tmp_path / "out")

    result = strict_build(book, tmp_path / "out")

    assert result.returncode != 0
    assert "fig-that-does-not-exist" in result.stdout + result.stderr
