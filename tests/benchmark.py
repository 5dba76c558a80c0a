"""Measure the build and the tests, all in one run, and print the figures as ratios.

    .venv/bin/python tests/benchmark.py

Every measurement starts from a fresh copy of the repository in a temporary
folder with no build output, so a warm cache in the working tree cannot
flatter it. Not a test: speed is reported here, not asserted.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import book  # noqa: E402  (book.py: the copy of the book and its table of contents, as the build reads them)

REPOSITORY_FILES = ["book.py", "pytest.ini", "requirements.txt", "tests"]


def fresh_copy(destination: Path) -> Path:
    """The repository as a new clone has it: sources, tests and requirements, no build output."""
    book.copy_book(destination)
    for name in REPOSITORY_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    (destination / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return destination


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        log = ROOT / "test-artifacts" / "benchmark-failure.log"
        log.parent.mkdir(exist_ok=True)
        log.write_text(result.stdout + "\n" + result.stderr)
        sys.exit(f"{' '.join(command)} failed in {cwd} (whole output in {log}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed, result


def floor_seconds(copy: Path) -> float:
    """Every notebook of the book executed once, one after another, with nbclient: the cost of the content itself."""
    start = time.perf_counter()
    for name in book.toc_files(copy):
        path = copy / f"{name}.ipynb"
        if path.exists():
            notebook = nbformat.read(path, as_version=4)
            NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        one = fresh_copy(scratch / "one")
        floor = floor_seconds(one)
        cold, _ = timed([python, "book.py", "build"], one)
        rebuild, _ = timed([python, "book.py", "build"], one)
        touch = one / "chapters" / "how_to_use.md"
        touch.write_text(touch.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        rebuild_after_edit, _ = timed([python, "book.py", "build"], one)
        student_after, _ = timed([python, "book.py", "build", "--edition", "student"], one)

        both_copy = fresh_copy(scratch / "both")
        both, _ = timed([python, "book.py", "build", "--edition", "both"], both_copy)

        suite_copy = fresh_copy(scratch / "suite")
        suite, result = timed([python, "book.py", "test"], suite_copy)
        summary = [line for line in result.stdout.splitlines() if " passed" in line][-1:]

    print(f"machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
          f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {time.strftime('%Y-%m-%d')}")
    print(f"floor (every notebook executed serially with nbclient): {floor:.1f} s")
    print(f"cold build, instructor edition (python3 book.py build): {cold:.1f} s")
    print(f"no-change rebuild: {rebuild:.1f} s; rebuild after editing one page (notebooks cached): {rebuild_after_edit:.1f} s")
    print(f"student edition after the instructor edition: {student_after:.1f} s")
    print(f"both editions cold (python3 book.py build --edition both): {both:.1f} s")
    print(f"test suite from a fresh copy (python3 book.py test): {suite:.1f} s  {' '.join(summary)}")
    print(f"cold build / floor: {cold / floor:.2f}  (target < 1.0)")
    print(f"no-change rebuild / cold build: {rebuild / cold:.2f}  (target < 0.15); "
          f"after one edit: {rebuild_after_edit / cold:.2f}")
    print(f"both editions cold / one edition cold: {both / cold:.2f}  (target < 1.3); "
          f"one after the other: {(cold + student_after) / cold:.2f}")
    print(f"test suite / cold build: {suite / cold:.2f}  (target < 2.5)")


if __name__ == "__main__":
    main()
