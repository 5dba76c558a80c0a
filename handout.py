"""The notebooks handed out to students, written so that they read well in any notebook app.

The pages are written in MyST Markdown, which only Jupyter Book (or JupyterLab with jupyterlab-myst) understands.
When the student edition is built, _ext/book_hooks.py writes the notebooks its download buttons offer with
write_student_notebook: without solutions, and with the Markdown cells rewritten as plain Markdown:

    {glue:text}`key:.0f`           the value the page shows, from the build's run of the notebook (e.g. 18)
    {term}`text <Term>`            a link to the term in the published glossary
    {doc}, {ref}, {numref}         links to the published pages ({numref} names the figure as the page does: Fig. 1.3)
    {cite:p}`a,b`, {cite:t}`a`     (Author 2023; Author 2024), Author (2023): links to the published bibliography
    {{ record_through }}           the substitution's value
    :::{admonition} Title          a blockquote headed **Title**; an exercise is headed **Exercise 4.3**
    ```{exercise-start}            **Exercise 4.3** (sphinx-exercise's gated form, which spans cells; its end is left out)
    ```{claims}                    the list of claims, each linked to its row of the published claims ledger
    (label)=                       left out: a label is a target inside the book only

A role or directive with no rule here is left as it is, and a test (tests/test_handout.py) fails on it: add a rule.
Links point at the published book (html.baseurl in _config.yml); the figure and exercise numbers and the titles are
read from the student edition just built (its pages and objects.inv). Then book.py calls write_handout: those
notebooks with the data, helper and environment they need (_build/student/notebooks), and ARCHIVE, the same packed
for download (chapters/how_to_use.md links it). publish.yml pushes the handout to STUDENT_BRANCH for Binder.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import sys
import zipfile
from functools import cache, cached_property
from pathlib import Path

import yaml

import book
import withheld

sys.path[:0] = [str(book.ROOT / "chapters"), str(book.ROOT / "_ext")]  # bookdata and book_hooks, as in the build
STUDENT_BRANCH = "student"  # publish.yml pushes the handout there; the student edition's Binder opens it
ARCHIVE = "china-russia-handout.zip"  # written at the top of the student edition's HTML
FOLDER = "china-russia-handout"  # the folder the archive unpacks to
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error", "seealso"}

ROLE = re.compile(r"\{(?P<name>[a-z:-]+)\}`(?P<content>[^`]+)`")  # {name}`content`
WITH_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)  # text <target>
SUBSTITUTION = re.compile(r"\{\{\s*(?P<name>\w+)\s*\}\}")  # {{ name }}
LABEL_LINE = re.compile(r"^\([\w.:-]+\)=[ \t]*\n?", re.MULTILINE)  # (label)=
FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*)$")  # ```{name} argument
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")  # :key: value, right after the opening fence
CAPTION_NUMBER = re.compile(  # in a built page: id="fig-x"> ... <span class="caption-number">Fig. 1.3 </span>
    r'id="(?P<id>[^"]+)"(?:(?!id=").)*?<span class="caption-number">(?P<number>[^<]*?)\s*</span>', re.DOTALL
)


def published_url(root: Path = book.ROOT) -> str:
    """Where the student edition is published: html.baseurl in _config.yml, else the repository's GitHub Pages."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    if config.get("html", {}).get("baseurl"):
        return config["html"]["baseurl"].rstrip("/")
    owner, name = config["repository"]["url"].rstrip("/").split("/")[-2:]
    return f"https://{owner}.github.io/{name}"


class Edition:
    """What the rewriting needs to know about the book: its published address, the built student edition's
    references, figure and exercise numbers, the bibliography, the substitutions and the claims ledger."""

    def __init__(self, root: Path, html: Path, cache: Path):
        self.root, self.html, self.cache = root, html, cache
        self.url = published_url(root)

    @cached_property
    def inventory(self) -> dict:
        """Sphinx's objects.inv of the built edition: {'std:term': {name: (project, version, uri, title)}, ...}."""
        from sphinx.util.inventory import InventoryFile

        with (self.html / "objects.inv").open("rb") as stream:
            return InventoryFile.load(stream, "", posixpath.join)

    @cached_property
    def terms(self) -> dict[str, str]:
        """Glossary terms, by name in lower case (Sphinx matches {term} regardless of case): their page and anchor."""
        return {name.lower(): entry[2] for name, entry in self.inventory["std:term"].items()}

    @cached_property
    def numbers(self) -> dict[str, str]:
        """Each numbered figure or exercise of the built pages, by label: 'Fig. 1.3', 'Exercise 4.3'."""
        numbers = {}
        for page in self.html.rglob("*.html"):
            for match in CAPTION_NUMBER.finditer(page.read_text(encoding="utf-8")):
                numbers.setdefault(match["id"], match["number"])
        return numbers

    @cached_property
    def authors_and_years(self) -> dict[str, tuple[str, str]]:
        """Each entry of references.bib as the pages cite it: ('Rappler', '2023'), ('Lo and Hill', ...), ('X et al.', ...)."""
        from pybtex.backends.plaintext import Backend  # an instance: pybtex would look for it in every package
        from pybtex.database import parse_file
        from pybtex.richtext import Text

        cited = {}
        for key, entry in parse_file(self.root / "references.bib").entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [
                Text.from_latex(" ".join(person.prelast_names + person.last_names)).render(Backend())
                for person in people
            ]
            author = names[0] + " et al." if len(names) > 2 else " and ".join(names)
            cited[key] = (author, entry.fields.get("year", "n.d."))
        return cited

    @cached_property
    def substitutions(self) -> dict[str, str]:
        """The MyST substitutions the pages use: those of _config.yml and the horizon set by _ext/book_hooks.py."""
        import book_hooks

        config = yaml.safe_load((self.root / "_config.yml").read_text(encoding="utf-8"))
        return {**config.get("parse", {}).get("myst_substitutions", {}), **book_hooks.HORIZON}

    @cached_property
    def claims(self):
        import bookdata

        return bookdata.load("claims")

    def link(self, uri: str) -> str:
        return f"{self.url}/{uri}"

    @cache
    def glued_values(self, source: Path) -> dict[str, dict]:
        """The values a notebook glues (myst-nb's glue), by name, from the build's run of it in jupyter-cache."""
        import nbformat
        from jupyter_cache import get_cache

        _, executed = get_cache(self.cache).merge_match_into_notebook(nbformat.read(source, as_version=4))
        values = {}
        for cell in executed.cells:
            for output in cell.get("outputs", []):
                glued = output.get("metadata", {}).get("scrapbook")
                if glued:  # as myst_nb.ext.glue.extract_glue_data_cell reads it
                    prefix = len(glued.get("mime_prefix", ""))
                    values[glued["name"]] = {mime[prefix:]: data for mime, data in output["data"].items()}
        return values


class Page:
    """One notebook's Markdown cells, rewritten as plain Markdown (see the module's docstring)."""

    def __init__(self, edition: Edition, source: Path):
        self.edition, self.source = edition, source
        self.docname = source.relative_to(edition.root).with_suffix("").as_posix()  # chapters/01_background

    def markdown(self, text: str) -> str:
        text = LABEL_LINE.sub("", self.directives(text))
        text = SUBSTITUTION.sub(lambda match: str(self.edition.substitutions.get(match["name"], match[0])), text)
        return ROLE.sub(self.role, text)

    # ---- directives: ```{name} argument / :option: value / content / ``` ----------------------------------------

    def directives(self, text: str) -> str:
        lines, output, index = text.split("\n"), [], 0
        while index < len(lines):
            opening = FENCE.match(lines[index].strip())
            if not opening:
                output.append(lines[index])
                index += 1
                continue
            fence, end = opening["fence"], index + 1  # the block ends at a fence of the same kind, at least as long
            while end < len(lines) and not re.fullmatch(rf"{fence[0]}{{{len(fence)},}}", lines[end].strip()):
                end += 1
            body, options = lines[index + 1 : end], {}
            while body and OPTION.match(body[0]):
                options[OPTION.match(body[0])["key"]] = OPTION.match(body[0])["value"]
                body = body[1:]
            rendered = self.directive(opening["name"], opening["argument"].strip(), options, "\n".join(body).strip())
            output += (rendered if rendered is not None else "\n".join(lines[index : end + 1])).split("\n")
            index = end + 1
            if index < len(lines) and lines[index].strip():  # a blank line ends the blockquote
                output.append("")
        return "\n".join(output)

    def directive(self, name: str, argument: str, options: dict, content: str) -> str | None:
        if name == "admonition":
            return quoted(argument, self.directives(content))
        if name in ADMONITIONS:
            return quoted(f"{name.capitalize()}{': ' + argument if argument else ''}", self.directives(content))
        if name in ("exercise", "solution", "exercise-start", "solution-start"):
            title = self.edition.numbers.get(options.get("label", ""), name.split("-")[0].capitalize())
            title = f"{title} ({argument})" if argument and name.startswith("exercise") else title
            if name.endswith("-start"):  # sphinx-exercise's gated form: the exercise runs on to {exercise-end}
                return f"**{title}**"
            return quoted(title, self.directives(content))
        if name in ("exercise-end", "solution-end"):
            return ""
        if name == "claims":
            return self.claims(options)
        return None  # no rule: left as it is (the handout test names it)

    def claims(self, options: dict) -> str:
        """The claims a ``{claims}`` directive lists, linked to the ledger (which gives their verdicts)."""
        claims = self.edition.claims
        if "paragraph" in options:
            chosen = claims[claims["paragraph"] == int(options["paragraph"])]
        else:
            chosen = claims[claims["section"].isin([label.strip() for label in options.get("section", "").split(",")])]
        ledger = self.edition.link("chapters/claims_ledger.html")
        return "\n".join(
            f"- [{claim.claim_id}]({ledger}#claim-{claim.claim_id.lower()}) ({claim.kind}): “{claim.quote}”"
            for claim in chosen.itertuples()
        )

    # ---- roles: {name}`content` -----------------------------------------------------------------------------------

    def role(self, match: re.Match) -> str:
        name, content = match["name"], match["content"]
        explicit = WITH_TARGET.match(content)
        text, target = (explicit["text"], explicit["target"]) if explicit else (None, content)
        if name in ("glue", "glue:", "glue:any", "glue:text"):
            return self.glue(content)
        if name == "term":
            return f"[{text or target}]({self.edition.link(self.edition.terms[target.lower()])})"
        if name == "doc":
            docname = posixpath.normpath(posixpath.join(posixpath.dirname(self.docname), target)).lstrip("/")
            _, _, uri, title = self.edition.inventory["std:doc"][docname]
            return f"[{text or title}]({self.edition.link(uri)})"
        if name in ("ref", "numref"):  # a figure or an exercise by its number (Fig. 1.3), a section by its title
            _, _, uri, title = self.edition.inventory["std:label"][target]
            number = self.edition.numbers.get(target, title)
            return f"[{(text or number).replace('{number}', number.split()[-1])}]({self.edition.link(uri)})"
        if name.startswith("cite"):
            return self.citation(name, content)
        return match[0]  # no rule: left as it is (the handout test names it)

    def glue(self, content: str) -> str:
        """The glued value as the page shows it: myst-nb's own formatting of its text, with the page's format."""
        from myst_nb.core.variables import format_plain_text

        notebook, _, key_and_format = content.rpartition("::")  # other.ipynb::key:.0f glues from another notebook
        key, _, spec = key_and_format.partition(":")
        glued = self.edition.glued_values(self.source.parent / notebook if notebook else self.source)
        return format_plain_text(glued[key]["text/plain"], spec)

    def citation(self, name: str, keys: str) -> str:
        bibliography = self.edition.link("chapters/bibliography.html")
        cited = [self.edition.authors_and_years[key.strip()] for key in keys.split(",")]
        if name == "cite:t":  # Author (2023)
            return "; ".join(f"[{author} ({year})]({bibliography})" for author, year in cited)
        return "(" + "; ".join(f"[{author} {year}]({bibliography})" for author, year in cited) + ")"


def quoted(title: str, content: str) -> str:
    """A blockquote headed by its title in bold: how an admonition or an exercise reads in plain Markdown."""
    lines = [f"**{title}**", "", *content.split("\n")] if title else content.split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def without_solutions(notebook):
    """The notebook a student gets: no solution cells (nbconvert's tag-removal preprocessor), no outputs."""
    import nbformat
    from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

    notebook, _ = TagRemovePreprocessor(remove_cell_tags={book.SOLUTION_TAG}).preprocess(
        nbformat.from_dict(notebook), {}
    )
    return ClearOutputPreprocessor().preprocess(notebook, {})[0]


def write_student_notebook(source: Path, destination: Path, edition: Edition) -> None:
    """A notebook as students get it, from the download button or handed out: no solutions, plain Markdown."""
    page = Page(edition, source)
    import bookdata  # the chapters' reading time, which the pages fill in at build time too

    text = bookdata.reading_time_text(source.read_text(encoding="utf-8"))
    notebook = without_solutions(json.loads(text))
    for cell in notebook.cells:
        if cell.cell_type == "markdown":  # a notebook file holds a cell's source as a list of lines
            cell.source = page.markdown("".join(cell.source)).splitlines(keepends=True)
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if "caption" in figure:  # a figure's caption, which a notebook app shows in the cell's metadata
            figure["caption"] = page.markdown(figure["caption"])
    destination.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_handout(root: Path, handout: Path, html: Path) -> Path:
    """The notebooks students are given, with the data, helper and environment they need, and the archive of them in
    the built student edition's HTML (its path). The notebooks are those its download buttons offer, which
    _ext/book_hooks.py wrote with write_student_notebook: the chapters and assignments, without solutions."""
    if handout.exists():
        shutil.rmtree(handout)
    (handout / "chapters").mkdir(parents=True)
    for path in (html / "_sources" / "chapters").glob("*.ipynb"):
        shutil.copy2(path, handout / "chapters" / path.name)
    for path in [*(root / "chapters").glob("*.py"), *(root / "chapters").glob("*.mplstyle")]:
        shutil.copy2(path, handout / "chapters" / path.name)
    withheld.copy_data(root / "data", handout / "data")  # the assessed claims' verdicts and evidence left open
    shutil.copy2(root / "references.bib", handout / "references.bib")  # the loader checks source keys
    shutil.copytree(root / "binder", handout / "binder")  # the students' environment: Binder and pip read it
    (handout / "README.md").write_text(README.format(url=published_url(root)), encoding="utf-8")
    archive = html / ARCHIVE
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as packed:
        for path in sorted(handout.rglob("*")):
            packed.write(path, f"{FOLDER}/{path.relative_to(handout).as_posix()}")
    return archive


README = """# China and Russia after 2022: the notebooks

The chapters and assignments of the module as Jupyter notebooks, without solutions; the book is at {url}.

To run them on your computer (Python 3.11 or newer), in this folder, on macOS or Linux:

    python3 -m venv .venv
    .venv/bin/python -m pip install -r binder/requirements.txt
    .venv/bin/python -m jupyter lab

on Windows (PowerShell or the Command Prompt):

    py -m venv .venv
    .venv\\Scripts\\python -m pip install -r binder\\requirements.txt
    .venv\\Scripts\\python -m jupyter lab

then open a notebook in `chapters/`. Keep the folder as it is: the notebooks read `data/` and `references.bib`.
"""
