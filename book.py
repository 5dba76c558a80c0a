#!/usr/bin/env python3
"""Build, test or open the book. Needs only Python 3.11+; it makes its own virtual environment (.venv).

    python3 book.py build                        # student edition: _build/student/html, and _build/student/notebooks
    python3 book.py build --edition instructor   # instructor edition (solutions collapsed): _build/html; or both
    python3 book.py pdf                          # the edition as a PDF in _build/ (--edition as for build)
    python3 book.py test                         # the whole test suite (pytest; arguments after -- go to pytest)
    python3 book.py lab                          # JupyterLab in chapters/

A build runs the changed notebooks in parallel into jupyter-cache, then the stock strict build with BOOK_EDITION set
(read by _ext/book_hooks.py; unset, it is the instructor edition): jupyter-book build --all -W -n --keep-going.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")  # the environment's
REQUIREMENTS = ROOT / "requirements.txt"
BOOK_FILES = "_config.yml _toc.yml references.bib book.py handout.py withheld.py chapters data _ext binder"
SOLUTION_TAG = "solution"  # cells with this tag are the reference solutions
INSTRUCTOR_ONLY = ["chapters/instructor_guide"]  # pages left out of the student edition
EDITION_VARIABLE = "BOOK_EDITION"  # "student" or "instructor" (the default), read by _ext/book_hooks.py
STUDENT = ROOT / "_build" / "student"
HTML = {"instructor": ROOT / "_build" / "html", "student": STUDENT / "html"}


def ensure_environment() -> Path:
    """Create .venv if needed and install requirements.txt when it has changed since the last install."""
    if sys.version_info < (3, 11):
        sys.exit(f"book.py needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / "requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        print("Installing the pinned packages from requirements.txt ...", flush=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], check=True)
        stamp.write_text(wanted + "\n")
    return PYTHON


def fingerprint(paths: list[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_cache(book: Path, cache: Path) -> bool:
    """Empty the execution cache when what the notebooks read has changed; return whether it was emptied.

    jupyter-cache keys an execution on the notebook's code cells alone, so it would keep figures drawn from old
    data. These inputs are fingerprinted instead: data, sources, the helper module, the figure style, the packages.
    """
    inputs = [
        *sorted((book / "data").iterdir()),
        book / "references.bib",
        *sorted((book / "chapters").glob("*.py")),
        *sorted((book / "chapters").glob("*.mplstyle")),
    ]
    wanted = fingerprint(inputs, book) + hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = cache / "inputs.sha256"
    recorded = stamp.read_text().strip() if stamp.exists() else None
    emptied = cache.exists() and recorded != wanted
    if emptied:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted + "\n")
    return emptied


def execute(notebooks: list[Path], cache_path: Path, timeout: int) -> dict[str, str]:
    """Run the notebooks missing from the cache with jupyter-cache's local-parallel executor (one process per
    core, each notebook in its own folder). Returns the error of each notebook that failed, by path: the build
    runs such a notebook again and reports its failing cell."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    cache = get_cache(cache_path)
    notebooks = sorted(notebooks, key=lambda path: path.stat().st_size, reverse=True)  # longest first
    records = [cache.add_nb_to_project(str(path.resolve())) for path in notebooks]
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(filter_pks=[record.pk for record in records], timeout=timeout)
    return {uri: cache.get_project_record(uri).traceback or "" for uri in result.excepted + result.errored}


def jupyter_book_command(book: Path, output: Path) -> list[str]:
    """The stock strict build: every page rewritten, warnings as errors, nitpicky references."""
    script = Path(sys.executable).with_name("jupyter-book.exe" if os.name == "nt" else "jupyter-book")
    return [str(script), "build", "--all", "-W", "-n", "--keep-going", "--path-output", str(output), str(book)]


def sources_fingerprint() -> str:
    """Everything the HTML is made from: the book's files, the packages and this script."""
    paths = [ROOT / name for name in BOOK_FILES.split() if (ROOT / name).is_file()]
    for folder in [ROOT / name for name in BOOK_FILES.split() if (ROOT / name).is_dir()]:
        paths += sorted(path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    return fingerprint([*paths, REQUIREMENTS], ROOT)


def build(edition: str) -> int:
    """Build one edition, or both; an edition whose sources have not changed since its last build is kept."""
    import yaml

    editions = ["instructor", "student"] if edition == "both" else [edition]
    sources = sources_fingerprint()
    stamps = {name: HTML[name].parent / f"{name}.sources.sha256" for name in editions}
    stale = [name for name in editions if not (stamps[name].exists() and stamps[name].read_text() == sources)]
    for name in set(editions) - set(stale):
        print(f"Nothing changed since the last build of the {name} edition: {HTML[name]} is up to date.")
    if not stale:
        return 0
    for name in stale:  # Sphinx leaves stray files (an earlier failure's error reports, with solution code) in place
        shutil.rmtree((ROOT if name == "instructor" else STUDENT) / "_build" / "html", ignore_errors=True)
        stamps[name].parent.mkdir(parents=True, exist_ok=True)
        stamps[name].unlink(missing_ok=True)

    cache = ROOT / "_build" / ".jupyter_cache"
    if prepare_cache(ROOT, cache):
        print("What the notebooks read (data, sources, helper, style or packages) changed: the cache was emptied.")
    timeout = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["execute"]["timeout"]
    execute(sorted((ROOT / "chapters").glob("*.ipynb")), cache, timeout)

    builds = {}  # side by side; with two, the student edition's output goes to a log, so that they do not interleave
    for name in stale:
        log = (STUDENT / "build.log").open("w") if len(stale) == 2 and name == "student" else None
        command = jupyter_book_command(ROOT, ROOT if name == "instructor" else STUDENT)
        environment = {**os.environ, EDITION_VARIABLE: name}
        builds[name] = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log), log
    codes = {name: process.wait() for name, (process, _) in builds.items()}
    for name, (_, log) in builds.items():
        if log:
            log.close()
        if codes[name]:
            print(Path(log.name).read_text(encoding="utf-8", errors="replace") if log else "", file=sys.stderr)
            print(f"\nThe {name} edition failed to build.", file=sys.stderr)
            continue
        if name == "student":
            shutil.rmtree(HTML["student"], ignore_errors=True)
            (STUDENT / "_build" / "html").replace(HTML["student"])
            from handout import write_handout  # handout.py: the notebooks handed out in plain Markdown, their archive

            archive = write_handout(ROOT, STUDENT / "notebooks", HTML["student"])
            print(f"Student notebooks to hand out: {STUDENT / 'notebooks'}, packed in {archive}")
        stamps[name].write_text(sources)
        print(f"\nThe {name} edition is built. Open {HTML[name] / 'index.html'} in a browser.")
    return max(codes.values())


def toc_parts() -> tuple[str, list[tuple[str, list[str]]]]:
    """_toc.yml's root document, and each part's caption with its documents (each chapter, then its sections)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", [toc]):
        entries = [entry for chapter in part["chapters"] for entry in [chapter, *chapter.get("sections", [])]]
        parts.append((part.get("caption", ""), [entry["file"] for entry in entries]))
    return toc["root"], parts


def is_solution(cell: dict) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def parse_arguments(arguments: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["build", "pdf", "test", "lab"])
    parser.add_argument("--edition", choices=["student", "instructor", "both"], default="student")
    parser.add_argument("arguments", nargs="*", help="test: extra arguments for pytest (after --)")
    return parser.parse_args(arguments)


def main() -> int:
    options = parse_arguments()
    python = ensure_environment()
    if Path(sys.prefix).resolve() != VENV.resolve():  # run again with the environment's Python and packages
        sys.exit(subprocess.run([python, Path(__file__).resolve(), *sys.argv[1:]]).returncode)
    if options.task == "build":
        return build(options.edition)
    if options.task == "pdf":
        return __import__("pdf").build_pdf(options.edition)  # pdf.py: the pages joined, printed by Chromium
    if options.task == "test":
        code = subprocess.run([python, "-m", "pytest", *options.arguments], cwd=ROOT).returncode
        if code == 5:
            print("pytest collected no tests: that is a failure here, not a pass.", file=sys.stderr)
        return 1 if code == 5 else code
    return subprocess.run([python, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "chapters"]).returncode


if __name__ == "__main__":
    sys.exit(main())
