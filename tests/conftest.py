"""Shared fixtures: the repository layout, and each notebook executed once per test run.

nbval runs every notebook (chapters/*.ipynb), first in the run, and stores what it executed in the build's
execution cache (_build/.jupyter_cache). The strict builds wait for those runs and reuse them, so no notebook
is executed twice in a run: the builds only run a notebook nbval could not finish (and report its failing cell).
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, CheckedLooks, open_tab, serve

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(CHAPTERS))

sys.path.insert(0, str(ROOT))
import book  # noqa: E402  (the README's build command: the tests build exactly as it does)

sys.path.insert(0, str(ROOT / "_ext"))
from book_hooks import CHECK_CALL  # noqa: E402, F401  (the cells whose verdicts the student pages hide)

WITH_SOLUTIONS = [path for path in sorted(CHAPTERS.glob("*.ipynb"))
                  if any(book.is_solution(cell) for cell in nbformat.read(path, as_version=4).cells)]


def solutions_come_last(path: Path) -> bool:
    """Whether every solution code cell of the notebook comes after all its other code cells.

    Then the code of the notebook handed out (the same without its solutions) is the opening of the notebook's
    code, and nbval's run of the notebook, in a fresh kernel, is a student's run of the handed-out one up to its
    last cell: the cells, their order and so their outputs are the same, whatever comes after them.
    """
    kinds = [book.is_solution(cell) for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    return kinds == sorted(kinds)


# The handed-out notebooks that need a run of their own: those with code after a solution (the assignments, whose
# checks follow the answers they judge). The chapters keep their reference solutions last (a test checks it).
RUN_AS_HANDED_OUT = [path for path in WITH_SOLUTIONS if not solutions_come_last(path)]

copy_book = book.copy_book


def strict_build(book_dir: Path, output_dir: Path) -> subprocess.CompletedProcess:
    """The README's strict build of ``book_dir``, with its output captured for the assertions."""
    command = book.strict_build_command(Path(sys.executable), book_dir, output_dir)
    return subprocess.run([str(part) for part in command], capture_output=True, text=True)


def toc_files() -> list[str]:
    """Every document named in _toc.yml, root first."""
    return book.toc_files(ROOT)


def current_run_id(config) -> str:
    """One identifier for the whole test run, shared by pytest-xdist's workers."""
    worker_input = getattr(config, "workerinput", None)
    return worker_input["testrunuid"] if worker_input else _LOCAL_RUN_ID


_LOCAL_RUN_ID = uuid.uuid4().hex
RUN_STATE = ROOT / "_build" / ".test-run"
BUILD_CACHE = ROOT / "_build" / ".jupyter_cache"
FAILURES = "failures.json"  # in a cache the tests filled: each notebook that failed there, with its error
WAIT_FOR_NOTEBOOKS_SECONDS = 900


@pytest.fixture(scope="session")
def run_id(request) -> str:
    return current_run_id(request.config)


def once_per_run(name: str, run_id: str, action) -> None:
    """Run ``action`` once in this test run, whichever worker asks first; the others wait for it.

    A failed action leaves no marker, so the next worker to ask tries again and fails the same way.
    """
    RUN_STATE.mkdir(parents=True, exist_ok=True)
    marker = RUN_STATE / f"{name}.done"
    with (RUN_STATE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == run_id:
            return
        action()
        marker.write_text(run_id)


# ---- nbval's runs go into the build's execution cache ------------------------------------------------------

LONG_TEST_FILES = {"test_browser_checks.py", "test_build.py"}


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def _notebook_marker(path: Path) -> Path:
    return RUN_STATE / f"nbval-{path.stem}.done"


def prepare_build_cache(run_id: str) -> None:
    """Empty the build cache if the notebooks' inputs changed, once, before anything is stored in it."""
    once_per_run("prepare-cache", run_id, lambda: book.prepare_cache(ROOT, BUILD_CACHE))


class NbvalRunsFeedTheBuildCache:
    """Stores each notebook nbval ran without a failure in the build's execution cache, as the build would."""

    def __init__(self, config):
        self.config = config
        self.outputs: dict[Path, dict[int, list]] = {}
        self.failed: set[Path] = set()

    def pytest_collection_modifyitems(self, items):
        # Notebooks first, longest first: the builds wait for them, so with pytest-xdist's --dist loadfile and
        # --no-loadscope-reorder every notebook is handed out before any test that waits (no deadlock). Then the
        # tests that wait for nothing (the failing-build test above all), which keep the worker that finishes its
        # notebooks first busy while the other finishes; then those that wait for the editions or the handed-out
        # notebooks' runs. In each group the long test files come first, the short ones and the one-page browser
        # tests last, to even out the two workers.
        code_cells = {}
        for item in items:
            if _is_nbval_cell(item):
                code_cells[item.parent] = code_cells.get(item.parent, 0) + 1

        def order(item):
            if _is_nbval_cell(item):
                return (0, -code_cells[item.parent])
            waits = bool({"both_editions", "handout_runs"} & set(getattr(item, "fixturenames", ())))
            return (2 if waits else 1, 0 if Path(item.path).name in LONG_TEST_FILES else 1)

        items.sort(key=order)
        if any("handout_runs" in getattr(item, "fixturenames", ()) for item in items):
            start_handout_runs_in_background(current_run_id(self.config))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if not _is_nbval_cell(item):
            return
        report = outcome.get_result()
        path = Path(item.parent.path)
        if report.failed or report.skipped:
            self.failed.add(path)
        elif call.when == "call":
            self.outputs.setdefault(path, {})[item.cell_num] = item.test_outputs

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        if not _is_nbval_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
            return
        path = Path(item.parent.path)
        run_id = current_run_id(self.config)
        outputs = self.outputs.pop(path, {})
        if path.parent == CHAPTERS and path not in self.failed:
            prepare_build_cache(run_id)
            self._store(path, item.parent.nb, outputs)
        RUN_STATE.mkdir(parents=True, exist_ok=True)
        _notebook_marker(path).write_text(run_id)

    @staticmethod
    def _store(path: Path, source, outputs: dict[int, list]) -> None:
        from jupyter_cache import get_cache
        from jupyter_cache.cache.main import CacheBundleIn

        executed = copy.deepcopy(source)
        code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
        if len(outputs) != len(code_cells):
            return  # some cells did not run (a selection with -k, say): not a complete execution
        for count, cell in enumerate(code_cells, start=1):
            cell.outputs = outputs[count - 1]
            cell.execution_count = count
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = count
        with (RUN_STATE / "cache.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cache = get_cache(BUILD_CACHE)
            cache.cache_notebook_bundle(CacheBundleIn(nb=executed, uri=str(path), data={"executed_by": "nbval"}),
                                        overwrite=True)


def pytest_configure(config):
    config.pluginmanager.register(NbvalRunsFeedTheBuildCache(config), "nbval-runs-feed-the-build-cache")
    # nbval's kernels too talk over socket files: TCP ports picked side by side can collide (see book.ipc_kernels).
    import nbval.kernel

    nbval.kernel.KernelManager = book.ipc_kernels(nbval.kernel.KernelManager)


SPREAD_PER_TEST = ("tests/test_browser_pages.py::",)  # independent page checks, each a few seconds


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile (a notebook's cells share one kernel), except that each browser page test is its own unit."""
    from xdist.scheduler import LoadScopeScheduling

    class LoadFileSpreadingPageTests(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(SPREAD_PER_TEST) else nodeid.split("::", 1)[0]

    return LoadFileSpreadingPageTests(config, log)


def wait_for_notebook_runs(session, run_id: str) -> None:
    """Block until nbval has run every notebook collected in this session (they come first in the run)."""
    notebooks = {Path(item.parent.path) for item in session.items if _is_nbval_cell(item)}
    deadline = time.monotonic() + WAIT_FOR_NOTEBOOKS_SECONDS
    while True:
        waiting = sorted(path.name for path in notebooks
                         if not (_notebook_marker(path).exists() and _notebook_marker(path).read_text() == run_id))
        if not waiting:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"nbval did not finish these notebooks in {WAIT_FOR_NOTEBOOKS_SECONDS} s: {waiting}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def both_editions(request, run_id) -> dict[str, Path]:
    """Both editions, built once per run as `python3 book.py build --edition both` builds them: from the
    executions nbval stored (no notebook runs again), with the two Sphinx builds side by side."""

    def build():
        wait_for_notebook_runs(request.session, run_id)
        prepare_build_cache(run_id)
        assert book.build(Path(sys.executable), "both") == 0, "the editions failed to build (output above)"

    once_per_run("editions", run_id, build)
    return {"instructor": ROOT / "_build" / "html", "student": ROOT / "_build" / "student"}


@pytest.fixture(scope="session")
def built_book(both_editions) -> Path:
    """The instructor edition's HTML."""
    return both_editions["instructor"]


@pytest.fixture(scope="session")
def student_edition(both_editions) -> Path:
    """The student edition: its HTML in html/, the notebooks handed out in notebooks/."""
    return both_editions["student"]


HANDOUT = RUN_STATE / "handout"
HANDOUT_CACHE = ROOT / "_build" / ".handout_cache"


def run_handouts(run_id: str) -> None:
    """Execute the handed-out notebooks that need a run of their own, once in this test run (see handout_runs)."""

    def execute():
        book.write_handout(ROOT, HANDOUT)
        book.prepare_cache(HANDOUT, HANDOUT_CACHE)
        failures = book.execute_notebooks([HANDOUT / "chapters" / path.name for path in RUN_AS_HANDED_OUT],
                                          HANDOUT_CACHE, timeout=600)
        # The tests that read these runs report a failed notebook with its error (see test_assignments.executed).
        (HANDOUT_CACHE / FAILURES).write_text(json.dumps({path.name: error for path, error in failures.items()}, indent=1))

    once_per_run("handout-runs", run_id, execute)


def start_handout_runs_in_background(run_id: str) -> None:
    """Start run_handouts in a process of its own, at low priority, while nbval runs the notebooks.

    nbval leaves the processors idle about a sixth of the time (kernels starting, cells waiting for replies): the
    handed-out notebooks fill that time instead of queueing after nbval. Whichever comes first, this process or
    the handout_runs fixture, runs them; the other waits for it (once_per_run). Its output: handout-runs.log.
    """
    RUN_STATE.mkdir(parents=True, exist_ok=True)
    try:  # one start per run, whichever worker collects first
        os.close(os.open(RUN_STATE / f"handout-runs-started.{run_id}", os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return
    for stale in RUN_STATE.glob("handout-runs-started.*"):
        if stale.suffix != f".{run_id}":
            stale.unlink(missing_ok=True)
    code = (f"import os, sys; os.nice(10); sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import conftest; conftest.run_handouts({run_id!r})")  # its kernels inherit the low priority
    with (RUN_STATE / "handout-runs.log").open("w") as log:
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="session")
def handout_runs(run_id) -> Path:
    """The notebooks students are given (book.write_handout, as the build writes them) that nbval's runs do not
    already cover (RUN_AS_HANDED_OUT), executed as students run them, once per run, into a cache of their own.
    They start in the background with the run (start_handout_runs_in_background); here they are waited for."""
    run_handouts(run_id)
    return HANDOUT_CACHE


@pytest.fixture(scope="session")
def site(built_book):
    server, url = serve(built_book)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = ("Chromium not found: install it with `apt-get install -y chromium-headless-shell` (or `chromium`) "
                   "on Debian to run the browser tests")
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run them, not skip them")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def checked_looks(tmp_path_factory, worker_id) -> CheckedLooks:
    """The looks of text checked for contrast so far in this run, by any worker (see browser.CheckedLooks)."""
    # Under pytest-xdist the parent of a worker's temporary folder belongs to this run and to all its workers.
    run_folder = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    return CheckedLooks(run_folder / "checked-looks", worker_id)


@pytest.fixture(scope="session")
def tab(browser):
    """One tab that the page tests navigate from page to page (see browser.open_tab)."""
    page = open_tab(browser)
    yield page
    page.context.close()
