"""Figures drawn for the column they are shown in: no text under 10 pt or 10 px at the column's width, room for the
source line, sharp on high-density screens and open full size on a click."""

from __future__ import annotations

import re

import matplotlib
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import bookdata  # noqa: E402

bookdata.use_style()


def test_source_line_refuses_a_figure_whose_text_would_be_under_10_px_in_the_column():
    figure, axes = plt.subplots(figsize=(6.5, 4))
    axes.plot([2023, 2024], [1, 2])
    axes.set_title("Trade")
    axes.tick_params(labelsize=6)
    with pytest.raises(ValueError, match=r"'Trade'.*under 10 pt or 10 px.*6 pt, 9\.2 px"):
        bookdata.source_line(figure, "China's customs")
    plt.close(figure)


def test_source_line_refuses_a_figure_drawn_wider_than_the_column():
    figure, axes = plt.subplots(figsize=(10, 4))  # shown shrunk to 741 px: its 10 pt text would be 10.3 px
    axes.plot([2023, 2024], [1, 2])
    with pytest.raises(ValueError, match="10 in wide"):
        bookdata.source_line(figure, "China's customs")
    plt.close(figure)


def test_source_line_keeps_clear_of_the_axis_labels():
    figure, axes = plt.subplots()
    axes.plot([2023, 2024], [1, 2])
    axes.set_xlabel("Year")
    bookdata.source_line(figure, "China's customs, a long source line that names where each number comes from")
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    source_top = figure.texts[-1].get_window_extent(renderer).y1
    axis_bottom = axes.get_tightbbox(renderer).y0
    plt.close(figure)
    assert source_top < axis_bottom, (
        f"the source line (top {source_top:.0f}) overlaps the axes (from {axis_bottom:.0f})"
    )


def test_default_figure_passes_the_readability_check():
    figure, axes = plt.subplots()
    axes.plot([2023, 2024], [1, 2], label="total")
    axes.legend()
    axes.set_title("Trade")
    bookdata.source_line(figure, "China's customs")
    plt.close(figure)


def _chart_images(page_html: str) -> list[tuple[str, str]]:
    """(img tag, the link around it or "") for every chart of a page."""
    return re.findall(
        r'(<a [^>]*class="[^"]*image-reference[^"]*"[^>]*>)?\s*(<img [^>]*src="[./]*_images/[^"]*\.png"[^>]*>)',
        page_html,
    )


def test_charts_are_sent_at_twice_their_shown_width_and_open_full_size(built_book):
    checked = 0
    for page in sorted((built_book / "chapters").glob("*.html")):
        for link, image in _chart_images(page.read_text(encoding="utf-8")):
            source = re.search(r'src="([^"]*)"', image).group(1)
            where = f"{page.name}: {source}"
            shown = re.search(r"width:\s*(\d+)px", image)
            assert shown, f"{where}: the chart has no shown width, so it is drawn at its pixel size (blurred or huge)"
            with Image.open(page.parent / source) as png:
                density = png.width / int(shown.group(1))
            assert density >= 1.9, f"{where}: {density:.2f} image pixels per CSS pixel; want 2 (sharp on phones)"
            assert link, f"{where}: the chart is not a link to its full-size image"
            checked += 1
    assert checked >= 25, f"only {checked} charts found in the chapters; expected every figure"
