from __future__ import annotations

import pytest

from store.crypto import TokenCipher, generate_key
from store.errors import SecretKeyError


def test_tokens_round_trip_and_are_not_stored_in_clear():
    cipher = TokenCipher(generate_key())
    secret = "eyJhbGciOiJIUzI1NiJ9.eyJwcm9qZWN0X2lkIjoieCJ9.c2ln"
    stored = cipher.encrypt(secret)
    assert secret not in stored
    assert cipher.decrypt(stored) == secret


@pytest.mark.parametrize("key", [None, "", "  ", "not-a-fernet-key"])
def test_missing_or_malformed_keys_say_how_to_make_one(key):
    with pytest.raises(SecretKeyError, match="claritybot keygen"):
        TokenCipher(key)


def test_a_different_key_cannot_decrypt_and_says_so():
    stored = TokenCipher(generate_key()).encrypt("t.o.k")
    with pytest.raises(SecretKeyError, match="the key changed"):
        TokenCipher(generate_key()).decrypt(stored)


def test_keys_rotate_new_first_old_still_decrypts():
    old, new = generate_key(), generate_key()
    stored = TokenCipher(old).encrypt("t.o.k")
    rotated = TokenCipher(f"{new},{old}")
    assert rotated.decrypt(stored) == "t.o.k"
    assert TokenCipher(new).decrypt(rotated.encrypt("t.o.k")) == "t.o.k"
