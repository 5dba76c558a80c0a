"""The strict build: green on the real book, red on a copy with a failing cell and a broken reference;
and the execution cache, emptied when what the notebooks read changes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat

from conftest import ROOT, book, toc_files


def copy_book(destination: Path) -> Path:
    """A copy of the repository's sources (no virtual environment, git data or build output)."""
    ignored = shutil.ignore_patterns(".git", ".venv", "_build", "test-artifacts", "__pycache__", ".ipynb_checkpoints")
    return Path(shutil.copytree(ROOT, destination, ignore=ignored))


def strict_build(book_dir: Path, output_dir: Path) -> subprocess.CompletedProcess:
    """The stock strict build (``jupyter-book build --all -W -n --keep-going``) of ``book_dir``, output captured."""
    return subprocess.run(book.jupyter_book_command(book_dir, output_dir), capture_output=True, text=True)


def test_strict_build_makes_a_page_for_every_toc_entry(built_book):
    missing = [name for name in toc_files() if not (built_book / f"{name}.html").is_file()]
    assert not missing, f"no HTML page for TOC entries: {missing}"


def test_a_raising_cell_and_a_broken_reference_each_fail_the_build(tmp_path):
    """The book's own configuration and build, on a two-page table of contents (so the test builds in seconds)."""
    book_copy = copy_book(tmp_path / "book")
    (book_copy / "_toc.yml").write_text(
        "format: jb-book\nroot: chapters/index\nchapters:\n  - file: chapters/planted\n"
    )
    (book_copy / "chapters" / "index.md").write_text("# Planted defects\n\nSee {numref}`fig-that-does-not-exist`.\n")
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A notebook that raises"),
            nbformat.v4.new_code_cell("raise RuntimeError('planted failure')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, book_copy / "chapters" / "planted.ipynb")

    result = strict_build(book_copy, tmp_path / "out")

    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode != 0, "a cell raised and a reference is broken, yet the strict build exited 0"
    assert any("chapters/planted.ipynb" in line and "Executing notebook failed" in line for line in problems), (
        "the failing notebook was not reported by name:\n" + "\n".join(problems)
    )
    assert "RuntimeError" in output and "planted failure" in output, "the failing cell's error was not shown"
    assert any("chapters/index.md" in line and "fig-that-does-not-exist" in line for line in problems), (
        "the broken reference was not reported against its page:\n" + "\n".join(problems)
    )


def test_execution_cache_is_emptied_when_data_requirements_or_sources_change(tmp_path, monkeypatch):
    book_copy = copy_book(tmp_path / "book")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text((ROOT / "requirements.txt").read_text())
    monkeypatch.setattr(book, "REQUIREMENTS", requirements)
    cache = tmp_path / "out" / "_build" / ".jupyter_cache"

    def cache_survives(edit=None) -> bool:
        (cache / "executed-notebook").mkdir(parents=True, exist_ok=True)  # stands for a cached execution
        if edit:
            edit()
        book.prepare_cache(book_copy, cache)
        return (cache / "executed-notebook").exists()

    assert not cache_survives(), "a cache with no record of the inputs it was made from must not be trusted"
    assert cache_survives(), "nothing changed, yet the cache was emptied"
    trade = book_copy / "data" / "china_russia_trade.csv"
    assert not cache_survives(lambda: trade.write_text(trade.read_text().replace("8.0,", "8.1,", 1))), (
        "a data file changed, yet executed notebooks were kept"
    )
    assert cache_survives()
    assert not cache_survives(lambda: requirements.write_text(requirements.read_text() + "# changed\n")), (
        "requirements.txt changed, yet executed notebooks were kept"
    )
    helper = book_copy / "chapters" / "bookdata.py"
    assert not cache_survives(lambda: helper.write_text(helper.read_text() + "\n")), (
        "the helper module changed, yet executed notebooks were kept"
    )
    bibliography = book_copy / "references.bib"  # the loader checks every source key against it
    assert not cache_survives(lambda: bibliography.write_text(bibliography.read_text() + "\n")), (
        "references.bib changed, yet executed notebooks were kept"
    )
