"""Real SMTP servers for the Mail connector's tests.

* :class:`Recorder` + :func:`smtp_server`: aiosmtpd on 127.0.0.1, plain, STARTTLS or
  implicit TLS, with or without AUTH; it stores every envelope and the raw bytes, and
  can defer or refuse chosen recipients and DATA replies.
* :func:`smtp_sink`: Postfix's ``smtp-sink`` binary dumping each message to a file.
* :func:`certs`: a throwaway CA and a server certificate for localhost / 127.0.0.1
  (and a second CA that signed nothing, for "untrusted" cases).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from postroom.connectors.mail import MailConnection, MailOperation
from postroom.sdk.testing import MemoryContext
from support.testsupport import require_binary

USER = "clinic@example.com"
PASSWORD = "s3cret-App-Passw0rd!"


# -- certificates ------------------------------------------------------------------------------


@dataclass
class Certs:
    ca_file: Path
    other_ca_file: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certs:
    folder = tmp_path_factory.mktemp("certs")
    ca_key, ca_cert = _ca("Postroom Test CA")
    _, other_cert = _ca("Some Other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    result = Certs(folder / "ca.pem", folder / "other-ca.pem", folder / "server.pem", folder / "server.key")
    result.ca_file.write_bytes(_pem(ca_cert))
    result.other_ca_file.write_bytes(_pem(other_cert))
    result.server_cert.write_bytes(_pem(cert))
    result.server_key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return result


# -- aiosmtpd ----------------------------------------------------------------------------------


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str]

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.data)  # type: ignore[return-value]


@dataclass
class Recorder:
    """aiosmtpd handler: keeps what arrives; scripted replies for chosen recipients."""

    messages: list[Received] = field(default_factory=list)
    #: address -> replies to give, one per RCPT of that address, before accepting it
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    #: replies to give to successive DATA commands before accepting (None: accept)
    data_replies: list[str | None] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)
    rcpt_log: list[tuple[str, str]] = field(default_factory=list)
    xoauth2_token: str = ""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.sessions.add(id(session))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        script = self.rcpt_replies.get(address)
        if script:
            reply = script.pop(0)
            self.rcpt_log.append((address, reply))
            return reply
        self.rcpt_log.append((address, "250 OK"))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if reply:
                return reply
        data = envelope.original_content or envelope.content
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data, list(envelope.mail_options)))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 - aiosmtpd finds mechanisms by name
        import base64

        raw = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(part.split("=", 1) for part in raw.split("\x01") if "=" in part)
        ok = bool(self.xoauth2_token) and fields.get("auth") == f"Bearer {self.xoauth2_token}"
        return AuthResult(success=ok, handled=False, auth_data=fields.get("user"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    recorder: Recorder
    logins: list[str]

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages


def _authenticator(logins: list[str], user: str = USER, password: str = PASSWORD):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            if ok:
                logins.append(f"{mechanism}:{auth_data.login.decode('utf-8', 'replace')}")
            return AuthResult(success=ok)
        return AuthResult(success=False)

    return check


@pytest.fixture
def smtp_server(certs) -> Iterator:
    """Factory: ``smtp_server(tls="none"|"starttls"|"implicit", auth=False, utf8=True)``."""
    started: list[Controller] = []

    def start(*, tls: str = "none", auth: bool = False, utf8: bool = True, host: str = "127.0.0.1",
              credentials: tuple[str, str] = (USER, PASSWORD)) -> Server:
        recorder = Recorder()
        logins: list[str] = []
        kwargs: dict = {"enable_SMTPUTF8": utf8}
        if auth:
            kwargs.update(authenticator=_authenticator(logins, *credentials), auth_required=True)
        if tls == "starttls":
            kwargs.update(tls_context=certs.server_context(), require_starttls=True)
        elif tls == "implicit":
            kwargs.update(ssl_context=certs.server_context())
            # aiosmtpd only counts STARTTLS as TLS; the implicit session is encrypted anyway.
            kwargs.update(auth_require_tls=False)
        elif auth:
            kwargs.update(auth_require_tls=False)
        port = free_port()
        controller = Controller(recorder, hostname=host, port=port, **kwargs)
        controller.start()
        started.append(controller)
        return Server(host, port, recorder, logins)

    yield start
    for controller in started:
        controller.stop()


# -- smtp-sink ---------------------------------------------------------------------------------


@dataclass
class Sink:
    port: int
    folder: Path

    def dumps(self, count: int, timeout: float = 5.0) -> list[str]:
        """The dumps' text, oldest first, once ``count`` exist.

        smtp-sink opens a dump file at MAIL and leaves it empty when the transaction
        is refused; only non-empty files are messages.
        """
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(self.folder.glob("*"), key=lambda p: (p.stat().st_mtime_ns, p.name))
            texts = [t for t in (f.read_text("utf-8", "replace") for f in files) if t]
            if len(texts) >= count or time.monotonic() > deadline:
                return texts
            time.sleep(0.05)


@dataclass
class SinkDump:
    """An smtp-sink dump: its X-Mail-Args / X-Rcpt-Args lines and the message after Received."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes

    @classmethod
    def parse(cls, text: str) -> SinkDump:
        lines = text.split("\n")
        mail_from, rcpts = "", []
        index = 0
        while index < len(lines):
            line = lines[index]
            if line.startswith("X-Mail-Args: "):
                mail_from = line.split(" ", 1)[1].split()[0].strip("<>")
            elif line.startswith("X-Rcpt-Args: "):
                rcpts.append(line.split(" ", 1)[1].split()[0].strip("<>"))
            elif line.startswith("Received: "):
                index += 1
                while lines[index].startswith(("\t", " ")):
                    index += 1
                break
            index += 1
        # The dump ends the message with one empty line of its own.
        raw = "\n".join(lines[index:]).removesuffix("\n").encode("utf-8")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        return cls(mail_from, rcpts, message, raw)  # type: ignore[arg-type]


@pytest.fixture
def smtp_sink() -> Iterator:
    """Factory: ``smtp_sink(*options)`` runs /usr/sbin/smtp-sink dumping every message."""
    binary = require_binary("smtp-sink", "/usr/sbin/smtp-sink")
    processes: list[subprocess.Popen] = []
    folders: list[Path] = []

    def start(*options: str) -> Sink:
        # smtp-sink drops root privileges to -u USER, who must be able to write the dumps.
        folder = Path(tempfile.mkdtemp(prefix="postroom-sink-"))
        folder.chmod(0o777)
        folders.append(folder)
        port = free_port()
        command = [binary, *options, "-d", f"{folder}/%Y%m%d%H%M%S.", f"127.0.0.1:{port}", "50"]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        processes.append(process)
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"smtp-sink did not start: {process.stderr.read().decode()}") from None
                time.sleep(0.05)
        return Sink(port, folder)

    yield start
    for process in processes:
        process.terminate()
        process.wait(5)
    for folder in folders:
        for item in folder.glob("*"):
            item.unlink()
        folder.rmdir()


# -- settings helpers --------------------------------------------------------------------------


def plain_connection(port: int, **overrides) -> MailConnection:
    values = dict(
        host="127.0.0.1", port=port, use_tls=False, use_ssl=False, retry_delay_seconds=0.01, timeout_seconds=5
    )
    values.update(overrides)
    return MailConnection(**values)


def operation(**overrides) -> MailOperation:
    values = {"action": "send", "from": "Clinic <clinic@example.com>", "to": "", "subject": "Announcement: Dr. Smith is Retiring"}
    values.update(overrides)
    return MailOperation.model_validate(values)


@pytest.fixture
def context() -> MemoryContext:
    return MemoryContext(execution_id="exec-1")
