"""A real Dovecot (IMAP, IMAPS, POP3, POP3S) started from Debian's binary, for tests and benchmarks.

One implementation, used by the pytest fixtures in ``tests/_dovecot_server.py`` and by
``bench/read.py`` (which puts ``tests/`` on ``sys.path``). It imports nothing from pytest.

:class:`DovecotServer` writes a throwaway configuration into its own folder under /tmp:

* listeners on 127.0.0.1, free ports: ``imap`` (STARTTLS offered), ``imaps`` (implicit
  TLS), ``pop3`` (STLS offered), ``pop3s``; TLS 1.2 at least, with a certificate signed
  by a throwaway CA (``postroom.devmail.ensure_certificates``), so clients verify it
  through ``trusted_ca_file`` exactly as they verify a real server;
* users and passwords in a passwd-file, ``auth_mechanisms = plain login``; cleartext
  login is refused unless the session is TLS (Dovecot still counts 127.0.0.1 as secure);
  no auth penalty or failure delay (tests log in wrong on purpose, all from 127.0.0.1);
* XOAUTH2 and OAUTHBEARER through Dovecot's oauth2 passdb, checked against a local token
  introspection endpoint (:class:`TokenIntrospection`): ``issue_token(user)`` gives an
  access token Dovecot accepts for that user until ``revoke(token)``;
* with ``client_ca_file``, client certificates (mutual TLS): ``ssl_verify_client_cert`` and
  ``auth_ssl_require_client_cert``, so a login without a certificate that CA signed fails;
* maildir storage under the folder; base_dir, state_dir and the log there too, and a
  unique ``instance_name``, so it never touches a system Dovecot.

As root, Dovecot itself runs as root (it drops privileges for its own processes: login
as ``dovenull``, internal as ``dovecot``, both created by the Debian package) and the
mail processes run as ``nobody``. As any other user, everything runs as that user.

:meth:`DovecotServer.deliver` writes a message into a user's maildir the way a delivery
agent does (``tmp/`` then rename into ``new/``), which Dovecot picks up at once;
:meth:`DovecotServer.messages` lists what remains in a folder (for delete/move checks).
:class:`SmtpFront` is an aiosmtpd server that delivers what it receives the same way, so
messages can go in through Postroom's own Send operation.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DOVECOT", "DovecotServer", "SmtpFront", "TokenIntrospection", "free_port", "find_dovecot"]

DOVECOT = "/usr/sbin/dovecot"

_counter = itertools.count(1)


def find_dovecot() -> str | None:
    """The dovecot binary, or None when it is not installed."""
    for path in (shutil.which("dovecot"), DOVECOT):
        if path and os.path.exists(path):
            return path
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mail_owner() -> tuple[int, int, str, str]:
    """uid, gid of the mail processes; login and internal user names."""
    if os.geteuid() == 0:
        for login, internal in (("dovenull", "dovecot"),):
            try:
                pwd.getpwnam(login), pwd.getpwnam(internal)
            except KeyError:
                login = internal = "nobody"
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid, login, internal
    me = pwd.getpwuid(os.getuid())
    return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name


class TokenIntrospection:
    """An OAuth 2.0 token introspection endpoint (RFC 7662) on 127.0.0.1, for Dovecot's
    oauth2 passdb; it also serves ``/token`` (refresh token -> the next access token queued
    with :meth:`queue`) for clients that refresh."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        self.tokens: dict[str, str] = {}
        self.queued: list[str] = []
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0) or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                owner.requests.append((self.path, form))
                if self.path.startswith("/token"):
                    token = owner.queued.pop(0) if owner.queued else ""
                    payload = ({"access_token": token, "token_type": "Bearer", "expires_in": 3600} if token
                               else {"error": "invalid_grant"})
                else:
                    user = owner.tokens.get((form.get("token") or [""])[0])
                    payload = {"active": True, "username": user} if user else {"active": False}
                body = json.dumps(payload).encode()
                self.send_response(200 if "error" not in payload else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def issue(self, user: str, token: str | None = None) -> str:
        token = token or f"tok-{uuid.uuid4().hex}"
        self.tokens[token] = user
        return token

    def queue(self, token: str) -> None:
        """The next access token ``/token`` hands out (whether or not it is valid)."""
        self.queued.append(token)

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class DovecotServer:
    """One running Dovecot. ``users`` maps address to password."""

    users: dict[str, str]
    binary: str = DOVECOT
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="postroom-dovecot-")))
    host: str = "127.0.0.1"
    imap_port: int = 0
    imaps_port: int = 0
    pop3_port: int = 0
    pop3s_port: int = 0
    process: subprocess.Popen | None = None
    ca_file: Path | None = None
    spare_users: int = 400
    oauth2: bool = True
    #: A PEM file of CAs: every TLS login then needs a client certificate one of them signed.
    client_ca_file: Path | None = None

    def __post_init__(self) -> None:
        self.uid, self.gid, self.login_user, self.internal_user = _mail_owner()
        self.name = f"postroom-test-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self._spare: list[str] = []
        self.tokens: TokenIntrospection | None = None
        for n in range(1, self.spare_users + 1):
            user = f"box{n:04d}@example.com"
            self.users.setdefault(user, f"pw{n:04d}-{uuid.uuid4().hex[:10]}")
            self._spare.append(user)

    # -- layout ----------------------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.folder / "dovecot.conf"

    @property
    def log_file(self) -> Path:
        return self.folder / "dovecot.log"

    @property
    def mail_root(self) -> Path:
        return self.folder / "mail"

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The maildir++ folder of a user: INBOX is the root, others are ``.Name``."""
        local, _, domain = user.partition("@")
        root = self.mail_root / (domain or "local") / local / "Maildir"
        if folder.upper() == "INBOX":
            return root
        return root / ("." + folder.replace("/", "."))

    # -- start and stop --------------------------------------------------------------------
    def _certificates(self) -> tuple[Path, Path]:
        from postroom.devmail import ensure_certificates

        files = ensure_certificates(self.folder / "tls")
        self.ca_file = files.ca_file
        for path in (files.directory, files.cert_file, files.key_file, files.ca_file):
            os.chmod(path, 0o755 if path.is_dir() else 0o644 if path != files.key_file else 0o600)
        return files.cert_file, files.key_file

    def _write_passwd(self) -> Path:
        lines = []
        for user, password in self.users.items():
            if ":" in user or ":" in password or "\n" in password:
                raise ValueError("a test user or password may not hold ':' or a line break (passwd-file)")
            local, _, domain = user.partition("@")
            home = self.mail_root / (domain or "local") / local
            lines.append(f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{home}::")
        passwd = self.folder / "passwd"
        staging = self.folder / "passwd.new"
        staging.write_text("\n".join(lines) + "\n")
        os.chmod(staging, 0o644)
        os.replace(staging, passwd)  # Dovecot re-reads a passwd-file when it changes
        return passwd

    def take_user(self) -> tuple[str, str]:
        """A fresh mailbox (user, password) from the ones made at start: tests take one each.

        Users are made up front because Dovecot re-reads a passwd-file at most once a
        second: a user added just now may not log in yet."""
        if not self._spare:
            raise RuntimeError(f"all {self.spare_users} spare users of this Dovecot are taken; "
                               "raise spare_users")
        user = self._spare.pop(0)
        self._prepare_mail([user])
        return user, self.users[user]

    def _write_config(self, cert: Path, key: Path) -> None:
        folder = self.folder
        passwd = self._write_passwd()
        mechanisms = "plain login"
        oauth2 = ""
        if self.tokens is not None:
            mechanisms += " xoauth2 oauthbearer"
            settings = folder / "oauth2.conf.ext"
            settings.write_text(f"introspection_mode = post\nintrospection_url = {self.tokens.introspection_url}\n"
                                "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
            os.chmod(settings, 0o644)
            oauth2 = f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {settings}
}}
"""
        client_certs = ""
        if self.client_ca_file is not None:
            client_certs = (f"ssl_ca = <{self.client_ca_file}\nssl_verify_client_cert = yes\nssl_require_crl = no\n"
                            "auth_ssl_require_client_cert = yes\n")
        chroot = "" if os.geteuid() == 0 else "\n  chroot ="
        self.config_file.write_text(f"""# written by tests/support/dovecotkit.py: a throwaway Dovecot for Postroom's tests
instance_name = {self.name}
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {self.log_file}
info_log_path = {self.log_file}
protocols = imap pop3
listen = {self.host}
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
first_valid_uid = {min(self.uid, 500) if self.uid else 1}
first_valid_gid = 1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
{client_certs}disable_plaintext_auth = yes
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 200
pop3_uidl_format = %08Xu%08Xv
namespace inbox {{
  inbox = yes
  separator = /
}}
{oauth2}passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}{chroot}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {self.host}
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = {self.host}
    port = {self.pop3s_port}
    ssl = yes
  }}{chroot}
}}
service anvil {{{chroot}
  # no auth penalty: tests log in with wrong passwords on purpose, all from 127.0.0.1
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
""")

    def _prepare_mail(self, users: list[str] | None = None) -> None:
        self.mail_root.mkdir(parents=True, exist_ok=True)
        self._own(self.mail_root)
        for user in users if users is not None else list(self.users):
            root = self.maildir(user)
            for sub in ("cur", "new", "tmp"):
                (root / sub).mkdir(parents=True, exist_ok=True)
            path = root / "cur"
            while path != self.mail_root:
                self._own(path)
                path = path.parent
            for sub in ("new", "tmp"):
                self._own(root / sub)

    def start(self, timeout: float = 30.0) -> DovecotServer:
        """Start on free ports (another set of ports is tried if one was taken meanwhile)."""
        os.chmod(self.folder, 0o755)
        if self.oauth2 and self.tokens is None:
            self.tokens = TokenIntrospection()
        cert, key = self._certificates()
        self._prepare_mail([u for u in self.users if u not in self._spare])
        last = ""
        for _ in range(3):
            self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port = (free_port() for _ in range(4))
            self._write_config(cert, key)
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config_file)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )
            if self._wait_ready(timeout):
                return self
            last = self._stop_process()
        raise RuntimeError(f"dovecot did not start: {last}\n{self.log_text()[-3000:]}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pending = {self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port}
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            for port in list(pending):
                try:
                    with socket.create_connection((self.host, port), timeout=1):
                        pending.discard(port)
                except OSError:
                    pass
            if not pending:
                return True
            time.sleep(0.05)
        return False

    def _stop_process(self) -> str:
        proc, self.process = self.process, None
        if proc is None:
            return ""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        output = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
        if proc.stdout:
            proc.stdout.close()
        return output

    def stop(self) -> None:
        """Stop Dovecot (its processes end with the master) and keep the folder."""
        self._stop_process()

    def restart(self, timeout: float = 30.0) -> None:
        """Stop and start again on the same ports (listener tests: a server that went away)."""
        self._stop_process()
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_file)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        if not self._wait_ready(timeout):
            raise RuntimeError(f"dovecot did not restart:\n{self.log_text()[-3000:]}")

    def cleanup(self) -> None:
        self.stop()
        if self.tokens is not None:
            self.tokens.stop()
            self.tokens = None
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    # -- mailboxes -------------------------------------------------------------------------
    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)

    def create_folder(self, user: str, folder: str) -> Path:
        path = self.maildir(user, folder)
        for sub in ("", "cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
            self._own(path / sub)
        marker = path / "maildirfolder"
        marker.touch()
        self._own(marker)
        return path

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX", *, seen: bool = False,
                when: float | None = None) -> Path:
        """Deliver one message as a delivery agent would: write into tmp/, rename into new/
        (or cur/ with the Seen flag). ``when`` sets the file time Dovecot takes as the
        received (internal) date."""
        if user not in self.users:
            raise KeyError(f"no user {user} in this Dovecot")
        box = self.maildir(user, folder)
        if not (box / "tmp").is_dir():
            self.create_folder(user, folder)
        name = f"{time.time():.6f}.P{os.getpid()}Q{next(_counter)}.postroom-test"
        tmp = box / "tmp" / name
        with open(tmp, "wb") as handle:
            handle.write(raw)
        if when is not None:
            os.utime(tmp, (when, when))
        self._own(tmp)
        target = box / "cur" / f"{name}:2,S" if seen else box / "new" / name
        os.rename(tmp, target)
        return target

    def deliver_many(self, user: str, messages: list[bytes], folder: str = "INBOX") -> None:
        for raw in messages:
            self.deliver(user, raw, folder)

    def message_files(self, user: str, folder: str = "INBOX") -> list[Path]:
        box = self.maildir(user, folder)
        files: list[Path] = []
        for sub in ("new", "cur"):
            directory = box / sub
            if directory.is_dir():
                files.extend(p for p in directory.iterdir() if p.is_file())
        return sorted(files)

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The raw bytes of every message left in the folder (order of delivery name)."""
        out = []
        for path in self.message_files(user, folder):
            try:
                out.append(path.read_bytes())
            except FileNotFoundError:  # renamed by Dovecot (new/ to cur/) as we looked
                pass
        return out

    def flags(self, user: str, folder: str = "INBOX") -> list[str]:
        """The maildir flags of every message in the folder ('' for new ones)."""
        return [p.name.partition(":2,")[2] for p in self.message_files(user, folder)]


class SmtpFront:
    """An SMTP server (aiosmtpd, plain, no login) delivering into a Dovecot's maildirs:
    what a real MTA plus delivery agent does in front of Dovecot. Unknown recipients
    are refused with 550."""

    def __init__(self, server: DovecotServer) -> None:
        self.server = server
        self.port = 0
        self._controller = None
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address not in self.server.users:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        data = envelope.original_content or envelope.content
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.server.deliver(rcpt, data)
        return "250 2.0.0 Ok: delivered to the maildir"

    def start(self) -> SmtpFront:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
