"""Masking of journal bodies: the shortcut for bodies that name no secret gives what the walk gives."""

from __future__ import annotations

import orjson
import pytest

from polycrm.sandbox import masking


@pytest.mark.parametrize("text", [
    '{"name": "Company 1 AB", "addresses": {"visiting": {"city": "G\u00f6teborg"}}, "id": 7}',
    '[1, 2.5, null, true, {"a": []}]',
    '{"nested": {"deep": [{"x": "no secrets here"}]}}',
])
def test_a_body_without_secret_keys_is_re_encoded_as_before(text):
    assert masking.json_text(text) == orjson.dumps(orjson.loads(text)).decode()


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
