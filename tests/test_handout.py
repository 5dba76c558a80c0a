"""The notebooks students get read in any notebook app, and where students work never shows a solution.

- Handed out (and from the download buttons), a notebook holds plain Markdown: no MyST role, directive, label or
  substitution; glued values are written in as the page shows them; its links lead to pages and anchors that exist.
- The student edition's Binder buttons open the branch `student`, which the publishing workflow fills with the
  handout; its repository button (the main branch holds the solutions) is gone; the handout archive is built and
  linked from "How to use this module".
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat

import handout
from conftest import BUILD_CACHE, CHAPTERS, HANDOUT, ROOT
from test_maintenance import _workflow

MYST = (
    re.compile(  # what only a MyST reader understands: {role}`...`, ```{directive}, :::{directive}, {{ x }}, (label)=
        r"\{[a-z][\w:-]*\}`|^[ \t>]*(?:`{3,}|:{3,})[ \t]*\{|\{\{.*?\}\}|^[ \t>]*\([\w.:-]+\)=[ \t]*$", re.MULTILINE
    )
)
LINK = re.compile(r"\]\((?P<url>[^)\s]+)\)")
URL = handout.published_url()


def _markdown_cells(folder: Path) -> list[tuple[str, int, str]]:
    """Every text a notebook app shows as Markdown: markdown cells, and the figure captions in cells' metadata."""
    return [
        (str(path.relative_to(folder)), index, text)
        for path in sorted(folder.rglob("*.ipynb"))
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        for text in [
            cell.source if cell.cell_type == "markdown" else "",
            cell.metadata.get("mystnb", {}).get("figure", {}).get("caption", ""),
        ]
        if text
    ]


def test_handed_out_notebooks_hold_no_myst_roles_or_directives(student_edition):
    for folder in (HANDOUT / "chapters", student_edition / "html" / "_sources"):
        cells = _markdown_cells(folder)
        assert len({name for name, _, _ in cells}) >= 8, f"too few notebooks in {folder} to prove anything"
        left = [
            f"{name} cell {index}: …{source[max(0, match.start() - 40) : match.end() + 40]}…"
            for name, index, source in cells
            for match in MYST.finditer(source)
        ]
        assert not left, f"MyST left in the notebooks students get ({folder}):\n" + "\n".join(left[:20])


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_a_glued_value_is_written_in_as_the_page_shows_it(student_edition):
    """Exercise 4.3 glues the yuan's share of Russia's export settlements in March 2023 with the format .0f."""
    page = (student_edition / "html" / "chapters" / "04_dedollarization.html").read_text(encoding="utf-8")
    exercise = _text(page[page.index('id="ex-dd-3">') + len('id="ex-dd-3">') :])
    assert exercise.lstrip().startswith("Exercise 4.3"), exercise[:80]
    shown = re.search(r"the yuan at only (\S+) per cent", exercise)[1]
    assert re.fullmatch(r"\d+", shown), f"the page shows {shown!r}"
    cells = [cell.source for cell in nbformat.read(HANDOUT / "chapters" / "04_dedollarization.ipynb", 4).cells]
    handed_out = next((source for source in cells if "**Exercise 4.3**" in source), None)
    assert handed_out, "no cell of the handed-out chapter 4 is headed **Exercise 4.3**"
    assert f"the yuan at only {shown} per cent" in handed_out, handed_out


def test_links_in_handed_out_notebooks_lead_to_published_pages_and_anchors_that_exist(student_edition):
    html, links = student_edition / "html", {}
    for name, index, source in _markdown_cells(HANDOUT / "chapters"):
        for match in LINK.finditer(source):
            if match["url"].startswith(URL + "/"):
                links.setdefault(match["url"][len(URL) + 1 :], f"{name} cell {index}")
    for kind in ("chapters/glossary.html#term-", "chapters/bibliography.html", "#fig-", "claims_ledger.html#claim-c"):
        assert any(kind in link for link in links), f"no link of the kind {kind!r} in the handout"
    broken = []
    for link, where in links.items():
        page, _, anchor = link.partition("#")
        target = html / page
        if not target.is_file() or (anchor and f'id="{anchor}"' not in target.read_text(encoding="utf-8")):
            broken.append(f"{where}: {link}")
    assert not broken, "links to pages or anchors the student edition does not have:\n" + "\n".join(broken)


def test_each_kind_of_myst_becomes_plain_markdown(student_edition):
    edition = handout.Edition(ROOT, student_edition / "html", BUILD_CACHE)
    page = handout.Page(edition, CHAPTERS / "04_dedollarization.ipynb")
    myst = "\n".join(
        [
            "(a-label)=",
            ":::{admonition} Claims tested here",
            ":class: tip",
            "",
            "```{claims}",
            ":section: dedollar-yuan-south",
            "```",
            ":::",
            "",
            "```{exercise}",
            ":label: ex-dd-3",
            "",
            "Read {numref}`fig-bg-trade`, the {term}`CIPS` and {term}`payment system <CIPS>` entries, the "
            "{doc}`data page <data>` and {ref}`bg-history`; {glue:text}`exports_yuan_mar_2023:.0f` per cent "
            "{cite:p}`lo2008axis,lo2017wary`, as {cite:t}`lo2008axis` said, to {{ record_through }}.",
            "```",
            "```{warning}",
            "Careful.",
            "```",
            "```{unknown-directive}",
            "```",
        ]
    )
    plain = page.markdown(myst).replace(URL, "URL")
    assert plain.startswith("> **Claims tested here**\n>\n> - [C"), plain
    assert "(URL/chapters/claims_ledger.html#claim-c" in plain
    figure = edition.numbers["fig-bg-trade"]
    assert re.fullmatch(r"Fig\. 1\.\d", figure), f"figure numbers are read from the pages: {figure}"
    assert f"> **Exercise 4.3**\n>\n> Read [{figure}](URL/chapters/01_background.html#fig-bg-trade)" in plain
    assert "the [CIPS](URL/chapters/glossary.html#term-CIPS) and [payment system](URL/chapters/glossary.html" in plain
    assert "[data page](URL/chapters/data.html) and [From alliance to partnership" in plain
    assert "([Lo 2008](URL/chapters/bibliography.html); [Lo 2017](URL/chapters/bibliography.html))" in plain
    assert "as [Lo (2008)](URL/chapters/bibliography.html) said" in plain
    assert f"to {edition.substitutions['record_through']}." in plain
    assert re.search(r"\); \d+ per cent \(\[Lo 2008\]", plain), plain
    assert "\n\n> **Warning**\n>\n> Careful.\n\n```{unknown" in plain, "each blockquote stands apart"
    assert "```{unknown-directive}\n```" in plain, "a directive without a rule must be left for the test to find"
    assert "(a-label)=" not in plain and "{" not in plain.replace("```{unknown-directive}", "")
    gated = page.markdown("```{exercise-start}\n:label: ex-dd-3\n```\n\nWrite code.\n\n```{exercise-end}\n```")
    assert gated.strip() == "**Exercise 4.3**\n\nWrite code.", gated


def _binder_links(html: Path) -> set[str]:
    pages = [path.read_text(encoding="utf-8") for path in (html / "chapters").glob("*.html")]
    return {link for page in pages for link in re.findall(r'href="(https://mybinder\.org/[^"]+)"', page)}


def test_the_student_editions_launch_buttons_open_the_handout_branch(student_edition, built_book):
    repository = "china-russia-module/china-russia-after-2022"
    student, instructor = _binder_links(student_edition / "html"), _binder_links(built_book)
    assert student and instructor, "no Binder launch button found"
    assert all(f"/v2/gh/{repository}/{handout.STUDENT_BRANCH}?" in link for link in student), sorted(student)[:3]
    assert all(f"/v2/gh/{repository}/main?" in link for link in instructor), sorted(instructor)[:3]
    student_page = (student_edition / "html" / "chapters" / "01_background.html").read_text(encoding="utf-8")
    assert f'href="https://github.com/{repository}"' not in student_page, "the repository button leads to solutions"
    assert f'href="https://github.com/{repository}/issues/new' in student_page, "the issues button should stay"


def test_the_handout_archive_is_built_and_linked_from_how_to_use(student_edition):
    archive = student_edition / "html" / handout.ARCHIVE
    assert archive.is_file(), f"no handout archive at {archive}"
    files = {
        f"{handout.FOLDER}/{path.relative_to(HANDOUT).as_posix()}" for path in HANDOUT.rglob("*") if path.is_file()
    }
    packed = {name for name in zipfile.ZipFile(archive).namelist() if not name.endswith("/")}
    assert packed == files, f"the archive differs from the handout: {sorted(packed ^ files)[:10]}"
    for needed in ("chapters/assignment_1_verify_claim.ipynb", "chapters/bookdata.py", "binder/requirements.txt"):
        assert f"{handout.FOLDER}/{needed}" in packed
    how_to_use = (student_edition / "html" / "chapters" / "how_to_use.html").read_text(encoding="utf-8")
    assert f'href="{URL}/{handout.ARCHIVE}"' in how_to_use, "How to use this module does not link the archive"


def test_the_publishing_workflow_pushes_the_handout_to_the_student_branch():
    steps = _workflow("publish.yml")["jobs"]["build"]["steps"]
    pushes = [step for step in steps if step.get("working-directory") == "_build/student/notebooks"]
    assert len(pushes) == 1 and "git push --force" in pushes[0]["run"], steps
    assert pushes[0]["run"].rstrip().endswith(f" {handout.STUDENT_BRANCH}")
    assert f"--initial-branch {handout.STUDENT_BRANCH}" in pushes[0]["run"]
