"""Links, search and screenshots of the built book, and proof that the browser checks catch planted defects."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from browser import (
    ARTIFACTS,
    CheckedLooks,
    LoadedPage,
    code_contrast_problems,
    contrast_violations,
    dark_mode_figure_problems,
    image_problems,
    link_problems,
    link_violations,
    page_url,
    serve,
    switch_theme,
)

pytestmark = pytest.mark.browser  # drives headless Chromium: deselect with -m "not browser"


def test_every_internal_link_and_anchor_resolves(built_book):
    problems, external = link_problems(built_book)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "external-links.tsv").write_text("page\turl\n" + "\n".join(external) + "\n")
    assert not problems, "\n".join(problems[:30])


def test_search_finds_the_chapter_that_discusses_a_key_term(browser, tab, site):
    loaded = LoadedPage(browser, page_url(site, "chapters/index"), tab=tab)
    try:
        # As a reader does: open the search box with its shortcut, type, press Enter.
        loaded.page.keyboard.press("Control+k")
        loaded.page.locator("input[name='q']:visible").first.fill("Siberia")
        loaded.page.keyboard.press("Enter")
        loaded.page.wait_for_url("**/search.html?q=Siberia*")
        loaded.page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
        results = loaded.page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
        )
    finally:
        loaded.close()
    assert any("01_background" in href for href in results), f"search for 'Siberia' did not return chapter 1: {results}"


def test_screenshots_of_landing_page_and_chapters_on_phone_and_laptop_in_both_themes(browser, site):
    """Pictures a reviewer can look at (test-artifacts/): each page's top, and a chapter's first figure, at a
    phone's and a laptop's width, light and dark. The claims ledger's are taken in test_browser_ledger.py."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in [(390, 844), (1366, 900)]:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        for name in ["chapters/index", "chapters/01_background", "chapters/04_dedollarization"]:
            page.goto(page_url(site, name), wait_until="load")
            for theme in ("light", "dark"):
                switch_theme(page, theme)
                stem = f"{name.split('/')[-1]}-{width}-{theme}"
                page.evaluate("scrollTo(0, 0)")
                page.screenshot(path=str(ARTIFACTS / f"{stem}.png"))
                if page.locator("figure img").count():
                    page.locator("figure img").first.scroll_into_view_if_needed()
                    page.screenshot(path=str(ARTIFACTS / f"{stem}-figure.png"))
                assert (ARTIFACTS / f"{stem}.png").stat().st_size > 10_000, f"{stem}.png looks empty"
        context.close()


def test_a_readers_stored_dark_theme_applies_when_a_page_opens(browser, site):
    loaded = LoadedPage(browser, page_url(site, "chapters/01_background"), dark=True)
    theme = loaded.page.evaluate("document.documentElement.dataset.theme")
    loaded.close()
    assert theme == "dark", "a reader who chose the dark theme gets a light page on the next visit"


# ---- the checks fail on planted defects -----------------------------------------------------------------


def _plant(page: Path, old: str, new: str) -> None:
    html = page.read_text(encoding="utf-8")
    assert old in html, f"cannot plant the defect: {old!r} not in {page.name}"
    page.write_text(html.replace(old, new, 1), encoding="utf-8")


def _make_transparent(image_path: Path) -> None:
    """Make the white background transparent, as a figure saved with transparent=True would be."""
    import numpy as np
    from PIL import Image

    pixels = np.array(Image.open(image_path).convert("RGBA"))
    pixels[(pixels[..., :3] > 240).all(axis=-1), 3] = 0
    Image.fromarray(pixels).save(image_path)


@pytest.fixture(scope="module")
def planted(built_book, browser, tab, tmp_path_factory) -> dict:
    """A copy of the built book with defects planted in chapter 2, put through every check (one page load)."""
    copy = tmp_path_factory.mktemp("defective") / "html"
    shutil.copytree(built_book, copy)
    chapter = copy / "chapters" / "02_meeting.html"  # figures and code, in a smaller page than chapter 1
    html = chapter.read_text(encoding="utf-8")
    figures = re.findall(r'<figure[^>]*>\s*(?:<a [^>]*>)?<img alt="[^"]*" src="([^"]+)"', html)
    assert len(figures) >= 2, "chapter 2 needs two figures to plant defects in"
    first_alt = re.search(r'(?<=<figure)[^>]*>\s*(?:<a [^>]*>)?<img alt="[^"]*"', html)
    _plant(chapter, first_alt.group(0), re.sub(r'alt="[^"]*"', 'alt=""', first_alt.group(0)))
    _make_transparent((chapter.parent / figures[1]).resolve())
    _plant(
        chapter,
        "</head>",
        "<style>.highlight .n { color: #e8e8e8 !important; } "
        "html[data-theme=dark] .planted-dark { color: #303030; }</style></head>",
    )
    _plant(
        chapter,
        "</article>",
        '<a href="01_background.html#no-such-anchor">x</a>'
        '<p style="color: #c8c8c8">Planted faint text.</p>'
        '<p class="planted-dark">Planted text that fades into the dark theme.</p>'
        '<p>Planted text, long enough to be a block of text around a link, with <a href="01_background.html"'
        ' style="color: #4a4a4a; text-decoration: none">a link that looks like the text</a>'
        " in the middle of a sentence that goes on after it.</p></article>",
    )
    _plant(chapter, "</body>", "<script>throw new Error('planted page error')</script></body>")

    server, url = serve(copy)
    try:
        loaded = LoadedPage(browser, f"{url}/chapters/02_meeting.html", tab=tab)
        # The page tests share the looks of text they have checked; the planted page's faint look is new to them.
        looks = CheckedLooks(tmp_path_factory.mktemp("checked-looks"), "planted")
        found = {
            "page": loaded.problems + image_problems(loaded.page),
            "code": code_contrast_problems(loaded.page),
            "light": contrast_violations(loaded.page, looks),
            "light, looks checked": contrast_violations(loaded.page, looks),
            "links in text": link_violations(loaded.page),
        }
        switch_theme(loaded.page, "dark")
        found |= {"dark figures": dark_mode_figure_problems(loaded.page), "dark": contrast_violations(loaded.page)}
        loaded.close()
    finally:
        server.shutdown()
    found["links"], _ = link_problems(copy)
    return found


def test_checks_catch_an_image_without_alt_a_broken_anchor_and_a_throwing_page(planted):
    assert any("has no alt text" in problem for problem in planted["page"]), planted["page"]
    assert any("planted page error" in problem for problem in planted["page"]), planted["page"]
    assert any("#no-such-anchor" in problem for problem in planted["links"]), planted["links"]


def test_contrast_checks_catch_faint_text_and_faint_code_in_either_theme(planted):
    def flagged(violations):
        return " ".join(node["html"] for violation in violations for node in violation["nodes"])

    assert any(problem.startswith("code token .n ") for problem in planted["code"]), planted["code"]
    assert "Planted faint text" in flagged(planted["light"]), planted["light"]
    assert planted["light, looks checked"] == [], "a look of text already checked in the run was checked again"
    assert "fades into the dark theme" in flagged(planted["dark"]), planted["dark"]
    assert "fades into the dark theme" not in flagged(planted["light"]), planted["light"]


def test_link_check_catches_a_link_that_looks_like_the_text_around_it(planted):
    flagged = [node["html"] for violation in planted["links in text"] for node in violation["nodes"]]
    assert any("a link that looks like the text" in html for html in flagged), planted["links in text"]
    assert len(flagged) == 1, f"only the planted link should be flagged: {flagged}"


def test_dark_check_catches_a_transparent_figure(planted):
    assert any("transparent" in problem for problem in planted["dark figures"]), planted["dark figures"]
