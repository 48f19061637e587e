"""redact(): a credential leaves no trace in a server's text, in clear or inside base64
wherever the encoder's 3-byte groups fall (issue 7 item 17)."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postroom.connectors.mail._errors import redact

USER, PASSWORD, TOKEN = "clinic@example.com", "Pässwort-42!", "ya29.a0AfB_byC-token-value"


def _decodes_to(text: str, secret: bytes) -> bool:
    """Whether any run of ``text`` decodes (standard or URL-safe base64, any start) to bytes holding ``secret``."""
    for piece in text.replace("***", " ").split():
        for alphabet in (piece, piece.replace("-", "+").replace("_", "/")):
            for start in range(4):
                chunk = alphabet[start:]
                chunk = chunk[: len(chunk) - len(chunk) % 4]
                try:
                    if secret in base64.b64decode(chunk, validate=False):
                        return True
                except (binascii.Error, ValueError):
                    continue
    return False


@pytest.mark.fast
def test_every_auth_form_is_removed():
    user, password = USER.encode(), PASSWORD.encode()
    xoauth = f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01".encode()
    echoes = [
        PASSWORD, USER, TOKEN,
        base64.b64encode(b"\0" + user + b"\0" + password).decode(),
        base64.b64encode(user + b"\0" + user + b"\0" + password).decode(),
        base64.b64encode(user).decode(), base64.b64encode(password).decode(),
        base64.b64encode(xoauth).decode(), base64.urlsafe_b64encode(b"\0" + user + b"\0" + password).decode(),
    ]
    for echo in echoes:
        said = redact(f"535 5.7.8 refused: AUTH PLAIN {echo} (try again)", [USER, PASSWORD, TOKEN])
        assert said.startswith("535 5.7.8 refused: AUTH PLAIN ") and said.endswith(" (try again)")
        assert PASSWORD not in said and USER not in said and TOKEN not in said
        for secret in (password, user, TOKEN.encode()):
            assert not _decodes_to(said, secret), (echo, said)


@pytest.mark.fast
def test_plain_text_is_left_alone():
    text = "250 2.0.0 Ok: queued as 4F2A1B"
    assert redact(text, [USER, PASSWORD, TOKEN]) == text
    assert redact(text, ["ab", ""]) == text  # too short to look for


@settings(max_examples=200, deadline=1000)
@given(secret=st.text(min_size=3, max_size=40).filter(lambda s: "*" not in s), before=st.binary(max_size=12), after=st.binary(max_size=12))
def test_a_secret_inside_any_base64_stream_is_removed(secret, before, after):
    raw = secret.encode("utf-8")
    text = "535 " + base64.b64encode(before + raw + after).decode() + " " + secret
    said = redact(text, [secret])
    assert secret not in said
    if len(raw) >= 6:  # shorter values leave too few characters that depend on them alone
        assert not _decodes_to(said, raw)
