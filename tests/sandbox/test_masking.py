"""Masking of journal bodies: a body that names no secret is kept as sent; one
that does is masked however the key is spelled, whole or cut off."""

from __future__ import annotations

import orjson
import pytest

from polycrm.sandbox import masking


@pytest.mark.parametrize("text", [
    '{"name": "Company 1 AB", "addresses": {"visiting": {"city": "G\u00f6teborg"}}, "id": 7}',
    '[1, 2.5, null, true, {"a": []}]',
    '{"nested": {"deep": [{"x": "nothing to hide here"}]}}',
])
def test_a_body_without_secret_keys_is_kept_as_sent(text):
    assert masking.json_text(text) == text
    assert masking.json_text(text[:20], cut=True) == text[:20]


@pytest.mark.parametrize("text", [
    '{"password": "hunter2"}',
    '{"PassWord": "hunter2"}',
    '{"user": {"ApiKey": "k-123"}}',
    '[{"access_token": "t-1"}]',
    # An escaped key spells a secret the plain text does not show.
    '{"\\u0074oken": "t-2"}',
    '{"client_secret": "s-3", "note": "a \\"quoted\\" value"}',
])
def test_a_secret_key_is_masked_however_it_is_spelled(text):
    masked = orjson.loads(masking.json_text(text))
    flat = orjson.dumps(masked).decode()
    assert masking.MASK in flat
    for secret in ("hunter2", "k-123", "t-1", "t-2", "s-3"):
        assert secret not in flat


def test_a_secret_word_in_a_value_only_keeps_the_value():
    text = '{"info": "reset your password here", "token_count": 3}'
    assert orjson.loads(masking.json_text(text)) == {"info": "reset your password here", "token_count": 3}


@pytest.mark.parametrize("text", [
    '{"name": "A", "password": "hunter2", "more": "',
    '[{"id": 1, "Access_Token": "t-1"}, {"id": 2, "x": "y',
])
def test_a_cut_off_body_has_its_secret_pairs_masked(text):
    for cut in (True, False):
        masked = masking.json_text(text, cut=cut)
        assert masking.MASK in masked and "hunter2" not in masked and "t-1" not in masked


def test_every_secret_key_is_found_by_the_stems():
    for key in masking.SECRET_KEYS:
        assert masking.MASK in masking.json_text(f'{{"{key.upper()}": "s-1"}}')
        assert masking.MASK in masking.json_text(f'{{"{key}": "s-1", "x": "', cut=True)


def test_a_key_spelled_with_a_kelvin_sign_is_masked():
    # "\u212a".lower() is "k": the walk reads the key as api_key.
    text = '{"name": "G\u00f6teborg", "api_\u212aey": "s-1"}'
    masked = masking.json_text(text)
    assert "s-1" not in masked and masking.MASK in masked


def masked_answer(page: bytes, limit: int, kind: str, cut: bool) -> str:
    """As the journal's middleware hands an answer sent in one piece to the masking."""
    from polycrm.sandbox import middleware

    return middleware._masked_answer([page[:limit]], page, limit, kind, cut)


def test_an_answer_sent_again_as_the_same_bytes_is_masked_once(monkeypatch):
    from polycrm.sandbox import middleware

    calls = []
    real = masking.body
    monkeypatch.setattr(masking, "body", lambda text, kind, cut=False: calls.append(text) or real(text, kind, cut=cut))
    monkeypatch.setattr(middleware, "_MASKED_ANSWERS", {})
    page = orjson.dumps({"items": [{"name": "Åkeri AB", "token": "s3cret"}]})
    first = masked_answer(page, 65536, "application/json", False)
    assert "s3cret" not in first and "Åkeri AB" in first
    assert masked_answer(page, 65536, "application/json", False) == first
    assert len(calls) == 1  # the same object: masked once
    # Equal bytes in another object, another limit or type: masked again, and the same way.
    assert masked_answer(bytes(bytearray(page)), 65536, "application/json", False) == first
    assert masked_answer(page, 65535, "application/json", False) == first
    text_page = masked_answer(page, 65536, "text/plain", False)
    assert "s3cret" not in text_page
    assert len(calls) == 4
    # A body cut at the journal's limit is kept cut.
    cut = masked_answer(page, 30, "application/json", True)
    assert "s3cret" not in cut and cut.startswith('{"items":[{"name":"')
    assert masked_answer(page, 30, "application/json", True) == cut
    assert len(calls) == 5
    # Sent in chunks (or larger than MASKED_ANSWER_MAX_BYTES: the middleware gives no whole): masked every time.
    for _ in range(2):
        assert middleware._masked_answer([page[:10], page[10:]], None, 65536, "application/json", False) == first
    assert len(calls) == 7


def test_the_masked_answers_kept_are_bounded(monkeypatch):
    from polycrm.sandbox import middleware

    monkeypatch.setattr(middleware, "_MASKED_ANSWERS", {})
    pages = [orjson.dumps({"n": n}) for n in range(middleware.MASKED_ANSWERS_KEPT + 5)]
    for page in pages:
        assert masked_answer(page, 65536, "application/json", False) == page.decode()
    assert len(middleware._MASKED_ANSWERS) == middleware.MASKED_ANSWERS_KEPT
    assert all(entry[0] in pages[5:] for entry in middleware._MASKED_ANSWERS.values())
