"""A private Postfix instance for tests: its own configuration, queue and data directories,
smtpd on 127.0.0.1 at a free port, and a transport map saying where each domain goes
(``smtp:[127.0.0.1]:PORT`` to relay to a test server, ``error:5.1.1 ...`` to bounce).

``PostfixServer(transports={...}).start()``; ``stop()`` when done. Needs root (Postfix's
master runs its daemons as the ``postfix`` user) and /usr/sbin/postfix. Every instance has
unique directories and ports, so pytest-xdist workers each run their own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from support.dovecotkit import free_port

POSTFIX = "/usr/sbin/postfix"
_SYSTEM_MASTER = Path("/etc/postfix/master.cf")


def _master_cf(port: int) -> str:
    """The system's master.cf with no daemon chrooted and smtpd on 127.0.0.1:``port`` only."""
    lines = []
    for line in _SYSTEM_MASTER.read_text().splitlines():
        fields = line.split()
        if line[:1] in ("", "#", " ", "\t") or len(fields) < 8:
            lines.append(line)
            continue
        if fields[0] == "smtp" and fields[1] == "inet":
            fields[0] = f"127.0.0.1:{port}"
        fields[4] = "n"  # no chroot: the instance's queue is not a chroot jail
        lines.append("  ".join(fields[:8]) + ("  " + " ".join(fields[8:]) if fields[8:] else ""))
    return "\n".join(lines) + "\n"


@dataclass
class PostfixServer:
    """One running Postfix. ``transports``: domain (or address) -> transport:nexthop."""

    transports: dict[str, str]
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="postroom-postfix-")))
    port: int = 0
    hostname: str = "mta.postroom.test"

    @property
    def config(self) -> Path:
        return self.folder / "etc"

    @property
    def log_file(self) -> Path:
        return self.folder / "maillog"

    def _write_config(self) -> None:
        self.config.mkdir(parents=True, exist_ok=True)
        (self.config / "master.cf").write_text(_master_cf(self.port))
        (self.config / "transport").write_text("".join(f"{k} {v}\n" for k, v in self.transports.items()))
        relay = " ".join(k for k in self.transports if "@" not in k)
        name = f"postfix-postroom-{uuid.uuid4().hex[:8]}"
        (self.config / "main.cf").write_text(f"""# written by tests/support/postfixkit.py
compatibility_level = 3.6
queue_directory = {self.folder}/queue
data_directory = {self.folder}/data
maillog_file = {self.log_file}
maillog_file_prefixes = {self.folder}
syslog_name = {name}
mail_owner = postfix
setgid_group = postdrop
myhostname = {self.hostname}
mydomain = postroom.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = {relay}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_reject_unlisted_recipient = no
transport_maps = texthash:{self.config}/transport
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
biff = no
""")

    def start(self, timeout: float = 30.0) -> PostfixServer:
        os.chmod(self.folder, 0o755)
        self.port = self.port or free_port()
        self._write_config()
        (self.folder / "queue").mkdir(exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        shutil.chown(self.folder / "data", "postfix", "postfix")
        self.log_file.touch()
        os.chmod(self.log_file, 0o666)
        result = subprocess.run([POSTFIX, "-c", str(self.config), "start"], capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"postfix did not start: {result.stdout}{result.stderr}{self.log_text()}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(512).startswith(b"220"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"postfix smtpd did not answer on port {self.port}: {self.log_text()}")
            time.sleep(0.1)

    def flush(self) -> None:
        """Ask the queue manager to try the deferred mail now."""
        subprocess.run([POSTFIX, "-c", str(self.config), "flush"], capture_output=True, timeout=30, check=False)

    def log_text(self) -> str:
        try:
            return self.log_file.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        subprocess.run([POSTFIX, "-c", str(self.config), "stop"], capture_output=True, timeout=60, check=False)
        pid_file = self.folder / "queue" / "pid" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            try:
                os.kill(int(pid_file.read_text().split()[0]), 0)
            except (OSError, ValueError):
                break
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
