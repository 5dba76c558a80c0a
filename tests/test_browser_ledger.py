"""The claims ledger as a reader uses it: a table on a laptop, one card per claim on a phone, filters that work from
the keyboard; and the book's logo in the dark theme, which must not be a white box."""

from __future__ import annotations

import io

import numpy
import pytest
from PIL import Image

from browser import ARTIFACTS, page_url, switch_theme

pytestmark = pytest.mark.browser  # drives headless Chromium: deselect with -m "not browser"

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
ROWS = "table.claims-ledger tbody tr"


def _ledger(browser, site, viewport, theme="light"):
    context = browser.new_context(color_scheme=theme, viewport=viewport)
    context.add_init_script("localStorage.clear();")
    page = context.new_page()
    page.goto(page_url(site, "chapters/claims_ledger"), wait_until="load")
    switch_theme(page, theme)
    return context, page


def _screenshot(page, name: str) -> None:
    """The filters and the first claims, in view."""
    page.evaluate("document.querySelector('table.claims-ledger').scrollIntoView()")
    page.evaluate("scrollBy(0, -180)")
    page.screenshot(path=str(ARTIFACTS / name))


def _displays(page) -> set[str]:
    return set(page.eval_on_selector_all(ROWS, "rows => rows.map(row => getComputedStyle(row).display)"))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_ledger_is_cards_on_a_phone_and_a_table_on_a_laptop(browser, site, theme):
    context, page = _ledger(browser, site, PHONE, theme)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"at 390 px the ledger page is {overflow} px wider than the screen"
        table = page.evaluate(
            "() => { const t = document.querySelector('table.claims-ledger');"
            " return [t.scrollWidth, t.parentElement.clientWidth]; }"
        )
        assert table[0] <= table[1], f"at 390 px the ledger ({table[0]} px) overflows its box ({table[1]} px)"
        displays = _displays(page)
        assert displays and "table-row" not in displays, f"at 390 px the ledger's rows are shown as {displays}"
        _screenshot(page, f"ledger-390-{theme}.png")
        page.set_viewport_size(LAPTOP)
        page.wait_for_timeout(200)
        assert _displays(page) == {"table-row"}, "at 1366 px the ledger is not a table"
        _screenshot(page, f"ledger-1366-{theme}.png")
    finally:
        context.close()


def test_ledger_filters_by_verdict_from_the_keyboard(browser, site):
    context, page = _ledger(browser, site, LAPTOP)
    try:
        verdict = page.get_by_label("Verdict", exact=True)
        assert verdict.count() == 1, "the ledger has no filter labelled Verdict"
        verdict.focus()
        for _ in range(10):  # arrow through the choices, as a keyboard user does
            if verdict.evaluate("select => select.value") == "unsupported":
                break
            page.keyboard.press("ArrowDown")
        assert verdict.evaluate("select => select.value") == "unsupported", "the keyboard cannot choose unsupported"
        shown = page.eval_on_selector_all(
            ROWS,
            "rows => rows.filter(row => row.checkVisibility())"
            ".map(row => row.cells[2].textContent.trim().split(/\\s+as of/)[0].trim())",
        )
        assert shown, "choosing the verdict unsupported hides every claim"
        assert set(shown) == {"unsupported"}, f"choosing unsupported still shows claims judged {set(shown)}"
    finally:
        context.close()


def test_logo_is_not_a_white_box_in_the_dark_theme(browser, site):
    context, page = _ledger(browser, site, LAPTOP, "dark")
    try:
        logos = page.locator("img.logo__image").filter(visible=True)
        assert logos.count() == 1, f"{logos.count()} logos shown, not one"
        image = logos.first.screenshot(path=str(ARTIFACTS / "logo-dark.png"))
        pixels = numpy.asarray(Image.open(io.BytesIO(image)).convert("RGB"))
        white = float((pixels.min(axis=2) > 235).mean())  # share of near-white pixels
        assert white < 0.2, f"in the dark theme {white:.0%} of the logo is white: it shows as a white box"
    finally:
        context.close()
