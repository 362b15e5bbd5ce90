"""JWT-shaped fake tokens (never real ones)."""

from __future__ import annotations

import base64
import json


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_token(project: str = "p1", *, claim: str = "project_id") -> str:
    """Return a token shaped like Clarity's (header.payload.signature)."""
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64({"iss": "clarity", "aud": "clarity.data-exporter", claim: project})
    return f"{header}.{payload}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


TOKEN = fake_token()
