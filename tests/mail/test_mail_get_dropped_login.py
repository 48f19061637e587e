"""A server that closes the connection during the login (Dovecot shutting down says
``* BYE`` or just closes) is a broken session, retryable, not a refused password: a listener
reading it keeps backing off as for a server that is down instead of showing failed at once
(docs/adr/0011-retryable-errors.md). Found by tests/runtime/test_listener_mail.py's outage
test: a stop of Dovecot that landed in the login read "refused the user name or password".

Small scripted servers on a local socket: they greet and answer CAPABILITY like a real one,
then drop the connection at the login command, or refuse it."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest

from postroom.connectors.mail import MailConnection
from postroom.connectors.mail._imap import ImapSession
from postroom.connectors.mail._inbound import Inbound
from postroom.connectors.mail._pop3 import Pop3Session
from postroom.errors import AuthenticationFailed, ConnectionFailed

IMAP_CAPABILITY = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE\r\n"


IMAP_REFUSED = "NO [AUTHENTICATIONFAILED] Authentication failed."
POP3_REFUSED = "-ERR [AUTH] Authentication failed."
# what Dovecot answers while its auth process is gone (stopping, restarting): RFC 5530's
# UNAVAILABLE and RFC 3206's SYS/TEMP say "try again later"
IMAP_TEMPORARY = "NO [UNAVAILABLE] Temporary authentication failure. [host:2026-12-04 18:00:00]"
POP3_TEMPORARY = "-ERR [SYS/TEMP] Temporary authentication failure. [host:2026-12-04 18:00:00]"


def _imap(conn: socket.socket, refusal: str | None) -> None:
    stream = conn.makefile("rb")
    conn.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE] ready\r\n")
    for line in stream:
        tag, _, command = line.decode().partition(" ")
        if command.upper().startswith("CAPABILITY"):
            conn.sendall(IMAP_CAPABILITY + f"{tag} OK done\r\n".encode())
        elif command.upper().startswith("AUTHENTICATE"):
            conn.sendall(b"+ \r\n")
            stream.readline()  # the credentials
            if refusal:
                conn.sendall(f"{tag} {refusal}\r\n".encode())
            else:
                conn.sendall(b"* BYE Server shutting down.\r\n")
                return
        else:
            conn.sendall(f"{tag} BAD unexpected\r\n".encode())


def _pop3(conn: socket.socket, refusal: str | None) -> None:
    stream = conn.makefile("rb")
    conn.sendall(b"+OK ready\r\n")
    for line in stream:
        command = line.decode().strip().upper()
        if command == "CAPA":
            conn.sendall(b"+OK\r\nUSER\r\nUIDL\r\n.\r\n")
        elif command.startswith("USER"):
            conn.sendall(b"+OK\r\n")
        elif command.startswith("PASS"):
            if refusal:
                conn.sendall(f"{refusal}\r\n".encode())
            else:
                return  # closes without a reply
        else:
            conn.sendall(b"-ERR unexpected\r\n")


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[socket.socket, str | None], None], str | None], int]]:
    listeners: list[socket.socket] = []

    def start(script: Callable[[socket.socket, str | None], None], refusal: str | None) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    script(conn, refusal)
                except OSError:
                    pass

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


def _inbound(port: int, protocol: str) -> Inbound:
    return Inbound(MailConnection.model_validate({
        "host": "127.0.0.1", "port": port, "use_ssl": False, "use_tls": False, "allow_insecure_auth": True,
        "user_password_auth": True, "user_name": "clinic@example.com", "password": "Pass-Word-42",
        "inbound_protocol": protocol, "timeout_seconds": 5}))


@pytest.mark.parametrize(("protocol", "script"), [("imap", _imap), ("pop3", _pop3)])
def test_a_connection_dropped_at_the_login_is_retryable_not_a_refused_password(scripted, protocol, script):  # noqa: ANN001
    port = scripted(script, None)
    opener = ImapSession.open if protocol == "imap" else Pop3Session.open
    with pytest.raises(ConnectionFailed) as caught:
        opener(_inbound(port, protocol))
    assert not isinstance(caught.value, AuthenticationFailed)
    assert caught.value.retryable is True
    assert f"the {protocol.upper()} session with 127.0.0.1:{port} broke (login)" in str(caught.value)
    assert "Pass-Word-42" not in str(caught.value)


@pytest.mark.parametrize(("protocol", "script", "refusal"),
                         [("imap", _imap, IMAP_REFUSED), ("pop3", _pop3, POP3_REFUSED)])
def test_a_refused_login_is_still_a_refused_login(scripted, protocol, script, refusal):  # noqa: ANN001
    port = scripted(script, refusal)
    opener = ImapSession.open if protocol == "imap" else Pop3Session.open
    with pytest.raises(AuthenticationFailed) as caught:
        opener(_inbound(port, protocol))
    assert caught.value.retryable is False and "refused the user name or password" in str(caught.value)


@pytest.mark.parametrize(("protocol", "script", "refusal"),
                         [("imap", _imap, IMAP_TEMPORARY), ("pop3", _pop3, POP3_TEMPORARY)])
def test_a_temporary_authentication_failure_is_retryable_not_a_refused_password(  # noqa: ANN001
        scripted, protocol, script, refusal):
    """Found by the listener outage test: a Dovecot stopping (or starting) answers the login
    with a temporary failure while its auth process is gone; the listener must back off as for
    a server that is down, not show failed at once."""
    port = scripted(script, refusal)
    opener = ImapSession.open if protocol == "imap" else Pop3Session.open
    with pytest.raises(ConnectionFailed) as caught:
        opener(_inbound(port, protocol))
    assert not isinstance(caught.value, AuthenticationFailed)
    assert caught.value.retryable is True
    said = str(caught.value)
    assert f"the {protocol.upper()} server 127.0.0.1:{port} could not check the login just now" in said
    assert "Temporary authentication failure" in said and "Pass-Word-42" not in said


@pytest.mark.fast
@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_tls_cut_by_the_peer_is_retryable_and_a_tls_mismatch_is_not(protocol: str) -> None:
    """A server stopping mid-handshake cuts TLS (EOF): retryable like a dropped connection.
    A handshake the server refuses (no shared version) fails the same way next time."""
    inbound = _inbound(993 if protocol == "imap" else 995, protocol)
    cut = inbound.map(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "connect", connected=True)
    refused = inbound.map(ssl.SSLError(1, "[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol"), "starttls",
                          connected=True)
    assert isinstance(cut, ConnectionFailed) and cut.retryable is True
    assert isinstance(refused, ConnectionFailed) and refused.retryable is False
    assert "TLS after STARTTLS with" in str(refused)
