"""Measure the build and the tests, all in one run, and print the figures as ratios.

    .venv/bin/python tests/benchmark.py

Each measurement runs on a fresh copy of the book in a temporary folder, so a
warm cache in the working tree cannot flatter it. Not a test: speed is
reported, not asserted.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ROOT, copy_book, strict_build, toc_files  # noqa: E402


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def execute_serially(book: Path) -> None:
    """The floor: every notebook of the book run once, one after another, with nbclient."""
    for name in toc_files():
        path = book / f"{name}.ipynb"
        if path.exists():
            notebook = nbformat.read(path, as_version=4)
            NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        book = copy_book(scratch / "book")
        output = scratch / "out"

        cold, result = timed(lambda: strict_build(book, output))
        assert result.returncode == 0, result.stdout[-3000:]
        rebuild, result = timed(lambda: strict_build(book, output))
        assert result.returncode == 0, result.stdout[-3000:]
        floor, _ = timed(lambda: execute_serially(book))

        suite_copy = copy_book(scratch / "suite")
        shutil.copytree(ROOT / "tests", suite_copy / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "pytest.ini", suite_copy / "pytest.ini")
        shutil.copy2(ROOT / "book.py", suite_copy / "book.py")
        suite, result = timed(lambda: subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=suite_copy, capture_output=True, text=True))
        suite_summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]

    print(f"machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print(f"cold build (strict, empty cache): {cold:.1f} s")
    print(f"no-change rebuild: {rebuild:.1f} s")
    print(f"floor (notebooks executed serially with nbclient): {floor:.1f} s")
    print(f"cold build / floor: {cold / floor:.2f}")
    print(f"no-change rebuild / cold build: {rebuild / cold:.2f}")
    print(f"test suite (pytest, fresh copy): {suite:.1f} s  [{suite_summary}]")
    print(f"test suite / cold build: {suite / cold:.2f}")


if __name__ == "__main__":
    main()
