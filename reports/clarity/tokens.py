"""Clarity API tokens: shape check before any call, and the project key the quota is kept under."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from reports.errors import InvalidTokenError
from reports.urls import CLARITY_PROJECT_ID

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
# Claim names that could identify the Clarity project. None is documented; when no such claim is
# present the token itself is the key, which is conservative: two tokens of one project then
# count separately against our cap, but never let us exceed Clarity's.
_PROJECT_CLAIMS = ("project_id", "projectid", "pid")


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def clean_token(raw: str) -> str:
    """Strip what copy-paste adds around a token: whitespace, quotes, a `Bearer ` prefix."""
    token = raw.strip().strip("'\"").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    return token


def check_token(raw: str) -> str:
    """Return the cleaned token, or raise InvalidTokenError when it is not JWT-shaped."""
    token = clean_token(raw)
    if not token:
        raise InvalidTokenError("the token is empty")
    if any(ch.isspace() for ch in token):
        raise InvalidTokenError("the token contains spaces or line breaks")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidTokenError(f"it has {len(parts)} dot-separated part(s), not 3")
    if not all(_SEGMENT.match(part) for part in parts):
        raise InvalidTokenError("it contains characters a JWT cannot have")
    header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
    if not isinstance(header, dict) or "alg" not in header:
        raise InvalidTokenError("its first part is not a JWT header")
    if not isinstance(payload, dict):
        raise InvalidTokenError("its second part is not a JWT payload")
    return token


def token_claims(token: str) -> dict[str, Any]:
    """Return the decoded (unverified) payload of a token already passed by check_token."""
    payload = _b64url_json(token.split(".")[1])
    return payload if isinstance(payload, dict) else {}


def fingerprint(token: str) -> str:
    """Return a short, non-reversible id of a token, safe to show and log."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def project_id_claim(token: str) -> str | None:
    """The Clarity project id a token's claims carry (for dashboard links), or None.

    Claims are unverified and untrusted: a value that is not id-shaped is ignored, not cleaned.
    """
    claims = {k.lower(): v for k, v in token_claims(token).items()}
    for name in _PROJECT_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            if CLARITY_PROJECT_ID.fullmatch(str(value)):
                return str(value)
    return None


def project_key(token: str) -> str:
    """Return the key the per-project quota ledger uses for this token."""
    claims = {k.lower(): v for k, v in token_claims(token).items()}
    for name in _PROJECT_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str | int) and str(value):
            digest = hashlib.sha256(f"{claims.get('iss', '')}:{value}".encode()).hexdigest()
            return "project:" + digest[:16]
    return "token:" + fingerprint(token)
