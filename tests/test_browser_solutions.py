"""In the instructor edition each reference solution is one closed dropdown that folds its prose, its code and the
code's outputs (the answer) together: none of it shows before the reader opens the dropdown, all of it shows after
(opened from the keyboard), and no solution cell carries a fold of its own (hide-input, hide-output, hide-cell)."""

from __future__ import annotations

import pytest

from browser import page_url
from test_browser_code import PAGES as CODE_PAGES

pytestmark = pytest.mark.browser  # drives headless Chromium: deselect with -m "not browser"

PAGES = [name for name in CODE_PAGES if name != "chapters/case_reading"]  # the pages with exercises

# Shown on screen: laid out, not visibility:hidden, not transparent, and not squeezed to nothing.
SHOWN = """element => element.checkVisibility({visibilityProperty: true, opacityProperty: true})
  && element.getBoundingClientRect().height > 0"""

# Each solution code cell (myst-nb's class tag_solution): its first code line, whether it sits in a solution dropdown
# (sphinx-exercise's .solution.dropdown), the second folds it carries, and whether its input and outputs are shown.
SOLUTION_CELLS = f"""() => {{
  const shown = {SHOWN};
  return [...document.querySelectorAll('article .cell.tag_solution')].map(cell => {{
    const code = cell.querySelector('.cell_input pre');
    const outputs = [...cell.querySelectorAll('.cell_output')];
    return {{
      line: code ? code.textContent.split('\\n').find(text => text.trim() && !text.startsWith('#')) || '' : '',
      inDropdown: !!cell.closest('.solution.dropdown'),
      folds: [...cell.classList].filter(name => /^tag_hide-/.test(name))
        .concat(cell.querySelector('details') ? ['details'] : []),
      codeShown: !!code && shown(code),
      outputShown: outputs.some(shown),
    }};
  }});
}}"""

# Each solution (sphinx-exercise's .solution admonition): its title, whether it is a dropdown and closed, and which of
# its contents (text, code, outputs) are shown.
SOLUTIONS = f"""() => {{
  const shown = {SHOWN};
  return [...document.querySelectorAll('article .solution')].map(solution => {{
    const parts = selector => [...solution.querySelectorAll(selector)];
    const content = parts(':scope > .admonition-title ~ * p, .cell_input pre, .cell_output');
    return {{
      title: solution.querySelector('.admonition-title').textContent.trim(),
      dropdown: solution.classList.contains('dropdown'),
      closed: solution.classList.contains('toggle-hidden'),
      code: parts('.cell_input pre').length,
      outputs: parts('.cell_output').length,
      shownBefore: content.filter(shown).length,
      content: content.length,
    }};
  }});
}}"""

SHOWN_AFTER = f"""solution => {{
  const shown = {SHOWN};
  const content = [...solution.querySelectorAll(':scope > .admonition-title ~ * p, .cell_input pre, .cell_output')];
  return {{content: content.length, shown: content.filter(shown).length}};
}}"""


def solution_fold_problems(page, name: str) -> list[str]:
    """What shows a solution's code or answer outside its one closed dropdown on the loaded page ``name``."""
    problems = []
    # The toggles fade their content in and out; without the fade each state is final at once.
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; animation: none !important; }")
    cells = page.evaluate(SOLUTION_CELLS)
    for cell in cells:
        where = f"{name}: solution code {cell['line'].strip()[:60]!r}"
        if not cell["inDropdown"]:
            problems.append(
                f"{where} is outside any solution dropdown"
                + (" and its output (the answer) is shown" if cell["outputShown"] else "")
            )
        if cell["folds"]:
            problems.append(f"{where} has a second fold of its own: {', '.join(cell['folds'])}")
        if cell["inDropdown"] and (cell["codeShown"] or cell["outputShown"]):
            problems.append(f"{where} shows before its dropdown is opened")
    solutions = page.evaluate(SOLUTIONS)
    if not solutions:
        problems.append(f"{name}: no solution found")
    if not any(solution["code"] and solution["outputs"] for solution in solutions):
        problems.append(f"{name}: no solution dropdown holds both code and its output")
    for index, solution in enumerate(solutions):
        where = f"{name}: {solution['title']!r}"
        if not (solution["dropdown"] and solution["closed"]):
            problems.append(f"{where} is not a closed dropdown")
        if solution["shownBefore"]:
            problems.append(f"{where}: {solution['shownBefore']} of its parts show before it is opened")
        dropdown = page.locator("article .solution").nth(index)
        dropdown.locator(".toggle-button").press("Enter")  # the toggle, from the keyboard
        after = dropdown.evaluate(SHOWN_AFTER)
        if after["shown"] < after["content"] or not after["content"]:
            problems.append(f"{where}: {after['shown']} of {after['content']} parts show once it is opened")
    return problems


def test_each_solution_folds_its_prose_code_and_answer_into_one_closed_dropdown(browser, site):
    context = browser.new_context(color_scheme="light")
    problems = []
    try:
        page = context.new_page()
        for name in PAGES:
            page.goto(page_url(site, name), wait_until="load")
            problems += solution_fold_problems(page, name)
    finally:
        context.close()
    assert not problems, f"{len(problems)} problems with the solutions' folds:\n" + "\n".join(problems)
