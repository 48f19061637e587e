"""``postroom connections test`` for a Mail connection: sending (SMTP) and reading (POP3
or IMAP), each tested when the connection is meant for it; a failure names which one."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from ...errors import AuthenticationFailed, ConnectionFailed, PostroomError
from ...sdk import TestReport
from ._client_certs import describe_certificate
from ._dkim_dns import Lookup, check_published, dns_lookup
from ._imap import ImapSession
from ._inbound import Inbound, NotThisProtocol
from ._oauth import TokenSource
from ._pop3 import Pop3Session
from ._smtp import Opener
from ._tls import insecure_warning
from .spec import MailConnection

__all__ = ["add_dkim_check", "credential_facts", "test_inbound", "test_mail_connection", "test_smtp"]

log = logging.getLogger("postroom.connectors.mail")

_READING_PORTS = {110, 995, 143, 993}
_INBOUND_FIELDS = {"inbound_host", "inbound_port", "inbound_protocol", "inbound_use_ssl", "inbound_use_tls",
                   "inbound_user_name", "inbound_password"}


def credential_facts(connection: MailConnection) -> list[tuple[str, str]]:
    """What ``connections test`` says about the client certificate and the OAuth 2.0 client
    (never a secret: the subject, the expiry, the token endpoint)."""
    facts: list[tuple[str, str]] = []
    if connection.tls_client_certificate:
        facts.append(("client certificate", describe_certificate(connection.tls_client_certificate,
                                                                  "tls_client_certificate")))
    if connection.user_password_auth and connection.uses_client_credentials:
        proof = "client secret" if connection.client_secret else "certificate " + describe_certificate(
            connection.client_certificate, "client_certificate")
        facts.append(("OAuth 2.0", f"client credentials of {connection.client_id} at "
                                   f"{connection.oauth2_token_url}, by {proof}"))
    return facts


def test_smtp(connection: MailConnection, logger: logging.Logger | None = None) -> TestReport:
    """Connect, secure and log in as a send would; report what the server offers."""
    warning = insecure_warning(connection)
    if warning:
        (logger or log).warning(warning)
    tokens = TokenSource(connection) if connection.user_password_auth and connection.uses_xoauth2 else None
    session = Opener(connection, tokens).open()
    try:
        smtp = session.smtp
        features = smtp.esmtp_features

        def offered(name: str) -> str:
            return "yes" if name in features else "no"

        size = session.size_limit
        facts = [
            ("server", connection.endpoint),
            ("greeting", session.greeting),
            ("TLS", session.tls or "none (clear text)"),
            ("cipher", session.cipher or "-"),
            ("AUTH mechanisms", features.get("auth", "").strip() or "none offered"),
            ("SIZE", f"{size} bytes" if size else "no limit announced"),
            ("SMTPUTF8", offered("smtputf8")),
            ("PIPELINING", offered("pipelining")),
            ("8BITMIME", offered("8bitmime")),
            ("DSN", offered("dsn") + (" (dsn_notify is sent)" if "dsn" in features else " (dsn_notify is left out)")),
            ("login", f"ok as {session.login}" if session.login else "not configured (user_password_auth: false)"),
            *credential_facts(connection),
        ]
        if isinstance(smtp.sock, ssl.SSLSocket):
            cert = smtp.sock.getpeercert() or {}
            subject: dict[str, str] = {}
            for rdn in cert.get("subject", ()):
                if rdn:
                    subject[str(rdn[0][0])] = str(rdn[0][1])
            if subject:
                facts.insert(4, ("certificate", f"{subject.get('commonName', '?')} (valid until {cert.get('notAfter', '?')})"))
        message = f"connected to {connection.endpoint}"
        if session.login:
            message += f" and logged in as {connection.user_name}"
        return TestReport(ok=True, facts=facts, message=message)
    finally:
        session.close()


def test_inbound(connection: MailConnection, logger: Any = None) -> TestReport:
    """Connect, secure and log in as a get would; report what the server offers."""
    inbound = Inbound(connection)
    warning = inbound.insecure_warning()
    if warning and logger is not None:
        logger.warning(warning)
    facts: list[tuple[str, str]] = [("server", inbound.address)]
    if inbound.protocol == "pop3":
        pop = Pop3Session.open(inbound)
        try:
            facts += [("greeting", " ".join(pop.greeting.split())), ("TLS", pop.tls or "none (clear text)"),
                      ("SASL mechanisms", " ".join(pop.capabilities.get("SASL", [])) or "none offered"),
                      ("UIDL", "yes" if "UIDL" in pop.capabilities else "not announced"),
                      ("login", f"ok as {pop.login}"),
                      ("messages", str(len(pop.listing())))]
        finally:
            pop.abandon()
    else:
        imap = ImapSession.open(inbound)
        try:
            info = imap.select("INBOX", readonly=True)
            offered = set(imap.capabilities)
            facts += [("greeting", imap.greeting), ("TLS", imap.tls or "none (clear text)"),
                      ("login", f"ok as {imap.login}"),
                      ("IDLE", "yes" if "IDLE" in offered else "no (listeners poll)"),
                      ("MOVE", "yes" if "MOVE" in offered else "no (copy, then delete)"),
                      ("UIDPLUS", "yes" if "UIDPLUS" in offered else "no"),
                      ("messages in INBOX", str(info.exists))]
        finally:
            imap.logout()
    facts += credential_facts(connection)
    return TestReport(ok=True, facts=facts, message=f"connected to {inbound.address} and logged in as "
                                                     f"{inbound.endpoint.user_name}")


def _neither(connection: MailConnection, smtp_error: ConnectionFailed, read_error: Exception) -> PostroomError:
    """The error of a server that neither sent nor read: the reading one when the server
    answered as a POP3 or IMAP server and refused the login (it reads mail: the SMTP error
    would only mislead); the sending one when it answered with another greeting (an SMTP
    server); else both, so that a TLS or port mismatch names each protocol."""
    if isinstance(read_error, AuthenticationFailed):
        return read_error
    if isinstance(read_error, NotThisProtocol):
        return smtp_error
    inbound = Inbound(connection)
    kind = type(read_error) if isinstance(read_error, PostroomError) else ConnectionFailed
    return kind(f"reading ({inbound.address}) failed: {read_error}; sending (SMTP {connection.endpoint}) "
                f"failed: {smtp_error}", field=getattr(read_error, "field", None),
                retryable=getattr(read_error, "retryable", None))


def test_mail_connection(connection: MailConnection, logger: Any = None) -> TestReport:
    """``postroom connections test`` for a Mail connection: sending (SMTP) and reading (POP3 or
    IMAP), each tested when the connection is meant for it; a failure names which one.

    With ``inbound_host`` the connection both sends (host, port) and reads (inbound_*):
    both are tested. Without it, host and port name one server: it is tested for reading
    when ``inbound_protocol`` is imap, another ``inbound_*`` setting is given or the port
    is a POP3/IMAP port (110, 995, 143, 993); else for sending, and when that server does
    not speak SMTP, for reading (a connection made only to read mail, Boomi's legacy
    style): when reading fails too, the reading error alone if the server refused the login
    as a POP3 or IMAP server, the SMTP error alone if it greeted as an SMTP server, else
    both errors, reading first."""
    if not connection.inbound_host:
        reads = (connection.inbound_protocol != "pop3" or connection.port in _READING_PORTS
                 or any(getattr(connection, name) is not None for name in _INBOUND_FIELDS - {"inbound_host",
                                                                                             "inbound_protocol"}))
        if reads:
            return test_inbound(connection, logger)
        try:
            return test_smtp(connection, logger)
        except ConnectionFailed as smtp_error:
            try:
                report = test_inbound(connection, logger)
            except (PostroomError, OSError) as read_error:
                raise _neither(connection, smtp_error, read_error) from None
            report.message += (f"; it does not speak SMTP ({smtp_error.message}), which is fine for a connection "
                               "that only reads mail")
            return report
    results: dict[str, TestReport | Exception] = {}
    for side, test in (("sending", test_smtp), ("reading", test_inbound)):
        try:
            results[side] = test(connection, logger)
        except (PostroomError, OSError) as exc:
            results[side] = exc
    inbound = Inbound(connection)
    labels = {"sending": f"sending (SMTP {connection.endpoint})", "reading": f"reading ({inbound.address})"}
    failures = {side: r for side, r in results.items() if isinstance(r, Exception)}
    if failures:
        side, error = next(iter(failures.items()))
        parts = []
        for name, result in results.items():
            parts.append(f"{labels[name]} failed: {result}" if isinstance(result, Exception)
                         else f"{labels[name]} works")
        kind = type(error) if isinstance(error, PostroomError) else ConnectionFailed
        raise kind("; ".join(parts), field=getattr(error, "field", None),
                   retryable=getattr(error, "retryable", None))
    facts: list[tuple[str, str]] = []
    for side, result in results.items():
        assert isinstance(result, TestReport)
        prefix = "outbound" if side == "sending" else "inbound"
        facts += [(f"{prefix} {key}", value) for key, value in result.facts]
    return TestReport(ok=True, facts=facts, message="; ".join(f"{labels[s]}: ok" for s in results))


def add_dkim_check(report: TestReport, connection: MailConnection, lookup: Lookup = dns_lookup) -> TestReport:
    """The DKIM facts of a signing connection: its key against the selector's TXT record.
    A different published key fails the test; no record or no DNS is a warning with the
    record to publish."""
    signer = connection.dkim_signer()
    if signer is None:
        return report
    check = check_published(signer, lookup)
    report.facts.append(("DKIM", check.fact))
    if check.warning:
        report.facts.append(("warning", check.warning))
    if not check.ok:
        report.ok = False
        report.message = f"{report.message}; DKIM: {check.fact}" if report.message else f"DKIM: {check.fact}"
    return report
