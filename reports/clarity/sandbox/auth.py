"""Sandbox tokens: JWT-shaped like Clarity's, and the project a request's token names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from reports.clarity.tokens import check_token, token_claims
from reports.errors import InvalidTokenError


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(project: str, *, issuer: str = "clarity", secret: bytes = b"sandbox") -> str:
    """Return a deterministic HS256 JWT with Clarity's claims and a `project_id` claim."""
    jti = hashlib.sha256(f"{issuer}|{project}".encode()).hexdigest()[:32]
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": issuer, "aud": "clarity.data-exporter", "project_id": project, "jti": jti}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def project_of(authorization: str | None) -> str | None:
    """Return the project_id a `Bearer <jwt>` header names, or None when it is unusable."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        cleaned = check_token(token)
    except InvalidTokenError:
        return None
    # The signature is not checked: tests forge tokens with other secrets on purpose.
    project = token_claims(cleaned).get("project_id")
    return project if isinstance(project, str) and project else None
