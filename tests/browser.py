"""Browser checks of the built book: headless Chromium, driven by Playwright.

Each check is a function that returns a list of problems for one page, so that
the same check runs on the real book (test_browser_pages.py) and, to prove it
can fail, on a copy of the built HTML with a defect planted in it
(test_browser_checks.py). Its fixtures (`site`, `browser`, `tab`, `checked_looks`)
are at the end of this file; conftest.py imports them.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

# The headless shell is the build of Chromium that Playwright itself runs headless tests in: it has no browser
# interface to keep up, and costs about a sixth less processor time per page than the full browser run headless.
CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PAGE_BUDGET_BYTES = 2_000_000  # everything one page loads: about 1 MB of theme, the rest HTML and figures
MIN_FIGURE_CONTRAST = 7.0  # WCAG AAA for text: figure ink on the figure's own background
MIN_CODE_CONTRAST = 4.5  # WCAG AA for normal-size text, as axe-core applies it


# ---- serving and driving the book ------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(folder: Path):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


VIEWPORT = {"width": 1280, "height": 900}


def open_tab(browser):
    """A browser tab in the light scheme that starts every page afresh: no stored theme, nothing cached.

    Navigating one tab from page to page costs half the processor time of a fresh browser context per page.
    """
    context = browser.new_context(color_scheme="light", viewport=VIEWPORT)
    context.add_init_script("localStorage.clear();")  # each page opens in the theme a new reader gets
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})  # so each page's weight is all it loads
    return page


class LoadedPage:
    """One page opened in the browser, with what went wrong while it loaded and what it weighed.

    It opens in a browser context of its own, or in ``tab`` (see ``open_tab``) when one is given.
    """

    def __init__(self, browser, url: str, dark: bool = False, tab=None):
        self.context = None
        if tab is None:
            self.context = browser.new_context(color_scheme="dark" if dark else "light", viewport=VIEWPORT)
            if dark:
                # The theme reads the reader's stored choice before it paints.
                self.context.add_init_script(
                    "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
                )
        self.page = tab or self.context.new_page()
        self.problems: list[str] = []
        self.listeners = {
            "console": lambda message: (
                message.type == "error" and self.problems.append(f"console error: {message.text}")
            ),
            "pageerror": lambda error: self.problems.append(f"page error: {error}"),
            "requestfailed": lambda request: self.problems.append(f"failed request: {request.url}"),
            "response": lambda response: (
                response.status >= 400 and self.problems.append(f"HTTP {response.status}: {response.url}")
            ),
        }
        for event, listener in self.listeners.items():
            self.page.on(event, listener)
        self.page.goto(url, wait_until="load")

    @property
    def bytes(self) -> int:
        """Bytes of the page and everything it loaded, as the browser's resource timing records them."""
        return int(
            self.page.evaluate(
                "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
                ".reduce((total, entry) => total + (entry.decodedBodySize || 0), 0)"
            )
        )

    def close(self):
        if self.context is not None:
            self.context.close()
            return
        for event, listener in self.listeners.items():
            self.page.remove_listener(event, listener)


def page_url(site: str, name: str) -> str:
    return f"{site}/{name}.html"


def switch_theme(page, theme: str) -> None:
    """Switch to the "dark" or "light" theme with the page's own theme button (each click moves to its next mode)."""
    # The theme fades colours from one mode to the other; without the fade they are final at once.
    reached = page.evaluate(
        """theme => {
        const still = document.createElement('style');
        still.textContent = '*, *::before, *::after { transition: none !important; animation: none !important; }';
        document.head.append(still);
        const button = [...document.querySelectorAll('.theme-switch-button')].find(b => b.offsetParent !== null);
        for (let click = 0; click < 3 && document.documentElement.dataset.theme !== theme; click++) button.click();
        return document.documentElement.dataset.theme;
    }""",
        theme,
    )
    assert reached == theme, f"the theme button did not switch the page to the {theme} theme"


def flatten_code(page) -> None:
    """Turn highlighted code into plain text, once its colours have been checked (code_contrast_problems).

    A chapter's code is thousands of one-token spans that no axe-core rule but colour contrast looks into;
    without them an audit of the page takes a third less time.
    """
    page.evaluate(
        "() => { for (const block of document.querySelectorAll('.highlight pre')) block.textContent = block.textContent; }"
    )


# ---- the checks --------------------------------------------------------------------------------------


def image_problems(page) -> list[str]:
    """Images need alt text that says something; figures need a caption."""
    problems = []
    # page.evaluate, not Playwright's selector helpers: those inject a script into every page, a third of this check.
    for image in page.evaluate(
        "[...document.querySelectorAll('article img')].map(e => [e.getAttribute('alt'), e.getAttribute('src')])"
    ):
        alt, src = image
        name = Path(urlsplit(src or "").path).name
        if not alt or not alt.strip():
            problems.append(f"image {name} has no alt text")
        elif alt.strip() == name or re.fullmatch(r"\S+", alt.strip()) or re.search(r"\.(png|svg|jpe?g|gif)\b", alt):
            problems.append(f"image {name} has a file name for alt text: {alt!r}")
        elif len(alt.split()) < 5:
            problems.append(f"image {name} has alt text too short to describe a chart: {alt!r}")
    for figure in page.evaluate(
        "[...document.querySelectorAll('article figure')].map(e => [e.id, !!e.querySelector('figcaption')])"
    ):
        figure_id, has_caption = figure
        if not has_caption:
            problems.append(f"figure {figure_id or '(no id)'} has no caption")
    return problems


def _relative_luminance(rgb) -> float:
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(component) for component in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first, second) -> float:
    lighter, darker = sorted((_relative_luminance(first), _relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


FIGURE_PIXELS = """
async () => Promise.all([...document.querySelectorAll('article figure img')].map(async (img) => {
  await img.decode().catch(() => {});
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const pixel = (x, y) => Array.from(data.slice((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 4));
  const corners = [pixel(2, 2), pixel(canvas.width - 3, 2), pixel(2, canvas.height - 3), pixel(canvas.width - 3, canvas.height - 3)];
  let darkest = [255, 255, 255, 255], darkestSum = 765;
  for (let i = 0; i < data.length; i += 4 * 7) {
    const sum = data[i] + data[i + 1] + data[i + 2];
    if (data[i + 3] === 255 && sum < darkestSum) { darkestSum = sum; darkest = Array.from(data.slice(i, i + 4)); }
  }
  return {corners, darkest, src: img.getAttribute('src')};
}))
"""


def dark_mode_figure_problems(page) -> list[str]:
    """In the dark theme a figure must keep its own opaque background, with its ink legible on it."""
    problems = []
    assert page.evaluate("document.documentElement.dataset.theme") == "dark", (
        "the page did not switch to the dark theme"
    )
    for pixels in page.evaluate(FIGURE_PIXELS):
        name = Path(urlsplit(pixels["src"]).path).name
        transparent = [corner for corner in pixels["corners"] if corner[3] < 255]
        if transparent:
            problems.append(f"figure {name} is transparent: the dark page shows through it")
            continue
        background = pixels["corners"][0]
        ratio = contrast_ratio(background, pixels["darkest"])
        if ratio < MIN_FIGURE_CONTRAST:
            problems.append(f"figure {name}: ink-to-background contrast {ratio:.1f} below {MIN_FIGURE_CONTRAST}")
    return problems


COLOUR_HELPERS = """
  const rgba = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const background = (element) => {
    for (; element; element = element.parentElement) {
      const colour = rgba(getComputedStyle(element).backgroundColor);
      if (colour.length === 3 || colour[3] === 1) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const opacity = (element) => {
    let product = 1;
    for (; element; element = element.parentElement) product *= Number(getComputedStyle(element).opacity);
    return product;
  };
"""

CODE_COLOURS = (
    """
() => {"""
    + COLOUR_HELPERS
    + """
  const pairs = new Map(), styled = new Set();
  for (const block of document.querySelectorAll('article .highlight pre')) {
    const blockPaper = background(block).join();
    for (const element of [block, ...block.querySelectorAll('span')]) {
      if (!element.textContent.trim()) continue;
      // Pygments colours a token by its class: a token styled like one already seen on the same paper has its colours.
      const styling = [element.className, element.parentElement.className, element.getAttribute('style'), blockPaper].join('|');
      if (element !== block && styled.has(styling)) continue;
      styled.add(styling);
      const ink = rgba(getComputedStyle(element).color), paper = background(element);
      const key = ink.join() + '|' + paper.join();
      if (!pairs.has(key)) pairs.set(key, {ink, paper, token: element.className || 'pre', text: element.textContent.slice(0, 30)});
    }
  }
  return [...pairs.values()];
}
"""
)

# Marks one element for each distinct look of text (colour, background, size, weight, opacity, shadow) that is
# not among the looks already checked; returns how many looks the page has and the looks it marked.
TEXT_STYLE_SAMPLES = (
    """
(checked) => {"""
    + COLOUR_HELPERS
    + """
  document.querySelectorAll('[data-contrast-sample]').forEach(element => element.removeAttribute('data-contrast-sample'));
  const seen = new Set(), marked = [], known = new Set(checked);
  for (const element of document.body.querySelectorAll('*')) {
    if (element.closest('.highlight')) continue;
    if (![...element.childNodes].some(node => node.nodeType === Node.TEXT_NODE && node.textContent.trim())) continue;
    const style = getComputedStyle(element);
    const look = [style.color, background(element).join(), style.fontSize, style.fontWeight,
                  opacity(element), style.textShadow, style.visibility].join('|');
    if (!seen.has(look)) {
      seen.add(look);
      if (!known.has(look)) {
        marked.push(look);
        element.setAttribute('data-contrast-sample', '');
      }
    }
  }
  return {looks: seen.size, marked};
}
"""
)

# Marks one link of each distinct look among those axe-core's link-in-text-block rule applies to (links within
# text): the rule compares a link with the block of text around it, so the look is the pair. The properties are
# those the rule reads: colours, background, borders, outline, font and text decoration, and generated content.
LINK_STYLE_SAMPLES = (
    """
() => {"""
    + COLOUR_HELPERS
    + """
  const PROPERTIES = ['color', 'background-image', 'border-top', 'border-bottom', 'outline', 'font-family', 'font-size',
                      'font-weight', 'font-style', 'text-decoration', 'display'];
  const BLOCKS = ['block', 'list-item', 'table', 'flex', 'grid', 'inline-block'];
  const isBlock = (element) => {
    const display = getComputedStyle(element).display;
    return BLOCKS.includes(display) || display.startsWith('table-');
  };
  const look = (element) => {
    const style = getComputedStyle(element);
    return [...PROPERTIES.map(property => style.getPropertyValue(property)), background(element).join(), opacity(element),
            getComputedStyle(element, '::before').content, getComputedStyle(element, '::after').content].join('|');
  };
  const seen = new Set();
  axe.setup(document);  // the rule's own test of which links it applies to reads axe-core's tree of the page
  try {
    for (const link of document.querySelectorAll('a[href], [role=link]')) {
      link.removeAttribute('data-link-sample');
      // The links the rule applies to, as axe-core's link-in-text-block-matches tests them, with axe.commons.
      const role = axe.commons.aria.getRole(link);
      if ((role && role !== 'link') || !axe.commons.text.sanitize(link.innerText)) continue;
      if (!axe.commons.dom.isVisibleOnScreen(link) || !axe.commons.dom.isInTextBlock(link)) continue;
      let block = link.parentElement;
      while (block && !isBlock(block)) block = block.parentElement;
      const pair = look(link) + '||' + (block ? look(block) : '');
      if (!seen.has(pair)) {
        seen.add(pair);
        link.setAttribute('data-link-sample', '');
      }
    }
  } finally {
    axe.teardown();
  }
  return seen.size;
}
"""
)


def code_contrast_problems(page) -> list[str]:
    """Every colour of highlighted code against its background, computed once per distinct pair of colours.

    axe-core would check each of the thousands of token spans of a chapter's code separately, which is most
    of the time it takes; the pairs are few and their backgrounds are flat, so they are checked here instead.
    """
    problems = []
    for pair in page.evaluate(CODE_COLOURS):
        if len(pair["ink"]) == 4 and pair["ink"][3] < 1:
            problems.append(f"code token .{pair['token']} has translucent ink {pair['ink']}")
            continue
        ratio = contrast_ratio(pair["ink"], pair["paper"])
        if ratio < MIN_CODE_CONTRAST:
            problems.append(
                f"code token .{pair['token']} ({pair['text']!r}): contrast {ratio:.1f} below {MIN_CODE_CONTRAST}"
            )
    return problems


class CheckedLooks:
    """The looks of text whose contrast this test run has checked, per theme, shared by pytest-xdist's workers.

    The pages of the book share most of their looks (55 across 18 pages, against 561 page by page): a look
    that one page's check has judged is not checked again on the next, where it would get the same verdict.
    Each worker appends to a file of its own in ``folder``, a folder for this run alone.
    """

    def __init__(self, folder: Path, worker: str):
        self.folder, self.worker = folder, worker
        folder.mkdir(parents=True, exist_ok=True)

    def checked(self, theme: str) -> list[str]:
        return [
            look
            for path in self.folder.glob(f"{theme}-*.txt")
            for look in path.read_text(encoding="utf-8").splitlines()
        ]

    def record(self, theme: str, looks: list[str]) -> None:
        with (self.folder / f"{theme}-{self.worker}.txt").open("a", encoding="utf-8") as file:
            file.writelines(look + "\n" for look in looks)


def _axe(page, options: dict, looks: CheckedLooks | None) -> list[dict]:
    """Run axe-core on the page (loaded into it once) and return its violations."""
    from axe_playwright_python.sync_playwright import Axe

    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(Axe().axe_script)
        # Colour contrast and links within text are checked on the elements TEXT_STYLE_SAMPLES and
        # LINK_STYLE_SAMPLES mark (see contrast_violations).
        page.evaluate(
            "axe.configure({rules: [{id: 'color-contrast', selector: '[data-contrast-sample]'},"
            " {id: 'link-in-text-block', selector: '[data-link-sample]'}]})"
        )
    theme = page.evaluate("document.documentElement.dataset.theme")
    samples = page.evaluate(TEXT_STYLE_SAMPLES, looks.checked(theme) if looks else [])
    assert samples["looks"] > 0, "no text found to check for contrast"
    contrast_only = options.get("runOnly") == ["color-contrast"]
    if contrast_only and not samples["marked"]:
        return []  # every look of text on the page was checked already
    if not contrast_only:
        page.evaluate(LINK_STYLE_SAMPLES)
    violations = page.evaluate(
        "options => axe.run(document, options).then(results => results.violations)",
        {"resultTypes": ["violations"], **options},
    )
    if looks:
        looks.record(theme, samples["marked"])
    return violations


def contrast_violations(page, looks: CheckedLooks | None = None) -> list[dict]:
    """axe-core's colour-contrast rule on one element of each distinct look of text on the page.

    Elements that look alike get the same verdict, and a chapter has thousands of them (table cells, list items):
    checking one of each is what makes checking every page in both themes affordable. With ``looks``, the looks
    already checked on other pages are left out. Highlighted code is left to ``code_contrast_problems``.
    """
    return _axe(page, {"runOnly": ["color-contrast"]}, looks)


def accessibility_violations(page, looks: CheckedLooks | None = None) -> list[dict]:
    """Every axe-core rule on the whole page; colour contrast as in ``contrast_violations``, and links within text
    on one link of each look (the bibliography has hundreds, alike), as in ``link_violations``."""
    return _axe(page, {}, looks)


def link_violations(page) -> list[dict]:
    """axe-core's rule that links within text stand out from it, on one link of each look."""
    return _axe(page, {"runOnly": ["link-in-text-block"]}, None)


class _LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in {"link", "script", "img"}:
            target = attributes.get("href") or attributes.get("src")
            if target:
                self.links.append(target)


def _parse(path: Path) -> _LinkCollector:
    collector = _LinkCollector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector


def link_problems(html_root: Path) -> tuple[list[str], list[str]]:
    """Every internal link and anchor must resolve; external links are collected, not fetched."""
    problems, external = [], []
    parsed: dict[Path, _LinkCollector] = {}
    pages = [path for path in sorted(html_root.rglob("*.html")) if "_static" not in path.parts]
    for page in pages:
        for href in _parse(page).links:
            parts = urlsplit(href)
            if parts.scheme in {"http", "https"}:
                external.append(f"{page.relative_to(html_root)}\t{href}")
                continue
            if parts.scheme or href.startswith("//"):
                continue  # mailto:, javascript:, data:
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(html_root)}: broken link {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in parsed:
                    parsed[target] = _parse(target)
                if unquote(parts.fragment) not in parsed[target].ids:
                    problems.append(
                        f"{page.relative_to(html_root)}: no anchor #{parts.fragment} in {target.relative_to(html_root)}"
                    )
    return problems, sorted(set(external))


# ---- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def site(built_book):
    server, url = serve(built_book)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def student_site(student_edition):
    server, url = serve(student_edition / "html")
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (
            "Chromium not found: install it with `apt-get install -y chromium-headless-shell` (or `chromium`) "
            "on Debian to run the browser tests"
        )
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run them, not skip them")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def checked_looks(tmp_path_factory, worker_id) -> CheckedLooks:
    """The looks of text checked for contrast so far in this run, by any worker (see CheckedLooks)."""
    # Under pytest-xdist the parent of a worker's temporary folder belongs to this run and to all its workers.
    run_folder = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    return CheckedLooks(run_folder / "checked-looks", worker_id)


@pytest.fixture(scope="session")
def tab(browser):
    """One tab that the page tests navigate from page to page (see open_tab)."""
    page = open_tab(browser)
    yield page
    page.context.close()
