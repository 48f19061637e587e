"""Sending mail over SMTP, one concern a module:

* :mod:`.wire`: replies, address quoting, the command group, dot-stuffing (no socket);
* :mod:`.client`: the smtplib clients, the one place that uses smtplib internals;
* :mod:`.session`: connect, secure and log in, errors mapped to Postroom's;
* :mod:`.dsn`: delivery status notification requests (RFC 3461: RET, ENVID, NOTIFY, ORCPT);
* :mod:`.transaction`: one MAIL/RCPT/DATA transaction and the one classifier of its replies;
* :mod:`.pool`: the session pool of a server, its rate limit, the registry sharing pools;
* :mod:`.chain`: a run of emails at one round trip an email.

TLS contexts live in ``_tls.py``, OAuth tokens in ``_oauth.py``, error kinds and redaction in
``_errors.py`` (shared with POP3 and IMAP); the connection test in ``connection.py``.
"""

from __future__ import annotations

from .chain import Chain, interleave
from .dsn import DsnRequest
from .pool import PoolRegistry, RateLimiter, SmtpPool
from .session import Opener, Session
from .transaction import Delivery, Outgoing

__all__ = ["Chain", "Delivery", "DsnRequest", "Opener", "Outgoing", "PoolRegistry", "RateLimiter", "Session", "SmtpPool",
           "interleave"]
