"""POP3 sessions over stdlib :mod:`poplib`: TLS (POP3S or STLS), login, listing, streaming RETR.

``RETR`` is read line by line straight into a spooled file (memory up to the SDK's spool
threshold, then disk), so a large message never sits in memory; poplib's own ``retr``
would hold every line in a list and refuses lines over 2048 bytes. Deletions (``DELE``)
take effect only at ``QUIT``: a session that ends any other way deletes nothing.

This is the one module of the POP3 side that uses poplib internals (marked ``noqa: SLF001``):
``_create_socket`` (overridden, to know that TCP is up and to wrap TLS with the server name),
``_shortcmd``, ``_putcmd`` and ``_getresp`` (commands poplib has no method for, and the
pipelined RETR stream).
"""

from __future__ import annotations

import base64
import poplib
import socket
import ssl
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from io import BytesIO
from itertools import islice
from tempfile import TemporaryFile
from typing import IO

from ...errors import AuthenticationFailed, ConfigError, ConnectionFailed
from ...sdk import SPOOL_THRESHOLD
from ._inbound import Inbound, redact

__all__ = ["Pop3Session", "Pop3Message"]

_LINE_LIMIT = 64 * 1024
_CHUNK = 256 * 1024  # read from the connection this much at a time
_FLUSH = 1024 * 1024  # an answer's lines go out once this much waits


def _dropped(exc: poplib.error_proto) -> bool:
    """poplib's word for a connection closed in the middle of a reply (``-ERR EOF``)."""
    return _text(exc).strip() == "-ERR EOF"


def _broke_at_login(inbound: Inbound) -> ConnectionFailed:
    """The server closed the connection during the login: retryable, not a refused password."""
    return ConnectionFailed(f"the POP3 session with {inbound.where} broke (login): the server closed the connection")

class _Tracker:
    """Set by the socket factory once TCP is up (before TLS and the greeting)."""

    connected = False


class _POP3(poplib.POP3):
    tracker: _Tracker

    def _create_socket(self, timeout):  # noqa: ANN001, ANN202 - poplib's signature
        sock = super()._create_socket(timeout)  # type: ignore[misc]  # noqa: SLF001 - poplib internal, see the module doc
        self.tracker.connected = True
        return sock


class _POP3S(poplib.POP3_SSL):
    tracker: _Tracker

    def _create_socket(self, timeout):  # noqa: ANN001, ANN202
        sock = poplib.POP3._create_socket(self, timeout)  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
        self.tracker.connected = True
        return self.context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # typeshed lacks POP3_SSL.context


@dataclass
class Pop3Message:
    number: int
    uidl: str
    size: int


@dataclass
class Pop3Session:
    """One logged-in POP3 session."""

    inbound: Inbound
    client: poplib.POP3
    greeting: str = ""
    tls: str = ""
    login: str = ""
    capabilities: dict[str, list[str]] = field(default_factory=dict)
    broken: bool = False  # a pipelined answer could not be read: the session cannot go on

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, inbound: Inbound) -> Pop3Session:
        ep = inbound.endpoint
        tracker = _Tracker()
        phase = "connect"
        client: poplib.POP3 | None = None
        try:
            kind: type[_POP3] | type[_POP3S] = _POP3S if ep.use_ssl else _POP3
            fresh = kind.__new__(kind)
            fresh.tracker = tracker
            client = fresh
            if ep.use_ssl:
                client.__init__(ep.host, ep.port, timeout=inbound.conn.timeout_seconds,  # type: ignore[misc]
                                context=inbound.context())
            else:
                client.__init__(ep.host, ep.port, timeout=inbound.conn.timeout_seconds)  # type: ignore[misc]
            session = cls(inbound, client, greeting=client.getwelcome().decode("utf-8", "replace"))
            phase = "capabilities"
            session.capabilities = _capa(client)
            tls = bool(ep.use_ssl)
            if ep.use_tls and not ep.use_ssl:
                if "STLS" not in session.capabilities:
                    raise inbound.no_starttls()
                phase = "starttls"
                client.stls(inbound.context())
                tls = True
                session.capabilities = _capa(client)
            if tls:
                sock = client.sock
                session.tls = f"{sock.version()} ({'implicit' if ep.use_ssl else 'STLS'})" if isinstance(
                    sock, ssl.SSLSocket) else "yes"
            phase = "login"
            session._login(tls)
            return session
        except (AuthenticationFailed, ConnectionFailed, ConfigError):
            _close(client)
            raise
        except poplib.error_proto as exc:
            _close(client)
            text = _text(exc)
            if phase == "connect":
                raise inbound.not_protocol(text) from None
            raise ConnectionFailed(f"the POP3 server {inbound.where} failed ({phase}): "
                                   f"{redact(text, inbound.secrets)}") from None
        except Exception as exc:
            _close(client)
            raise inbound.map(exc, phase, connected=tracker.connected) from None

    def _login(self, tls: bool) -> None:
        inbound, client = self.inbound, self.client
        ep = inbound.endpoint
        inbound.check_login(tls)
        sasl = [m.upper() for m in self.capabilities.get("SASL", [])]
        if inbound.xoauth2:
            if "XOAUTH2" not in sasl:
                raise AuthenticationFailed(
                    f"the POP3 server {inbound.where} does not offer XOAUTH2 (it offers {' '.join(sasl) or 'no SASL'})",
                    field="auth_mechanism", fix="set auth_mechanism: plain or login with a password")
            for attempt in (1, 2):
                token = base64.b64encode(inbound.xoauth2_string().encode()).decode()
                try:
                    resp = client._shortcmd(f"AUTH XOAUTH2 {token}")  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
                    if resp.startswith(b"+ ") or resp == b"+":  # an error challenge: end it
                        client._shortcmd("")  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
                    self.login = f"{ep.user_name} (XOAUTH2)"
                    return
                except poplib.error_proto as exc:
                    if _dropped(exc):
                        raise _broke_at_login(inbound) from None
                    if attempt == 2 or inbound.tokens is None or not inbound.tokens.refreshes:
                        raise inbound.refused_login(_text(exc), "xoauth2") from None
                    inbound.tokens.invalidate()
        try:
            mechanism = inbound.conn.auth_mechanism
            if "PLAIN" in sasl and mechanism in ("auto", "plain"):
                # SASL PLAIN carries UTF-8 user names and passwords; USER/PASS may not.
                blob = base64.b64encode(f"\0{ep.user_name}\0{ep.password}".encode()).decode()
                client._shortcmd(f"AUTH PLAIN {blob}")  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
                self.login = f"{ep.user_name} (PLAIN)"
            else:
                client.user(ep.user_name)
                client.pass_(ep.password)
                self.login = f"{ep.user_name} (USER/PASS)"
        except poplib.error_proto as exc:
            if _dropped(exc):
                raise _broke_at_login(inbound) from None
            raise inbound.refused_login(_text(exc), "password") from None

    # -- reading ------------------------------------------------------------------------------
    def listing(self) -> list[Pop3Message]:
        """Every message in the maildrop: number, UIDL, size."""
        try:
            uidls, sizes = self._lines("UIDL"), self._lines("LIST")
        except poplib.error_proto as exc:
            if "UIDL" not in self.capabilities and self.capabilities:
                raise ConnectionFailed(
                    f"the POP3 server {self.inbound.where} does not support UIDL, which Postroom needs to know "
                    "which messages it has read", retryable=False) from None
            raise ConnectionFailed(f"the POP3 server {self.inbound.where} refused to list messages: {_text(exc)}") \
                from None
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "list", connected=True) from None
        size_of = {}
        for line in sizes:
            number, _, octets = line.decode("ascii", "replace").partition(" ")
            size_of[int(number)] = int(octets.split()[0]) if octets.strip() else 0
        out = []
        for line in uidls:
            number, _, uidl = line.decode("utf-8", "replace").partition(" ")
            out.append(Pop3Message(int(number), uidl.strip(), size_of.get(int(number), 0)))
        return out

    def _lines(self, command: str) -> list[bytes]:
        """The lines of a multiline answer (raises poplib.error_proto, OSError, EOFError)."""
        self.client._putcmd(command)  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
        sink = _ByteSink()
        _Answers(self.client.file).read(sink)
        return sink.getvalue().splitlines()

    def top(self, number: int) -> bytes:
        """The header block of one message (TOP n 0)."""
        return self._multiline(f"TOP {number} 0", _ByteSink()).getvalue()

    def retrieve(self, number: int) -> IO[bytes]:
        """The raw message in memory, or in a temporary file past the spool threshold,
        positioned at its start."""
        spool = _Spool()
        try:
            self._multiline(f"RETR {number}", spool)
        except BaseException:
            spool.close()
            raise
        return spool.result()

    def retrieve_many(self, numbers: list[int], window: int = 64) -> Generator[tuple[int, IO[bytes]], None, None]:
        """The messages in order, ``RETR`` commands pipelined ``window`` ahead when the
        server offers PIPELINING (RFC 2449), so the round trips overlap. A consumer that
        stops early leaves no answer unread: the rest are read and dropped."""
        if "PIPELINING" not in self.capabilities:
            for number in numbers:
                yield number, self.retrieve(number)
            return
        waiting: deque[int] = deque()
        ahead = iter(numbers)

        def send_more() -> None:
            """Top the window up, the commands in one write (one TLS record, one system call)."""
            batch = [number for number in islice(ahead, window - len(waiting))]
            if batch:
                self._send_lines([f"RETR {number}" for number in batch])
                waiting.extend(batch)

        send_more()
        answers = _Answers(self.client.file)
        try:
            while waiting:
                number = waiting.popleft()
                spool = _Spool()
                try:
                    self._read_multiline(f"RETR {number}", spool, answers)
                except BaseException:
                    spool.close()
                    raise
                if len(waiting) <= window // 2:
                    send_more()
                yield number, spool.result()
        finally:
            while waiting:  # answers to commands already sent: read them, or the session is lost
                number = waiting.popleft()
                try:
                    self._read_multiline(f"RETR {number}", _Discard(), answers)
                except (ConnectionFailed, OSError):
                    self.broken = True
                    break
            if answers.buffer:  # pragma: no cover - a server that sent more than it was asked
                self.broken = True

    def _send(self, command: str) -> None:
        try:
            self.client._putcmd(command)  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "read", connected=True) from None

    def _send_lines(self, commands: list[str]) -> None:
        try:
            self.client.sock.sendall("".join(f"{c}\r\n" for c in commands).encode("ascii"))
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "read", connected=True) from None

    def _multiline(self, command: str, out):  # noqa: ANN001, ANN202 - a binary writer
        self._send(command)
        answers = _Answers(self.client.file)
        out = self._read_multiline(command, out, answers)
        if answers.buffer:  # pragma: no cover - a server that sent more than it was asked
            self.broken = True
        return out

    def _read_multiline(self, command: str, out, answers: _Answers):  # noqa: ANN001, ANN202 - a binary writer
        try:
            answers.read(out)
        except poplib.error_proto as exc:
            raise ConnectionFailed(f"the POP3 server {self.inbound.where} refused {command.split()[0]}: "
                                   f"{_text(exc)}") from None
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "read", connected=True) from None
        return out

    # -- changing -----------------------------------------------------------------------------
    def delete(self, number: int) -> None:
        try:
            self.client.dele(number)
        except poplib.error_proto as exc:
            raise ConnectionFailed(f"the POP3 server {self.inbound.where} refused DELE {number}: {_text(exc)}") \
                from None
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "delete", connected=True) from None

    def quit(self) -> None:
        """End the session; the server applies the deletions now (UPDATE state)."""
        try:
            self.client.quit()
        except poplib.error_proto as exc:
            _close(self.client)
            raise ConnectionFailed(f"the POP3 server {self.inbound.where} did not apply the deletions at QUIT: "
                                   f"{_text(exc)}") from None
        except (OSError, EOFError) as exc:
            _close(self.client)
            raise self.inbound.map(exc, "quit", connected=True) from None

    def alive(self) -> bool:
        if self.broken:
            return False
        try:
            self.client.noop()
            return True
        except (poplib.error_proto, OSError, EOFError):
            return False

    def abandon(self) -> None:
        """Leave without applying anything: RSET (undo any DELE), QUIT, close the socket."""
        if not self.broken:
            try:
                self.client._shortcmd("RSET")  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
                self.client._shortcmd("QUIT")  # type: ignore[attr-defined]  # noqa: SLF001 - poplib internal, see the module doc
            except (poplib.error_proto, OSError, EOFError):
                pass
        _close(self.client)


class _Answers:
    """Multiline answers (RFC 1939 3) read from the connection in large chunks, not line by
    line: the status line (``-ERR`` raises :class:`poplib.error_proto`, as poplib does), then
    the lines up to the one holding only ``.``, dot-unstuffed, written to ``out`` in pieces of
    whole lines (at most about :data:`_FLUSH` bytes held). Pipelined answers follow each
    other in :attr:`buffer`; all of them read, it is empty.

    ``buffer[0]`` is never content: a line feed when the data after it starts a line (so
    ``\n.\r\n`` finds the end and ``\n..`` the stuffed dots even on the first line), any
    other byte in the middle of a line (a line longer than :data:`_FLUSH`)."""

    def __init__(self, file: IO[bytes]) -> None:
        self.read1 = file.read1  # type: ignore[attr-defined]  # a BufferedReader at run time
        self.buffer = bytearray()

    def _fill(self) -> None:
        chunk = self.read1(_CHUNK)
        if not chunk:
            raise EOFError("the server closed the connection in the middle of a message")
        self.buffer += chunk

    def _status(self) -> None:
        buffer = self.buffer
        while (end := buffer.find(b"\n")) < 0:
            if len(buffer) > _LINE_LIMIT:
                raise poplib.error_proto("-ERR line too long")
            chunk = self.read1(_CHUNK)
            if not chunk:
                raise poplib.error_proto("-ERR EOF")
            buffer += chunk
        status = bytes(buffer[:end]).rstrip(b"\r")
        del buffer[:end]  # keep the line feed: the message starts a line
        if not status.startswith(b"+"):
            del buffer[:1]
            raise poplib.error_proto(status)

    def read(self, out) -> None:  # noqa: ANN001 - a binary writer
        self._status()
        buffer = self.buffer
        scan = 0
        while True:
            end = buffer.find(b"\n.\r\n", scan)
            bare = buffer.find(b"\n.\n", scan, end + 3 if end >= 0 else len(buffer))
            if bare >= 0:
                end, marker = bare, 3
            else:
                marker = 4
            if end >= 0:
                out.write(bytes(buffer[: end + 1]).replace(b"\n..", b"\n.")[1:])
                del buffer[: end + marker]
                return
            if len(buffer) > _FLUSH:
                last = buffer.rfind(b"\n")
                if last > 0:  # whole lines out; the last line feed stays as buffer[0]
                    out.write(bytes(buffer[: last + 1]).replace(b"\n..", b"\n.")[1:])
                    del buffer[:last]
                else:  # one long line: out as it is (no line feed, nothing stuffed in it)
                    out.write(bytes(buffer[1:]))
                    buffer[:] = b"-"
            scan = max(0, len(buffer) - 4)
            self._fill()


class _Spool:
    """Lines kept in a list (cheap appends) until the spool threshold, then in a temporary file."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.file: IO[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self.file is not None:
            self.file.write(data)
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size > SPOOL_THRESHOLD:
            self.file = TemporaryFile()  # noqa: SIM115 - closed by the caller
            self.file.write(b"".join(self.parts))
            self.parts = []

    def result(self) -> IO[bytes]:
        if self.file is not None:
            self.file.seek(0)
            return self.file
        return BytesIO(b"".join(self.parts))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _Discard:
    def write(self, data: bytes) -> None:
        pass


class _ByteSink:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _capa(client: poplib.POP3) -> dict[str, list[str]]:
    try:
        return client.capa()
    except poplib.error_proto:
        return {}


def _text(exc: BaseException) -> str:
    value = exc.args[0] if exc.args else exc
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


def _close(client: poplib.POP3 | None) -> None:
    if client is None:
        return
    try:
        client.close()
    except (OSError, AttributeError):
        pass
    sock = getattr(client, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.close()
        except OSError:
            pass
