"""The strength of the sources (issue 15): a tier on every entry, no content farms, and no figure that rests
only on an unverified relay without saying so.

Every failure names its place: the entry key and its line in references.bib, or the CSV file and line.
"""

from __future__ import annotations

import csv
import re
from urllib.parse import urlparse

import bookdata
from conftest import ROOT

BIB = ROOT / "references.bib"

# Disinformation outlets, content farms and copy sites that rewrite other outlets' text without naming a
# responsible publisher. An entry on one of these domains is at best an unverified relay, and no data row may rest
# on such entries alone. Sources: the check of issue 15 and the source review of its four researchers.
DENYLIST = (
    # disinformation outlets ("Portal Kombat" network, documented by France's VIGINUM, and others)
    "pravda-en.com",
    "english.pravda.ru",
    "news-pravda.com",
    "sott.net",
    "russia-insider.com",
    # content farms, copy and repost sites
    "pledgetimes.com",
    "socialbites.ca",
    "europesays.com",
    "redcensor.com",
    "ironbladeonline.com",
    "biznob.com",
    "cnmnewz.com",
    "newsmuncher.com",
    "exbulletin.com",
    "finance-rambler.ru",
    "glav.su",
    "timesofnews.com",
    "breakinglatest.news",
    "dnyuz.com",
    "quickread.info",
    "ru24.pro",
    "ru24.net",
    "kpiz.ru",
    "mmgp.com",
    "vuink.com",
    "worldreportnow.com",
    "true-news.info",
    "troib.com",
    "theinteldrop.org",
    "squidsaccess.com",
    "lucorg.com",
    "p.rst.im",
    "extremarationews.com",
    "lucaturilli.net",
    "obeta.ttef.in",
    "budapestnews.org",
    "thelabradorian.ca",
    "stocksmarket.in",
    "520sf.org",
    "strategicstudyindia.com",
    "economicjournalmag.com",
)
AT_MOST_ON_DENYLIST = 10

# Copies of a named original (a wire, newspaper or official text) whose original was not found: allowed only as
# an unverified relay that says so, and a figure resting on them alone is drawn as low confidence.
COPY_SITES = (
    "clv-development.org",
    "vshangxuetang.com",
    "m.hxen.com",
    "pefafa.com",
    "defence.pk",
    "kawry.co",
    "betiforex.com",
    "lapost.com",
    "squidbusiness.fr",
    "cashinsight.co.uk",
    "biede.cn",
    "300yi.com",
    "gxjlsc.cn",
    "sh-hdmy.com",
    "51haodu.com",
    "yrtnews.com",
    "stockmark.it",
    "america-times.com",
    "e-livre.ru",
    "menafn.com",
)

UNVERIFIED = "unverified relay"


def _entries():
    """(key, line in references.bib, fields) for every entry, read with the same parser the book uses."""
    import pybtex.database

    text = BIB.read_text(encoding="utf-8")
    lines = {
        match.group(1): text.count("\n", 0, match.start()) + 1
        for match in re.finditer(r"^@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE)
    }
    data = pybtex.database.parse_file(str(BIB))
    return [(key, lines.get(key, 0), entry.fields) for key, entry in data.entries.items()]


ENTRIES = _entries()


def _on(domains, fields) -> str | None:
    host = (urlparse(fields.get("url", "")).hostname or "").lower()
    return next((domain for domain in domains if host == domain or host.endswith("." + domain)), None)


def _place(key, line) -> str:
    return f"references.bib, line {line}, entry {key}"


DENIED = {key: _on(DENYLIST, fields) for key, _, fields in ENTRIES if _on(DENYLIST, fields)}
# An entry is an unverified relay if it says so, or if it sits on a listed domain (whatever its tier says).
UNVERIFIED_KEYS = {
    key
    for key, _, fields in ENTRIES
    if fields.get("tier", "").strip() == UNVERIFIED or _on(DENYLIST + COPY_SITES, fields)
}


def _data_rows():
    """(CSV name, line, row) for every row of every dataset in data/ with a source column."""
    for path in sorted((ROOT / "data").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if "source" not in (reader.fieldnames or []):
                continue
            for row in reader:
                yield path.name, reader.line_num, row


def _keys(row) -> list[str]:
    return [key.strip() for key in (row["source"] or "").split(";") if key.strip()]


def test_every_entry_has_a_tier_from_the_closed_vocabulary():
    problems = [
        f"{_place(key, line)}: tier {fields.get('tier', '(none)')!r} is not one of {', '.join(bookdata.TIERS)}"
        for key, line, fields in ENTRIES
        if fields.get("tier", "").strip() not in bookdata.TIERS
    ]
    assert not problems, f"{len(problems)} entries without a valid tier:\n" + "\n".join(problems)


def _cited_as(entry) -> str:
    """How an author-year citation names the entry's authors: one or two last names, or the first and "et al."."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(person.last_names) for person in people] or [entry.fields.get("organization", "")]
    return names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."


def test_no_two_entries_are_cited_alike():
    """Two works cited as "Reuters, 2023" could not be told apart in the text: their years carry a, b, c, in the
    order of their titles, as author-year styles do."""
    import pybtex.database

    lines = dict((key, line) for key, line, _ in ENTRIES)
    seen, problems = {}, []
    for key, entry in pybtex.database.parse_file(str(BIB)).entries.items():
        label = f"{_cited_as(entry)}, {entry.fields.get('year', 'n.d.')}"
        if label in seen:
            problems.append(f"{_place(key, lines[key])} is cited as {label!r}, like {seen[label]}")
        seen.setdefault(label, key)
    assert not problems, f"{len(problems)} entries cited alike (give their years a, b, ...):\n" + "\n".join(problems)


def test_at_most_ten_entries_remain_on_denylisted_domains():
    listed = [f"{_place(key, line)} ({DENIED[key]})" for key, line, _ in ENTRIES if key in DENIED]
    assert len(listed) <= AT_MOST_ON_DENYLIST, (
        f"{len(listed)} entries are on denylisted domains (at most {AT_MOST_ON_DENYLIST} may remain, as unverified "
        f"relays); replace them with the original publisher or a reputable relay:\n" + "\n".join(listed)
    )


def test_every_entry_on_a_denylisted_or_copy_domain_is_an_unverified_relay_with_a_reason():
    problems = []
    for key, line, fields in ENTRIES:
        domain = _on(DENYLIST + COPY_SITES, fields)
        if not domain:
            continue
        if fields.get("tier", "").strip() != UNVERIFIED:
            problems.append(
                f"{_place(key, line)} ({domain}): tier {fields.get('tier', '(none)')!r}, not {UNVERIFIED!r}"
            )
        note = " ".join(fields.get("note", "").split())
        if not re.search(r"unverified relay\W+\w+(\W+\w+){3,}", note, flags=re.IGNORECASE):
            problems.append(
                f"{_place(key, line)} ({domain}): its note does not give the reason ('Unverified relay: <why>')"
            )
    assert not problems, "\n".join(problems)


def test_a_row_resting_only_on_unverified_relays_says_so_and_is_low_confidence():
    problems = []
    for name, line, row in _data_rows():
        keys = _keys(row)
        if not keys or not all(key in UNVERIFIED_KEYS for key in keys):
            continue
        note = row.get("note") if "note" in row else row.get("evidence")
        if UNVERIFIED not in (note or "").lower():
            problems.append(
                f"data/{name}, line {line}: rests only on unverified relays ({', '.join(keys)}) "
                f"but its {'note' if 'note' in row else 'evidence'} does not say so ('unverified relay')"
            )
        if "confidence" in row and row["confidence"] != "low":
            problems.append(
                f"data/{name}, line {line}: rests only on unverified relays ({', '.join(keys)}) "
                f"but has confidence {row['confidence']!r}; such a figure is drawn as low confidence"
            )
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_no_data_row_rests_only_on_denylisted_entries():
    problems = [
        f"data/{name}, line {line}: rests only on {', '.join(f'{key} ({DENIED[key]})' for key in _keys(row))}"
        for name, line, row in _data_rows()
        if _keys(row) and all(key in DENIED for key in _keys(row))
    ]
    assert not problems, f"{len(problems)} rows rest only on denylisted domains:\n" + "\n".join(problems)
