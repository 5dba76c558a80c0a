#!/usr/bin/env python3
"""Build, test or open the book. Needs only Python 3.11+; it makes its own virtual environment.

    python3 book.py build                       # instructor edition (solutions collapsed): _build/html
    python3 book.py build --edition student     # student edition, no solutions: _build/student/html,
                                                #   and notebooks to hand out: _build/student/notebooks
    python3 book.py test                        # the whole test suite (pytest)
    python3 book.py lab                         # JupyterLab in chapters/, to run a notebook yourself

The virtual environment lives in .venv/ and is reinstalled only when requirements.txt changes.
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
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / "requirements.sha256"
BOOK_FILES = ["_config.yml", "_toc.yml", "references.bib", "chapters", "data", "_ext"]
SOLUTION_TAG = "solution"  # cells with this tag are the reference solutions
INSTRUCTOR_ONLY = ["chapters/instructor_guide"]  # pages left out of the student edition


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


def strict_build_command(python: Path, book: Path, output: Path) -> list:
    """The strict build of ``book`` as one command (see ``strict_build_now``)."""
    return [python, Path(__file__).resolve(), "strict-build", book, output]


def strict_build(python: Path, book: Path, output: Path) -> int:
    return run(strict_build_command(python, book, output))


def inputs_fingerprint(book: Path) -> str:
    """What executed notebooks depend on besides their own code: data, the helper module, the style, the packages."""
    digest = hashlib.sha256()
    inputs = [REQUIREMENTS, *sorted((book / "data").iterdir()), *sorted((book / "chapters").glob("*.py")),
              *sorted((book / "chapters").glob("*.mplstyle"))]
    for path in inputs:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_cache(book: Path, cache: Path) -> bool:
    """Empty the execution cache when the inputs changed; jupyter-cache itself keys on code cells only."""
    stamp = cache / "inputs.sha256"
    fingerprint = inputs_fingerprint(book)
    stale = cache.exists() and (not stamp.exists() or stamp.read_text().strip() != fingerprint)
    if stale:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")
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
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    cache = get_cache(cache_path)
    for name in toc_files(book):
        if (book / f"{name}.ipynb").exists():
            cache.add_nb_to_project(str(book / f"{name}.ipynb"))
    # A notebook that fails here is not cached: the build runs it again and reports the failing cell.
    load_executor("local-parallel", cache=cache).run_and_cache(timeout=config["execute"]["timeout"])


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


def strict_build_now(book: Path, output: Path) -> int:
    """Execute in parallel, then build with warnings as errors, nitpicky references and every page rewritten.

    Jupyter Book writes the HTML to ``output/_build/html`` and reads its cache from ``output/_build/.jupyter_cache``.
    Every page is rewritten (``--all``) because glued numbers go stale in incremental builds; when no source
    has changed at all since the last successful build, nothing can be stale and the build is skipped.
    """
    built = output / "_build" / "html.sources.sha256"
    fingerprint = sources_fingerprint(book)
    if built.exists() and built.read_text().strip() == fingerprint and (output / "_build" / "html" / "index.html").exists():
        print(f"Nothing changed since the last successful build: {output / '_build' / 'html'} is up to date.")
        return 0
    built.unlink(missing_ok=True)
    cache = (output / "_build" / ".jupyter_cache").resolve()  # the student edition links to the instructor's
    if prepare_cache(book, cache):
        print("Inputs of the notebooks changed (data, packages or helper module): the execution cache was emptied.")
    execute_in_parallel(book, cache)
    code = run([Path(sys.executable).parent / "jupyter-book", "build", "--all", "-W", "-n", "--keep-going",
                "--path-output", output, book])
    if code == 0:
        built.write_text(fingerprint + "\n")
    return code


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


def stage_student_edition(python: Path, stage: Path) -> None:
    """Copy the book to ``stage`` without solution cells and without instructor-only pages."""
    copy_book(stage)
    notebooks = sorted((stage / "chapters").glob("*.ipynb"))
    # nbconvert's tag-based preprocessor removes the tagged cells; outputs are cleared as in the sources.
    code = run([python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--inplace", "--log-level=WARN",
                f"--TagRemovePreprocessor.remove_cell_tags={SOLUTION_TAG}",
                "--TagRemovePreprocessor.enabled=True", "--ClearOutputPreprocessor.enabled=True", *notebooks])
    if code:
        sys.exit(f"could not strip the solutions from the notebooks (nbconvert exit {code})")
    toc = (stage / "_toc.yml").read_text(encoding="utf-8")
    for page in INSTRUCTOR_ONLY:
        toc = "\n".join(line for line in toc.splitlines() if line.strip() != f"- file: {page}") + "\n"
        for suffix in (".md", ".ipynb"):
            (stage / f"{page}{suffix}").unlink(missing_ok=True)
    (stage / "_toc.yml").write_text(toc, encoding="utf-8")


def build(python: Path, edition: str) -> int:
    if edition == "instructor":
        code = strict_build(python, ROOT, ROOT)
        html = ROOT / "_build" / "html"
    else:
        stage = ROOT / "_build" / "student" / "source"
        stage_student_edition(python, stage)
        # One execution cache for both editions: notebooks without solutions are not run twice.
        shared_cache = ROOT / "_build" / "student" / "_build" / ".jupyter_cache"
        if not shared_cache.is_symlink():
            if shared_cache.exists():
                shutil.rmtree(shared_cache)
            shared_cache.parent.mkdir(parents=True, exist_ok=True)
            shared_cache.symlink_to(ROOT / "_build" / ".jupyter_cache", target_is_directory=True)
        code = strict_build(python, stage, ROOT / "_build" / "student")
        html = ROOT / "_build" / "student" / "html"
        if code == 0:
            if html.exists():
                shutil.rmtree(html)
            shutil.move(ROOT / "_build" / "student" / "_build" / "html", html)
            notebooks = ROOT / "_build" / "student" / "notebooks"
            if notebooks.exists():
                shutil.rmtree(notebooks)
            shutil.copytree(stage / "chapters", notebooks / "chapters", ignore=shutil.ignore_patterns("*.md", "images"))
            shutil.copytree(stage / "data", notebooks / "data")
            shutil.copy2(stage / "references.bib", notebooks / "references.bib")  # the loader checks source keys
            print(f"Student notebooks to hand out: {notebooks}")
    if code == 0:
        print(f"\nThe {edition} edition is built. Open {html / 'index.html'} in a browser.")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["build", "test", "lab", "strict-build"])
    parser.add_argument("--edition", choices=["instructor", "student"], default="instructor")
    parser.add_argument("arguments", nargs="*", help="test: extra arguments for pytest (after --); "
                        "strict-build (internal, run by the environment's Python): BOOK OUTPUT")
    options = parser.parse_args()
    python = ensure_environment()
    if options.task == "strict-build":
        book, output = (Path(argument).resolve() for argument in options.arguments)
        return strict_build_now(book, output)
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
