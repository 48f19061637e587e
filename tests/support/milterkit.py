"""A private Postfix that verifies DKIM with an OpenDKIM milter, both started by the test.

``dkim_mx(records)`` starts, on free ports of 127.0.0.1 and in folders of its own:

* ``opendkim`` in verify mode (``Mode v``) listening on ``inet:PORT@127.0.0.1``; the public
  keys come from a ``TestPublicKeys`` file (``NAME VALUE`` lines, the TXT records), so no DNS
  is asked; ``InternalHosts`` names a documentation address, so mail from 127.0.0.1 is
  verified, not treated as outbound;
* a Postfix instance (``support.postfixkit.PostfixServer``: its own main.cf, master.cf,
  queue and data folders) whose smtpd runs every message through the milter and relays it
  to an smtp-sink (``relayhost``), where the test reads the ``Authentication-Results``
  OpenDKIM added.

Everything is stopped and removed at teardown. Postfix starts as root only (it drops to the
``postfix`` user); under CI=true a missing binary or a non-root run fails, never skips.
"""

from __future__ import annotations

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
from support.postfixkit import PostfixServer, require_postfix
from support.testsupport import require_binary

__all__ = ["DkimMx", "dkim_mx"]

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
    postfix: PostfixServer
    sent: int = field(default=0)

    def results(self, count: int, timeout: float = 10.0) -> list[str]:
        """The ``dkim=`` results OpenDKIM wrote into the first ``count`` relayed messages, oldest first."""
        dumps = self.sink.dumps(count, timeout=timeout)
        if len(dumps) < count:
            raise AssertionError(f"{len(dumps)} of {count} messages reached the sink; Postfix's log:\n{self.log()}")
        return [authentication_results(dump) for dump in dumps]

    def log(self) -> str:
        return self.postfix.log_text()[-4000:]


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


def _start_opendkim(binary: str, root: Path, records: dict[str, str]) -> tuple[subprocess.Popen, int]:
    (root / "keys").write_text("".join(f"{name} {value}\n" for name, value in records.items()), encoding="ascii")
    milter_port = free_port()
    (root / "opendkim.conf").write_text(_OPENDKIM_CONF.format(milter_port=milter_port, root=root), encoding="ascii")
    log = open(root / "opendkim.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([binary, "-x", str(root / "opendkim.conf"), "-f"], stdout=log, stderr=log)
    log.close()
    _wait_for_port(milter_port, lambda: process.poll() is None, "opendkim", lambda: _log(root / "opendkim.log"))
    return process, milter_port


@pytest.fixture
def dkim_mx(smtp_sink) -> Iterator:  # noqa: ANN001
    """Factory: ``dkim_mx({"sel._domainkey.example.com": "v=DKIM1; k=rsa; p=..."})`` -> :class:`DkimMx`."""
    opendkim = require_binary("opendkim", "/usr/sbin/opendkim")
    require_postfix()
    started: list[tuple[subprocess.Popen, Path, PostfixServer | None]] = []

    def start(records: dict[str, str]) -> DkimMx:
        root = Path(tempfile.mkdtemp(prefix="postroom-mx-"))
        sink = smtp_sink()
        milter, milter_port = _start_opendkim(opendkim, root, records)
        started.append((milter, root, None))
        postfix = PostfixServer(hostname=AUTHSERV_ID, settings={
            "relayhost": f"[127.0.0.1]:{sink.port}", "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "smtpd_milters": f"inet:127.0.0.1:{milter_port}", "milter_default_action": "tempfail"})
        started[-1] = (milter, root, postfix)
        postfix.start()
        return DkimMx(postfix.port, sink, postfix)

    yield start
    for milter, root, postfix in started:
        if postfix is not None:
            postfix.stop()
        milter.kill()  # a verifier with nothing to keep; SIGTERM makes libmilter linger about 3 s
        milter.wait(10)
        shutil.rmtree(root, ignore_errors=True)
