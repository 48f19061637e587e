"""A private Postfix that verifies DKIM with an OpenDKIM milter, both started by the test.

``dkim_mx(records)`` starts, on free ports of 127.0.0.1 and in folders of its own:

* ``opendkim`` in verify mode (``Mode v``) listening on ``inet:PORT@127.0.0.1``; the public
  keys come from a ``TestPublicKeys`` file (``NAME VALUE`` lines, the TXT records), so no DNS
  is asked; ``InternalHosts`` names a documentation address, so mail from 127.0.0.1 is
  verified, not treated as outbound;
* a Postfix instance (``postfix -c CONFDIR start``: its own main.cf, master.cf, queue and
  data folders) whose smtpd runs every message through the milter and relays it to an
  smtp-sink (``relayhost``), where the test reads the ``Authentication-Results`` OpenDKIM added.

Everything is stopped and removed at teardown. Postfix starts as root only (it drops to the
``postfix`` user); under CI=true a missing binary or a non-root run fails, never skips.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.mailkit import Sink, free_port
from support.testsupport import IN_CI, require_binary

__all__ = ["DkimMx", "dkim_mx"]

_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = mx.postroom.test
mydomain = postroom.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:{sink_port}
smtp_dns_support_level = disabled
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_milters = inet:127.0.0.1:{milter_port}
milter_default_action = tempfail
"""

_OPENDKIM_CONF = """\
Mode v
Background no
Syslog no
Socket inet:{milter_port}@127.0.0.1
TestPublicKeys {root}/keys
AlwaysAddARHeader yes
AuthservID mx.postroom.test
InternalHosts 192.0.2.1
"""

AUTHSERV_ID = "mx.postroom.test"


@dataclass
class DkimMx:
    """The running pair: send to ``port``; read what passed through from ``sink``."""

    port: int
    sink: Sink
    root: Path
    sent: int = field(default=0)

    def results(self, count: int, timeout: float = 10.0) -> list[str]:
        """The ``dkim=`` results OpenDKIM wrote into the first ``count`` relayed messages, oldest first."""
        dumps = self.sink.dumps(count, timeout=timeout)
        if len(dumps) < count:
            raise AssertionError(f"{len(dumps)} of {count} messages reached the sink; Postfix's log:\n{self.log()}")
        return [authentication_results(dump) for dump in dumps]

    def log(self) -> str:
        return _log(self.root / "maillog")


def _log(path: Path) -> str:
    return path.read_text("utf-8", "replace")[-4000:] if path.exists() else f"({path} was not written)"


def authentication_results(dump: str) -> str:
    """The value of the Authentication-Results header by ``AUTHSERV_ID`` in a dumped message, unfolded."""
    found = re.search(rf"^Authentication-Results: {re.escape(AUTHSERV_ID)};(.*?)\n(?=\S)", dump, re.M | re.S)
    if not found:
        raise AssertionError(f"no Authentication-Results by {AUTHSERV_ID} in:\n{dump[:3000]}")
    return " ".join(found.group(1).split())


def _wait_for_port(port: int, process_alive, what: str, log) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if not process_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on 127.0.0.1:{port}:\n{log()}") from None
            time.sleep(0.05)


def _require_root() -> None:
    if os.geteuid() != 0:
        message = "a private Postfix instance starts as root only (it drops to the postfix user)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _postfix(binary: str, conf: Path, verb: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "-c", str(conf), verb], capture_output=True, text=True, timeout=60)


def _start_opendkim(binary: str, root: Path, records: dict[str, str]) -> tuple[subprocess.Popen, int]:
    (root / "keys").write_text("".join(f"{name} {value}\n" for name, value in records.items()), encoding="ascii")
    milter_port = free_port()
    (root / "opendkim.conf").write_text(_OPENDKIM_CONF.format(milter_port=milter_port, root=root), encoding="ascii")
    log = open(root / "opendkim.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([binary, "-x", str(root / "opendkim.conf"), "-f"], stdout=log, stderr=log)
    log.close()
    _wait_for_port(milter_port, lambda: process.poll() is None, "opendkim", lambda: _log(root / "opendkim.log"))
    return process, milter_port


def _start_postfix(binary: str, root: Path, milter_port: int, sink_port: int) -> int:
    conf, data = root / "conf", root / "data"
    conf.mkdir()
    data.mkdir()
    (root / "queue").mkdir()
    shutil.chown(data, "postfix")  # the master's lock file lives here
    port = free_port()
    (conf / "main.cf").write_text(_MAIN_CF.format(root=root, sink_port=sink_port, milter_port=milter_port),
                                  encoding="ascii")
    (conf / "master.cf").write_text(_MASTER_CF.format(port=port), encoding="ascii")
    started = _postfix(binary, conf, "start")
    if started.returncode != 0:
        raise RuntimeError(f"postfix -c {conf} start failed: {started.stderr}\n{_log(root / 'maillog')}")
    _wait_for_port(port, lambda: True, "postfix smtpd", lambda: _log(root / "maillog"))
    return port


def _stop_postfix(binary: str, root: Path) -> None:
    pid_file = root / "queue" / "pid" / "master.pid"
    pid = int(pid_file.read_text().strip() or 0) if pid_file.exists() else 0
    _postfix(binary, root / "conf", "stop")
    deadline = time.monotonic() + 10
    while pid and time.monotonic() < deadline:  # the master (and its children) on their way out
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.fixture
def dkim_mx(smtp_sink) -> Iterator:  # noqa: ANN001
    """Factory: ``dkim_mx({"sel._domainkey.example.com": "v=DKIM1; k=rsa; p=..."})`` -> :class:`DkimMx`."""
    opendkim = require_binary("opendkim", "/usr/sbin/opendkim")
    postfix = require_binary("postfix", "/usr/sbin/postfix")
    _require_root()
    started: list[tuple[subprocess.Popen, Path, bool]] = []

    def start(records: dict[str, str]) -> DkimMx:
        root = Path(tempfile.mkdtemp(prefix="postroom-mx-"))
        root.chmod(0o755)  # Postfix's daemons run as postfix and chdir into the queue below
        sink = smtp_sink()
        milter, milter_port = _start_opendkim(opendkim, root, records)
        started.append((milter, root, False))
        port = _start_postfix(postfix, root, milter_port, sink.port)
        started[-1] = (milter, root, True)
        return DkimMx(port, sink, root)

    yield start
    for milter, root, postfix_running in started:
        if postfix_running:
            _stop_postfix(postfix, root)
        milter.kill()  # a verifier with nothing to keep; SIGTERM makes libmilter linger about 3 s
        milter.wait(10)
        shutil.rmtree(root, ignore_errors=True)
