"""Tokens at rest: Fernet encryption with the key from CLARITYBOT_SECRET_KEY.

Several comma-separated keys may be given to rotate: the first encrypts, all decrypt.
"""

from __future__ import annotations

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
        try:
            self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        except (ValueError, UnicodeEncodeError) as exc:
            raise SecretKeyError(
                f"CLARITYBOT_SECRET_KEY is not a valid key (32 url-safe base64 bytes). {KEY_HINT}"
            ) from exc

    def encrypt(self, token: str) -> str:
        """Return the ciphertext of a token."""
        return self._fernet.encrypt(token.encode()).decode("ascii")

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
