#!/usr/bin/env python3
"""Build, test or open the book. Needs only Python 3.11+; it makes its own virtual environment.

    python3 book.py build                       # the HTML book, in _build/html
    python3 book.py test                        # the whole test suite (pytest)
    python3 book.py lab                         # JupyterLab in chapters/, to run a notebook yourself

The virtual environment lives in .venv/ and is reinstalled only when requirements.txt changes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / "requirements.sha256"


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


def build(python: Path) -> int:
    """The strict build: an erroring cell, a warning or a broken reference fails it."""
    code = run([python.parent / "jupyter-book", "build", "--all", "-W", "-n", "--keep-going", ROOT])
    if code == 0:
        print(f"\nThe book is built. Open {ROOT / '_build' / 'html' / 'index.html'} in a browser.")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["build", "test", "lab"])
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    options = parser.parse_args()
    python = ensure_environment()
    if options.task == "build":
        return build(python)
    if options.task == "test":
        code = run([python, "-m", "pytest", *options.pytest_args])
        if code == 5:
            print("pytest collected no tests: that is a failure here, not a pass.", file=sys.stderr)
            return 1
        return code
    return run([python, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "chapters"])


if __name__ == "__main__":
    sys.exit(main())
