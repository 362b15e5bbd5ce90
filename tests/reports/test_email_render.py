"""The digest's HTML as a mail client would show it: rendered by headless Chromium to a PNG."""

from __future__ import annotations

import base64
import email
import shutil
import subprocess
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
