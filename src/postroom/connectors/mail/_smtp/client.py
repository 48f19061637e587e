"""The smtplib clients Postroom uses: the one module of the SMTP side that relies on smtplib
internals, each named here so that a Python upgrade that changes them shows in one place.

* ``_get_socket`` (overridden, calling smtplib's): to know whether the TCP (and TLS) connect
  itself succeeded before a timeout;
* ``_host`` (set): the TLS server name for SNI and the host-name check, which only the
  constructor sets otherwise;
* ``_MAXLINE`` (read, as :data:`MAXLINE`): the longest reply line, for
  :func:`postroom.connectors.mail._smtp.wire.getreply` to refuse exactly what smtplib refuses.
"""

from __future__ import annotations

import smtplib

__all__ = ["MAXLINE", "SMTP", "SMTPS"]

#: The longest reply line smtplib accepts.
MAXLINE: int = smtplib._MAXLINE  # type: ignore[attr-defined]  # noqa: SLF001 - documented above (not in typeshed)


class _Tracking:
    """smtplib client that remembers whether the TCP (and TLS) connect itself succeeded.

    ``connect`` opens the socket and then reads the greeting; on a timeout smtplib
    closes the socket and reports "Connection unexpectedly closed", the same words for
    a port nobody answers on and for a TLS port that waits for a ClientHello. The flag
    tells the two apart, so the advice can say "turn on use_ssl" only when it applies.
    It also sets ``_host``, smtplib's TLS server name (SNI and host-name check), which
    only its constructor sets otherwise.
    """

    tcp_connected = False

    def __init__(self, server_name: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._host = server_name  # smtplib's own attribute for SNI

    def _get_socket(self, host, port, timeout):  # noqa: ANN001, ANN202 - smtplib's signature
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.tcp_connected = True
        return sock


class SMTP(_Tracking, smtplib.SMTP):
    pass


class SMTPS(_Tracking, smtplib.SMTP_SSL):
    pass
