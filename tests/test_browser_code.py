"""The code a reader sees on the chapter pages is the analysis, not the machinery, and it fits its box: no visible
code line calls `glue(` (glue cells are removed from the page and still run), and no visible code line is wider than
the box it sits in (code wraps instead of hiding past the right edge)."""

from __future__ import annotations

import pytest

from browser import page_url

pytestmark = pytest.mark.browser  # drives headless Chromium: deselect with -m "not browser"

LAPTOP = {"width": 1366, "height": 768}

PAGES = [
    "chapters/01_background",
    "chapters/02_meeting",
    "chapters/03_peace_proposal",
    "chapters/04_dedollarization",
    "chapters/05_us_implications",
    "chapters/case_reading",
    "chapters/assignment_1_verify_claim",
    "chapters/assignment_2_energy_flows",
    "chapters/assignment_3_policy_memo",
]

# Every code line a reader sees: in a code cell's input, not folded away in a closed `details` (hide-input), as
# {text, overflows}: whether the line's rendered text reaches past the right edge of its `pre`'s content box, or the
# `pre` scrolls sideways (scrollWidth > clientWidth) without any one line found to blame (then its first line).
VISIBLE_CODE_LINES = """() => {
  const lines = [];
  for (const pre of document.querySelectorAll('.cell_input pre')) {
    if (!pre.checkVisibility()) continue;  // inside a closed details, or otherwise hidden
    pre.scrollLeft = 0;
    const box = pre.getBoundingClientRect(), style = getComputedStyle(pre);
    const right = box.left + pre.clientLeft + pre.clientWidth - parseFloat(style.paddingRight) + 1;
    // Whether the characters start..stop of a text node (no spaces: a space where a line wraps hangs past the edge,
    // unseen) reach past the right edge of the box.
    const reaches = (node, start, stop) => {
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, stop);
      return [...range.getClientRects()].some(rect => rect.width > 0 && rect.right > right);
    };
    const found = [];
    let text = '', wide = false;
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const value = node.nodeValue;
      let run = -1;  // where the current run of non-space characters began in this node
      for (let i = 0; i <= value.length; i++) {
        const blank = i === value.length || /\\s/.test(value[i]);
        if (blank && run >= 0) { wide = wide || reaches(node, run, i); run = -1; }
        if (i === value.length) break;
        if (!blank && run < 0) run = i;
        if (value[i] === '\\n') {
          if (text.trim()) found.push({text, overflows: wide});
          text = ''; wide = false;
        } else text += value[i];
      }
    }
    if (text.trim()) found.push({text, overflows: wide});
    if (pre.scrollWidth > pre.clientWidth && found.length && !found.some(line => line.overflows)) {
      found[0].overflows = true;
    }
    lines.push(...found);
  }
  return lines;
}"""


def test_visible_code_shows_no_glue_and_fits_its_box(browser, student_site):
    context = browser.new_context(color_scheme="light", viewport=LAPTOP)
    glued, wide = [], []
    try:
        page = context.new_page()
        for name in PAGES:
            page.goto(page_url(student_site, name), wait_until="load")
            for line in page.evaluate(VISIBLE_CODE_LINES):
                shown = f"{name}: {line['text'].strip()[:90]}"
                if "glue(" in line["text"]:
                    glued.append(shown)
                if line["overflows"]:
                    wide.append(shown)
    finally:
        context.close()
    problems = []
    if glued:
        problems.append(f"{len(glued)} visible code lines call glue( (move them to a remove-cell cell):")
        problems += glued
    if wide:
        problems.append(f"{len(wide)} visible code lines are wider than their code box at {LAPTOP['width']} px:")
        problems += wide
    assert not problems, "\n".join(problems)
