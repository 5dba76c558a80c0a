"""Browser checks of the built book: headless Chromium, driven by Playwright.

Each check is a function that returns a list of problems for one page, so that
the same check runs on the real book (test_browser_pages.py) and, to prove it
can fail, on a copy of the built HTML with a defect planted in it
(test_browser_checks.py). Its fixtures, `site` and `browser`, are in conftest.py.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
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


