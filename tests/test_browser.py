"""The built book as a reader meets it: headless Chromium, driven by Playwright.

Each check is a function that returns a list of problems for one page, so that
the same check runs on the real book and, to prove it can fail, on a copy of
the built HTML with a defect planted in it.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT, toc_files

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
PAGE_BUDGET_BYTES = 2_000_000  # everything one page loads: about 1 MB of theme, the rest HTML and figures
MIN_FIGURE_CONTRAST = 7.0  # WCAG AAA for text: figure ink on the figure's own background


# ---- serving and driving the book ------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(folder: Path):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def site(built_book):
    server, url = serve(built_book)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Chromium not found: install it with `apt-get install -y chromium` (Debian) to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run them, not skip them")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class LoadedPage:
    """One page opened in the browser, with what went wrong while it loaded and what it weighed."""

    def __init__(self, browser, url: str, dark: bool = False):
        self.context = browser.new_context(color_scheme="dark" if dark else "light", viewport={"width": 1280, "height": 900})
        if dark:
            # The theme reads the reader's stored choice before it paints.
            self.context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.problems.append(f"console error: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"failed request: {request.url}"))
        self.page.on("response", lambda response: response.status >= 400 and self.problems.append(f"HTTP {response.status}: {response.url}"))
        self.page.goto(url, wait_until="networkidle")

    @property
    def bytes(self) -> int:
        """Bytes of the page and everything it loaded, as the browser's resource timing records them."""
        return int(self.page.evaluate(
            "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".reduce((total, entry) => total + (entry.decodedBodySize || 0), 0)"
        ))

    def close(self):
        self.context.close()


def page_url(site: str, name: str) -> str:
    return f"{site}/{name}.html"


# ---- the checks --------------------------------------------------------------------------------------


def image_problems(page) -> list[str]:
    """Images need alt text that says something; figures need a caption."""
    problems = []
    for image in page.eval_on_selector_all("article img", "els => els.map(e => [e.getAttribute('alt'), e.getAttribute('src')])"):
        alt, src = image
        name = Path(urlsplit(src or "").path).name
        if not alt or not alt.strip():
            problems.append(f"image {name} has no alt text")
        elif alt.strip() == name or re.fullmatch(r"\S+", alt.strip()) or re.search(r"\.(png|svg|jpe?g|gif)\b", alt):
            problems.append(f"image {name} has a file name for alt text: {alt!r}")
        elif len(alt.split()) < 5:
            problems.append(f"image {name} has alt text too short to describe a chart: {alt!r}")
    for figure in page.eval_on_selector_all("article figure", "els => els.map(e => [e.id, !!e.querySelector('figcaption')])"):
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
async (img) => {
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
}
"""


def dark_mode_figure_problems(page) -> list[str]:
    """In the dark theme a figure must keep its own opaque background, with its ink legible on it."""
    problems = []
    assert page.evaluate("document.documentElement.dataset.theme") == "dark", "the page did not switch to the dark theme"
    for handle in page.query_selector_all("article figure img"):
        pixels = handle.evaluate(FIGURE_PIXELS)
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


def axe_violations(page, rules: list[str] | None = None) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"], **({"runOnly": rules} if rules else {})}
    return Axe().run(page, options=options).response["violations"]


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
                    problems.append(f"{page.relative_to(html_root)}: no anchor #{parts.fragment} in {target.relative_to(html_root)}")
    return problems, sorted(set(external))


# ---- the book, page by page ---------------------------------------------------------------------------

PAGES = toc_files()


@pytest.fixture(scope="module")
def axe_report():
    report: dict[str, list] = {}
    yield report
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, indent=2))


@pytest.fixture(scope="module")
def page_weights():
    weights: dict[str, int] = {}
    yield weights
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [f"{name}\t{size}" for name, size in sorted(weights.items())]
    (ARTIFACTS / "page-weights.tsv").write_text("page\tbytes\n" + "\n".join(lines) + "\n")


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_with_described_images_and_no_serious_accessibility_violations(browser, site, name, axe_report, page_weights):
    loaded = LoadedPage(browser, page_url(site, name))
    try:
        page_weights[name] = weight = loaded.bytes
        problems = loaded.problems + image_problems(loaded.page)
        violations = axe_violations(loaded.page)
    finally:
        loaded.close()
    axe_report[name] = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]} for v in violations]
    serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes)" for v in violations if v["impact"] in {"serious", "critical"}]
    assert not problems, f"{name}: " + "; ".join(problems)
    assert not serious, f"{name}: serious accessibility violations: {serious}"
    assert weight <= PAGE_BUDGET_BYTES, f"{name}: {weight:,} bytes, over the {PAGE_BUDGET_BYTES:,}-byte budget"


@pytest.mark.parametrize("name", PAGES)
def test_dark_theme_keeps_figures_legible_and_text_contrast_passing(browser, site, name):
    loaded = LoadedPage(browser, page_url(site, name), dark=True)
    try:
        problems = dark_mode_figure_problems(loaded.page)
        contrast = [v for v in axe_violations(loaded.page, ["color-contrast"]) if v["impact"] in {"serious", "critical"}]
    finally:
        loaded.close()
    assert not problems, f"{name} (dark): " + "; ".join(problems)
    assert not contrast, f"{name} (dark): text contrast violations on {sum(len(v['nodes']) for v in contrast)} elements"


def test_every_internal_link_and_anchor_resolves(built_book):
    problems, external = link_problems(built_book)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "external-links.tsv").write_text("page\turl\n" + "\n".join(external) + "\n")
    assert not problems, "\n".join(problems[:30])


def test_search_finds_the_chapter_that_discusses_a_key_term(browser, site):
    loaded = LoadedPage(browser, page_url(site, "chapters/index"))
    try:
        # As a reader does: open the search box with its shortcut, type, press Enter.
        loaded.page.keyboard.press("Control+k")
        loaded.page.locator("input[name='q']:visible").first.fill("Siberia")
        loaded.page.keyboard.press("Enter")
        loaded.page.wait_for_url("**/search.html?q=Siberia*")
        loaded.page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
        results = loaded.page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
    finally:
        loaded.close()
    assert any("01_background" in href for href in results), f"search for 'Siberia' did not return chapter 1: {results}"


def test_screenshots_of_landing_page_and_a_chapter_in_both_themes(browser, site):
    ARTIFACTS.mkdir(exist_ok=True)
    for name in ["chapters/index", "chapters/01_background"]:
        for dark in (False, True):
            loaded = LoadedPage(browser, page_url(site, name), dark=dark)
            path = ARTIFACTS / f"{name.split('/')[-1]}-{'dark' if dark else 'light'}.png"
            loaded.page.screenshot(path=str(path), full_page=False)
            loaded.close()
            assert path.stat().st_size > 10_000, f"{path.name} looks empty"


# ---- the checks fail on planted defects -----------------------------------------------------------------


@pytest.fixture()
def defective_copy(built_book, tmp_path):
    copy = tmp_path / "html"
    shutil.copytree(built_book, copy)
    return copy


def _plant(page: Path, old: str, new: str) -> None:
    html = page.read_text(encoding="utf-8")
    assert old in html, f"cannot plant the defect: {old!r} not in {page.name}"
    page.write_text(html.replace(old, new, 1), encoding="utf-8")


def test_checks_catch_an_image_without_alt_a_broken_anchor_and_a_throwing_page(browser, defective_copy):
    chapter = defective_copy / "chapters" / "01_background.html"
    html = chapter.read_text(encoding="utf-8")
    first_alt = re.search(r'(?<=<figure)[^>]*>\s*<img alt="[^"]*"', html)
    assert first_alt, "chapter 1 has no figure to plant a defect in"
    _plant(chapter, first_alt.group(0), re.sub(r'alt="[^"]*"', 'alt=""', first_alt.group(0)))
    _plant(chapter, "</article>", '<a href="02_meeting.html#no-such-anchor">x</a></article>')
    _plant(chapter, "</body>", "<script>throw new Error('planted page error')</script></body>")

    server, url = serve(defective_copy)
    try:
        loaded = LoadedPage(browser, f"{url}/chapters/01_background.html")
        problems = loaded.problems + image_problems(loaded.page)
        loaded.close()
    finally:
        server.shutdown()
    links, _ = link_problems(defective_copy)

    assert any("has no alt text" in problem for problem in problems), problems
    assert any("planted page error" in problem for problem in problems), problems
    assert any("#no-such-anchor" in problem for problem in links), links


def test_dark_check_catches_a_transparent_figure(browser, defective_copy):
    import numpy as np
    from PIL import Image

    chapter = defective_copy / "chapters" / "01_background.html"
    source = re.search(r'<figure[^>]*>\s*<img alt="[^"]*" src="([^"]+)"', chapter.read_text(encoding="utf-8"))
    assert source, "chapter 1 has no figure"
    image_path = (chapter.parent / source.group(1)).resolve()
    pixels = np.array(Image.open(image_path).convert("RGBA"))
    # Make the white background transparent, as a figure saved with transparent=True would be.
    pixels[(pixels[..., :3] > 240).all(axis=-1), 3] = 0
    Image.fromarray(pixels).save(image_path)

    server, url = serve(defective_copy)
    try:
        loaded = LoadedPage(browser, f"{url}/chapters/01_background.html", dark=True)
        problems = dark_mode_figure_problems(loaded.page)
        loaded.close()
    finally:
        server.shutdown()
    assert any("transparent" in problem for problem in problems), problems
