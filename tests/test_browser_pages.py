"""Every page of the built book in a real browser: it loads cleanly, its images are described, axe finds nothing serious."""

from __future__ import annotations

import json

import pytest

from browser import ARTIFACTS, PAGE_BUDGET_BYTES, LoadedPage, axe_violations, image_problems, page_url
from conftest import toc_files

PAGES = toc_files()


def record(name: str, weight: int, violations: list[dict]) -> None:
    """Keep each page's weight and axe results as a test artefact (one file a page: workers run in parallel)."""
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    summary = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]} for v in violations]
    (folder / f"{name.replace('/', '__')}.json").write_text(json.dumps({"page": name, "bytes": weight, "axe": summary}, indent=1))


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_with_described_images_and_no_serious_accessibility_violations(browser, site, name):
    loaded = LoadedPage(browser, page_url(site, name))
    try:
        weight = loaded.bytes
        problems = loaded.problems + image_problems(loaded.page)
        violations = axe_violations(loaded.page)
    finally:
        loaded.close()
    record(name, weight, violations)
    serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes)" for v in violations if v["impact"] in {"serious", "critical"}]
    assert not problems, f"{name}: " + "; ".join(problems)
    assert not serious, f"{name}: serious accessibility violations: {serious}"
    assert weight <= PAGE_BUDGET_BYTES, f"{name}: {weight:,} bytes, over the {PAGE_BUDGET_BYTES:,}-byte budget"
