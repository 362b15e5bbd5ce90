"""Figure and PNG mechanics shared by the renderers; matplotlib loads on the first figure.

Encoding skips savefig (which lays the figure out again and handles formats we never use):
the canvas is drawn once, its white RGBA buffer becomes RGB (no alpha to compress), and when the
image has at most 256 colours it is stored as a palette, which is lossless and a third the bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Final

from reports.render.charts import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PALETTE_COLOURS: Final = 256


def new_figure() -> Figure:
    """Return an empty white figure of the house size, drawn by Agg (never pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=style.SIZE, dpi=style.DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def encode(figure: Figure) -> bytes:
    """Draw `figure` and return it as PNG bytes, losslessly."""
    from PIL import Image

    canvas: Any = figure.canvas  # the Agg canvas new_figure() attached (its stubs are untyped)
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = rgba.convert("RGB")
    colours = image.getcolors(PALETTE_COLOURS)
    if colours is not None:  # few colours: a palette keeps every pixel exactly
        palette = Image.new("P", (1, 1))
        palette.putpalette([c for _, rgb in colours if isinstance(rgb, tuple) for c in rgb])
        image = image.quantize(palette=palette, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=style.PNG_LEVEL)
    return buf.getvalue()
