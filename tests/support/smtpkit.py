"""A small SMTP server for the run tests: real sockets, PIPELINING, seeded random delays
before each acceptance, and an optional limit after which it drops the session and stops
listening (a server that goes away mid-batch). It keeps every message it accepted, with
its recipients and Message-ID, in arrival order."""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser

from support import letterskit


@dataclass
class Accepted:
    rcpt_tos: list[str]
    message_id: str
    data: bytes


@dataclass
class TinySmtp:
    """``TinySmtp(seed=1, delay=(0.0, 0.004), accept_limit=None).start()``; ``stop()`` when done.

    ``delay``: seconds (a seeded random range) before a message is accepted; ``reply_delay``:
    after it is stored and before the 250 reply goes out, the window in which a client that
    dies or is interrupted has sent a letter it does not know was accepted."""

    seed: int = 0
    delay: tuple[float, float] = (0.0, 0.0)
    reply_delay: tuple[float, float] = (0.0, 0.0)
    accept_limit: int | None = None
    #: called with the number of messages accepted so far, just before the 250 reply
    on_accept: Callable[[int], None] | None = None
    messages: list[Accepted] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> TinySmtp:
        kit = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    kit._session(self.rfile, self.wfile, self.connection)
                except OSError:  # the client went away (killed, interrupted): its session ends
                    pass

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, name="tiny-smtp", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def clear(self) -> None:
        with self._lock:
            self.messages = []

    # -- what arrived -------------------------------------------------------------------------
    def recipients(self) -> Counter[str]:
        with self._lock:
            return Counter(r for m in self.messages for r in m.rcpt_tos)

    def message_ids(self, recipient: str) -> set[str]:
        with self._lock:
            return {m.message_id for m in self.messages if recipient in m.rcpt_tos}

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def wait_for(self, count: int, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.002)
        return self.count()

    # -- one session ------------------------------------------------------------------------------
    def _session(self, rfile, wfile, connection: socket.socket) -> None:  # noqa: ANN001
        def reply(text: str) -> None:
            wfile.write(text.encode() + b"\r\n")
            wfile.flush()

        reply("220 tiny ESMTP")
        rcpts: list[str] = []
        while line := rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                reply("250-tiny\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10485760")
            elif verb == "MAIL":
                rcpts = []
                reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                rcpts.append(command.split(":", 1)[1].strip().split()[0].strip("<>"))
                reply("250 2.1.5 Ok")
            elif verb == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                if not self._data(rfile, rcpts, reply, connection):
                    return
            elif verb == "RSET":
                rcpts = []
                reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                reply("221 2.0.0 Bye")
                return
            else:
                reply("502 5.5.2 Error: command not recognized")

    def _data(self, rfile, rcpts: list[str], reply, connection: socket.socket) -> bool:  # noqa: ANN001
        """Read one message; accept it unless the limit is reached (then drop everything)."""
        lines = []
        while (line := rfile.readline()) != b".\r\n":
            if not line:  # the client went away mid-message: nothing is accepted
                return False
            lines.append(line[1:] if line.startswith(b"..") else line)
        data = b"".join(lines)
        with self._lock:
            wait = self._random.uniform(*self.delay)
            after = self._random.uniform(*self.reply_delay)
            over = self.accept_limit is not None and len(self.messages) >= self.accept_limit
        if over:
            self._go_away(connection)
            return False
        time.sleep(wait)
        headers = BytesHeaderParser().parsebytes(data)
        with self._lock:
            self.messages.append(Accepted(list(rcpts), str(headers.get("Message-ID", "")), data))
            number = len(self.messages)
        if self.on_accept is not None:
            self.on_accept(number)
        time.sleep(after)
        reply(f"250 2.0.0 Ok: queued as T{number}")
        return True

    def _go_away(self, connection: socket.socket) -> None:
        """The server goes away: this session is dropped and no new one is accepted."""
        server = self._server
        if server is not None:
            threading.Thread(target=self.stop, daemon=True).start()
        connection.shutdown(socket.SHUT_RDWR)


def letters_yaml(port: int, *, write_to: str | None = None, max_retries: int = 2) -> str:
    """A connection to the server, a send operation and the process ``letters``: the input
    CSV split one patient a document, a letter each, sent (and, with ``write_to``, each sent
    letter then written to that folder as ``<patient_id>.txt``)."""
    after_send = ", next: name" if write_to else ""
    write = f"""
  name: {{type: set_properties, properties: [{{property: disk.file_name, value: [{{dynamic_document_property: id}}, .txt]}}, {{property: disk.directory, value: [.]}}], next: write}}
  write: {{type: connector, connection: folder, operation: write}}
---
type: connection
connector: disk
name: folder
id: folder
settings: {{directory: "{write_to}"}}
---
type: operation
connector: disk
name: write
id: write
settings: {{action: send, write_option: fail}}
""" if write_to else ""
    connection = f"""\
type: connection
connector: mail
name: tiny
id: tiny
settings: {{host: 127.0.0.1, port: {port}, use_ssl: false, use_tls: false, max_retries: {max_retries},
            retry_delay_seconds: 0.05, timeout_seconds: 10}}
"""
    return letterskit.letters_yaml(connection, "tiny", after_send=after_send, more_shapes=write,
                                   also_set=", {property: dynamic.id, value: [{profile_element: patient_id}]}")
