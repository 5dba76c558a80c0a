"""Every page of the built book in the dark theme: figures stay legible, text keeps its contrast."""

from __future__ import annotations

import pytest

from browser import LoadedPage, axe_violations, dark_mode_figure_problems, page_url
from conftest import toc_files


@pytest.mark.parametrize("name", toc_files())
def test_dark_theme_keeps_figures_legible_and_text_contrast_passing(browser, site, name):
    loaded = LoadedPage(browser, page_url(site, name), dark=True)
    try:
        problems = dark_mode_figure_problems(loaded.page)
        contrast = [v for v in axe_violations(loaded.page, ["color-contrast"]) if v["impact"] in {"serious", "critical"}]
    finally:
        loaded.close()
    assert not problems, f"{name} (dark): " + "; ".join(problems)
    assert not contrast, f"{name} (dark): text contrast violations on {sum(len(v['nodes']) for v in contrast)} elements"


