"""Shared fixtures: the repository layout and one strict build of the book per test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(CHAPTERS))

# What a copy of the book needs; the virtual environment, git data and build output stay behind.
BOOK_FILES = ["_config.yml", "_toc.yml", "references.bib", "chapters", "data", "_ext"]


def strict_build(book_dir: Path, output_dir: Path) -> subprocess.CompletedProcess:
    """The README's build: jupyter-book with warnings as errors, nitpicky references, every page.

    Jupyter Book writes to ``output_dir/_build/html`` and keeps its cache in ``output_dir/_build/.jupyter_cache``.
    """
    return subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", "--all", "-W", "-n", "--keep-going",
         "--path-output", str(output_dir), str(book_dir)],
        capture_output=True, text=True,
    )


def toc_files() -> list[str]:
    """Every document named in _toc.yml, root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [section["file"] for section in chapter.get("sections", [])]
    return files


def copy_book(destination: Path) -> Path:
    """A disposable copy of the book's sources, to corrupt without touching the real one."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The book built once, strictly, into _build/html (reusing the execution cache of earlier builds)."""
    result = strict_build(ROOT, ROOT)
    assert result.returncode == 0, f"strict build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return ROOT / "_build" / "html"


def seed_cache(output_dir: Path) -> None:
    """Give a copy the working tree's execution cache, so only the notebooks it changes run again."""
    cache = ROOT / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, output_dir / "_build" / ".jupyter_cache")
