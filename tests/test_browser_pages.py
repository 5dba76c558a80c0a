"""Every page of the book as readers get it (the student edition; the instructor-only pages in the instructor
edition) in a real browser, in the light and the dark theme.

Each page loads cleanly (no console or page errors, no failed requests, within its weight budget), its images
are described and highlighted code keeps its contrast. The reader's theme button switches it to dark: figures
keep their own opaque background with legible ink, and text and code keep their contrast (each look of text is
checked once in the run, on the first page that has it). Back in light, axe-core audits the whole page and finds
nothing serious. One page load serves both themes.
"""

from __future__ import annotations

import json

import pytest

from browser import (
    ARTIFACTS,
    PAGE_BUDGET_BYTES,
    LoadedPage,
    accessibility_violations,
    code_contrast_problems,
    contrast_violations,
    dark_mode_figure_problems,
    flatten_code,
    image_problems,
    page_url,
    switch_theme,
)
from conftest import book, toc_files

pytestmark = pytest.mark.browser  # drives headless Chromium: deselect with -m "not browser"

PAGES = toc_files()[::-1]  # last pages of the table of contents first


def record(name: str, weight: int, violations: list[dict]) -> None:
    """Keep each page's weight and axe results as a test artefact (one file a page: workers run in parallel)."""
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    summary = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]} for v in violations]
    (folder / f"{name.replace('/', '__')}.json").write_text(
        json.dumps({"page": name, "bytes": weight, "axe": summary}, indent=1)
    )


def _serious(violations: list[dict]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes)"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("name", PAGES)
def test_page_is_clean_described_and_accessible_in_light_and_dark_themes(
    browser, tab, site, student_site, checked_looks, name
):
    # Readers get the student edition (the one published); the instructor-only pages are checked in theirs.
    loaded = LoadedPage(browser, page_url(site if name in book.INSTRUCTOR_ONLY else student_site, name), tab=tab)
    try:
        # Read before axe-core runs: its CSS preloading requests an @import at a wrong URL (a 404 of its own).
        problems = loaded.problems + image_problems(loaded.page) + code_contrast_problems(loaded.page)
        weight = loaded.bytes
        switch_theme(loaded.page, "dark")
        dark_problems = dark_mode_figure_problems(loaded.page) + code_contrast_problems(loaded.page)
        flatten_code(loaded.page)  # its colours were checked in both themes just above
        dark_violations = contrast_violations(loaded.page, checked_looks)
        switch_theme(loaded.page, "light")
        violations = accessibility_violations(loaded.page, checked_looks)
    finally:
        loaded.close()
    record(name, weight, violations)
    assert not problems, f"{name}: " + "; ".join(problems)
    assert not _serious(violations), f"{name}: serious accessibility violations: {_serious(violations)}"
    assert weight <= PAGE_BUDGET_BYTES, f"{name}: {weight:,} bytes, over the {PAGE_BUDGET_BYTES:,}-byte budget"
    assert not dark_problems, f"{name} (dark): " + "; ".join(dark_problems)
    assert not _serious(dark_violations), f"{name} (dark): contrast violations: {_serious(dark_violations)}"
