"""The bibliography style of the book: pybtex's plain style, with each entry's source tier shown after it (issue 15).

Registered under the name ``tiered`` with pybtex's public plugin API and chosen in _config.yml
(``bibtex_default_style: tiered``). The tier is the entry's ``tier`` field (see the header of references.bib).
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.richtext import Tag, Text
from pybtex.style.formatting.plain import Style as PlainStyle

NAME = "tiered"


class TieredStyle(PlainStyle):
    """Plain style; an entry with a ``tier`` field ends with "Source tier: <tier>."."""

    def format_entry(self, label, entry, bib_data=None):
        formatted = super().format_entry(label, entry, bib_data=bib_data)
        tier = entry.fields.get("tier", "").strip()
        if tier:
            formatted.text = Text(formatted.text, " ", Tag("em", f"Source tier: {tier}."))
        return formatted


def register() -> None:
    register_plugin("pybtex.style.formatting", NAME, TieredStyle)
