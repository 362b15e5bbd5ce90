from __future__ import annotations

from reports.clarity.tokens import check_token, fingerprint, project_key
from tests.fakes.tokens import fake_token


def test_project_key_comes_from_a_project_claim_so_tokens_of_one_project_share_it():
    a, b = fake_token("proj-1"), fake_token("proj-1", claim="projectId")
    assert a != b
    assert project_key(a) == project_key(b)
    assert project_key(fake_token("proj-2")) != project_key(a)


def test_without_a_project_claim_the_token_itself_is_the_key():
    token = fake_token("x", claim="unrelated")
    assert project_key(token) == "token:" + fingerprint(token)


def test_fingerprints_do_not_reveal_the_token():
    token = fake_token()
    assert len(fingerprint(token)) == 12 and fingerprint(token) not in token
    assert check_token(token) == token
