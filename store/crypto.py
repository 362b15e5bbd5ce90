"""Tokens at rest: Fernet encryption with the key from CLARITYBOT_SECRET_KEY.

Several comma-separated keys may be given to rotate: the first encrypts, all decrypt.
"""

from __future__ import annotations

import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from store.errors import SecretKeyError

KEY_HINT = (
    "Generate one with `claritybot keygen` and set it as CLARITYBOT_SECRET_KEY; keep it safe, "
    "stored tokens cannot be read without it."
)


def generate_key() -> str:
    """Return a new random key in the form CLARITYBOT_SECRET_KEY expects."""
    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Encrypts and decrypts Clarity tokens."""

    def __init__(self, secret_key: str | None) -> None:
        keys = [k.strip() for k in (secret_key or "").split(",") if k.strip()]
        if not keys:
            raise SecretKeyError(f"CLARITYBOT_SECRET_KEY is not set. {KEY_HINT}")
        # Links (unsubscribe) are signed with keys derived from the same secret, never the
        # Fernet keys themselves; every configured key verifies, so rotation keeps old links.
        self._signing = [
            hmac.new(k.encode(), b"claritybot-link-signing", "sha256").digest() for k in keys
        ]
        try:
            self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        except (ValueError, UnicodeEncodeError) as exc:
            raise SecretKeyError(
                f"CLARITYBOT_SECRET_KEY is not a valid key (32 url-safe base64 bytes). {KEY_HINT}"
            ) from exc

    def encrypt(self, token: str) -> str:
        """Return the ciphertext of a token."""
        return self._fernet.encrypt(token.encode()).decode("ascii")

    def sign(self, message: str) -> str:
        """Return a short signature of `message` (for links in emails)."""
        return hmac.new(self._signing[0], message.encode(), "sha256").hexdigest()[:32]

    def verify(self, message: str, signature: str) -> bool:
        """True when `signature` was made by `sign` with any configured key."""
        # compare_digest refuses non-ASCII str: compare bytes, so any text is just "no".
        given = (signature or "").encode("utf-8", "replace")
        return any(
            hmac.compare_digest(
                hmac.new(k, message.encode(), "sha256").hexdigest()[:32].encode(), given
            )
            for k in self._signing
        )

    def decrypt(self, ciphertext: str) -> str:
        """Return the token; SecretKeyError when the key is not the one it was stored with."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretKeyError(
                "A stored token cannot be decrypted with CLARITYBOT_SECRET_KEY: the key changed. "
                "Set the key the token was stored with (add it after a comma to rotate), or "
                "connect the source again."
            ) from exc
