"""devmail's POP3 and POP3S servers, driven by poplib (and a raw socket for the wire format)."""

from __future__ import annotations

import poplib
import socket
import ssl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.devmail_helpers import PASSWORD, USER, ca_context, no_leaked_threads, pop3, send  # noqa: F401 - no_leaked_threads is an autouse fixture


def letter(number: int, to: str = USER) -> bytes:
    return (
        f"From: dr.smith@example.com\r\nTo: {to}\r\nSubject: Letter {number}\r\n"
        f"Message-ID: <letter-{number}@example.com>\r\n\r\nBody of letter {number}.\r\nSecond line.\r\n"
    ).encode()


def retr_bytes(client: poplib.POP3, which: int) -> bytes:
    _, lines, _ = client.retr(which)
    return b"".join(line + b"\r\n" for line in lines)


def test_login_stat_list_uidl_retr(devmail):
    for number in (1, 2):
        send(devmail, letter(number))
    send(devmail, letter(3, "someone.else@example.com"), to=["someone.else@example.com"])
    stored = [m for m in devmail.wait_for(3) if USER in m.rcpt_tos]

    client = pop3(devmail)
    try:
        sizes = [len(letter(1)), len(letter(2))]
        assert client.stat() == (2, sum(sizes))
        _, listing, _ = client.list()
        assert listing == [f"1 {sizes[0]}".encode(), f"2 {sizes[1]}".encode()]
        assert client.list(2) == f"+OK 2 {sizes[1]}".encode()
        _, uids, _ = client.uidl()
        assert uids == [f"1 {stored[0].id}".encode(), f"2 {stored[1].id}".encode()]
        assert client.uidl(1) == f"+OK 1 {stored[0].id}".encode()
        assert retr_bytes(client, 1) == letter(1)
        assert retr_bytes(client, 2) == letter(2)
        response, _, octets = client.retr(1)
        assert response == f"+OK {sizes[0]} octets".encode()
        assert client.noop() == b"+OK"
    finally:
        client.quit()


def test_top_returns_headers_and_n_body_lines(devmail):
    send(devmail, letter(1))
    client = pop3(devmail)
    try:
        _, lines, _ = client.top(1, 1)
        head = letter(1).split(b"\r\n\r\n")[0].split(b"\r\n")
        assert lines == [*head, b"", b"Body of letter 1."]
        _, lines, _ = client.top(1, 0)
        assert lines == [*head, b""]
    finally:
        client.quit()


def test_deletions_apply_only_at_quit(devmail):
    for number in (1, 2, 3):
        send(devmail, letter(number))
    ids = [m.id for m in devmail.wait_for(3)]

    # DELE, then hang up without QUIT: nothing is deleted (RFC 1939: no UPDATE state).
    client = pop3(devmail)
    client.dele(1)
    assert client.stat()[0] == 2
    with pytest.raises(poplib.error_proto, match=r"message 1 is deleted"):
        client.retr(1)
    with pytest.raises(poplib.error_proto):
        client.dele(1)
    client.close()

    # RSET undoes DELE within a session.
    client = pop3(devmail)
    assert client.stat()[0] == 3
    client.dele(2)
    client.rset()
    assert client.stat()[0] == 3
    client.dele(2)
    assert client.quit().startswith(b"+OK")

    client = pop3(devmail)
    try:
        _, uids, _ = client.uidl()
        # UIDs stay those of the messages, numbers are dense again.
        assert uids == [f"1 {ids[0]}".encode(), f"2 {ids[2]}".encode()]
        assert retr_bytes(client, 2) == letter(3)
    finally:
        client.quit()

    # POP3 deletes from the user's mailbox; the store (web inbox, tests) keeps the message.
    assert [m.id for m in devmail.messages()] == ids
    assert devmail.store.get(ids[1]).deleted_for == frozenset({USER})


def test_mailbox_is_locked_while_a_session_holds_it(devmail):
    first = pop3(devmail)
    try:
        second = poplib.POP3("127.0.0.1", devmail.pop3_port, timeout=10)
        second.user(USER)
        with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
            second.pass_(PASSWORD)
        second.quit()
    finally:
        first.quit()
    pop3(devmail).quit()  # free again after QUIT


def test_wrong_password_is_refused(devmail):
    client = poplib.POP3("127.0.0.1", devmail.pop3_port, timeout=10)
    client.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        client.pass_("wrong")
    client.user("nobody@example.com")
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        client.pass_(PASSWORD)
    client.quit()


def test_transaction_commands_need_login_and_bad_numbers_are_errors(devmail):
    send(devmail, letter(1))
    client = poplib.POP3("127.0.0.1", devmail.pop3_port, timeout=10)
    with pytest.raises(poplib.error_proto, match="not allowed"):
        client.stat()
    with pytest.raises(poplib.error_proto, match="unknown command"):
        client._shortcmd("XYZZY")
    client.user(USER)
    client.pass_(PASSWORD)
    for bad in ("RETR 2", "RETR 0", "RETR x", "DELE 9", "LIST 5", "TOP 1"):
        with pytest.raises(poplib.error_proto):
            client._shortcmd(bad)
    client.quit()


def test_pop3s_verified_against_the_ca(devmail):
    send(devmail, letter(1))
    client = poplib.POP3_SSL("localhost", devmail.pop3s_port, context=ca_context(devmail), timeout=10)
    try:
        assert "STLS" not in client.capa()
        client.user(USER)
        client.pass_(PASSWORD)
        assert retr_bytes(client, 1) == letter(1)
    finally:
        client.quit()


def test_stls_upgrades_the_plain_port(devmail):
    send(devmail, letter(1))
    client = poplib.POP3("localhost", devmail.pop3_port, timeout=10)
    try:
        assert "STLS" in client.capa()
        client.stls(context=ca_context(devmail))
        assert isinstance(client.sock, ssl.SSLSocket)
        assert "STLS" not in client.capa()
        client.user(USER)
        client.pass_(PASSWORD)
        assert retr_bytes(client, 1) == letter(1)
    finally:
        client.quit()


def test_auth_require_tls_refuses_login_before_stls(devmail_factory):
    devmail = devmail_factory(auth_require_tls=True)
    client = poplib.POP3("127.0.0.1", devmail.pop3_port, timeout=10)
    try:
        assert "USER" not in client.capa()
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            client.user(USER)
        client.stls(context=ca_context(devmail))
        assert "USER" in client.capa()
        client.user(USER)
        client.pass_(PASSWORD)
    finally:
        client.quit()


def test_catch_all_user_sees_everything_others_see_their_own(devmail_factory):
    devmail = devmail_factory(
        users={"alice@example.com": "a-pass", "postmaster@example.com": "p-pass"},
        catch_all=["postmaster@example.com"],
    )
    send(devmail, letter(1, "alice@example.com"), to=["ALICE@example.com"])
    send(devmail, letter(2, "bob@example.com"), to=["bob@example.com"])
    devmail.wait_for(2)
    alice = pop3(devmail, "alice@example.com", "a-pass")
    assert alice.stat()[0] == 1
    assert retr_bytes(alice, 1) == letter(1, "alice@example.com")
    alice.quit()
    postmaster = pop3(devmail, "postmaster@example.com", "p-pass")
    assert postmaster.stat()[0] == 2
    postmaster.quit()


def test_catch_all_must_name_a_configured_user():
    from postroom.devmail import DevMail

    with pytest.raises(ValueError, match="catch_all"):
        DevMail(users={"a@example.com": "x"}, catch_all=["b@example.com"])


DOTTY = (
    b"Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n...three\r\nnot. a. dot\r\n .space first\r\nend.\r\n"
)


def test_dot_stuffing_round_trip_and_wire_format(devmail):
    send(devmail, DOTTY)
    (stored,) = devmail.wait_for(1)
    assert stored.raw == DOTTY  # smtplib stuffed, aiosmtpd unstuffed

    client = pop3(devmail)
    try:
        assert retr_bytes(client, 1) == DOTTY  # devmail stuffed, poplib unstuffed
    finally:
        client.quit()

    # On the wire, every line starting with "." carries one more, and ".\r\n" ends it.
    with socket.create_connection(("127.0.0.1", devmail.pop3_port), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"+OK")
        sock.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\nRETR 1\r\nQUIT\r\n".encode())  # pipelined
        assert reader.readline().startswith(b"+OK")
        assert reader.readline().startswith(b"+OK Logged in")
        assert reader.readline() == f"+OK {len(DOTTY)} octets\r\n".encode()
        body = b""
        while not body.endswith(b"\r\n.\r\n"):
            line = reader.readline()
            assert line, "connection closed before the end of the multi-line reply"
            body += line
        assert body == (
            b"Subject: dots\r\n\r\n..\r\n...\r\n..leading dot\r\n....three\r\n"
            b"not. a. dot\r\n .space first\r\nend.\r\n.\r\n"
        )
        assert reader.readline().startswith(b"+OK Bye")


_line = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n", exclude_categories=("Cs",)), max_size=40
).map(lambda text: text.encode("utf-8"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(_line, st.sampled_from([b".", b"..", b".x", b""])), max_size=12))
def test_any_body_survives_smtp_then_pop3(devmail, lines):
    raw = b"Subject: property\r\n\r\n" + b"".join(line + b"\r\n" for line in lines)
    send(devmail, raw)
    client = pop3(devmail)
    try:
        count, _ = client.stat()
        assert retr_bytes(client, count) == raw
        client.dele(count)
    finally:
        client.quit()
