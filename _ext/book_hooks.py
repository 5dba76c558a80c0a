"""Sphinx hooks of the book.

- ``{datapackage}``: renders data/datapackage.json as the Data page, so the page
  cannot drift from the files it describes.
- Drops the second ``THEBE_JS_URL`` declaration that the stock theme stack
  emits (a console SyntaxError on every page) while thebe is switched off.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

BOOK_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = BOOK_ROOT / "data"


def _coverage(rows: list[dict], fields: list[dict]) -> str:
    """The span of the first year or date column, read from the rows themselves."""
    for field in fields:
        if field["name"] in {"year", "date", "period"}:
            values = sorted(row[field["name"]] for row in rows if row[field["name"]])
            if values:
                return f"{values[0]} to {values[-1]}"
    return "see the rows"


def _source_keys(rows: list[dict]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        for key in row.get("source", "").split(";"):
            key = key.strip()
            if key and key not in keys:
                keys.append(key)
    return keys


def datapackage_markdown(docname_depth: int) -> list[str]:
    """MyST lines describing every resource of the data package."""
    package = json.loads((DATA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    up = "../" * docname_depth
    lines: list[str] = []
    for entry in package["resources"]:
        with (DATA_DIR / entry["path"]).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        fields = entry["schema"]["fields"]
        licence = ", ".join(item.get("title", item["name"]) for item in entry.get("licenses", package.get("licenses", [])))
        lines += [
            f"({'data-' + entry['name'].replace('_', '-')})=",
            f"## {entry['title']}",
            "",
            entry["description"],
            "",
            f"- **File:** {{download}}`{entry['path']} <{up}data/{entry['path']}>` "
            f"({len(rows)} rows; dataset name `{entry['name']}` for `bookdata.load`)",
            f"- **Coverage:** {_coverage(rows, fields)}",
            f"- **Licence:** {licence}",
            f"- **Checksum:** `{entry.get('hash', '')}`",
            "- **Sources:** " + "; ".join(f"{{cite:t}}`{key}`" for key in _source_keys(rows)),
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


def setup(app):
    app.add_directive("datapackage", DataPackageDirective)
    app.connect("html-page-context", drop_duplicate_thebe_url)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
