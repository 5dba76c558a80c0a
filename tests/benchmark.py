"""Measure the build and the tests, all in one run, and print the figures as ratios.

    .venv/bin/python tests/benchmark.py

Every measurement starts from a fresh copy of the repository in a temporary
folder with no build output, so a warm cache in the working tree cannot
flatter it. Not a test: speed is reported here, not asserted.

The whole sequence runs in rounds (two by default: --rounds N), each on new
copies, and the ratios use each measure's fastest round; every round's
seconds are printed too. The machine is shared, and the same step can take a
tenth longer from one minute to the next: the fastest round is the closest to
what the work itself costs (as timeit reports the best of its repeats).
"""

from __future__ import annotations

import argparse
import os
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
NOT_IN_A_CLONE = (".git", ".venv", "_build", "test-artifacts", "__pycache__", ".ipynb_checkpoints", ".pytest_cache")


def fresh_copy(destination: Path) -> Path:
    """The repository as a new clone has it (no build output), using this repository's virtual environment."""
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE))
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
        sys.exit(
            f"{' '.join(command)} failed in {cwd} (whole output in {log}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed, result


def floor_seconds(copy: Path) -> float:
    """Every notebook of the book executed once, one after another, with nbclient: the cost of the content itself."""
    start = time.perf_counter()
    for path in sorted((copy / "chapters").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    return time.perf_counter() - start


def one_round(python: str, scratch: Path) -> dict:
    """Each measure once, from fresh copies in ``scratch``: seconds by measure, and the suite's summary line."""
    one = fresh_copy(scratch / "one")
    seconds = {"floor": floor_seconds(one)}
    seconds["cold"], _ = timed([python, "book.py", "build"], one)
    seconds["rebuild"], _ = timed([python, "book.py", "build"], one)
    touch = one / "chapters" / "how_to_use.md"
    touch.write_text(touch.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    seconds["rebuild_after_edit"], _ = timed([python, "book.py", "build"], one)
    seconds["instructor_after"], _ = timed([python, "book.py", "build", "--edition", "instructor"], one)
    seconds["both"], _ = timed([python, "book.py", "build", "--edition", "both"], fresh_copy(scratch / "both"))
    seconds["suite"], result = timed([python, "book.py", "test"], fresh_copy(scratch / "suite"))
    summary = [line.strip("= ") for line in result.stdout.splitlines() if " passed" in line][-1:]
    return {"seconds": seconds, "summary": " ".join(summary)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="how many times to take every measure (default 2)")
    rounds = parser.parse_args().rounds
    results = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            results.append(one_round(sys.executable, Path(scratch)))
    best = {name: min(result["seconds"][name] for result in results) for name in results[0]["seconds"]}

    def measured(name: str) -> str:
        each = ", ".join(f"{result['seconds'][name]:.1f}" for result in results)
        return f"{best[name]:.1f} s" + (f" (rounds: {each})" if rounds > 1 else "")

    floor, cold, suite = best["floor"], best["cold"], best["suite"]
    print(
        f"machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; fastest of {rounds} round(s)"
    )
    print(f"floor (every notebook executed serially with nbclient): {measured('floor')}")
    print(f"cold build, student edition (python3 book.py build): {measured('cold')}")
    print(
        f"no-change rebuild: {measured('rebuild')}; rebuild after editing one page (notebooks cached): "
        f"{measured('rebuild_after_edit')}"
    )
    print(f"instructor edition after the student edition: {measured('instructor_after')}")
    print(f"both editions cold (python3 book.py build --edition both): {measured('both')}")
    print(f"test suite from a fresh copy (python3 book.py test): {measured('suite')}; {results[-1]['summary']}")
    print(f"cold build / floor: {cold / floor:.2f}  (target < 1.1)")
    print(f"no-change rebuild / cold build: {best['rebuild'] / cold:.2f}  (target < 0.15)")
    print(f"rebuild after editing one page / cold build: {best['rebuild_after_edit'] / cold:.2f}  (target < 0.5)")
    print(f"both editions cold / one edition cold: {best['both'] / cold:.2f}")
    print(f"test suite / cold build: {suite / cold:.2f}  (target < 3.0)")
    if rounds > 1:
        per_round = ", ".join(f"{result['seconds']['suite'] / result['seconds']['cold']:.2f}" for result in results)
        print(f"test suite / cold build within each round: {per_round}")


if __name__ == "__main__":
    main()
