"""The PNG encoder: every pixel of the drawing kept, the same bytes for the same picture."""

from __future__ import annotations

import io
from datetime import date, timedelta

from matplotlib.patches import Rectangle
from PIL import Image

from reports.history.catalogue import get_metric
from reports.history.query import Point, Series
from reports.render.charts import png
from reports.render.charts.line import LineRenderer


def a_series(days: int = 30) -> Series:
    end = date(2026, 3, 19)
    points = tuple(
        Point(end - timedelta(days=days - 1 - i), 500.0 + 37 * (i % 7), num=1.0, den=1.0)
        for i in range(days)
    )
    return Series(get_metric("sessions"), 1, "UTC", points)


def drawn_pixels(figure) -> bytes:
    """The canvas as drawn, as RGB bytes (matplotlib's own buffer, not our encoder)."""
    canvas = figure.canvas
    width, height = canvas.get_width_height(physical=True)
    return Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba()).convert("RGB").tobytes()


def test_an_anti_aliased_chart_is_stored_as_rgb_with_every_pixel_kept():
    renderer = LineRenderer()
    chart = renderer.render(a_series())
    decoded = Image.open(io.BytesIO(chart.png))
    assert decoded.format == "PNG" and decoded.mode == "RGB" and decoded.size == (1600, 900)
    assert decoded.tobytes() == drawn_pixels(renderer.figure)
    assert renderer.render(a_series()).png == chart.png  # the same picture, the same bytes


def test_a_picture_of_few_colours_is_stored_as_a_palette_with_every_pixel_kept():
    figure = png.new_figure()
    square = Rectangle((0.1, 0.1), 0.5, 0.5, transform=figure.transFigure, color="#0072B2")
    square.set_antialiased(False)  # no blended edge: two colours in all
    figure.patches.append(square)
    encoded = png.encode(figure)
    decoded = Image.open(io.BytesIO(encoded))
    assert decoded.mode == "P"
    assert decoded.convert("RGB").tobytes() == drawn_pixels(figure)
    assert sorted(c for _, c in decoded.convert("RGB").getcolors()) == [
        (0, 114, 178),
        (255, 255, 255),
    ]
