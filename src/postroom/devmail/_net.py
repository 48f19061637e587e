"""Listening sockets for devmail's servers.

Every server binds its socket in the caller's thread before its own thread starts, so a
port already in use fails ``start()`` at once with the OS error (aiosmtpd's controller
would otherwise wait for its whole ready timeout), and port 0 is resolved to the real
port before anything else needs it.
"""

from __future__ import annotations

import socket

__all__ = ["bind_listener", "connect_host", "url_host"]


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (``port`` 0 picks a free one).

    A host name is resolved to its first address, so ``localhost`` with port 0 gives one
    socket on one port rather than one per address family with different ports.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    if not infos:  # pragma: no cover - getaddrinfo raises instead
        raise OSError(f"cannot resolve {host!r}")
    family, _, proto, _, address = infos[0]
    # The protocol given (IPPROTO_TCP, not 0) is what makes asyncio set TCP_NODELAY on the
    # accepted connections: without it each reply written in pieces (the greeting after
    # TLS 1.3's session tickets, a multi-line EHLO) waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    try:
        if hasattr(socket, "SO_REUSEADDR"):
            # Restarting devmail on a fixed port must not wait out TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def url_host(host: str) -> str:
    """``host`` as it goes in a URL or a ``connect()`` call: IPv6 in brackets, and a
    wildcard address replaced by the loopback one a local client can reach."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def connect_host(host: str) -> str:
    """``host`` as a local client should connect to it (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host
