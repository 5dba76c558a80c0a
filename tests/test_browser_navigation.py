"""The book as a reader on a phone or a small laptop uses it: the menu and page-contents buttons open their
sidebars, and no page is wider than the screen."""

from __future__ import annotations

import pytest

import book
from browser import ARTIFACTS, page_url
from conftest import toc_files

pytestmark = pytest.mark.browser  # drives headless Chromium: deselect with -m "not browser"

PHONE = {"width": 390, "height": 844}
SMALL_LAPTOP = {"width": 1024, "height": 768}

# Whether a link is on screen and is what a tap at its middle reaches (not hidden, off canvas or covered).
SHOWN = """element => {
  if (!element || !element.checkVisibility()) return false;
  element.scrollIntoView({block: 'nearest'});
  const box = element.getBoundingClientRect();
  if (box.width === 0 || box.right <= 0 || box.left >= innerWidth) return false;
  const hit = document.elementFromPoint(box.left + Math.min(5, box.width / 2), box.top + box.height / 2);
  return !!hit && (hit === element || element.contains(hit));
}"""


def _visible_button(page, side: str):
    buttons = page.locator(f".{side}-toggle").filter(visible=True)
    assert buttons.count() == 1, f"{buttons.count()} visible {side} sidebar buttons, not one"
    return buttons.first


def _chapter_link(page):
    """The link to chapter 2 in the book's chapter list, wherever the sidebar holds it now."""
    return page.locator("#pst-primary-sidebar, #pst-primary-sidebar-modal").locator('a[href*="02_meeting"]').first


def _shown(locator) -> bool:
    return locator.count() > 0 and locator.evaluate(SHOWN)


@pytest.mark.parametrize("viewport", [PHONE, SMALL_LAPTOP], ids=["phone-390x844", "laptop-1024x768"])
def test_menu_and_page_contents_buttons_open_their_sidebars(browser, site, viewport):
    context = browser.new_context(color_scheme="light", viewport=viewport)
    try:
        page = context.new_page()
        page.goto(page_url(site, "chapters/01_background"), wait_until="load")
        width = viewport["width"]

        # The menu button toggles the chapter list (shown beside the page on a laptop, as a drawer on a phone).
        menu = _visible_button(page, "primary")
        was_shown = _shown(_chapter_link(page))
        menu.click()
        page.wait_for_timeout(400)  # the sidebar slides
        assert _shown(_chapter_link(page)) != was_shown, f"at {width} px the menu button does not toggle the chapters"
        if was_shown:  # on a laptop the list was beside the page: the first click folded it away
            assert menu.get_attribute("aria-expanded") == "false", "the menu button does not say the list is closed"
            menu.click()
            page.wait_for_timeout(400)
            assert _shown(_chapter_link(page)), f"at {width} px the menu button does not bring the chapters back"
        assert menu.get_attribute("aria-expanded") == "true", "the menu button does not say the list is open"
        _chapter_link(page).click()
        page.wait_for_url("**/02_meeting.html")
        assert "02_meeting" in page.url

        # The page-contents button, from the keyboard, opens the list of the page's sections.
        contents = _visible_button(page, "secondary")
        assert contents.get_attribute("aria-expanded") == "false"
        contents.focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(400)
        entries = page.locator("#pst-secondary-sidebar-modal .toc-entry a, #pst-secondary-sidebar .toc-entry a")
        assert entries.count() >= 2 and _shown(entries.first), f"at {width} px the page contents do not open"
        assert contents.get_attribute("aria-expanded") == "true", "the contents button does not say it is open"
        page.screenshot(path=str(ARTIFACTS / f"navigation-contents-{width}.png"))
        page.keyboard.press("Escape")
        page.wait_for_timeout(400)
        assert contents.get_attribute("aria-expanded") == "false", "the contents button does not say it closed"
    finally:
        context.close()


# The element that reaches furthest past the right edge of the window (the deepest, of those that reach as far;
# an element's text counts as the element),
# leaving out fixed elements (a closed sidebar waiting off screen), which widen nothing.
WIDEST = """() => {
  let widest = null, reach = innerWidth + 1;
  const fixed = (element) => {
    for (; element; element = element.parentElement) if (getComputedStyle(element).position === 'fixed') return true;
    return false;
  };
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    // Text that spills out of an element (an unbreakable URL) is part of no element's box but widens its scrollWidth.
    const spills = style.overflowX === 'visible' && style.display !== 'inline';
    const right = spills ? Math.max(box.right, box.left + element.scrollWidth) : box.right;
    if (right >= reach && !fixed(element)) [widest, reach] = [element, right];
  }
  if (!widest) return null;
  const name = widest.tagName.toLowerCase() + (widest.id ? '#' + widest.id : '') +
    [...widest.classList].map(c => '.' + c).join('');
  return `${name} reaches ${Math.round(reach)} px: "${(widest.textContent || '').trim().slice(0, 60)}"`;
}"""

STUDENT_PAGES = [name for name in toc_files() if name not in book.INSTRUCTOR_ONLY]


def test_no_page_scrolls_sideways_on_a_phone(browser, site, student_site):
    context = browser.new_context(color_scheme="light", viewport=PHONE)
    pages = [page_url(student_site, name) for name in STUDENT_PAGES]
    pages += [page_url(site, name) for name in book.INSTRUCTOR_ONLY]
    problems = []
    try:
        page = context.new_page()
        for url in pages:
            page.goto(url, wait_until="load")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > page.evaluate("innerWidth"):
                problems.append(f"{url.split('/', 3)[-1]} is {wide} px wide: {page.evaluate(WIDEST)}")
    finally:
        context.close()
    assert not problems, f"pages wider than a {PHONE['width']}-px phone:\n" + "\n".join(problems)
