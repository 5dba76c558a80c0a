"""Sphinx hooks of the book.

- ``{datapackage}`` renders data/datapackage.json as the Data page; ``{claims}`` renders the claims ledger
  (data/claims.csv) as the ledger table, a paragraph's or a section's claims, or a scorecard with the date each
  verdict was judged as of. The MyST substitutions {{ record_through }} and {{ last_full_year }} come from the horizon
  in data/datapackage.json; the bibliography style ``tiered`` shows each entry's source tier.
- The editions: ``book_edition`` in _config.yml, or BOOK_EDITION (set by book.py), is ``instructor`` (the default)
  or ``student``, which has no solution prose, code or check verdicts, no instructor-only pages, and offers
  notebooks without solutions; its code cells are the instructor's, so it reuses their executions.
- Lighter, cleaner output (see slim_output). A chapter's {{ reading_time }}: its words, counted at every build.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pybtex.plugin
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from pybtex.backends.plaintext import Backend as PlaintextBackend
from pybtex.richtext import Tag, Text
from pybtex.style.formatting.plain import Style as PlainStyle
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

BOOK_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = BOOK_ROOT / "data"
sys.path.insert(0, str(BOOK_ROOT / "chapters"))
sys.path.insert(0, str(BOOK_ROOT))
import book  # noqa: E402  (book.py: the solution tag, the instructor-only pages, nbconvert staging)
import bookdata  # noqa: E402  (the same validating loader the notebooks use)
import handout  # noqa: E402  (handout.py: the notebooks students get, in plain Markdown; the branch Binder opens)
import withheld  # noqa: E402  (withheld.py: the verdicts the student edition leaves open)

LEDGER_DOC = "chapters/claims_ledger"
SOLUTION_CLASS = f"tag_{book.SOLUTION_TAG}"  # myst-nb's class for a code cell with that tag
CHECK_CALL = re.compile(r"\bbookdata\.check(?:_text|_figure|_evidence)?\(")


def _coverage(frame) -> str:
    """The span of the first year, date or period column, read from the rows themselves."""
    for column in ("year", "date", "period"):
        if column in frame.columns and frame[column].notna().any():
            first, last = frame[column].min(), frame[column].max()
            if hasattr(first, "date"):
                first, last = first.date(), last.date()
            return f"{first} to {last}"
    return "see the rows"


def _source_keys(frame) -> list[str]:
    """Every source key of the rows, once each, in order of first use."""
    return list(dict.fromkeys(key.strip() for cell in frame["source"] for key in str(cell).split(";") if key.strip()))


def _rows_by_tier(frame, tiers: dict[str, str]) -> str:
    """How many rows rest on each source tier (a row rests on the strongest tier among its sources)."""
    counts = frame["source"].map(lambda cell: bookdata.row_tier(cell, tiers)).value_counts()
    return "; ".join(f"{tier} {counts[tier]}" for tier in bookdata.TIERS if tier in counts)


def datapackage_markdown(env) -> list[str]:
    """MyST lines describing every resource of the data package. Each file is read through the validating loader,
    so a broken dataset fails the build here too, with the loader's message, even if no notebook uses it."""
    package = withheld.student_package(bookdata.descriptor(), DATA_DIR, env.config.book_edition)
    tiers = bookdata.source_tiers()
    up = "../" * env.docname.count("/")
    lines: list[str] = []
    for entry in package["resources"]:
        frame = bookdata.load(entry["name"])
        fields = entry["schema"]["fields"]
        licence = ", ".join(
            item.get("title", item["name"]) for item in entry.get("licenses", package.get("licenses", []))
        )
        lines += [
            f"({'data-' + entry['name'].replace('_', '-')})=",
            f"## {entry['title']}",
            "",
            entry["description"],
            "",
            f"- **File:** {{download}}`{entry['path']} <{up}data/{entry['path']}>` "
            f"({len(frame)} rows; dataset name `{entry['name']}` for `bookdata.load`)",
            f"- **Coverage:** {_coverage(frame)}",
        ]
        if entry.get("ends_before_horizon"):
            lines.append(f"- **Ends before {package['last_full_year']}:** {entry['ends_before_horizon']}")
        lines += [
            f"- **Licence:** {licence}",
            f"- **Checksum:** `{entry.get('hash', '')}`",
            "- **Sources:** " + "; ".join(f"{{cite:t}}`{key}`" for key in _source_keys(frame)),
            f"- **Rows by source tier:** {_rows_by_tier(frame, tiers)}",
            "",
            "| Column | Type | Unit | Meaning |",
            "|---|---|---|---|",
        ]
        for field in fields:
            description = field.get("description", "").replace("|", "/")
            lines.append(f"| `{field['name']}` | {field['type']} | {field.get('unit', '')} | {description} |")
        lines.append("")
    return lines


class DataPackageDirective(SphinxDirective):
    """Insert the description of every dataset in data/datapackage.json."""

    has_content = False

    def run(self):
        content = StringList(datapackage_markdown(self.env), source="data/datapackage.json")
        holder = nodes.section()
        holder.document = self.state.document
        nested_parse_with_titles(self.state, content, holder)
        return holder.children


def _markdown_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "/")


def _quoted(text: str) -> str:
    """A quotation in curly quotes; one that opens with a quoted phrase gets single inner quotes, not ““."""
    text = _markdown_cell(text)
    text = text.replace("“", "‘").replace("”", "’")
    return f"“{text}”"


def _as_of(claim, before: str) -> str:
    """When the verdict was judged, after ``before``; nothing for a claim left open for students to judge."""
    return "" if claim.verdict == withheld.OPEN else f"{before}as of {bookdata.month_text(claim.judged_as_of)}"


def _cite(keys: str) -> str:
    return "{cite:p}`" + ",".join(key.strip() for key in str(keys).split(";")) + "`"


def claim_label(claim_id: str) -> str:
    return f"claim-{claim_id.lower()}"


class ClaimsDirective(SphinxDirective):
    """Claims of the case reading, from data/claims.csv: ``:table:`` the whole ledger; ``:paragraph: N`` or ``:section:
    label[, label ...]`` the matching claims, linked to the ledger; ``:scorecard: predictions`` (or ``rejudged``: the
    other claims judged as of the latest date) a table of those verdicts with the date each was judged as of."""

    has_content = False
    option_spec = {
        "table": lambda value: True,
        "paragraph": int,
        "section": str,
        "scorecard": lambda value: directives.choice(value, ("predictions", "rejudged")),
    }

    def run(self):
        self.env.note_dependency(str(DATA_DIR / "claims.csv"))
        claims = withheld.student_view(bookdata.load("claims"), self.config.book_edition)
        if "table" in self.options:
            return self._ledger_table(claims)
        if "scorecard" in self.options:
            return self._scorecard(claims, self.options["scorecard"])
        if "paragraph" in self.options:
            chosen = claims[claims["paragraph"] == self.options["paragraph"]]
        elif "section" in self.options:
            sections = [label.strip() for label in self.options["section"].split(",")]
            chosen = claims[claims["section"].isin(sections)]
        else:
            raise self.error("claims: give :table:, :paragraph: N or :section: label")
        if chosen.empty:
            raise self.error(f"claims: no claim in data/claims.csv matches {self.options}")
        lines = []
        for claim in chosen.itertuples():
            lines.append(
                f"- {{ref}}`{claim.claim_id} <{claim_label(claim.claim_id)}>` ({claim.kind}, "
                f"**{claim.verdict}**{_as_of(claim, ', ')}): {_quoted(claim.quote)}"
            )
        return self._parse(lines)

    def _table(self, widths: str, header: list[str], rows: list[list[str]]):
        lines = ["```{list-table}", ":header-rows: 1", ":class: claims-ledger", f":widths: {widths}", ""]
        for row in [header, *rows]:
            lines += [f"{'*' if column == 0 else ' '} - {cell}" for column, cell in enumerate(row)]
        return self._parse([*lines, "```"])

    def _ledger_table(self, claims):
        header = ["Claim", "Quotation from the case reading", "Verdict", "Evidence", "Discussed in; sources"]
        rows = [
            [
                f"{claim.claim_id} <br>¶{claim.paragraph}, {claim.kind}",
                _quoted(claim.quote),
                f"{claim.verdict}{_as_of(claim, ' <br>')}",
                _markdown_cell(claim.evidence),
                f"{{ref}}`{claim.section}`; {_cite(claim.source)}",
            ]
            for claim in claims.itertuples()
        ]
        parsed = self._table("10 24 12 36 18", header, rows)
        std = self.env.get_domain("std")
        for row in [row for table in parsed for row in table.findall(nodes.row)]:
            claim_id = (row.next_node(nodes.entry).astext().split() or [""])[0]
            if claim_id in set(claims["claim_id"]):  # an anchor per claim, so {ref} can link to its row
                label = claim_label(claim_id)
                row["ids"].append(label)
                std.anonlabels[label] = (self.env.docname, label)
                std.labels[label] = (self.env.docname, label, f"Claim {claim_id}")
        return parsed

    def _scorecard(self, claims, which):
        predictions = claims["kind"] == "prediction"
        rejudged = ~predictions & (claims["judged_as_of"] == claims["judged_as_of"].max())
        chosen = claims[predictions if which == "predictions" else rejudged]
        if chosen.empty:
            raise self.error(f"claims: no claim for the scorecard '{which}'")
        header = ["Claim", "The case reading says", "Verdict", "Judged", "What the record shows"]
        rows = [
            [
                f"{{ref}}`{claim.claim_id} <{claim_label(claim.claim_id)}>`",
                _quoted(claim.quote),
                claim.verdict,
                _as_of(claim, "") or "—",  # a claim left open: no date
                f"{_markdown_cell(claim.evidence)} {_cite(claim.source)}",
            ]
            for claim in chosen.itertuples()
        ]
        return self._table("10 26 12 12 40", header, rows)

    def _parse(self, lines):
        holder = nodes.container()
        holder.document = self.state.document
        self.state.nested_parse(StringList(lines, source="data/claims.csv"), self.content_offset, holder)
        return holder.children


def drop_duplicate_thebe_url(app, pagename, templatename, context, doctree):
    """sphinx-thebe and the book theme both declare ``const THEBE_JS_URL`` (a console error); keep none, thebe is off."""
    if context.get("script_files") and not app.config.html_theme_options.get("launch_buttons", {}).get("thebe"):
        body = lambda script: str(getattr(script, "attributes", {}).get("body", ""))  # noqa: E731
        context["script_files"] = [script for script in context["script_files"] if "THEBE_JS_URL" not in body(script)]


def fix_citation_list_role(app, pagename, templatename, context, doctree):
    """docutils marks the citation list role="list" but its items are not listitems (an axe violation)."""
    if "body" in context:
        context["body"] = context["body"].replace(
            '<div role="list" class="citation-list">', '<div class="citation-list">'
        )


def _forget_targets(document, removed) -> None:
    """Unregister the ids and names inside a removed subtree, so no reference can reach it (and none is pickled)."""
    for node in removed.findall(nodes.Element):
        for node_id in node["ids"]:
            document.ids.pop(node_id, None)
        for name in node["names"]:
            document.nameids.pop(name, None)
            document.nametypes.pop(name, None)


class StudentEditionPages(SphinxTransform):
    """In the student edition, take solution code and the checks' verdicts off the page (after they ran).

    Runs before Sphinx registers labels (priority 850), so a label inside a solution is unknown to the edition.
    """

    default_priority = 200

    def apply(self, **kwargs) -> None:
        if self.config.book_edition != "student":
            return
        for cell in [node for node in self.document.findall(nodes.container) if node.get("nb_element") == "cell_code"]:
            if SOLUTION_CLASS in cell["classes"]:
                _forget_targets(self.document, cell)
                cell.parent.remove(cell)
                continue
            source = [child for child in cell.children if child.get("nb_element") == "cell_code_source"]
            if source and CHECK_CALL.search(source[0].astext()):
                for output in [child for child in cell.children if child.get("nb_element") == "cell_code_output"]:
                    _forget_targets(self.document, output)
                    cell.remove(output)


def read_student_notebook(text: str):
    """The student edition's notebook reader (myst-nb's ``nb_custom_formats``): no solution prose. Solution code
    cells stay, so the notebook matches the instructor edition's executions (jupyter-cache keys on code cells)."""
    import nbformat

    notebook = nbformat.reads(text, as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type != "markdown" or not book.is_solution(cell)]
    return notebook


def configure_edition(app, config) -> None:
    """Choose the edition; share one execution cache; for students, read notebooks and the TOC without solutions."""
    config.book_edition = os.environ.get(book.EDITION_VARIABLE) or config.book_edition
    if config.book_edition not in ("instructor", "student"):
        raise ValueError(f"book_edition is '{config.book_edition}'; it must be 'instructor' or 'student'")
    config.nb_execution_cache_path = config.nb_execution_cache_path or str(Path(app.srcdir, "_build", ".jupyter_cache"))
    if config.book_edition == "student":
        import yaml

        config.nb_custom_formats = {".ipynb": ["book_hooks.read_student_notebook", {}, False]}
        toc = yaml.safe_load(Path(app.srcdir, config.external_toc_path).read_text(encoding="utf-8"))
        for part in toc.get("parts", [toc]):
            part["chapters"] = [entry for entry in part["chapters"] if entry["file"] not in book.INSTRUCTOR_ONLY]
        student_toc = Path(app.outdir).parent / "student_toc.yml"  # read by sphinx-external-toc (priority 900)
        student_toc.parent.mkdir(parents=True, exist_ok=True)
        student_toc.write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
        config.external_toc_path = str(student_toc)
        # Binder opens the handout on its own branch; the repository's main branch holds the solutions
        theme = {"repository_branch": handout.STUDENT_BRANCH, "use_repository_button": False}
        config.html_theme_options = {**config.html_theme_options, **theme}


def shrink_chart(path: Path, charts: Path) -> None:
    """An opaque chart saved with a 128-colour palette: a third of the weight or less, and unseen. A chart is shrunk
    once, into ``charts`` (in the execution cache, and emptied with it): the other edition and rebuilds copy it."""
    from PIL import Image

    cached = charts / f"{hashlib.sha256(path.read_bytes()).hexdigest()}-128.png"
    if not cached.exists():
        with Image.open(path) as image:
            image.load()
        if image.mode == "P" or image.convert("RGBA").getextrema()[3][0] < 255:
            return  # shrunk already, or transparent (left so, for the dark-theme test to see)
        smaller = path.with_suffix(f".{os.getpid()}.png")
        palette = image.convert("RGB").quantize(128, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        palette.save(smaller, optimize=True)
        charts.mkdir(parents=True, exist_ok=True)
        smaller.replace(cached)  # whole or not at all: the other edition may be building beside this one
    shutil.copyfile(cached, path)


def slim_output(app, exception):
    """Leave out what readers' browsers would download for nothing; in the student edition, solutions."""
    if exception or app.builder.name != "html":  # (not the link check)
        return
    outdir = Path(app.outdir)
    for path in [*outdir.glob("_static/**/*.map"), outdir / "_static" / "scripts" / "fontawesome.js"]:
        path.unlink(missing_ok=True)  # source maps, and icons the theme's web font already draws
    for page in outdir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if FONTAWESOME_SCRIPT.search(html):
            page.write_text(FONTAWESOME_SCRIPT.sub("", html), encoding="utf-8")
    with ThreadPoolExecutor() as pool:  # Pillow releases the GIL: the charts shrink side by side
        charts = Path(app.config.nb_execution_cache_path) / "charts"
        list(pool.map(lambda path: shrink_chart(path, charts), outdir.glob("_images/*.png")))
    if app.config.book_edition == "student":
        edition = handout.Edition(BOOK_ROOT, outdir, Path(app.config.nb_execution_cache_path))
        for path in (outdir / "_sources").rglob("*.ipynb"):  # the notebooks the download button offers
            handout.write_student_notebook(BOOK_ROOT / path.relative_to(outdir / "_sources"), path, edition)
        withheld.write_student_downloads(outdir)


FONTAWESOME_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')


HORIZON = {"record_through": bookdata.RECORD_THROUGH_TEXT, "last_full_year": str(bookdata.LAST_FULL_YEAR)}


def set_horizon_substitutions(app, config) -> None:
    """Pages write {{ record_through }} and {{ last_full_year }}: the horizon set once in data/datapackage.json."""
    config.myst_substitutions = {**config.myst_substitutions, **HORIZON}


class TieredStyle(PlainStyle):
    """pybtex's plain style; an entry with a ``tier`` field (see references.bib) ends "Source tier: <tier>."."""

    def format_entry(self, label, entry, bib_data=None):
        done = self.__dict__.setdefault("formatted", {})  # sphinxcontrib-bibtex asks twice: entry, then tooltip
        if (label, entry.key) not in done:
            formatted = super().format_entry(label, entry, bib_data=bib_data)
            if entry.fields.get("tier", "").strip():
                formatted.text = Text(formatted.text, " ", Tag("em", f"Source tier: {entry.fields['tier'].strip()}."))
            done[label, entry.key] = formatted
        return done[label, entry.key]


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.formatting", "tiered", TieredStyle)  # bibtex_default_style
    # sphinxcontrib-bibtex asks pybtex for its plain-text backend at every citation, and pybtex looks for it among
    # the entry points of every installed package (9 s a build); one registered at run time is found at once.
    pybtex.plugin.register_plugin("pybtex.backends", "plaintext", PlaintextBackend, force=True)
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))
    app.add_css_file("book.css")
    app.add_css_file("print.css", media="print")  # the printed book (pdf.py), and any page a reader prints
    app.add_js_file("book.js")
    app.add_directive("datapackage", DataPackageDirective)
    app.add_directive("claims", ClaimsDirective)
    app.add_config_value("book_edition", "instructor", "env", types=[str])
    app.connect("config-inited", configure_edition)
    app.add_transform(StudentEditionPages)
    app.connect("html-page-context", drop_duplicate_thebe_url)
    app.connect("html-page-context", fix_citation_list_role)
    app.connect("build-finished", slim_output)
    app.connect("config-inited", set_horizon_substitutions)
    app.connect("source-read", lambda app, doc, source: source.__setitem__(0, bookdata.reading_time_text(source[0])))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
