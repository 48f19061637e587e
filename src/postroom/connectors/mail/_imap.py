"""IMAP sessions over stdlib :mod:`imaplib`: TLS (IMAPS or STARTTLS), login, UID search and
fetch, flags, MOVE, and IDLE.

* Message bodies are fetched with ``BODY.PEEK[]``, so reading never sets ``\\Seen``;
  flags change only when the get operation commits.
* A literal larger than the SDK's spool threshold is read from the socket straight into
  a spooled file (:meth:`_Streaming.read`), so a large message never sits in memory.
* Folder names are sent quoted, in modified UTF-7 (RFC 3501 5.1.3), so ``Processed``,
  ``Patients/Records`` and ``Réponses`` all work.
* Searches put one non-ASCII string in a literal with ``CHARSET UTF-8``; a server that
  refuses the charset is searched without that criterion (the get checks it on its side).
* IDLE (RFC 2177) runs on one thread without a socket timeout inside imaplib's reads:
  data is awaited with ``select`` and a non-blocking peek at imaplib's buffer, so an
  idle period never breaks the connection and :meth:`ImapSession.idle` can stop within a
  second when asked to.

This is the one module of the IMAP side that uses imaplib internals (marked ``noqa: SLF001``):
``_create_socket`` (overridden, to know that TCP is up), ``_new_tag`` and ``_get_line`` (IDLE,
which imaplib has no method for).
"""

from __future__ import annotations

import base64
import imaplib
import re
import select
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

from ...errors import AuthenticationFailed, ConfigError, ConnectionFailed
from ...sdk import SPOOL_THRESHOLD
from ._inbound import Inbound, redact

__all__ = ["ImapSession", "SelectInfo", "imap_utf7", "uid_set"]

_NOTIFY = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b")


class _Literal:
    """A large literal, read into a spooled file instead of bytes."""

    def __init__(self, file: IO[bytes], size: int) -> None:
        self.file = file
        self.size = size


class _Tracker:
    connected = False


class _Streaming:
    """Mixin: spool large literals; remember when TCP is up."""

    tracker: _Tracker
    file: IO[bytes]

    def _create_socket(self, timeout):  # noqa: ANN001, ANN202 - imaplib's signature
        sock = imaplib.IMAP4._create_socket(self, timeout)  # type: ignore[attr-defined]  # noqa: SLF001 - imaplib internal, see the module doc
        self.tracker.connected = True
        context = getattr(self, "ssl_context", None)
        if isinstance(self, imaplib.IMAP4_SSL) and context is not None:
            return context.wrap_socket(sock, server_hostname=self.host)
        return sock

    def read(self, size: int):  # noqa: ANN201 - bytes or _Literal
        if size <= SPOOL_THRESHOLD:
            return imaplib.IMAP4.read(self, size)  # type: ignore[arg-type]
        spool: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_THRESHOLD)  # noqa: SIM115
        remaining = size
        while remaining:
            chunk = self.file.read(min(remaining, 1024 * 1024))
            if not chunk:
                spool.close()
                raise imaplib.IMAP4.abort("socket error: EOF in the middle of a message")
            spool.write(chunk)
            remaining -= len(chunk)
        spool.seek(0)
        return _Literal(spool, size)


def _answer_once(blob: bytes) -> Callable[[bytes], bytes]:
    """An AUTHENTICATE answer: ``blob`` first; an empty answer to a challenge (an error in JSON)."""
    def answer(challenge: bytes) -> bytes:
        return b"" if challenge else blob
    return answer


def _answer_always(blob: bytes) -> Callable[[bytes], bytes]:
    def answer(challenge: bytes) -> bytes:
        return blob
    return answer


class _IMAP4(_Streaming, imaplib.IMAP4):  # type: ignore[misc]  # file: binary at run time
    pass


class _IMAP4S(_Streaming, imaplib.IMAP4_SSL):  # type: ignore[misc]  # file: binary at run time
    pass


@dataclass
class SelectInfo:
    folder: str
    uidvalidity: int
    uidnext: int  # 0 when the server did not say
    exists: int


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    encoded = imap_utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(uids: list[int]) -> list[str]:
    """UIDs as compact sets (``1:5,7,9:12``), split so that no command line grows long."""
    ordered = sorted(set(uids))
    ranges: list[str] = []
    start = prev = None
    for uid in ordered:
        if start is None:
            start = prev = uid
        elif uid == prev + 1:  # type: ignore[operator]
            prev = uid
        else:
            ranges.append(f"{start}:{prev}" if start != prev else str(start))
            start = prev = uid
    if start is not None:
        ranges.append(f"{start}:{prev}" if start != prev else str(start))
    return [",".join(ranges[i : i + 400]) for i in range(0, len(ranges), 400)]


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in value if v is not None)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


def _broke_at_login(inbound: Inbound, exc: imaplib.IMAP4.abort) -> ConnectionFailed:
    """The connection dropped during the login (a server shutting down says BYE or just
    closes): retryable, not a refused password."""
    return ConnectionFailed(f"the IMAP session with {inbound.where} broke (login): "
                            f"{_text(exc.args[0] if exc.args else exc)}")


@dataclass
class ImapSession:
    """One logged-in IMAP session."""

    inbound: Inbound
    client: imaplib.IMAP4
    greeting: str = ""
    tls: str = ""
    login: str = ""
    capabilities: tuple[str, ...] = ()
    selected: SelectInfo | None = None
    readonly: bool = False
    utf8_search: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, inbound: Inbound) -> ImapSession:
        ep = inbound.endpoint
        tracker = _Tracker()
        phase = "connect"
        client: imaplib.IMAP4 | None = None
        try:
            kind: type[_IMAP4] | type[_IMAP4S] = _IMAP4S if ep.use_ssl else _IMAP4
            fresh = kind.__new__(kind)
            fresh.tracker = tracker
            client = fresh
            if ep.use_ssl:
                client.__init__(ep.host, ep.port, ssl_context=inbound.context(),  # type: ignore[misc]
                                timeout=inbound.conn.timeout_seconds)
            else:
                client.__init__(ep.host, ep.port, timeout=inbound.conn.timeout_seconds)  # type: ignore[misc]
            session = cls(inbound, client, greeting=_text(client.welcome))
            session.capabilities = tuple(c.upper() for c in client.capabilities)
            tls = bool(ep.use_ssl)
            if ep.use_tls and not ep.use_ssl:
                if "STARTTLS" not in session.capabilities:
                    raise inbound.no_starttls()
                phase = "starttls"
                client.starttls(inbound.context())
                tls = True
                session.capabilities = tuple(c.upper() for c in client.capabilities)
            if tls:
                sock = client.sock
                if isinstance(sock, ssl.SSLSocket):
                    session.tls = f"{sock.version()} ({'implicit' if ep.use_ssl else 'STARTTLS'})"
            phase = "login"
            session._login(tls)
            phase = "capabilities"
            typ, data = client.capability()
            if typ == "OK" and data and data[-1]:
                session.capabilities = tuple(_text(data[-1]).upper().split())
            return session
        except (AuthenticationFailed, ConnectionFailed, ConfigError):
            _shutdown(client)
            raise
        except imaplib.IMAP4.error as exc:
            _shutdown(client)
            text = _text(exc.args[0] if exc.args else exc)
            if phase == "connect" and text in ("None", ""):
                # imaplib took a greeting starting "+" for a continuation and kept none of it:
                # IMAP greets with "*", POP3 with "+OK"
                raise inbound.not_protocol("+OK ...") from None
            if phase == "connect" and "unexpected response" in text:
                raise inbound.not_protocol(text.split(":", 1)[-1].strip().strip("'\"")) from None
            if phase == "connect" and "socket error" in text:
                raise inbound.map(EOFError(text), phase, connected=tracker.connected) from None
            raise ConnectionFailed(f"the IMAP server {inbound.where} failed ({phase}): "
                                   f"{redact(text, inbound.secrets)}") from None
        except Exception as exc:
            _shutdown(client)
            raise inbound.map(exc, phase, connected=tracker.connected) from None

    def _login(self, tls: bool) -> None:
        inbound, client = self.inbound, self.client
        ep = inbound.endpoint
        inbound.check_login(tls)
        offered = self.capabilities
        if inbound.xoauth2:
            if "AUTH=XOAUTH2" not in offered:
                raise AuthenticationFailed(
                    f"the IMAP server {inbound.where} does not offer XOAUTH2 "
                    f"(it offers {' '.join(c for c in offered if c.startswith('AUTH=')) or 'LOGIN only'})",
                    field="auth_mechanism", fix="set auth_mechanism: plain or login with a password")
            for attempt in (1, 2):
                blob = inbound.xoauth2_string().encode()
                try:
                    # an error comes as a challenge holding JSON: answer it with nothing
                    client.authenticate("XOAUTH2", _answer_once(blob))
                    self.login = f"{ep.user_name} (XOAUTH2)"
                    return
                except imaplib.IMAP4.abort as exc:
                    raise _broke_at_login(inbound, exc) from None
                except imaplib.IMAP4.error as exc:
                    if attempt == 2 or inbound.tokens is None or not inbound.tokens.refreshes:
                        raise inbound.refused_login(_text(exc.args[0] if exc.args else exc), "xoauth2") from None
                    inbound.tokens.invalidate()
        mechanism = inbound.conn.auth_mechanism
        try:
            if "AUTH=PLAIN" in offered and mechanism in ("auto", "plain"):
                # SASL PLAIN carries UTF-8 user names and passwords; LOGIN takes ASCII only.
                blob = f"\0{ep.user_name}\0{ep.password}".encode()
                client.authenticate("PLAIN", _answer_always(blob))
                self.login = f"{ep.user_name} (PLAIN)"
            else:
                if "LOGINDISABLED" in offered:
                    raise AuthenticationFailed(f"the IMAP server {inbound.where} does not allow LOGIN here "
                                               "(LOGINDISABLED) and offers no PLAIN", field=inbound.fields.use_tls)
                client.login(ep.user_name, ep.password)
                self.login = f"{ep.user_name} (LOGIN)"
        except imaplib.IMAP4.abort as exc:  # before IMAP4.error, which it derives from
            raise _broke_at_login(inbound, exc) from None
        except imaplib.IMAP4.error as exc:
            raise inbound.refused_login(_text(exc.args[0] if exc.args else exc), "password") from None
        except UnicodeEncodeError:
            raise AuthenticationFailed(
                f"the IMAP server {inbound.where} offers no AUTH=PLAIN, and LOGIN cannot carry a non-ASCII user "
                "name or password", field=inbound.fields.password) from None

    # -- helpers ------------------------------------------------------------------------------
    def _check(self, result: tuple[str, list], what: str) -> list:
        typ, data = result
        if typ != "OK":
            raise ConnectionFailed(f"the IMAP server {self.inbound.where} refused {what}: {_text(data)}",
                                   retryable=False)
        return data

    def _call(self, what: str, function, *args):  # noqa: ANN001, ANN202
        try:
            return self._check(function(*args), what)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionFailed(f"the IMAP session with {self.inbound.where} broke ({what}): "
                                   f"{_text(exc.args[0] if exc.args else exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise ConnectionFailed(f"the IMAP server {self.inbound.where} refused {what}: "
                                   f"{_text(exc.args[0] if exc.args else exc)}", retryable=False) from None
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, what, connected=True) from None

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    # -- folders ------------------------------------------------------------------------------
    def select(self, folder: str, readonly: bool = False) -> SelectInfo:
        client = self.client
        try:
            typ, data = client.select(_quoted(folder), readonly=readonly)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionFailed(f"the IMAP session with {self.inbound.where} broke (select): {exc}") from None
        except imaplib.IMAP4.error as exc:
            typ, data = "NO", [str(exc).encode()]
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "select", connected=True) from None
        if typ != "OK":
            raise ConfigError(f"the IMAP server {self.inbound.where} has no folder {folder!r} for "
                              f"{self.inbound.endpoint.user_name} ({_text(data)})", field="folder",
                              fix="check the folder name (INBOX, or a folder as the mail program shows it)")
        exists = int(data[0]) if data and data[0] and data[0].isdigit() else 0
        info = SelectInfo(folder, _number(client, "UIDVALIDITY"), _number(client, "UIDNEXT"), exists)
        self.selected, self.readonly = info, readonly
        return info

    def ensure_folder(self, folder: str) -> None:
        """Create the folder unless it exists (for move_to_folder)."""
        data = self._call(f"LIST {folder}", self.client.list, '""', _quoted(folder))
        if any(item for item in data if item):
            return
        typ, data = self.client.create(_quoted(folder))
        if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(d for d in data if isinstance(d, bytes)):
            raise ConfigError(f"cannot create the folder {folder!r} on {self.inbound.where}: {_text(data)}",
                              field="move_to_folder", fix="create it in the mail program, or pick another one")

    # -- searching ----------------------------------------------------------------------------
    def search(self, criteria: list[str], text: tuple[str, str] | None = None) -> list[int]:
        """UIDs matching ``criteria`` (ASCII atoms); ``text`` = (key, value) adds one
        string criterion, sent as a UTF-8 literal when it is not ASCII."""
        args = list(criteria) or ["ALL"]
        if text is not None:
            key, value = text
            if value.isascii():
                args += [key, _quote_string(value)]
            elif self.utf8_search:
                try:
                    self.client.literal = value.encode("utf-8")  # type: ignore[assignment]  # sent as bytes
                    data = self._call("SEARCH", self.client.uid, "SEARCH", "CHARSET", "UTF-8", *args, key)
                    return _uids(data)
                except ConnectionFailed as exc:
                    if "BADCHARSET" not in exc.message.upper() and "CHARSET" not in exc.message.upper():
                        raise
                    self.utf8_search = False  # the caller checks the criterion itself
            self.client.literal = None
        data = self._call("SEARCH", self.client.uid, "SEARCH", *args)
        return _uids(data)

    # -- changing -----------------------------------------------------------------------------
    def add_flags(self, uids: list[int], flags: str) -> None:
        for chunk in uid_set(uids):
            self._call("STORE", self.client.uid, "STORE", chunk, "+FLAGS.SILENT", f"({flags})")

    def expunge(self, uids: list[int]) -> None:
        if self.has("UIDPLUS"):
            for chunk in uid_set(uids):
                self._call("EXPUNGE", self.client.uid, "EXPUNGE", chunk)
        else:
            self._call("EXPUNGE", self.client.expunge)

    def move(self, uids: list[int], folder: str) -> None:
        if self.has("MOVE"):
            for chunk in uid_set(uids):
                self._call(f"MOVE to {folder}", self.client.uid, "MOVE", chunk, _quoted(folder))
            return
        for chunk in uid_set(uids):
            self._call(f"COPY to {folder}", self.client.uid, "COPY", chunk, _quoted(folder))
        self.add_flags(uids, "\\Deleted")
        self.expunge(uids)

    def noop(self) -> bool:
        try:
            typ, _ = self.client.noop()
            return typ == "OK"
        except (imaplib.IMAP4.error, OSError, EOFError):
            return False

    def logout(self) -> None:
        try:
            self.client.logout()
        except (imaplib.IMAP4.error, OSError, EOFError):
            _shutdown(self.client)

    # -- IDLE ---------------------------------------------------------------------------------
    def idle(self, seconds: float, stop: threading.Event) -> bool:
        """IDLE up to ``seconds`` (or until ``stop`` is set); True when the server announced
        new mail (EXISTS or RECENT)."""
        client = self.client
        notified = False
        try:
            tag = client._new_tag()  # noqa: SLF001 - imaplib internal, see the module doc
            client.send(tag + b" IDLE\r\n")
            while True:
                line = client._get_line()  # noqa: SLF001 - imaplib internal, see the module doc
                if line.startswith(b"+"):
                    break
                if line.startswith(tag):
                    raise ConnectionFailed(f"the IMAP server {self.inbound.where} refused IDLE: {_text(line)}",
                                           retryable=False)
                notified = notified or bool(_NOTIFY.match(line))
            deadline = time.monotonic() + seconds
            while not notified and not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if self._line_ready(min(1.0, remaining)):
                    line = client._get_line()  # noqa: SLF001 - imaplib internal, see the module doc
                    if line.startswith(b"* BYE"):
                        raise ConnectionFailed(f"the IMAP server {self.inbound.where} ended the session: "
                                               f"{_text(line)}")
                    notified = bool(_NOTIFY.match(line))
            client.send(b"DONE\r\n")
            while True:
                line = client._get_line()  # noqa: SLF001 - imaplib internal, see the module doc
                if line.startswith(tag):
                    client.tagged_commands.pop(tag, None)
                    if not line[len(tag):].strip().upper().startswith(b"OK"):
                        raise ConnectionFailed(f"IDLE ended with {_text(line)}")
                    break
                notified = notified or bool(_NOTIFY.match(line))
            return notified
        except imaplib.IMAP4.abort as exc:
            raise ConnectionFailed(f"the IMAP session with {self.inbound.where} broke while idle: "
                                   f"{_text(exc.args[0] if exc.args else exc)}") from None
        except (OSError, EOFError) as exc:
            raise self.inbound.map(exc, "idle", connected=True) from None

    def _buffered(self) -> tuple[bool, bool]:
        """(data waiting in imaplib's buffer or the TLS layer, the peer closed)."""
        sock = self.client.sock
        previous = sock.gettimeout()
        sock.settimeout(0.0)
        try:
            data = self.client.file.peek(1)  # type: ignore[union-attr]  # a BufferedReader at run time
            return bool(data), not data
        except (BlockingIOError, ssl.SSLWantReadError):
            return False, False
        finally:
            sock.settimeout(previous)

    def _line_ready(self, wait: float) -> bool:
        ready, _ = self._buffered()
        if ready:
            return True
        readable, _, _ = select.select([self.client.sock], [], [], wait)
        if not readable:
            return False
        ready, closed = self._buffered()
        if closed and not ready:
            raise EOFError("the server closed the connection")
        return ready


def _quote_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uids(data: list) -> list[int]:
    out: list[int] = []
    for item in data:
        if isinstance(item, bytes):
            out.extend(int(x) for x in item.split() if x.isdigit())
    return out


def _number(client: imaplib.IMAP4, name: str) -> int:
    _, data = client.response(name)
    for item in data or ():
        if isinstance(item, bytes) and item.strip().isdigit():
            return int(item)
    return 0


def _shutdown(client: imaplib.IMAP4 | None) -> None:
    if client is None:
        return
    try:
        client.shutdown()
    except (OSError, AttributeError):
        pass
