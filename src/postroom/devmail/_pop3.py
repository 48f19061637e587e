"""A POP3 server (RFC 1939) with STLS (RFC 2595) and implicit TLS (POP3S).

Written on asyncio streams and run in one thread of its own, hosting the plain and the
implicit-TLS listener together. It serves per-user views of the shared
:class:`~postroom.devmail._store.MailStore`:

* a session sees a snapshot of its mailbox taken at login, numbered from 1;
* DELE only marks; marked messages are removed from that user's mailbox at QUIT (the
  UPDATE state), and a dropped connection removes nothing, which is what lets a mail
  connector test "commit after success";
* UIDL is the store's message id, stable across sessions and restarts;
* a mailbox is locked while a session holds it (RFC 1939 section 8), so two readers
  cannot both think they own the same messages;
* multi-line replies are byte-stuffed and end lines with CRLF.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ._net import bind_listener
from ._smtp import format_peer
from ._store import MailStore, StoredMessage, normalize_crlf

__all__ = ["POP3Options", "POP3Server"]

log = logging.getLogger("postroom.devmail")

MAX_LINE = 1024  # RFC 2449 allows 255 octets per command; be generous but bounded
MAX_BAD_COMMANDS = 20
MAX_AUTH_FAILURES = 3


@dataclass(frozen=True)
class POP3Options:
    """Users, catch-all users and the TLS policy of the POP3 servers."""

    users: Mapping[str, str] = field(default_factory=dict)
    catch_all: frozenset[str] = frozenset()
    auth_require_tls: bool = False
    #: Logins need a client certificate the TLS layer verified (see DevMail's client_ca_file).
    client_certificate_required: bool = False
    timeout: float = 600.0  # RFC 1939's autologout timer is at least 10 minutes

    def is_catch_all(self, user: str) -> bool:
        return user.casefold() in {u.casefold() for u in self.catch_all}


class _Quit(Exception):
    """Ends a session after its reply was sent."""


class _Session:
    """One POP3 conversation; the state machine of RFC 1939 section 3."""

    def __init__(
        self,
        server: POP3Server,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        implicit_tls: bool,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.tls = implicit_tls
        self.implicit_tls = implicit_tls
        self.peer = format_peer(writer.get_extra_info("peername"))
        self.state = "AUTHORIZATION"
        self.user_name: str | None = None
        self.user: str | None = None  # set once logged in
        self.holds_lock = False
        self.messages: list[StoredMessage] = []
        self.octets: list[bytes] = []
        self.deleted: set[int] = set()
        self.auth_failures = 0
        self.bad_commands = 0

    # -- wire --------------------------------------------------------------------

    async def send(self, line: str) -> None:
        self.writer.write(line.encode("utf-8") + b"\r\n")
        await self.writer.drain()

    async def send_multiline(self, first: str, body: bytes | Iterable[str]) -> None:
        """A positive reply, then ``body`` byte-stuffed, then the ``.`` terminator."""
        if isinstance(body, bytes):
            lines = body.split(b"\r\n")
            if lines and lines[-1] == b"":
                lines.pop()
        else:
            lines = [line.encode("utf-8") for line in body]
        out = bytearray(first.encode("utf-8") + b"\r\n")
        for line in lines:
            if line.startswith(b"."):
                out += b"."
            out += line + b"\r\n"
        out += b".\r\n"
        self.writer.write(bytes(out))
        await self.writer.drain()

    async def read_line(self) -> bytes | None:
        try:
            line = await asyncio.wait_for(self.reader.readuntil(b"\n"), self.server.options.timeout)
        except asyncio.LimitOverrunError:
            return b"\0too-long"
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            return None
        return line.rstrip(b"\r\n")

    # -- main loop ---------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self.send("+OK Postroom devmail POP3 server ready")
            while True:
                raw = await self.read_line()
                if raw is None:
                    return
                if raw == b"\0too-long":
                    await self.send("-ERR line too long")
                    return
                try:
                    await self.dispatch(raw)
                except _Quit:
                    return
        except (ConnectionError, ssl.SSLError) as error:
            log.debug("devmail POP3 %s: connection ended: %s", self.peer, error)
        finally:
            self.release_mailbox()
            with contextlib.suppress(Exception):
                self.writer.close()

    def release_mailbox(self) -> None:
        """Give up the maildrop lock once, whether at QUIT or when the connection ends."""
        if self.user is not None and self.holds_lock:
            self.server.release(self.user)
            self.holds_lock = False

    async def dispatch(self, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            await self.send("-ERR commands must be UTF-8")
            return
        command, _, argument = text.partition(" ")
        command = command.upper()
        handler = getattr(self, f"cmd_{command}", None) if command.isalpha() else None
        allowed = _ALLOWED[self.state]
        if handler is None or command not in allowed:
            self.bad_commands += 1
            if self.bad_commands > MAX_BAD_COMMANDS:
                await self.send("-ERR too many bad commands, closing")
                raise _Quit
            if handler is None:
                await self.send(f"-ERR unknown command {command[:20]}")
            else:
                await self.send(f"-ERR {command} is not allowed in the {self.state} state")
            return
        await handler(argument)

    # -- AUTHORIZATION state -----------------------------------------------------

    def login_allowed(self) -> bool:
        return self.tls or not self.server.options.auth_require_tls

    def capabilities(self) -> list[str]:
        caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]
        if self.state == "AUTHORIZATION" and self.login_allowed():
            caps.append("USER")
        if self.state == "AUTHORIZATION" and not self.tls and self.server.tls_context is not None:
            caps.append("STLS")
        caps.append("IMPLEMENTATION Postroom-devmail")
        return caps

    async def cmd_CAPA(self, argument: str) -> None:
        await self.send_multiline("+OK Capability list follows", self.capabilities())

    async def cmd_STLS(self, argument: str) -> None:
        if self.tls:
            await self.send("-ERR TLS is already active")
            return
        if self.server.tls_context is None:
            await self.send("-ERR TLS is not available")
            return
        if self.user_name is not None:
            await self.send("-ERR STLS must come before USER")
            return
        # RFC 2595 section 4 (and the STARTTLS injection attacks): anything the client
        # pipelined after STLS in clear text must be thrown away, not run under TLS.
        buffered = getattr(self.reader, "_buffer", None)
        if isinstance(buffered, bytearray):
            buffered.clear()
        await self.send("+OK Begin TLS negotiation")
        try:
            await self.writer.start_tls(self.server.tls_context)
        except (ssl.SSLError, ConnectionError, OSError) as error:
            log.info("devmail POP3 %s: TLS negotiation failed: %s", self.peer, error)
            raise _Quit from error
        self.tls = True

    async def cmd_USER(self, argument: str) -> None:
        if not self.login_allowed():
            await self.send("-ERR [AUTH] Plain-text login is disabled before TLS; use STLS or POP3S")
            return
        if not argument:
            await self.send("-ERR USER needs a mailbox name")
            return
        self.user_name = argument
        await self.send("+OK send PASS")

    async def cmd_PASS(self, argument: str) -> None:
        if not self.login_allowed():
            await self.send("-ERR [AUTH] Plain-text login is disabled before TLS; use STLS or POP3S")
            return
        if self.user_name is None:
            await self.send("-ERR send USER first")
            return
        name, self.user_name = self.user_name, None
        if self.server.options.client_certificate_required and not (
                self.tls and self.writer.get_extra_info("peercert")):
            await self.send("-ERR [AUTH] Client didn't present a valid SSL certificate (devmail client_ca_file)")
            return
        expected = self.server.options.users.get(name)
        given = argument.encode("utf-8")
        good = expected is not None and hmac.compare_digest(given, expected.encode("utf-8"))
        if expected is None:
            hmac.compare_digest(given, given)  # same work whether or not the user exists
        if not good:
            self.auth_failures += 1
            await self.send("-ERR [AUTH] Authentication failed")
            if self.auth_failures >= MAX_AUTH_FAILURES:
                raise _Quit
            return
        if not self.server.acquire(name):
            await self.send("-ERR [IN-USE] Mailbox is locked by another POP3 session")
            return
        self.user = name
        self.holds_lock = True
        self.state = "TRANSACTION"
        self.messages = self.server.store.mailbox(name, catch_all=self.server.options.is_catch_all(name))
        self.octets = [normalize_crlf(m.raw) for m in self.messages]
        total = sum(len(o) for o in self.octets)
        await self.send(f"+OK Logged in, {len(self.messages)} messages ({total} octets)")

    async def cmd_QUIT(self, argument: str) -> None:
        if self.state == "TRANSACTION":
            self.state = "UPDATE"
            assert self.user is not None
            ids = [self.messages[i].id for i in sorted(self.deleted)]
            try:
                removed = self.server.store.delete_for(self.user, ids) if ids else 0
            except OSError as error:
                log.error("devmail POP3: could not apply deletions: %s", error)
                await self.send("-ERR some deleted messages were not removed")
                raise _Quit from error
            left = len(self.messages) - len(self.deleted)
            # Unlock before the reply, so a client that reconnects as soon as it reads
            # "+OK" finds its mailbox free.
            self.release_mailbox()
            await self.send(f"+OK Bye, {removed} messages deleted, {left} left")
        else:
            await self.send("+OK Bye")
        raise _Quit

    # -- TRANSACTION state -------------------------------------------------------

    def _number(self, argument: str) -> int | str:
        """A 0-based index for a message-number argument, or an error reply."""
        token = argument.strip().split(" ")[0] if argument.strip() else ""
        if not token.isdigit():
            return "-ERR a message number is needed"
        number = int(token)
        if not 1 <= number <= len(self.messages):
            return f"-ERR no such message, only {len(self.messages)} in the maildrop"
        if number - 1 in self.deleted:
            return f"-ERR message {number} is deleted"
        return number - 1

    def _live(self) -> list[int]:
        return [i for i in range(len(self.messages)) if i not in self.deleted]

    async def cmd_STAT(self, argument: str) -> None:
        live = self._live()
        await self.send(f"+OK {len(live)} {sum(len(self.octets[i]) for i in live)}")

    async def cmd_LIST(self, argument: str) -> None:
        if argument.strip():
            index = self._number(argument)
            if isinstance(index, str):
                await self.send(index)
                return
            await self.send(f"+OK {index + 1} {len(self.octets[index])}")
            return
        live = self._live()
        total = sum(len(self.octets[i]) for i in live)
        await self.send_multiline(
            f"+OK {len(live)} messages ({total} octets)", [f"{i + 1} {len(self.octets[i])}" for i in live]
        )

    async def cmd_UIDL(self, argument: str) -> None:
        if argument.strip():
            index = self._number(argument)
            if isinstance(index, str):
                await self.send(index)
                return
            await self.send(f"+OK {index + 1} {self.messages[index].id}")
            return
        await self.send_multiline(
            "+OK unique-id listing follows", [f"{i + 1} {self.messages[i].id}" for i in self._live()]
        )

    async def cmd_RETR(self, argument: str) -> None:
        index = self._number(argument)
        if isinstance(index, str):
            await self.send(index)
            return
        data = self.octets[index]
        await self.send_multiline(f"+OK {len(data)} octets", data)

    async def cmd_TOP(self, argument: str) -> None:
        parts = argument.split()
        if len(parts) != 2 or not parts[1].isdigit():
            await self.send("-ERR usage: TOP message-number lines")
            return
        index = self._number(parts[0])
        if isinstance(index, str):
            await self.send(index)
            return
        data = self.octets[index]
        head, separator, body = data.partition(b"\r\n\r\n")
        if not separator:
            await self.send_multiline("+OK top of message follows", data)
            return
        wanted = int(parts[1])
        body_lines = body.split(b"\r\n")[:-1]  # the last element is the empty rest after the final CRLF
        out = head + b"\r\n\r\n" + b"".join(line + b"\r\n" for line in body_lines[:wanted])
        await self.send_multiline("+OK top of message follows", out)

    async def cmd_DELE(self, argument: str) -> None:
        index = self._number(argument)
        if isinstance(index, str):
            await self.send(index)
            return
        self.deleted.add(index)
        await self.send(f"+OK message {index + 1} deleted")

    async def cmd_RSET(self, argument: str) -> None:
        self.deleted.clear()
        live = self._live()
        await self.send(
            f"+OK maildrop has {len(live)} messages ({sum(len(self.octets[i]) for i in live)} octets)"
        )

    async def cmd_NOOP(self, argument: str) -> None:
        await self.send("+OK")


_ALLOWED: dict[str, frozenset[str]] = {
    "AUTHORIZATION": frozenset({"CAPA", "STLS", "USER", "PASS", "QUIT"}),
    "TRANSACTION": frozenset({"CAPA", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP", "QUIT"}),
    "UPDATE": frozenset(),
}


class POP3Server:
    """The POP3 (plain, with STLS when TLS is configured) and POP3S listeners, in one
    asyncio loop on one thread."""

    def __init__(
        self,
        store: MailStore,
        options: POP3Options,
        *,
        host: str,
        port: int | None,
        tls_port: int | None = None,
        tls_context: ssl.SSLContext | None = None,
        ready_timeout: float = 10.0,
    ) -> None:
        if tls_port is not None and tls_context is None:
            raise ValueError("POP3S needs a TLS context")
        self.store = store
        self.options = options
        self.host = host
        self.tls_context = tls_context
        self._requested = {"pop3": port, "pop3s": tls_port}
        self.ports: dict[str, int] = {}
        self.ready_timeout = ready_timeout
        self._locked: set[str] = set()
        self._lock_guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._sessions: set[asyncio.Task[None]] = set()
        self._stopping: asyncio.Event | None = None

    # Mailbox locks (RFC 1939 section 8). Only touched from the loop thread, but the
    # guard keeps them correct should that ever change.
    def acquire(self, user: str) -> bool:
        key = user.casefold()
        with self._lock_guard:
            if key in self._locked:
                return False
            self._locked.add(key)
            return True

    def release(self, user: str) -> None:
        with self._lock_guard:
            self._locked.discard(user.casefold())

    @property
    def port(self) -> int | None:
        return self.ports.get("pop3")

    @property
    def tls_port(self) -> int | None:
        return self.ports.get("pop3s")

    def start(self) -> None:
        """Bind the sockets here (so errors surface at once), then serve them in a thread."""
        if self._thread is not None:
            return
        sockets: list[tuple[str, socket.socket]] = []
        try:
            for name, port in self._requested.items():
                if port is not None:
                    sock = bind_listener(self.host, port)
                    sockets.append((name, sock))
                    self.ports[name] = sock.getsockname()[1]
        except BaseException:
            for _, sock in sockets:
                sock.close()
            raise
        ready = threading.Event()
        failure: list[BaseException] = []
        # Made here, before the thread, so a stop() racing the start always finds it;
        # asyncio.Event binds to the loop only when first awaited.
        self._stopping = asyncio.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(sockets, ready, failure), name="devmail-pop3", daemon=True
        )
        self._thread.start()
        if not ready.wait(self.ready_timeout) or failure:
            self.stop()
            if failure:
                raise failure[0]
            raise TimeoutError("devmail POP3 server did not start in time")

    def _run(self, sockets: list[tuple[str, socket.socket]], ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(sockets, ready))
        except BaseException as error:  # reported to start(), never lost in the thread
            failure.append(error)
            ready.set()
        finally:
            for _, sock in sockets:
                sock.close()
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _serve(self, sockets: list[tuple[str, socket.socket]], ready: threading.Event) -> None:
        assert self._stopping is not None
        for name, sock in sockets:
            implicit = name == "pop3s"

            def callback(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter, implicit: bool = implicit
            ) -> None:
                task = asyncio.get_running_loop().create_task(
                    _Session(self, reader, writer, implicit_tls=implicit).run()
                )
                self._sessions.add(task)
                task.add_done_callback(self._sessions.discard)

            server = await asyncio.start_server(
                callback,
                sock=sock,
                ssl=self.tls_context if implicit else None,
                limit=MAX_LINE,
            )
            self._servers.append(server)
        ready.set()
        await self._stopping.wait()
        for listening in self._servers:
            listening.close()
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.gather(*self._sessions, return_exceptions=True)
        for listening in self._servers:
            await listening.wait_closed()
        self._servers.clear()

    def stop(self) -> None:
        """Close the listeners, end open sessions (without their deletions, as a
        dropped connection would) and join the thread; idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended on its own
                loop.call_soon_threadsafe(self._request_stop)
        thread.join()
        self._thread = None
        self._loop = None

    def _request_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
