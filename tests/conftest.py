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

sys.path.insert(0, str(ROOT))
import book  # noqa: E402  (the README's build command: the tests build exactly as it does)

copy_book = book.copy_book


def strict_build(book_dir: Path, output_dir: Path) -> subprocess.CompletedProcess:
    """The README's strict build of ``book_dir``, with its output captured for the assertions."""
    command = book.strict_build_command(Path(sys.executable), book_dir, output_dir)
    return subprocess.run([str(part) for part in command], capture_output=True, text=True)


def toc_files() -> list[str]:
    """Every document named in _toc.yml, root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [section["file"] for section in chapter.get("sections", [])]
    return files


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
