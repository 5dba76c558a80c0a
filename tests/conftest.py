"""Shared fixtures: the repository layout and one strict build of the book per test run."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, serve

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
    return book.toc_files(ROOT)


@pytest.fixture(scope="session")
def run_id(request) -> str:
    """One identifier for the whole test run, shared by pytest-xdist's workers."""
    worker_input = getattr(request.config, "workerinput", None)
    return worker_input["testrunuid"] if worker_input else _LOCAL_RUN_ID


_LOCAL_RUN_ID = uuid.uuid4().hex


def once_per_run(name: str, run_id: str, action) -> None:
    """Run ``action`` once in this test run, whichever worker asks first; the others wait for it.

    A failed action leaves no marker, so the next worker to ask tries again and fails the same way.
    """
    state = ROOT / "_build" / ".test-run"
    state.mkdir(parents=True, exist_ok=True)
    marker = state / f"{name}.done"
    with (state / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == run_id:
            return
        action()
        marker.write_text(run_id)


@pytest.fixture(scope="session")
def built_book(run_id) -> Path:
    """The book built once per test run, strictly, into _build/html (reusing the execution cache)."""

    def build():
        result = strict_build(ROOT, ROOT)
        assert result.returncode == 0, f"strict build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

    once_per_run("instructor-edition", run_id, build)
    return ROOT / "_build" / "html"


def seed_cache(output_dir: Path) -> None:
    """Give a copy the working tree's execution cache, so only the notebooks it changes run again."""
    cache = ROOT / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, output_dir / "_build" / ".jupyter_cache")


@pytest.fixture(scope="session")
def student_edition(built_book, run_id):
    """The student edition built as the README builds it, after the instructor edition, whose cache it shares."""

    def build():
        assert book.build(Path(sys.executable), "student") == 0, "the student edition failed to build"

    once_per_run("student-edition", run_id, build)
    return ROOT / "_build" / "student"



@pytest.fixture(scope="session")
def site(built_book):
    server, url = serve(built_book)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Chromium not found: install it with `apt-get install -y chromium` (Debian) to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run them, not skip them")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
