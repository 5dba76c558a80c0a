"""The printed book: a PDF of each edition, from the same sources as the web pages (`python3 book.py pdf`).

Sphinx's single-page HTML of the edition (the builder ``singlehtml``, reusing the HTML build's doctrees and
execution cache) is printed by the headless Chromium the browser tests use, through Playwright's ``page.pdf``.
Nothing is fetched at print time: every request outside the build is refused and reported. The print style is
_ext/static/print.css (media="print", so a reader who prints a web page gets it too); PRINT_SCRIPT below turns the
one long page into a book: title page, contents, part headings, the bibliography last.

It is also a Sphinx extension (``local_extensions`` in _config.yml): what the build needs for the printed book.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import book


def pdf_path(edition: str) -> Path:
    return book.ROOT / "_build" / f"china-russia-after-2022-{edition}.pdf"


def output_folder(edition: str) -> Path:
    """Where the edition's Sphinx builds write (its _build/ holds the doctrees the single page reuses)."""
    return book.ROOT if edition == "instructor" else book.STUDENT


def single_page(edition: str) -> Path:
    """The edition's single-page HTML, copied to the top of its folder (see single_page_build)."""
    return output_folder(edition) / "_build" / "singlehtml" / "book.html"


# ---- in the Sphinx build -------------------------------------------------------------------------------


def setup(app) -> None:
    """A Sphinx extension (_config.yml): the print style, folded code in the single page, no MathJax on a page
    without math."""
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

    app.add_css_file("print.css", media="print")
    # myst-nb draws folded code cells for builders of the html format; sphinx-exercise registers nodes for
    # singlehtml by name, after which Sphinx no longer falls back to the html visitors: name myst-nb's as well
    # (myst_nb.sphinx_ is where myst-nb's own extension imports them from; not documented, but not private).
    app.add_node(HideCodeCellNode, override=True, singlehtml=(visit_HideCellInput, depart_HideCellInput))
    app.connect("html-page-context", no_mathjax_without_math)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def no_mathjax_without_math(app, pagename, templatename, context, doctree) -> None:
    """Jupyter Book asks for MathJax (from a CDN) on the single page whether or not it has equations (Sphinx's
    "always" assets policy); a page without equations, and the book has none, loads none. For the single page,
    Sphinx's math domain looks through the documents it includes."""
    if not app.env.get_domain("math").has_equations(pagename) and context.get("script_files"):
        context["script_files"] = [js for js in context["script_files"] if "mathjax" not in str(js).lower()]


# ---- building and printing -----------------------------------------------------------------------------


def single_page_build(edition: str) -> subprocess.Popen:
    """Start the stock singlehtml build of the edition, strict as the HTML build, on its doctrees (no --all)."""
    command = [part for part in book.jupyter_book_command(book.ROOT, output_folder(edition)) if part != "--all"]
    command[2:2] = ["--builder", "singlehtml"]
    environment = {**os.environ, book.EDITION_VARIABLE: edition}
    return subprocess.Popen(command, cwd=book.ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def book_facts(edition: str) -> dict:
    """What the title page and the part headings say, from _config.yml, _toc.yml and the data's horizon."""
    import yaml

    sys.path.insert(0, str(book.ROOT / "chapters"))
    import bookdata

    config = yaml.safe_load((book.ROOT / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((book.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return {
        "title": config["title"],
        "edition": f"{edition.capitalize()} edition",
        "record": f"The record runs to {bookdata.RECORD_THROUGH_TEXT}.",
        "licence": re.sub(r"<[^>]+>", "", config["html"]["extra_footer"]).strip(),  # the web pages' footer
        "parts": [part["caption"] for part in toc["parts"]],
    }


PRINT_SCRIPT = """(facts) => {
  // One long page becomes a book: the article alone, a title page, contents, part headings, the bibliography last.
  const article = document.querySelector('.bd-article');
  const parts = [...article.querySelectorAll(':scope > section > .toctree-wrapper, :scope > .toctree-wrapper')];
  const bibliography = document.getElementById('bibliography');
  if (bibliography && parts.length) parts[parts.length - 1].append(bibliography);
  const contents = ['<h1 class="print-contents-title">Contents</h1><ol class="print-contents">'];
  parts.forEach((part, index) => {
    // The parts of _toc.yml, in order: the single page keeps their chapters but not their captions.
    const heading = document.createElement('h1');
    heading.className = 'print-part';
    heading.id = 'print-part-' + (index + 1);
    heading.textContent = facts.parts[index] || '';
    part.prepend(heading);
    contents.push(`<li class="print-contents-part"><a href="#${heading.id}">${heading.textContent}</a><ol>`);
    for (const [number, chapter] of [...part.querySelectorAll(':scope > section')].entries()) {
      chapter.classList.add('print-chapter', ...(number ? [] : ['print-first-chapter']));
      const title = chapter.querySelector('h1, h2');
      contents.push(`<li><a href="#${chapter.id}">${title.textContent.replace(/#$/, '').trim()}</a></li>`);
    }
    contents.push('</ol></li>');
  });
  contents.push('</ol>');
  const front = document.createElement('div');
  front.innerHTML = `<div id="print-title-page"><p class="print-title">${facts.title}</p>
    <p class="print-edition">${facts.edition}</p><p class="print-record">${facts.record}</p>
    <p class="print-licence">${facts.licence}</p></div><nav class="print-toc">${contents.join('')}</nav>`;
  article.prepend(front);
  const main = document.createElement('main');
  main.className = 'print-book';
  main.append(article);
  document.body.replaceChildren(main);  // the theme's header, sidebars and footers are for screens
  // Links within the book point at the root document (chapters/index.html): here they lead within the page.
  // A link to another local file (a dataset to download) leads nowhere from a PDF: its text stays, unlinked.
  for (const link of document.querySelectorAll('a[href]')) {
    const url = new URL(link.href);
    if (url.protocol !== 'file:') continue;
    if (url.pathname.endsWith('/chapters/index.html') && url.hash) link.setAttribute('href', url.hash);
    else if (!link.getAttribute('href').startsWith('#')) link.removeAttribute('href');
  }
  // Folded code stays folded (print.css hides its toggle); solutions, code and prose, print open.
  for (const details of document.querySelectorAll('details:not(.hide), .tag_solution details')) details.open = true;
  for (const folded of document.querySelectorAll('.toggle-hidden')) folded.classList.remove('toggle-hidden');
  return parts.length;
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


def print_to_pdf(html: Path, pdf: Path, facts: dict) -> list[str]:
    """Print the single page ``html`` to ``pdf`` with the tests' Chromium; return what went wrong: the outside
    addresses it asked for (refused, never fetched), and what runs past the right margin."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(book.ROOT / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS

    outside = []

    def local_only(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", local_only)
        page.goto(html.as_uri(), wait_until="load")
        if not page.evaluate(PRINT_SCRIPT, facts):
            raise RuntimeError(f"{html}: no part of the table of contents found to print")
        page.emulate_media(media="print")
        page.set_viewport_size(A4_TEXT_WIDTH)
        problems = [f"asked for {url} (refused)" for url in outside] + page.evaluate(OVERFLOWING)
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
        browser.close()
    return problems


def missing_tools() -> list[str]:
    """What the printing needs beyond Python's packages: Chromium, and a font with Chinese characters."""
    sys.path.insert(0, str(book.ROOT / "tests"))
    from browser import CHROMIUM

    missing = [] if Path(CHROMIUM).exists() else ["Chromium (Debian: apt-get install chromium-headless-shell)"]
    if shutil.which("fc-list") and not subprocess.run(["fc-list", ":lang=zh"], capture_output=True).stdout.strip():
        missing.append("a CJK font (Debian: apt-get install fonts-wqy-microhei)")  # (fontconfig's systems)
    return missing


def build_pdf(edition: str) -> int:
    """The edition's PDF (or both): the HTML build, the single page, printed. Skipped when no source changed."""
    editions = ["instructor", "student"] if edition == "both" else [edition]
    missing = missing_tools()
    if missing:
        print("book.py pdf needs", " and ".join(missing), file=sys.stderr)
        return 1
    code = book.build(edition)
    if code:
        return code
    wanted = book.sources_fingerprint()  # this file and the print style among them
    stamps = {name: pdf_path(name).with_suffix(".sources.sha256") for name in editions}
    stale = [name for name in editions if not (stamps[name].exists() and stamps[name].read_text() == wanted)]
    builds = {name: single_page_build(name) for name in stale}  # side by side
    for name, process in builds.items():
        log = process.communicate()[0].decode("utf-8", errors="replace")
        if process.returncode:
            print(log, f"\nThe {name} edition's single page failed to build.", file=sys.stderr)
            return process.returncode
        stamps[name].unlink(missing_ok=True)
        # The root document is chapters/index, but the single page links as if it lay at the top: copy it there.
        shutil.copy2(single_page(name).parent / "chapters" / "index.html", single_page(name))
        problems = print_to_pdf(single_page(name), pdf_path(name), book_facts(name))
        if problems:
            print(f"The {name} edition's PDF is not right:", *problems, sep="\n  ", file=sys.stderr)
            return 1
        stamps[name].write_text(wanted)
    for name in editions:
        print(f"The {name} edition's PDF: {pdf_path(name)}")
    return 0
