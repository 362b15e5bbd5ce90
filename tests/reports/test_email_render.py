"""The digest's HTML as a mail client would show it: rendered by headless Chromium to a PNG."""

from __future__ import annotations

import base64
import email
import html
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from email import policy

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def inline_images(msg) -> str:
    """The HTML part with its cid: images swapped for data: URIs (as a client resolves them)."""
    related = msg.get_payload()[1]
    html_part, *images = related.get_payload()
    html = html_part.get_content()
    for image in images:
        cid = image["Content-ID"].strip("<>")
        data = base64.b64encode(image.get_content()).decode()
        html = html.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    return html


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_digest_renders_in_a_browser(tmp_path, scheme, demo_history):
    import matplotlib.image

    msg = email.message_from_bytes(demo_history.digest.read_bytes(), policy=policy.default)
    page = tmp_path / "digest.html"
    page.write_text(inline_images(msg))
    shot = tmp_path / f"digest-{scheme}.png"
    # Forced dark is what mail apps do to messages in dark mode: colours are inverted by the
    # client, images are not. The charts have no ground of their own: the card shows through.
    flags = ["--blink-settings=forceDarkModeEnabled=true"] if scheme == "dark" else []
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *flags,
                    "--hide-scrollbars", "--window-size=700,2200", f"--screenshot={shot}",
                    page.as_uri()], check=True, capture_output=True, timeout=120)  # fmt: skip
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2200, 700)
    # Not blank: the card, three charts and their text make a varied picture ...
    assert pixels[..., :3].std() > 0.04
    # ... and the charts are there: Okabe–Ito blue (#0072B2) lines show in the rendering.
    blue = ((abs(pixels[..., 0] - 0.0) < 0.08) & (abs(pixels[..., 1] - 0.447) < 0.08)
            & (abs(pixels[..., 2] - 0.698) < 0.08))  # fmt: skip
    assert blue.sum() > 500
    card = pixels[45, 60, :3].mean()  # the report's card, left of its first line of text
    assert card > 0.9 if scheme == "light" else card < 0.2


HEIGHT = 4000  # tall enough that the whole digest is on screen at 390 px
# Headless Chromium lays a page out at least 500 px wide, whatever --window-size says; a phone's
# 390 px is an iframe of that width (media queries see the iframe). The probe, inside it, leaves
# what it measured on the host page's <body>, the document --dump-dom prints.
PROBE = """<script>
window.addEventListener('load', () => {
  const boxes = [...document.images].map(i => i.getBoundingClientRect());
  const found = {
    viewport: innerWidth,
    keys: [...document.querySelectorAll('.key')].map(e => e.textContent),
    rects: boxes.map(b => [b.left, b.top, b.width, b.height].map(Math.round)),
  };
  parent.document.body.setAttribute('data-probe', JSON.stringify(found));
});
</script>"""


def host_page(tmp_path, body, width):
    """A page showing the email in a `width` px frame at its top left, with the probe."""
    framed = body.replace("</body>", PROBE + "</body>").replace("&", "&amp;").replace('"', "&quot;")
    page = tmp_path / "host.html"
    page.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe srcdoc="{framed}" style="border:0;display:block;width:{width}px;'
        f'height:{HEIGHT}px"></iframe></body></html>'
    )
    return page


def chromium(page, scheme, *args):
    """Run headless Chromium on a page, as a light or a forced-dark mail app."""
    flags = ["--blink-settings=forceDarkModeEnabled=true"] if scheme == "dark" else []
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        *flags,
        "--hide-scrollbars",
        f"--window-size=1280,{HEIGHT}",
        "--virtual-time-budget=3000",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, check=True, capture_output=True, timeout=120, text=True).stdout


def probed(dom):
    """What the probe measured inside the frame."""
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, "the probe ran"
    return json.loads(html.unescape(found.group(1)))


def white_share(shot, rect) -> float:
    """The share of an image's on-screen pixels that are (near) white."""
    import matplotlib.image

    x, y, w, h = rect
    pixels = matplotlib.image.imread(shot)[y : y + h, x : x + w, :3]
    return float((pixels.min(axis=2) > 0.94).mean())


@pytest.fixture(scope="module")
def demo14(tmp_path_factory):
    """The README's demo (14 nights), run once for the four renderings."""
    from bot.cli.demo import run_demo

    return run_demo(
        out_dir=tmp_path_factory.mktemp("demo14"),
        days=14,
        now=datetime(2026, 3, 20, 10, tzinfo=UTC),
        timezone="Europe/London",
    )


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.parametrize("width", [1200, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_key_numbers_are_text_and_chart_type_is_at_least_11_px(tmp_path, width, scheme, demo14):
    from reports.render.charts import style

    msg = email.message_from_bytes(demo14.digest.read_bytes(), policy=policy.default)
    page = host_page(tmp_path, inline_images(msg), width)
    found = probed(chromium(page, scheme, "--dump-dom"))
    assert found["viewport"] == width
    # The six key numbers are text in the page, not pixels in a picture.
    values = found["keys"]
    assert len(values) == 6 and all(v.strip() and v.strip() != "—" for v in values), values
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    for value in values:
        assert value.strip() in plain
    rects = found["rects"]
    assert rects, "the digest shows its charts"
    smallest = min(w for _x, _y, w, _h in rects)
    # Chart type in CSS px = points / 72 × dpi × shown width / (figure inches × dpi).
    px = style.text_px(min(style.SMALL_SIZE, style.TEXT_SIZE), smallest)
    assert px >= 11, (width, smallest, px)
    # Dark-mode safe: a mail app darkens the page but never a picture, so a chart must bring
    # no white ground of its own; in light mode the same measure sees the white page through.
    shot = tmp_path / "digest.png"
    chromium(page, scheme, f"--screenshot={shot}")
    shares = [white_share(shot, rect) for rect in rects]
    if scheme == "dark":
        assert max(shares) < 0.05, shares
    else:
        assert min(shares) > 0.5, shares
    print(
        f"{width} px {scheme}: charts shown {smallest:.0f} px wide, smallest chart text "
        f"{px:.1f} px, white share of the charts {max(shares):.3f}"
    )


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.parametrize("width", [1200, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_alert_mail_chart_is_dark_mode_safe_and_readable(tmp_path, width, scheme, demo14):
    from reports.render.charts import style

    (alert,) = (demo14.out_dir / "outbox").glob("*-a*-*.eml")  # the demo's rule that fired
    msg = email.message_from_bytes(alert.read_bytes(), policy=policy.default)
    assert str(msg["Subject"]).startswith("Alert: ")
    page = host_page(tmp_path, inline_images(msg), width)
    (rect,) = probed(chromium(page, scheme, "--dump-dom"))["rects"]
    assert style.text_px(min(style.SMALL_SIZE, style.TEXT_SIZE), rect[2]) >= 11, rect
    shot = tmp_path / "alert.png"
    chromium(page, scheme, f"--screenshot={shot}")
    share = white_share(shot, rect)
    # The same measure as the digest's: forced dark sees no white ground (nor a label's box).
    assert share < 0.05 if scheme == "dark" else share > 0.5, share
    print(f"alert {width} px {scheme}: chart {rect[2]} px wide, white share {share:.3f}")
