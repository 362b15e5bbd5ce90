"""Figure and PNG mechanics shared by the renderers; matplotlib loads on the first figure.

Encoding skips savefig (which lays the figure out again and handles formats we never use):
the canvas is drawn once and its white RGBA buffer written as PNG without its alpha. A
picture of at most 256 colours is stored as a palette (lossless, a third the bytes); the usual
anti-aliased chart is written here as RGB rows without PNG's per-row filters: Pillow tries
all five filters on every row, which cost twice the compression itself, and on flat chart
colours unfiltered rows compress as small.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import TYPE_CHECKING, Any, Final

from reports.render.charts import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL import Image as PILImage

PALETTE_COLOURS: Final = 256
SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
RGB_8BIT: Final = (8, 2, 0, 0, 0)  # bit depth, colour type RGB, deflate, no filter, no interlace


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
    buffer = canvas.buffer_rgba()
    rgba = Image.frombuffer("RGBA", (width, height), buffer, "raw", "RGBA", 0, 1)
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
