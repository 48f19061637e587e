"""Issue 7 item 16: a user name or password with non-ASCII characters logs in (SASL PLAIN
and LOGIN carry UTF-8) or fails as a refused login (exit 3), never with a traceback."""

from __future__ import annotations

import pytest

from postroom.errors import AuthenticationFailed
from postroom.sdk import Document, Failed
from support.sendkit import gmail_like, run, send_op

USER = "josé.müller@example.com"
PASSWORD = "Pässwörd-ßÆ-密码-7"


@pytest.mark.parametrize("mechanism", ["auto", "plain", "login"])
def test_a_utf8_password_and_user_name_log_in(devmail_factory, mechanism):
    dm = devmail_factory(auth_required=True, users={USER: PASSWORD})
    connection = gmail_like(dm, user_name=USER, password=PASSWORD, auth_mechanism=mechanism)
    [result] = run(connection, send_op(**{"from": "clinic@example.com"}),
                   [Document("hello", {"mail.to_address": "a@example.com"})])
    assert not isinstance(result, Failed), result
    [stored] = dm.store.wait_for(1)
    assert stored.auth_user == USER


@pytest.mark.parametrize("mechanism", ["auto", "plain", "login"])
def test_a_wrong_utf8_password_is_a_refused_login(devmail_factory, mechanism):
    dm = devmail_factory(auth_required=True, users={USER: PASSWORD})
    connection = gmail_like(dm, user_name=USER, password="Fälsch-Pässwört", auth_mechanism=mechanism)
    with pytest.raises(AuthenticationFailed) as caught:
        run(connection, send_op(**{"from": "clinic@example.com"}), [Document("x", {"mail.to_address": "a@example.com"})])
    assert caught.value.exit_code == 3
    assert "refused the user name or password" in str(caught.value) and "Fälsch" not in str(caught.value)
    assert len(dm.store) == 0
