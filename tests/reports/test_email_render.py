"""The digest's HTML as a mail client would show it: rendered by headless Chromium to a PNG."""

from __future__ import annotations

import base64
import email
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
    # client, images are not. The charts must stay readable on their own white ground.
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


DOM_PROBE = """<script>
window.addEventListener('load', () => {
  const widths = [...document.images].map(i => i.getBoundingClientRect().width);
  document.body.setAttribute('data-widths', JSON.stringify(widths));
});
</script>"""


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
    import json
    import re

    from reports.render.charts import style

    msg = email.message_from_bytes(demo14.digest.read_bytes(), policy=policy.default)
    page = tmp_path / "digest.html"
    page.write_text(inline_images(msg).replace("</body>", DOM_PROBE + "</body>"))
    flags = ["--blink-settings=forceDarkModeEnabled=true"] if scheme == "dark" else []
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *flags,
                          f"--window-size={width},2400", "--virtual-time-budget=3000",
                          "--dump-dom", page.as_uri()],
                         check=True, capture_output=True, timeout=120,
                         text=True).stdout  # fmt: skip
    # The six key numbers are text in the page, not pixels in a picture.
    values = re.findall(r'class="key"[^>]*>([^<]+)<', dom)
    assert len(values) == 6 and all(v.strip() and v.strip() != "—" for v in values), values
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    for value in values:
        assert value.strip().replace("&nbsp;", " ") in plain
    widths = json.loads(re.search(r"data-widths=\"([^\"]*)\"", dom).group(1).replace("&quot;", '"'))
    assert widths, "the digest shows its charts"
    smallest = min(widths)
    # Chart type in CSS px = points / 72 × dpi × shown width / (figure inches × dpi).
    px = style.text_px(min(style.SMALL_SIZE, style.TEXT_SIZE), smallest)
    assert px >= 11, (width, smallest, px)
    print(
        f"{width} px {scheme}: charts shown {smallest:.0f} px wide, smallest chart text {px:.1f} px"
    )
