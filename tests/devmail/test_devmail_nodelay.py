"""devmail's listeners answer without Nagle's delay.

asyncio turns TCP_NODELAY on for an accepted connection only when the listening socket was
made with the TCP protocol number; a socket made with protocol 0 kept Nagle's algorithm, and
every reply devmail wrote in pieces (the SMTPS greeting after TLS 1.3's session tickets, a
multi-line EHLO) then waited about 40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import asyncio
import socket

from postroom.devmail._net import bind_listener


def _accepted_nodelay() -> int:
    """TCP_NODELAY of the connection an asyncio server (as devmail's controllers serve)
    accepts on a socket from :func:`bind_listener`."""

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listener = bind_listener("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        try:
            port = listener.getsockname()[1]
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            value = await asyncio.wait_for(accepted, timeout=10)
            writer.close()
            return value
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def test_the_listener_is_a_tcp_socket():
    sock = bind_listener("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_accepted_connections_send_at_once():
    assert _accepted_nodelay() != 0
