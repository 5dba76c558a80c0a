#!/usr/bin/env python3
"""Build, test or open the book. Needs only Python 3.11+; it makes its own virtual environment.

    python3 book.py build                       # instructor edition (solutions collapsed): _build/html
    python3 book.py build --edition student     # student edition, no solutions: _build/student/html,
                                                #   and notebooks to hand out: _build/student/notebooks
    python3 book.py build --edition both        # both: the notebooks run once, the two editions build side by side
    python3 book.py test                        # the whole test suite (pytest)
    python3 book.py lab                         # JupyterLab in chapters/, to run a notebook yourself

The virtual environment lives in .venv/; the pinned packages are installed into it again only when requirements.txt changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / "requirements.sha256"
BOOK_FILES = ["_config.yml", "_toc.yml", "references.bib", "chapters", "data", "_ext"]
SOLUTION_TAG = "solution"  # cells with this tag are the reference solutions
INSTRUCTOR_ONLY = ["chapters/instructor_guide"]  # pages left out of the student edition
STUDENT = ROOT / "_build" / "student"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> Path:
    """Create .venv if needed and install requirements.txt when it has changed since the last install."""
    if sys.version_info < (3, 11):
        sys.exit(f"book.py needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing the pinned packages from requirements.txt ...", flush=True)
        subprocess.run([venv_python(), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([venv_python(), "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], check=True)
        STAMP.write_text(wanted + "\n")
    return venv_python()


def run(command: list, **kwargs) -> int:
    return subprocess.run([str(part) for part in command], cwd=ROOT, **kwargs).returncode


def strict_build_command(python: Path, book: Path, output: Path, second: tuple[Path, Path, Path] | None = None) -> list:
    """The strict build of ``book`` as one command (see ``strict_build_now``); ``second``: another edition's
    (book, output, log), built side by side with the first."""
    return [python, Path(__file__).resolve(), "strict-build", book, output, *(second or ())]


def inputs_fingerprint(book: Path) -> str:
    """What executed notebooks depend on besides their own code: data and sources, helper module, style, packages."""
    digest = hashlib.sha256()
    inputs = [REQUIREMENTS, book / "references.bib", *sorted((book / "data").iterdir()), *sorted((book / "chapters").glob("*.py")),
              *sorted((book / "chapters").glob("*.mplstyle"))]
    for path in inputs:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_cache(book: Path, cache: Path) -> bool:
    """Empty the execution cache when the inputs changed; jupyter-cache itself keys on code cells only."""
    stamp = cache / "inputs.sha256"
    fingerprint = inputs_fingerprint(book)
    recorded = stamp.read_text().strip() if stamp.exists() else None
    stale = cache.exists() and recorded != fingerprint
    if stale:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    if recorded != fingerprint:
        # Written whole or not at all: the two editions' builds may read it at the same time.
        partial = stamp.with_suffix(f".{os.getpid()}")
        partial.write_text(fingerprint + "\n")
        partial.replace(stamp)
    return stale


def toc_files(book: Path = ROOT) -> list[str]:
    """Every document named in the book's _toc.yml, root first (needs the environment's PyYAML)."""
    import yaml

    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [section["file"] for section in chapter.get("sections", [])]
    return files


def execute_in_parallel(book: Path, cache_path: Path) -> None:
    """Run the book's notebooks that are not cached yet, on every core, into the cache the build reads."""
    import yaml

    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    notebooks = [book / f"{name}.ipynb" for name in toc_files(book) if (book / f"{name}.ipynb").exists()]
    execute_notebooks(notebooks, cache_path, timeout=config["execute"]["timeout"])


def ipc_kernels(manager_class):
    """``manager_class`` whose kernels talk over Unix socket files of their own instead of TCP ports.

    jupyter_client picks a kernel's TCP ports by binding port 0 and letting go of them before the kernel binds
    them; with kernels starting side by side, another socket can take one first and the kernel dies with
    "Address already in use" (jupyter_client issue 487; seen here in about one test run in ten).
    """
    from traitlets import default

    class IpcKernelManager(manager_class):
        @default("transport")
        def _transport_default(self):
            return "ipc"

        @default("ip")
        def _ip_default(self):
            return os.path.join(tempfile.gettempdir(), f"kernel-{uuid.uuid4().hex[:12]}")

    return IpcKernelManager


def _execute(job: tuple):
    """Run one notebook in its own folder; return it executed, or the error that stopped it."""
    from jupyter_cache.executors.utils import single_nb_execution
    from jupyter_client import AsyncKernelManager

    path, notebook, timeout = job
    try:
        # Once the last cell has answered, every output is in hand: the kernel is stopped at once rather than
        # asked to exit, which would wait for its interpreter to tear down (about half a second of processor time each).
        result = single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False,
                                     kernel_manager_class=ipc_kernels(AsyncKernelManager), shutdown_kernel="immediate")
    except Exception as error:  # a kernel that died, say: reported by the build, which runs it again
        return path, notebook, 0.0, repr(error)
    return path, notebook, result.time, result.exc_string if result.err else None


def execute_notebooks(notebooks: list[Path], cache_path: Path, timeout: int) -> dict[Path, str]:
    """Execute the notebooks missing from the jupyter-cache at ``cache_path``, one process per core.

    The longest (largest) notebooks start first and each process takes the next notebook as soon as it is free,
    which keeps every core busy to the end. A notebook that fails is not cached: the build runs it again and
    reports the failing cell. Returns the error of each notebook that failed.
    """
    import multiprocessing

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.cache.main import CacheBundleIn

    cache = get_cache(cache_path)
    missing = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            missing.append((path, notebook, timeout))
    failures: dict[Path, str] = {}
    if not missing:
        return failures
    missing.sort(key=lambda job: job[0].stat().st_size, reverse=True)
    with multiprocessing.get_context("fork").Pool(min(len(missing), os.cpu_count() or 1)) as pool:
        for path, notebook, seconds, error in pool.imap_unordered(_execute, missing):
            if error is None:
                cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                                            check_validity=False, overwrite=True)
            else:
                failures[path] = error
    return failures


def sources_fingerprint(book: Path) -> str:
    """Everything the HTML is made from: the book's files, the packages and this script."""
    digest = hashlib.sha256()
    for top in BOOK_FILES:
        paths = [book / top] if (book / top).is_file() else sorted((book / top).rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(book)).encode() + b"\0" + path.read_bytes())
    digest.update(REQUIREMENTS.read_bytes() + Path(__file__).read_bytes())
    return digest.hexdigest()


def execute_now(book: Path, output: Path) -> None:
    """Run the notebooks that are not in the execution cache yet (emptying it first if their inputs changed)."""
    cache = (output / "_build" / ".jupyter_cache").resolve()  # the student edition links to the instructor's
    if prepare_cache(book, cache):
        print("Inputs of the notebooks changed (data, sources, packages, helper module or style): the execution cache was emptied.")
    execute_in_parallel(book, cache)


def _fingerprint_file(output: Path) -> Path:
    return output / "_build" / "html.sources.sha256"  # written by a successful build only


def is_built(book: Path, output: Path, fingerprint: str | None = None) -> bool:
    """Whether ``output`` holds a successful build of ``book`` as its sources are now (``fingerprint``, if known)."""
    built = _fingerprint_file(output)
    return (built.exists() and built.read_text().strip() == (fingerprint or sources_fingerprint(book))
            and (output / "_build" / "html" / "index.html").exists())


def _jupyter_book_build(book: Path, output: Path, fingerprint: str) -> int:
    """The strict Sphinx build (the notebooks have run); records the sources' ``fingerprint`` when it succeeds."""
    from jupyter_book.cli.main import main as jupyter_book

    code = 0
    try:
        jupyter_book.main(["build", "--all", "-W", "-n", "--keep-going", "--path-output", str(output), str(book)],
                          standalone_mode=False)
    except SystemExit as stop:  # jupyter-book exits with Sphinx's status when the build fails
        code = stop.code if isinstance(stop.code, int) else 1
    except RuntimeError as error:  # ... or raises when Sphinx itself stopped
        print(error, file=sys.stderr)
        code = 1
    if code == 0:
        _fingerprint_file(output).write_text(fingerprint + "\n")
    return code


def _build_in_child(book: Path, output: Path, fingerprint: str, log: Path) -> int:
    """Fork; the child builds ``book`` with its output in ``log`` and exits with the build's status."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        with log.open("w") as stream:
            os.dup2(stream.fileno(), 1)
            os.dup2(stream.fileno(), 2)
            code = _jupyter_book_build(book, output, fingerprint)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def strict_build_now(book: Path, output: Path, second: tuple[Path, Path, Path] | None = None) -> int:
    """Execute in parallel, then build with warnings as errors, nitpicky references and every page rewritten.

    Jupyter Book writes the HTML to ``output/_build/html`` and reads its cache from ``output/_build/.jupyter_cache``.
    Every page is rewritten (``--all``) because glued numbers go stale in incremental builds; when no source
    has changed at all since the last successful build, nothing can be stale and the build is skipped.

    ``second`` is another edition of the same notebooks, as (book, output, log): it reads the first one's execution
    cache, and builds at the same time in a process forked once the Sphinx stack is loaded (so it is loaded once),
    writing its output to the log.
    """
    builds = [(book, output, None), *([second] if second else [])]
    stale = []
    for edition_book, edition_output, log in builds:
        fingerprint = sources_fingerprint(edition_book)  # of the sources as the build starts
        if is_built(edition_book, edition_output, fingerprint):
            print(f"Nothing changed since the last successful build: {edition_output / '_build' / 'html'} is up to date.")
            if log:
                log.write_text("Nothing changed since the last successful build.\n")
        else:
            _fingerprint_file(edition_output).unlink(missing_ok=True)
            stale.append((edition_book, edition_output, fingerprint, log))
    if not stale:
        return 0
    execution = subprocess.Popen([sys.executable, Path(__file__).resolve(), "execute", book, output])
    # While the notebooks run, load the Sphinx stack: seconds of imports that would otherwise come after them.
    from jupyter_book.cli.main import main  # noqa: F401
    import myst_nb.sphinx_ext, sphinx_book_theme, sphinxcontrib.bibtex  # noqa: E401, F401
    if execution.wait():
        return execution.returncode
    # An edition with a log of its own builds in a forked process, started first so that the builds overlap.
    in_child = [log is not None and hasattr(os, "fork") for *_, log in stale]
    children = [_build_in_child(*build) for build, forked in zip(stale, in_child) if forked]
    codes = [_jupyter_book_build(*build[:3]) for build, forked in zip(stale, in_child) if not forked]
    codes += [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    return max(codes)


def copy_book(destination: Path) -> Path:
    """A copy of the book's sources (no virtual environment, git data or build output)."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for name in BOOK_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def is_solution(cell: dict) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def write_notebook(path: Path, notebook: dict) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def remove_solutions(notebook: dict, markdown_only: bool = False) -> dict:
    """``notebook`` without its solution cells (only the markdown ones with ``markdown_only``), by nbconvert's
    tag-removal preprocessor."""
    import nbformat
    from nbconvert.preprocessors import TagRemovePreprocessor

    class SolutionRemover(TagRemovePreprocessor):
        def check_cell_conditions(self, cell, resources, index):  # True: the cell stays
            kept_code = markdown_only and cell.cell_type != "markdown"
            return kept_code or super().check_cell_conditions(cell, resources, index)

    notebook, _ = SolutionRemover(remove_cell_tags={SOLUTION_TAG}).preprocess(nbformat.from_dict(notebook), {})
    return notebook


def without_solutions(notebook: dict) -> dict:
    """The notebook a student gets: no solution cells, no outputs (nbconvert's clear-output preprocessor)."""
    from nbconvert.preprocessors import ClearOutputPreprocessor

    notebook, _ = ClearOutputPreprocessor().preprocess(remove_solutions(notebook), {})
    return notebook


def stage_student_edition(stage: Path) -> None:
    """Copy the book to ``stage`` as the student edition's sources.

    Solution prose (markdown cells) is dropped here. Solution code cells stay in the staged notebooks, unchanged,
    because the execution cache is keyed on code cells: so the student edition reuses the instructor edition's
    executions, and the book_hooks extension (``book_edition: student``) takes the solution code cells and the
    outputs of the formative checks off the pages, and out of the notebooks offered for download.
    """
    copy_book(stage)
    for path in sorted((stage / "chapters").glob("*.ipynb")):
        write_notebook(path, remove_solutions(json.loads(path.read_text(encoding="utf-8")), markdown_only=True))
    toc = (stage / "_toc.yml").read_text(encoding="utf-8")
    for page in INSTRUCTOR_ONLY:
        toc = "\n".join(line for line in toc.splitlines() if line.strip() != f"- file: {page}") + "\n"
        for suffix in (".md", ".ipynb"):
            (stage / f"{page}{suffix}").unlink(missing_ok=True)
    (stage / "_toc.yml").write_text(toc, encoding="utf-8")
    config = (stage / "_config.yml").read_text(encoding="utf-8")
    anchor = "\n  config:\n"  # the sphinx: config: block, which every build of this book has
    if anchor not in config:
        sys.exit("_config.yml has no 'sphinx: config:' block to mark the student edition in")
    (stage / "_config.yml").write_text(config.replace(anchor, anchor + "    book_edition: student\n", 1), encoding="utf-8")


def write_handout(stage: Path, handout: Path) -> None:
    """The notebooks students are given: chapters without solutions, with the data and helper they need."""
    if handout.exists():
        shutil.rmtree(handout)
    shutil.copytree(stage / "chapters", handout / "chapters", ignore=shutil.ignore_patterns("*.md", "images"))
    for path in sorted((handout / "chapters").glob("*.ipynb")):
        write_notebook(path, without_solutions(json.loads(path.read_text(encoding="utf-8"))))
    shutil.copytree(stage / "data", handout / "data")
    shutil.copy2(stage / "references.bib", handout / "references.bib")  # the loader checks source keys


def prepare_student_stage() -> Path:
    """Stage the student edition's sources; it reads the instructor edition's execution cache."""
    stage = STUDENT / "source"
    stage_student_edition(stage)
    shared_cache = STUDENT / "_build" / ".jupyter_cache"
    if not shared_cache.is_symlink():
        if shared_cache.exists():
            shutil.rmtree(shared_cache)
        shared_cache.parent.mkdir(parents=True, exist_ok=True)
        shared_cache.symlink_to(ROOT / "_build" / ".jupyter_cache", target_is_directory=True)
    return stage


def publish_student_edition(stage: Path) -> Path:
    html = STUDENT / "html"
    if html.exists():
        shutil.rmtree(html)
    # A copy, not a move: the build output stays where Jupyter Book wrote it, so an unchanged edition is not rebuilt.
    shutil.copytree(STUDENT / "_build" / "html", html)
    for path in (html / "_sources").rglob("*.ipynb"):  # the notebooks the download button offers
        write_notebook(path, without_solutions(json.loads(path.read_text(encoding="utf-8"))))
    write_handout(stage, STUDENT / "notebooks")
    print(f"Student notebooks to hand out: {STUDENT / 'notebooks'}")
    return html


def build(python: Path, edition: str) -> int:
    """Build one edition, or both: the notebooks run once, then the two Sphinx builds run side by side."""
    editions = ["instructor", "student"] if edition == "both" else [edition]
    books = {"instructor": (ROOT, ROOT)}
    if "student" in editions:
        books["student"] = (prepare_student_stage(), STUDENT)
    # With both editions, the student build writes to a log so the two outputs do not interleave.
    log = STUDENT / "build.log"
    second = (*books["student"], log) if len(editions) == 2 else None
    code = run(strict_build_command(python, *books[editions[0]], second))
    for name in editions:
        if not is_built(*books[name]):
            if name == "student" and second and log.exists():
                print(log.read_text(encoding="utf-8", errors="replace"))
            print(f"\nThe {name} edition failed to build.", file=sys.stderr)
            continue
        html = publish_student_edition(books[name][0]) if name == "student" else ROOT / "_build" / "html"
        print(f"\nThe {name} edition is built. Open {html / 'index.html'} in a browser.")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["build", "test", "lab", "strict-build", "execute"])
    parser.add_argument("--edition", choices=["instructor", "student", "both"], default="instructor")
    parser.add_argument("arguments", nargs="*", help="test: extra arguments for pytest (after --); "
                        "strict-build and execute (internal, run by the environment's Python): BOOK OUTPUT "
                        "(strict-build: then optionally a second edition's BOOK OUTPUT LOG)")
    options = parser.parse_args()
    python = ensure_environment()
    if Path(sys.prefix).resolve() != VENV.resolve():  # the build needs the environment's packages (nbconvert) too
        os.execv(python, [python, Path(__file__).resolve(), *sys.argv[1:]])
    if options.task in ("strict-build", "execute"):
        book, output, *second = (Path(argument).resolve() for argument in options.arguments)
        if options.task == "execute":
            execute_now(book, output)
            return 0
        return strict_build_now(book, output, tuple(second) or None)
    if options.task == "build":
        return build(python, options.edition)
    if options.task == "test":
        code = run([python, "-m", "pytest", *options.arguments])
        if code == 5:
            print("pytest collected no tests: that is a failure here, not a pass.", file=sys.stderr)
            return 1
        return code
    return run([python, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "chapters"])


if __name__ == "__main__":
    sys.exit(main())
