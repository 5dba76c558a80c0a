"""Sphinx hooks of the book.

- ``{datapackage}``: renders data/datapackage.json as the Data page, so the page
  cannot drift from the files it describes.
- ``{claims}``: renders rows of the claims ledger (data/claims.csv): the whole
  ledger as a table with an anchor per claim, or the claims of one paragraph
  or one chapter section as a list that links to the ledger, or a scorecard of
  the predictions (or of the claims re-judged last) with the date each verdict
  was judged as of.
- Sets the MyST substitutions ``{{ record_through }}`` and ``{{ last_full_year }}``
  from the horizon in data/datapackage.json.
- Drops the second ``THEBE_JS_URL`` declaration that the stock theme stack
  emits (a console SyntaxError on every page) while thebe is switched off.
- Caches pybtex's plugin look-ups: sphinxcontrib-bibtex asks for a plugin on
  every citation, and each request scans the metadata of every installed
  package (about half of the Sphinx build's time here, for the same answer).
- The student edition (``book_edition: student``, set by book.py when it stages
  that edition) runs the same code cells as the instructor edition, so that it
  reuses the instructor's executions; here its pages lose the solution code
  cells and the outputs of the formative checks, which judge those solutions.
- Resolves numbered references (``{numref}``) reading each page's doctree once:
  Sphinx unpickles the whole target page for every reference, to read one
  figure's number (a second of every build here).
- Fixes the ARIA role of the bibliography list, and slims the output: the
  1.5 MB Font Awesome script (icons already come from the theme's web font)
  and the source maps are not shipped.
"""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.domains.std import StandardDomain
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

BOOK_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = BOOK_ROOT / "data"
sys.path.insert(0, str(BOOK_ROOT / "chapters"))
import bookdata  # noqa: E402  (the same validating loader the notebooks use)

LEDGER_DOC = "chapters/claims_ledger"
SOLUTION_CLASS = "tag_solution"  # myst-nb's class for a code cell tagged "solution" (book.SOLUTION_TAG)
CHECK_CALL = re.compile(r"\bbookdata\.check(?:_text|_figure)?\(")


def _coverage(frame) -> str:
    """The span of the first year, date or period column, read from the rows themselves."""
    for column in ("year", "date", "period"):
        if column in frame.columns and frame[column].notna().any():
            values = frame[column].dropna()
            first, last = values.min(), values.max()
            if hasattr(first, "date"):
                first, last = first.date(), last.date()
            return f"{first} to {last}"
    return "see the rows"


def _source_keys(frame) -> list[str]:
    keys: list[str] = []
    for cell in frame["source"]:
        for key in str(cell).split(";"):
            key = key.strip()
            if key and key not in keys:
                keys.append(key)
    return keys


def datapackage_markdown(docname_depth: int) -> list[str]:
    """MyST lines describing every resource of the data package.

    Each file is read through the validating loader, so a broken dataset fails the build here too,
    with the loader's message, even if no notebook uses it.
    """
    package = bookdata.descriptor()
    up = "../" * docname_depth
    lines: list[str] = []
    for entry in package["resources"]:
        frame = bookdata.load(entry["name"])
        fields = entry["schema"]["fields"]
        licence = ", ".join(item.get("title", item["name"]) for item in entry.get("licenses", package.get("licenses", [])))
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
        depth = self.env.docname.count("/")
        content = StringList(datapackage_markdown(depth), source="data/datapackage.json")
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


def _cite(keys: str) -> str:
    return "{cite:p}`" + ",".join(key.strip() for key in str(keys).split(";")) + "`"


def claim_label(claim_id: str) -> str:
    return f"claim-{claim_id.lower()}"


class ClaimsDirective(SphinxDirective):
    """Claims of the case reading, from data/claims.csv.

    ``:table:`` the whole ledger (on the ledger page); ``:paragraph: N`` or
    ``:section: label[, label ...]`` a list of the matching claims, each linked to the ledger;
    ``:scorecard: predictions`` (or ``rejudged``: the other claims judged as of the latest date) a
    table of those claims' verdicts and the date each was judged as of.
    """

    has_content = False
    option_spec = {"table": lambda value: True, "paragraph": int, "section": str,
                   "scorecard": lambda value: directives.choice(value, ("predictions", "rejudged"))}

    def run(self):
        self.env.note_dependency(str(DATA_DIR / "claims.csv"))
        claims = bookdata.load("claims")
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
                f"**{claim.verdict}**, as of {bookdata.month_text(claim.judged_as_of)}): {_quoted(claim.quote)}"
            )
        return self._parse(lines)

    def _ledger_table(self, claims):
        lines = [
            "```{list-table}",
            ":header-rows: 1",
            ":class: claims-ledger",
            ":widths: 10 24 12 36 18",
            "",
            "* - Claim", "  - Quotation from the case reading", "  - Verdict", "  - Evidence", "  - Discussed in; sources",
        ]
        for claim in claims.itertuples():
            lines += [
                f"* - {claim.claim_id}",
                f"    <br>¶{claim.paragraph}, {claim.kind}",
                f"  - {_quoted(claim.quote)}",
                f"  - {claim.verdict}",
                f"    <br>as of {bookdata.month_text(claim.judged_as_of)}",
                f"  - {_markdown_cell(claim.evidence)}",
                f"  - {{ref}}`{claim.section}`; {_cite(claim.source)}",
            ]
        lines.append("```")
        parsed = self._parse(lines)
        std = self.env.get_domain("std")
        for table in parsed:
            for row in table.findall(nodes.row):
                first_cell = row.next_node(nodes.entry)
                claim_id = first_cell.astext().split()[0] if first_cell and first_cell.astext().strip() else ""
                if claim_id in set(claims["claim_id"]):
                    label = claim_label(claim_id)
                    row["ids"].append(label)
                    std.anonlabels[label] = (self.env.docname, label)
                    std.labels[label] = (self.env.docname, label, f"Claim {claim_id}")
        return parsed

    def _scorecard(self, claims, which):
        latest = claims["judged_as_of"].max()
        predictions = claims["kind"] == "prediction"
        chosen = claims[predictions] if which == "predictions" else claims[~predictions & (claims["judged_as_of"] == latest)]
        if chosen.empty:
            raise self.error(f"claims: no claim for the scorecard '{which}'")
        lines = [
            "```{list-table}",
            ":header-rows: 1",
            ":class: claims-ledger",
            ":widths: 10 26 12 12 40",
            "",
            "* - Claim", "  - The case reading says", "  - Verdict", "  - Judged as of", "  - What the record shows",
        ]
        for claim in chosen.itertuples():
            lines += [
                f"* - {{ref}}`{claim.claim_id} <{claim_label(claim.claim_id)}>`",
                f"  - {_quoted(claim.quote)}",
                f"  - {claim.verdict}",
                f"  - {bookdata.month_text(claim.judged_as_of)}",
                f"  - {_markdown_cell(claim.evidence)} {_cite(claim.source)}",
            ]
        lines.append("```")
        return self._parse(lines)

    def _parse(self, lines):
        holder = nodes.container()
        holder.document = self.state.document
        self.state.nested_parse(StringList(lines, source="data/claims.csv"), self.content_offset, holder)
        return holder.children


def drop_duplicate_thebe_url(app, pagename, templatename, context, doctree):
    """sphinx-thebe and the book theme both declare ``const THEBE_JS_URL``; keep none while thebe is off."""
    if app.config.html_theme_options.get("launch_buttons", {}).get("thebe"):
        return
    script_files = context.get("script_files")
    if not script_files:
        return
    context["script_files"] = [
        script for script in script_files if "THEBE_JS_URL" not in str(getattr(script, "attributes", {}).get("body", ""))
    ]


def fix_citation_list_role(app, pagename, templatename, context, doctree):
    """docutils marks the citation list role="list" but its items are not listitems (an axe violation)."""
    if "body" in context:
        context["body"] = context["body"].replace('<div role="list" class="citation-list">', '<div class="citation-list">')


FONTAWESOME_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')


def _shrink_chart(path: Path) -> None:
    """Charts have few colours: a 256-colour palette cuts their weight by about two thirds, unseen.

    A figure with any transparency is left as it is, so that the dark-theme test still sees it.
    """
    from PIL import Image

    with Image.open(path) as image:
        if image.mode == "P" and "transparency" not in image.info:
            return  # shrunk already
        image.load()
    if image.mode in {"RGBA", "LA", "P"} and image.convert("RGBA").getextrema()[3][0] < 255:
        return
    palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    original_size = path.stat().st_size
    smaller = path.with_suffix(".tmp.png")
    palette.save(smaller, "PNG", optimize=True)
    if smaller.stat().st_size < original_size:
        smaller.replace(path)
    else:
        smaller.unlink()


def _code_cells(doctree):
    return [node for node in doctree.findall(nodes.container) if node.get("nb_element") == "cell_code"]


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
        for cell in _code_cells(self.document):
            if SOLUTION_CLASS in cell["classes"]:
                _forget_targets(self.document, cell)
                cell.parent.remove(cell)
                continue
            source = [child for child in cell.children if child.get("nb_element") == "cell_code_source"]
            if source and CHECK_CALL.search(source[0].astext()):
                for output in [child for child in cell.children if child.get("nb_element") == "cell_code_output"]:
                    _forget_targets(self.document, output)
                    cell.remove(output)


_charts_shrinking: dict = {}


def shrink_charts_while_writing(app, env):
    """Start shrinking the notebooks' chart images, in the build's own folder, while Sphinx writes the pages.

    Writing is one core of Python; Pillow releases the GIL, so the other core shrinks the charts meanwhile.
    Only files under the build folder are touched, never a source.
    """
    build_folder = Path(app.outdir).resolve().parent
    charts = [path for path in (Path(app.srcdir, name).resolve() for name in env.images)
              if path.suffix == ".png" and build_folder in path.parents and path.exists()]
    pool = ThreadPoolExecutor()
    _charts_shrinking[id(app)] = (pool, [pool.submit(_shrink_chart, path) for path in charts])


def charts_shrunk(app):
    """Wait for the charts just before Sphinx copies them into the site (``html-collect-pages`` comes first)."""
    pool, jobs = _charts_shrinking.pop(id(app), (None, []))
    for job in jobs:
        job.result()
    if pool is not None:
        pool.shutdown()
    return []


def slim_output(app, exception):
    """Leave out what readers' browsers would download for nothing."""
    if exception or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for source_map in outdir.glob("_static/**/*.map"):
        source_map.unlink()
    (outdir / "_static" / "scripts" / "fontawesome.js").unlink(missing_ok=True)
    # Charts from the notebooks are shrunk already (shrink_charts_while_writing); this catches any other.
    with ThreadPoolExecutor() as pool:
        list(pool.map(_shrink_chart, outdir.glob("_images/*.png")))
    for page in outdir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        slimmer = FONTAWESOME_SCRIPT.sub("", html)
        if slimmer != html:
            page.write_text(slimmer, encoding="utf-8")


def cache_bibtex_plugin_lookups() -> None:
    import functools

    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    if not hasattr(pybtex.plugin._load_entry_point, "cache_info"):
        # Only found plugins are cached; a miss raises and is asked again, as before.
        pybtex.plugin._load_entry_point = functools.lru_cache(maxsize=None)(pybtex.plugin._load_entry_point)
        entry_points = sphinxcontrib.bibtex.plugin._entry_points
        sphinxcontrib.bibtex.plugin._entry_points = functools.lru_cache(maxsize=None)(
            lambda group, name: tuple(entry_points(group=group, name=name))
        )


class StandardDomainReadingEachDoctreeOnce(StandardDomain):
    """Sphinx's standard domain, with numbered references resolved from doctrees read once per build.

    The target doctree is only read here (the figure's type, number and caption), never changed, so one copy
    per page serves every reference to it.
    """

    _doctrees: dict[str, nodes.document] = {}

    def _resolve_numref_xref(self, env, *args, **kwargs):
        read = env.get_doctree

        def read_once(docname):
            if docname not in self._doctrees:
                self._doctrees[docname] = read(docname)
            return self._doctrees[docname]

        env.get_doctree = read_once
        try:
            return super()._resolve_numref_xref(env, *args, **kwargs)
        finally:
            del env.get_doctree  # back to the method


def _forget_doctrees(app, exception) -> None:
    StandardDomainReadingEachDoctreeOnce._doctrees.clear()


def _check_edition(edition: str) -> None:
    if edition not in ("instructor", "student"):
        raise ValueError(f"book_edition is '{edition}' in _config.yml; it must be 'instructor' or 'student'")


def set_horizon_substitutions(app, config) -> None:
    """Pages write {{ record_through }} and {{ last_full_year }}: the horizon set once in data/datapackage.json."""
    config.myst_substitutions = {**config.myst_substitutions, "record_through": bookdata.RECORD_THROUGH_TEXT,
                                 "last_full_year": str(bookdata.LAST_FULL_YEAR)}


def setup(app):
    cache_bibtex_plugin_lookups()
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))
    app.add_css_file("book.css")
    app.add_directive("datapackage", DataPackageDirective)
    app.add_directive("claims", ClaimsDirective)
    app.connect("html-page-context", drop_duplicate_thebe_url)
    app.connect("html-page-context", fix_citation_list_role)
    app.connect("env-updated", shrink_charts_while_writing)
    app.connect("html-collect-pages", charts_shrunk)
    app.connect("build-finished", slim_output)
    app.add_config_value("book_edition", "instructor", "env", types=[str])
    app.connect("config-inited", lambda app, config: _check_edition(config.book_edition))
    app.connect("config-inited", set_horizon_substitutions)
    app.add_transform(StudentEditionPages)
    app.add_domain(StandardDomainReadingEachDoctreeOnce, override=True)
    app.connect("build-finished", _forget_doctrees)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
