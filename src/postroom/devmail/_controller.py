"""``DevMail``: one object that starts SMTP, SMTPS, POP3, POP3S and the web inbox over
one mail store, plus ``serve()``, the blocking entry point behind ``postroom devmail``.

Why one controller: a test or the demo wants "a mail server" with known ports and a
CA to trust, not five objects to start and stop in the right order. Every port defaults
to 0 (ephemeral) so parallel tests never collide; ``None`` turns a listener off.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from ._net import connect_host, url_host
from ._pop3 import POP3Options, POP3Server
from ._smtp import DEFAULT_DEFER_REPLY, DEFAULT_REJECT_REPLY, RecipientPolicy, SMTPOptions, SMTPServer
from ._state import PORTS, default_state_file, remove_state, write_state
from ._store import MailStore, RecipientDecision, StoredMessage
from ._tls import CertificateFiles, client_context, ensure_certificates, server_context

__all__ = ["DevMail", "serve", "SERVE_DEFAULT_USERS"]

#: Users ``serve()`` creates when none are given: the ones the tutorial's connection uses.
SERVE_DEFAULT_USERS: Mapping[str, str] = {"clinic@example.com": "app-password-123"}


class DevMail:
    """The development mail server: SMTP (+STARTTLS), SMTPS, POP3 (+STLS), POP3S, web inbox.

    Ports: 0 picks a free port (read it after :meth:`start` from :attr:`smtp_port` and
    friends); ``None`` disables that listener. ``users`` maps a login (an address) to its
    password, for SMTP AUTH and POP3; a POP3 user sees mail whose envelope recipients
    include their address, or everything when named in ``catch_all``.

    Test knobs: ``reject_recipients`` (patterns answered ``reject_reply``, a 5xx),
    ``defer_recipients`` (pattern -> how many first RCPT attempts get ``defer_reply``,
    a 4xx), ``max_message_size`` (bytes, 552 beyond), ``smtputf8``,
    ``require_starttls``, ``auth_require_tls`` (AUTH and POP3 login only under TLS),
    ``auth_required`` (MAIL, RCPT, DATA, VRFY before AUTH get ``530 5.7.0 Authentication
    required``; default: on, on every SMTP port, whenever ``users`` are configured, as
    Gmail does; ``users={}`` offers no AUTH and so requires none). Patterns are case-insensitive globs
    (``*@bounce.example``) or, prefixed ``re:``, full-match regular expressions.

    ``oauth2_introspection_url``: SMTP also offers AUTH XOAUTH2, the bearer token checked
    at that OAuth 2.0 introspection endpoint (RFC 7662; see ``_oauth``).
    ``client_ca_file``: every TLS listener (STARTTLS, SMTPS, STLS, POP3S) asks for a client
    certificate and verifies it against that PEM file's CAs (one another CA signed fails the
    handshake); AUTH, MAIL and the POP3 login without one are refused ``Client didn't
    present a valid SSL certificate``, as Dovecot's ``auth_ssl_require_client_cert`` does
    (refusing in the handshake would leave clients only an EOF: asyncio sends no alert).

    TLS: with ``tls=True`` a local CA and a ``localhost`` certificate are made (or
    reused) in ``cert_dir``, else ``data_dir/tls``, else a temporary folder removed at
    :meth:`stop`; :attr:`ca_file` is what clients should trust.

    ``state_file``: where the listening ports are written once started (removed at
    :meth:`stop`), so that ``postroom serve`` with the same POSTROOM_HOME finds this devmail.
    """

    smtp_port: int | None
    smtps_port: int | None
    pop3_port: int | None
    pop3s_port: int | None
    web_port: int | None

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int | None = 0,
        smtps_port: int | None = None,
        pop3_port: int | None = 0,
        pop3s_port: int | None = None,
        web_port: int | None = None,
        users: Mapping[str, str] | None = None,
        *,
        catch_all: Iterable[str] = (),
        tls: bool = True,
        data_dir: str | os.PathLike[str] | None = None,
        cert_dir: str | os.PathLike[str] | None = None,
        require_starttls: bool = False,
        auth_require_tls: bool = False,
        auth_required: bool | None = None,
        reject_recipients: Iterable[str] = (),
        reject_reply: str = DEFAULT_REJECT_REPLY,
        defer_recipients: Mapping[str, int] | None = None,
        defer_reply: str = DEFAULT_DEFER_REPLY,
        smtputf8: bool = True,
        max_message_size: int | None = 10 * 1024 * 1024,
        hostname: str = "localhost",
        store: MailStore | None = None,
        ready_timeout: float = 10.0,
        state_file: str | os.PathLike[str] | None = None,
        oauth2_introspection_url: str | None = None,
        client_ca_file: str | os.PathLike[str] | None = None,
    ) -> None:
        _check_tls_options(tls, smtps_port, pop3s_port, require_starttls, client_ca_file)
        self.users: dict[str, str] = dict(users or {})
        self.catch_all = frozenset(catch_all if not isinstance(catch_all, str) else (catch_all,))
        self.client_ca_file = Path(client_ca_file) if client_ca_file is not None else None
        self.auth_required = auth_required = _auth_required(self.users, self.catch_all, auth_required,
                                                            oauth2=bool(oauth2_introspection_url))
        self.host, self.tls = host, tls
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._requested = {"smtp": smtp_port, "smtps": smtps_port, "pop3": pop3_port, "pop3s": pop3s_port,
                           "web": web_port}
        self.smtp_options = SMTPOptions(
            users=self.users,
            policy=RecipientPolicy.build(reject_recipients, defer_recipients, reject_reply, defer_reply),
            require_starttls=require_starttls,
            auth_require_tls=auth_require_tls, auth_required=auth_required,
            smtputf8=smtputf8, max_message_size=max_message_size, hostname=hostname,
            oauth2_introspection_url=oauth2_introspection_url,
            client_certificate_required=client_ca_file is not None,
        )
        self.pop3_options = POP3Options(users=self.users, catch_all=self.catch_all, auth_require_tls=auth_require_tls,
                                        client_certificate_required=client_ca_file is not None)
        self.ready_timeout, self.state_file = ready_timeout, Path(state_file) if state_file is not None else None
        self._owns_store = store is None
        self.store = store if store is not None else MailStore(self.data_dir)
        self.certificates: CertificateFiles | None = None
        self._temp_cert_dir: str | None = None
        self._servers: list[Any] = []
        self._lock = threading.RLock()
        self.smtp_port = self.smtps_port = self.pop3_port = self.pop3s_port = self.web_port = None

    # -- lifecycle ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._servers)

    def start(self) -> DevMail:
        """Start every enabled listener; return once each one accepts connections.

        On any failure the listeners already started are stopped before the error
        propagates, so a failed start leaks no thread and no port.
        """
        with self._lock:
            if self._servers:
                return self
            try:
                self._start()
                if self.state_file is not None:
                    write_state(self.state_file, self.host, {name: getattr(self, name) for name in PORTS},
                                str(self.ca_file) if self.ca_file else None, tls=bool(self.tls))
            except BaseException:
                self.stop()
                raise
            return self

    def _start(self) -> None:
        server_ctx: ssl.SSLContext | None = None
        if self.tls:
            folder = self._cert_dir
            if folder is None and self.data_dir is not None:
                folder = self.data_dir / "tls"
            if folder is None:
                self._temp_cert_dir = tempfile.mkdtemp(prefix="postroom-devmail-tls-")
                folder = Path(self._temp_cert_dir)
            names = [n for n in (self.host, self.smtp_options.hostname) if n]
            self.certificates = ensure_certificates(folder, names)
            server_ctx = server_context(self.certificates, self.client_ca_file)
        req = self._requested
        if req["smtp"] is not None:
            smtp = SMTPServer(
                self.store,
                self.smtp_options,
                host=self.host,
                port=req["smtp"],
                tls_context=server_ctx,
                ready_timeout=self.ready_timeout,
            )
            self._servers.append(smtp)
            smtp.start()
            self.smtp_port = smtp.port
        if req["smtps"] is not None:
            smtps = SMTPServer(
                self.store,
                self.smtp_options,
                host=self.host,
                port=req["smtps"],
                tls_context=server_ctx,
                implicit_tls=True,
                ready_timeout=self.ready_timeout,
            )
            self._servers.append(smtps)
            smtps.start()
            self.smtps_port = smtps.port
        if req["pop3"] is not None or req["pop3s"] is not None:
            pop3 = POP3Server(
                self.store,
                self.pop3_options,
                host=self.host,
                port=req["pop3"],
                tls_port=req["pop3s"],
                tls_context=server_ctx,
                ready_timeout=self.ready_timeout,
            )
            self._servers.append(pop3)
            pop3.start()
            self.pop3_port, self.pop3s_port = pop3.port, pop3.tls_port
        if req["web"] is not None:
            from ._web import WebInbox  # http.server is only paid for when the inbox is on

            web = WebInbox(
                self.store, host=self.host, port=req["web"], allowed_hosts={self.smtp_options.hostname}
            )
            self._servers.append(web)
            web.start()
            self.web_port = web.port

    def stop(self) -> None:
        """Stop every listener and join its thread; idempotent."""
        with self._lock:
            if self.state_file is not None and self._servers:
                remove_state(self.state_file)
            errors: list[BaseException] = []
            for server in reversed(self._servers):
                try:
                    server.stop()
                except Exception as error:  # stop the others whatever happens
                    errors.append(error)
            self._servers.clear()
            if self._owns_store:
                self.store.close()
            if self._temp_cert_dir is not None:
                shutil.rmtree(self._temp_cert_dir, ignore_errors=True)
                self._temp_cert_dir = None
            if errors:
                raise errors[0]

    def __enter__(self) -> DevMail:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        ports = ", ".join(
            f"{name}={getattr(self, name + '_port')}"
            for name in self._requested
            if getattr(self, name + "_port")
        )
        return f"<DevMail {self.host} {ports or 'stopped'}>"

    # -- what clients need -------------------------------------------------------

    @property
    def client_host(self) -> str:
        """The address a local client connects to (loopback for a wildcard bind)."""
        return connect_host(self.host)

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate to trust (``trusted_ca_file``), once started with TLS."""
        return self.certificates.ca_file if self.certificates else None

    @property
    def web_url(self) -> str | None:
        return f"http://{url_host(self.host)}:{self.web_port}/" if self.web_port else None

    def client_ssl_context(self) -> ssl.SSLContext:
        """An ``ssl`` client context trusting only this server's CA, hostname checks on.

        Connect to ``localhost`` (or ``127.0.0.1``/``::1``): those are the certificate's names.
        """
        if self.certificates is None:
            raise RuntimeError("devmail has no TLS certificates: start it with tls=True first")
        return client_context(self.certificates)

    def connection_settings(self, protocol: str = "smtp", user: str | None = None) -> dict[str, Any]:
        """Settings for a Mail connection component pointing here (CONTRACT.md names).

        ``protocol`` is ``smtp`` (STARTTLS when TLS is on), ``smtps``, ``pop3`` (STLS when
        TLS is on) or ``pop3s``. ``user`` defaults to the first configured user.
        """
        port = {
            "smtp": self.smtp_port,
            "smtps": self.smtps_port,
            "pop3": self.pop3_port,
            "pop3s": self.pop3s_port,
        }
        if protocol not in port:
            raise ValueError(f"protocol must be one of {sorted(port)}, not {protocol!r}")
        if port[protocol] is None:
            raise RuntimeError(f"devmail's {protocol} listener is not running")
        implicit = protocol.endswith("s")
        settings: dict[str, Any] = {
            "host": "localhost" if self.tls else self.client_host,
            "port": port[protocol],
            "use_ssl": implicit,
            "use_tls": self.tls and not implicit,
        }
        if self.ca_file is not None:
            settings["trusted_ca_file"] = str(self.ca_file)
        login = user if user is not None else next(iter(self.users), None)
        if login is not None:
            settings.update(user_password_auth=True, user_name=login, password=self.users[login])
        else:
            settings["user_password_auth"] = False
        if protocol.startswith("pop3"):
            settings["inbound_protocol"] = "pop3"
        return settings

    # -- the mail ----------------------------------------------------------------

    def messages(self, recipient: str | None = None) -> list[StoredMessage]:
        """Stored messages in arrival order (optionally only those to ``recipient``)."""
        return self.store.messages(recipient)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[StoredMessage]:
        """Block until ``count`` messages are stored (``TimeoutError`` after ``timeout`` s)."""
        return self.store.wait_for(count, timeout)

    def decisions(self) -> list[RecipientDecision]:
        """Every RCPT TO answer given, oldest first."""
        return self.store.decisions()

    def clear(self) -> int:
        """Delete all messages, decisions and 4xx attempt counts; return the message count."""
        return self.store.clear()


def _default_cert_dir() -> Path:
    home = os.environ.get("POSTROOM_HOME")
    base = Path(home) if home else Path.home() / ".postroom"
    return base / "devmail" / "tls"


def serve(
    *,
    host: str = "127.0.0.1",
    smtp_port: int | None = 2525,
    smtps_port: int | None = 2465,
    pop3_port: int | None = 2110,
    pop3s_port: int | None = 2995,
    web_port: int | None = 8025,
    users: Mapping[str, str] | None = None,
    catch_all: Iterable[str] = (),
    data_dir: str | os.PathLike[str] | None = None,
    cert_dir: str | os.PathLike[str] | None = None,
    tls: bool = True,
    out: TextIO | None = None,
    stop_event: threading.Event | None = None,
    on_ready: Callable[[DevMail], None] | None = None,
    **options: Any,
) -> int:
    """Run devmail until Ctrl-C or SIGTERM (or ``stop_event`` is set); return 0.

    Prints the listeners, the users, the CA file and the web inbox URL to ``out``
    (stdout). ``users`` defaults to :data:`SERVE_DEFAULT_USERS`. Certificates go to
    ``cert_dir``, else ``data_dir/tls``, else ``$POSTROOM_HOME/devmail/tls`` (default
    ``~/.postroom/devmail/tls``), so the CA a user trusted stays the same across runs.
    Other keyword arguments go to :class:`DevMail` (``reject_recipients=...`` and so on).
    ``on_ready(devmail)`` is called once everything listens (the CLI's tests use it).
    """
    out = out or sys.stdout
    stop = stop_event or threading.Event()
    if cert_dir is None and tls and data_dir is None:
        cert_dir = _default_cert_dir()
    devmail = DevMail(
        host=host,
        smtp_port=smtp_port,
        smtps_port=smtps_port if tls else None,
        pop3_port=pop3_port,
        pop3s_port=pop3s_port if tls else None,
        web_port=web_port,
        users=SERVE_DEFAULT_USERS if users is None else users,
        catch_all=catch_all,
        data_dir=data_dir,
        cert_dir=cert_dir,
        tls=tls,
        state_file=options.pop("state_file", default_state_file()),
        **options,
    )
    with _stop_on_signals(stop), devmail:
        print(describe(devmail), file=out, flush=True)
        if on_ready is not None:
            on_ready(devmail)
        # a timeout keeps the main thread responsive to signals on every platform
        while not stop.wait(1.0):
            pass
        print("Stopping devmail...", file=out, flush=True)
    return 0


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` while inside (main thread only); the previous
    handlers come back on the way out."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _check_tls_options(tls: bool, smtps_port: int | None, pop3s_port: int | None, require_starttls: bool,
                       client_ca_file: object = None) -> None:
    if client_ca_file is not None and not tls:
        raise ValueError("client_ca_file needs tls=True")
    if not tls and (smtps_port is not None or pop3s_port is not None):
        raise ValueError("smtps_port and pop3s_port need tls=True")
    if require_starttls and not tls:
        raise ValueError("require_starttls needs tls=True")


def _auth_required(users: Mapping[str, str], catch_all: frozenset[str], required: bool | None, *,
                   oauth2: bool = False) -> bool:
    """Whether AUTH is required (default: when there are users or XOAUTH2); checks ``catch_all``."""
    unknown = {u for u in catch_all if u not in users}
    if unknown:
        raise ValueError(f"catch_all names users that are not configured: {sorted(unknown)}")
    if required is None:
        required = bool(users) or oauth2
    if required and not (users or oauth2):
        raise ValueError("auth_required needs users to log in with")
    return required


def describe(devmail: DevMail) -> str:
    """The startup banner: where each listener is and how to connect."""
    host = url_host(devmail.host)
    lines = ["Postroom devmail is running."]
    listeners = [
        ("SMTP", devmail.smtp_port, "STARTTLS available" if devmail.tls else "plain"),
        ("SMTPS", devmail.smtps_port, "TLS from the first byte"),
        ("POP3", devmail.pop3_port, "STLS available" if devmail.tls else "plain"),
        ("POP3S", devmail.pop3s_port, "TLS from the first byte"),
    ]
    for name, port, note in listeners:
        if port:
            lines.append(f"  {name:<10}{host}:{port}  ({note})")
    if devmail.web_url:
        lines.append(f"  {'Web inbox':<10}{devmail.web_url}")
    if devmail.ca_file:
        ca_file = Path(devmail.ca_file).resolve()
        lines.append(f"  {'CA file':<10}{ca_file}")
        lines.append("            set trusted_ca_file to this path; connect to host 'localhost'")
        lines.append(f"            (the examples read it from: export POSTROOM_DEVMAIL_CA={shlex.quote(str(ca_file))})")
    if devmail.client_ca_file is not None:
        lines.append(f"  {'Client CA':<10}{devmail.client_ca_file}: logins need a client certificate it signed")
    if devmail.smtp_options.oauth2_introspection_url:
        lines.append(f"  {'XOAUTH2':<10}tokens checked at {devmail.smtp_options.oauth2_introspection_url}")
    if devmail.users:
        if devmail.auth_required:
            lines.append(f"  {'Login':<10}required on every SMTP port before MAIL (--no-auth: take mail from anyone)")
        for user, password in devmail.users.items():
            extra = " (catch-all)" if user in devmail.catch_all else ""
            # Only the well-known demo password is echoed; a chosen one stays off the screen.
            shown = password if SERVE_DEFAULT_USERS.get(user) == password else "(password as configured)"
            lines.append(f"  {'User':<10}{user} / {shown}{extra}")
    else:
        lines.append(f"  {'Users':<10}none: SMTP accepts mail without AUTH, POP3 has no mailboxes")
    lines.append(
        f"  {'Data':<10}{devmail.data_dir if devmail.data_dir else 'in memory (lost at exit; use --data DIR)'}"
    )
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)
