"""Guards shared by Postroom's local HTTP servers (the REST API of ``postroom serve`` and
devmail's web inbox), neither of which has logins yet.

* :func:`host_allowed`: a request whose ``Host`` header is not a name of this machine is
  refused. That defeats DNS rebinding: a web page on ``evil.example`` whose name is made
  to resolve to 127.0.0.1 reaches the port, but its requests carry ``Host: evil.example``.
* :func:`is_loopback`: whether a bind address is reachable only from this machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable

__all__ = ["host_allowed", "is_loopback", "local_names"]


def _host_part(host_header: str) -> str:
    host = host_header.strip()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".").lower()


def host_allowed(host_header: str, extra: Iterable[str] = ()) -> bool:
    """Whether a ``Host`` header names this machine: an IP literal, ``localhost`` (or a
    ``*.localhost`` name), or one of ``extra`` (lower-case names)."""
    if not host_header:
        return True  # HTTP/1.0 clients may omit it; nothing to rebind
    host = _host_part(host_header)
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return True
    return host == "localhost" or host.endswith(".localhost") or host in set(extra)


def local_names(bind_host: str, extra: Iterable[str] = ()) -> set[str]:
    """The names a server bound to ``bind_host`` answers to besides IP literals and localhost."""
    return {h.lower() for h in extra} | {bind_host.lower(), socket.gethostname().lower()}


def is_loopback(bind_host: str) -> bool:
    """Whether ``bind_host`` (an address or a name) is reachable from this machine only."""
    if bind_host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind_host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bind_host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback
                               for info in infos)
