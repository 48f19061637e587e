"""A scripted SMTP server that keeps the raw bytes it got (the ``scripted`` fixture): what it
offers, how it answers each RCPT and final dot, where it hangs up (tests/mail)."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field

import pytest


@dataclass
class Script:
    pipelining: bool = True
    #: address -> replies to RCPT, one per attempt, then 250
    rcpt: dict[str, list[str]] = field(default_factory=dict)
    #: reply to DATA when no recipient was accepted (a real server says 503 or 554)
    data_without_rcpt: str = "554 5.5.1 Error: no valid recipients"
    wire: bytearray = field(default_factory=bytearray)
    messages: list[bytes] = field(default_factory=list)
    sessions: int = 0
    #: hang up, without a reply, on the final dot of the message with this number (1-based)
    drop_at_dot: int = 0
    dots: int = 0
    #: replies to the final dot, one per message, before "250" (e.g. a 451)
    dot_replies: list[str] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        script: Script = self.server.script  # type: ignore[attr-defined]
        script.sessions += 1
        write = self.wfile.write
        write(b"220 scripted ESMTP\r\n")
        accepted = 0
        while line := self.rfile.readline():
            script.wire += line
            verb = line[:4].upper()
            if verb == b"EHLO":
                offered = b"250-PIPELINING\r\n" if script.pipelining else b""
                write(b"250-scripted\r\n" + offered + b"250-SIZE 1000000\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                accepted = 0
                write(b"250 2.1.0 Ok\r\n")
            elif verb == b"RCPT":
                address = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                replies = script.rcpt.get(address)
                reply = replies.pop(0) if replies else "250 2.1.5 Ok"
                accepted += reply.startswith("2")
                write(reply.encode() + b"\r\n")
            elif verb == b"DATA":
                if not accepted and not script.data_without_rcpt.startswith("354"):
                    write(script.data_without_rcpt.encode() + b"\r\n")
                    continue
                write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                data = bytearray()
                while (chunk := self.rfile.readline()) != b".\r\n":
                    script.wire += chunk
                    data += chunk[1:] if chunk.startswith(b".") else chunk  # undo the dot-stuffing
                script.wire += b".\r\n"
                script.dots += 1
                if script.dots == script.drop_at_dot:
                    return  # gone, as a crashed or restarted server is
                if accepted and script.dot_replies:
                    reply = script.dot_replies.pop(0)
                    if reply.startswith("2"):
                        script.messages.append(bytes(data))
                    write(reply.encode() + b"\r\n")
                elif accepted:
                    script.messages.append(bytes(data))
                    write(f"250 2.0.0 Ok: queued as M{len(script.messages)}\r\n".encode())
                else:
                    write(b"554 5.5.1 Error: no valid recipients\r\n")
            elif verb == b"RSET":
                accepted = 0
                write(b"250 2.0.0 Ok\r\n")
            elif verb == b"QUIT":
                write(b"221 2.0.0 Bye\r\n")
                return
            else:
                write(b"502 5.5.2 Error: command not recognized\r\n")


@pytest.fixture
def scripted():
    servers: list[socketserver.ThreadingTCPServer] = []

    def start(script: Script) -> int:
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.script = script  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
