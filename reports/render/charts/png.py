"""Figure and PNG mechanics shared by the renderers; matplotlib loads on the first figure.

Encoding skips savefig (which lays the figure out again and handles formats we never use):
the canvas is drawn once and its white RGBA buffer written as PNG without its alpha. A
picture of at most 256 colours is stored as a palette (lossless, a third the bytes); the usual
anti-aliased chart is written here as RGB rows without PNG's per-row filters: Pillow tries
all five filters on every row, which cost twice the compression itself, and on flat chart
colours unfiltered rows compress as small.

A *clear* picture (for email) has no background at all and a white halo round every text: mail
apps in dark mode darken the message but never the pictures, so a white ground would stay a
bright box; dark text on its own halo reads on white and on near-black alike.
"""

from __future__ import annotations

import io
import struct
import weakref
import zlib
from typing import TYPE_CHECKING, Any, Final

from reports.render.charts import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL import Image as PILImage

PALETTE_COLOURS: Final = 256
HALO_PT: Final = 2.0  # the halo stroke: wide enough to part dark text from a dark ground
_CLEAR: weakref.WeakSet[Figure] = weakref.WeakSet()  # figures whose last picture was clear
SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
RGB_8BIT: Final = (8, 2, 0, 0, 0)  # bit depth, colour type RGB, deflate, no filter, no interlace


def new_figure(size: tuple[float, float] = style.SIZE) -> Figure:
    """Return an empty white figure (default: the house size), drawn by Agg (never pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=style.DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def pixels(figure: Figure) -> tuple[int, int]:
    """A figure's size in pixels, as encoded."""
    width, height = figure.get_size_inches()
    return round(width * style.DPI), round(height * style.DPI)


def encode(figure: Figure, *, clear: bool = False) -> bytes:
    """Draw `figure` and return it as PNG bytes, losslessly; `clear`: no background (email)."""
    from PIL import Image

    if clear or figure in _CLEAR:
        _dress(figure, clear)
    canvas: Any = figure.canvas  # the Agg canvas new_figure() attached (its stubs are untyped)
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    buffer = canvas.buffer_rgba()
    rgba = Image.frombuffer("RGBA", (width, height), buffer, "raw", "RGBA", 0, 1)
    if clear:  # the alpha is the picture's point: Pillow keeps it
        buf = io.BytesIO()
        rgba.save(buf, format="PNG", compress_level=style.PNG_LEVEL)
        return buf.getvalue()
    colours = rgba.getcolors(PALETTE_COLOURS)
    if colours is not None:  # few colours: a palette keeps every pixel exactly
        return palette_png(rgba.convert("RGB"), [c[:3] for _, c in colours if isinstance(c, tuple)])
    rgb, step = rgba.tobytes("raw", "RGB"), 3 * width  # packed without the alpha
    rows = b"".join(b"\0" + rgb[y * step : (y + 1) * step] for y in range(height))  # filter 0
    return rgb_png(width, height, rows)


def palette_png(image: PILImage.Image, colours: list[tuple[int, ...]]) -> bytes:
    """A palette PNG of an RGB image that has exactly these colours."""
    from PIL import Image

    palette = Image.new("P", (1, 1))
    palette.putpalette([c for rgb in colours for c in rgb])
    indexed = image.quantize(palette=palette, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    indexed.save(buf, format="PNG", compress_level=style.PNG_LEVEL)
    return buf.getvalue()


def rgb_png(width: int, height: int, rows: bytes) -> bytes:
    """An 8-bit RGB PNG of `rows` (each already prefixed with its filter byte)."""
    header = struct.pack(">II5B", width, height, *RGB_8BIT)
    data = zlib.compress(rows, style.PNG_LEVEL)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _dress(figure: Figure, clear: bool) -> None:
    """Take the figure's grounds away and put a halo round its texts, or undo both."""
    from matplotlib.patheffects import AbstractPathEffect, withStroke
    from matplotlib.text import Text

    alpha = 0.0 if clear else 1.0
    figure.patch.set_alpha(alpha)
    for ax in figure.axes:
        ax.patch.set_alpha(alpha)
        ax.xaxis.get_majorticklabels()  # makes this render's tick labels now, to dress them
        ax.yaxis.get_majorticklabels()
    halo: list[AbstractPathEffect] = [withStroke(linewidth=HALO_PT, foreground="white")]
    effects = halo if clear else []
    for text in figure.findobj(Text):
        text.set_path_effects(effects)
        if (patch := text.get_bbox_patch()) is not None:  # a white label box: the halo does it
            patch.set_visible(not clear)
    _dress_ink_lines(figure, clear)
    if clear:
        _CLEAR.add(figure)
    else:
        _CLEAR.discard(figure)


def _dress_ink_lines(figure: Figure, clear: bool) -> None:
    """Put a white edge on lines drawn in ink (an alert's level), or take it off: ink on no
    ground is lost on a dark mail app's."""
    from matplotlib.colors import same_color
    from matplotlib.lines import Line2D
    from matplotlib.patheffects import withStroke

    for line in figure.findobj(Line2D):
        if same_color(line.get_color(), style.INK):
            edge = withStroke(linewidth=line.get_linewidth() + HALO_PT, foreground="white")
            line.set_path_effects([edge] if clear else [])
