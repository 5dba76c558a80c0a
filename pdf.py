"""The printed book: a PDF of each edition, from the same sources as the web pages (`python3 book.py pdf`).

The edition's built HTML pages, in the order of _toc.yml, are joined into one page in the headless Chromium the
browser tests use, which prints it through Playwright's ``page.pdf``. Nothing is fetched at print time: every request
outside the build is refused and reported. The print style is _ext/static/print.css (media="print", so a reader who
prints a web page gets it too); JOIN_SCRIPT below makes the book: title page, contents, part headings, each page's
article under its part, the bibliography last.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import book


def pdf_path(edition: str) -> Path:
    return book.ROOT / "_build" / f"china-russia-after-2022-{edition}.pdf"


def single_page(edition: str) -> Path:
    """The joined page as it was printed, kept for the tests (its <base> points at the edition's HTML)."""
    return pdf_path(edition).with_suffix(".html")


def book_facts(edition: str) -> dict:
    """What the printed book holds: the title page's lines (from _config.yml and the data's horizon), and each part
    of _toc.yml with the names of its pages that the edition has (the bibliography moved to the end)."""
    import yaml

    sys.path.insert(0, str(book.ROOT / "chapters"))
    import bookdata

    config = yaml.safe_load((book.ROOT / "_config.yml").read_text(encoding="utf-8"))
    root, toc_parts = book.toc_parts()
    built = {path.stem for path in (book.HTML[edition] / "chapters").glob("*.html")}
    parts = [
        {"caption": caption, "pages": [Path(file).name for file in files if Path(file).name in built]}
        for caption, files in toc_parts
    ]
    for part in parts:
        if "bibliography" in part["pages"]:
            part["pages"].remove("bibliography")
            parts[-1]["pages"].append("bibliography")
    return {
        "title": config["title"],
        "edition": f"{edition.capitalize()} edition",
        "record": f"The record runs to {bookdata.RECORD_THROUGH_TEXT}.",
        "licence": re.sub(r"<[^>]+>", "", config["html"]["extra_footer"]).strip(),  # the web pages' footer
        "root": Path(root).name,
        "parts": parts,
    }


def articles(edition: str, names: list[str]) -> dict[str, str]:
    """Each page's article (the page without the theme's header, sidebars and scripts), by page name."""
    found = {}
    for name in names:
        html = (book.HTML[edition] / "chapters" / f"{name}.html").read_text(encoding="utf-8")
        start, end = html.find('<article class="bd-article">'), html.find("</article>")
        if start < 0 or end < start:
            raise RuntimeError(f'{book.HTML[edition] / "chapters" / name}.html: no <article class="bd-article">')
        found[name] = html[start : end + len("</article>")]
    return found


JOIN_SCRIPT = r"""async (book) => {
  // Each page's ids get its name in front ("learning-objectives" is on every chapter), so a link to another page
  // (other.html#id) or within one (#id) becomes a link within the book; a link to a local file (a dataset, a
  // full-size chart) leads nowhere from a PDF: its text stays, unlinked.
  const pages = new Set(book.parts.flatMap((part) => part.pages).concat([book.root]));
  const joined = (page, id) => (id ? `${page}--${id}` : page);
  const article = (page) => {
    const found = new DOMParser().parseFromString(book.articles[page], 'text/html').querySelector('article');
    found.querySelectorAll('script').forEach((script) => script.remove());
    for (const node of found.querySelectorAll('[id]')) node.id = joined(page, node.id);
    for (const link of found.querySelectorAll('a[href]')) {
      const href = link.getAttribute('href');
      const other = href.match(/^([\w-]+)\.html(?:#(.*))?$/);
      if (href.startsWith('#')) link.setAttribute('href', '#' + joined(page, decodeURIComponent(href.slice(1))));
      else if (other && pages.has(other[1]))
        link.setAttribute('href', '#' + joined(other[1], other[2] && decodeURIComponent(other[2])));
      else if (!/^[a-z]+:/.test(href)) link.removeAttribute('href');
    }
    return found;
  };
  // The root page opens the book; every other page goes one heading level down, under its part's heading.
  const main = document.createElement('main');
  main.className = 'print-book';
  const root = article(book.root);
  root.id = book.root;  // where a link to the landing page leads
  main.append(root);
  const contents = ['<h1 class="print-contents-title">Contents</h1><ol class="print-contents">'];
  book.parts.forEach((part, index) => {
    const heading = document.createElement('h1');
    heading.className = 'print-part';
    heading.id = 'print-part-' + (index + 1);
    heading.textContent = part.caption;
    root.append(heading);
    contents.push(`<li class="print-contents-part"><a href="#${heading.id}">${part.caption}</a><ol>`);
    part.pages.forEach((page, number) => {
      const chapter = document.createElement('section');
      chapter.id = page;
      chapter.className = number ? 'print-chapter' : 'print-chapter print-first-chapter';
      const content = article(page);
      for (const heading of [...content.querySelectorAll('h1, h2, h3, h4, h5')]) {
        const lower = document.createElement('h' + (Number(heading.tagName[1]) + 1));
        for (const { name, value } of heading.attributes) lower.setAttribute(name, value);
        lower.append(...heading.childNodes);
        heading.replaceWith(lower);
      }
      chapter.append(...content.childNodes);
      root.append(chapter);
      const title = chapter.querySelector('h2').textContent.replace(/#$/, '').trim();
      contents.push(`<li><a href="#${page}">${title}</a></li>`);
    });
    contents.push('</ol></li>');
  });
  contents.push('</ol>');
  const front = document.createElement('div');
  front.innerHTML = `<div id="print-title-page"><p class="print-title">${book.title}</p>
    <p class="print-edition">${book.edition}</p><p class="print-record">${book.record}</p>
    <p class="print-licence">${book.licence}</p></div><nav class="print-toc">${contents.join('')}</nav>`;
  root.prepend(front);
  document.body.replaceChildren(main);  // the theme's header, sidebars and footers are for screens
  // Folded code stays folded (print.css hides its toggle); solutions, code and prose, print open.
  for (const details of document.querySelectorAll('details:not(.hide), .tag_solution details')) details.open = true;
  for (const folded of document.querySelectorAll('.toggle-hidden')) folded.classList.remove('toggle-hidden');
  await Promise.all([...document.images].map((image) => image.decode().catch(() => {})));
}"""

OVERFLOWING = """() => {
  // At the width of the printed page: a table too wide gets smaller type, then breaks its words anywhere;
  // then what still runs past the right margin, boxes or text beyond its box.
  const edge = document.querySelector('main.print-book').getBoundingClientRect().right + 1;
  for (const table of document.querySelectorAll('main.print-book table'))
    for (const squeeze of ['print-small', 'print-anywhere'])
      if (table.getBoundingClientRect().right > edge) table.classList.add(squeeze);
  const past = (node) => node.getClientRects().length && (node.getBoundingClientRect().right > edge
    || (node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).overflowX !== 'visible')
    || (node.tagName === 'PRE' && node.scrollWidth > node.clientWidth + 1));
  const clipped = (node) => node && (getComputedStyle(node).clip !== 'auto' || clipped(node.parentElement));
  const boxes = 'pre, table, img, svg, figure, p, li, dt, dd, h1, h2, h3, h4, .highlight, .cell_output, .admonition';
  return [...document.querySelector('main.print-book').querySelectorAll(boxes)]
    .filter((node) => past(node) && !clipped(node))
    .slice(0, 20).map((node) => `${node.tagName}.${node.className}: ${node.textContent.trim().slice(0, 80)}`);
}"""
A4_TEXT_WIDTH = {"width": round((210 - 2 * 16) / 25.4 * 96), "height": 1000}  # CSS pixels between the margins

FOOTER = (
    '<div style="font: 9px sans-serif; width: 100%; text-align: center; color: #333;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


@contextmanager
def browser_page():
    """A page in the tests' Chromium that loads local files only, and the list of what else it asked for."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(book.ROOT / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS

    refused = []

    def local_only(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", local_only)
        yield page, refused
        browser.close()


def print_page(page, refused: list[str], pdf: Path) -> list[str]:
    """Print the open page to ``pdf``; return what went wrong: the outside addresses it asked for (refused, never
    fetched), and what runs past the right margin."""
    page.emulate_media(media="print")
    page.set_viewport_size(A4_TEXT_WIDTH)
    problems = [f"asked for {url} (refused)" for url in refused] + page.evaluate(OVERFLOWING)
    page.pdf(
        path=str(pdf),
        format="A4",
        print_background=True,
        outline=True,
        tagged=True,
        display_header_footer=True,
        header_template="<span></span>",
        footer_template=FOOTER,
        margin={"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
    )
    return problems


def print_file(html: Path, pdf: Path) -> list[str]:
    """Print a page already made into a book (as the tests do with a planted defect)."""
    with browser_page() as (page, refused):
        page.goto(html.as_uri(), wait_until="load")
        return print_page(page, refused, pdf)


def print_edition(edition: str) -> list[str]:
    """Join the edition's pages into one, keep a copy of it (single_page) and print it to its PDF."""
    facts = book_facts(edition)
    names = [facts["root"], *[name for part in facts["parts"] for name in part["pages"]]]
    shell = book.HTML[edition] / "chapters" / f"{facts['root']}.html"  # its head: the theme's styles and fonts
    with browser_page() as (page, refused):
        page.goto(shell.as_uri(), wait_until="load")
        page.evaluate(JOIN_SCRIPT, {**facts, "articles": articles(edition, names)})
        base = f'<base href="{shell.parent.as_uri()}/">'  # so that the copy finds the styles and images
        single_page(edition).write_text(page.content().replace("<head>", "<head>" + base, 1), encoding="utf-8")
        return print_page(page, refused, pdf_path(edition))


def missing_tools() -> list[str]:
    """What the printing needs beyond Python's packages: Chromium, and a font with Chinese characters."""
    sys.path.insert(0, str(book.ROOT / "tests"))
    from browser import CHROMIUM

    missing = [] if Path(CHROMIUM).exists() else ["Chromium (Debian: apt-get install chromium-headless-shell)"]
    if shutil.which("fc-list") and not subprocess.run(["fc-list", ":lang=zh"], capture_output=True).stdout.strip():
        missing.append("a CJK font (Debian: apt-get install fonts-wqy-microhei)")  # (fontconfig's systems)
    return missing


def build_pdf(edition: str) -> int:
    """The edition's PDF (or both): the HTML build, its pages joined and printed. Skipped when no source changed."""
    editions = ["instructor", "student"] if edition == "both" else [edition]
    missing = missing_tools()
    if missing:
        print("book.py pdf needs", " and ".join(missing), file=sys.stderr)
        return 1
    code = book.build(edition)
    if code:
        return code
    wanted = book.sources_fingerprint() + book.fingerprint([Path(__file__)], book.ROOT)  # the print style, this file
    stamps = {name: pdf_path(name).with_suffix(".sources.sha256") for name in editions}
    stale = [name for name in editions if not (stamps[name].exists() and stamps[name].read_text() == wanted)]
    for name in stale:
        stamps[name].unlink(missing_ok=True)
        problems = print_edition(name)
        if problems:
            print(f"The {name} edition's PDF is not right:", *problems, sep="\n  ", file=sys.stderr)
            return 1
        stamps[name].write_text(wanted)
    for name in editions:
        print(f"The {name} edition's PDF: {pdf_path(name)}")
    return 0
