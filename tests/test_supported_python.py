"""The Python versions Postroom supports, and the stdlib internals its mail code relies on.

docs/adr/0009-stdlib-private-apis.md lists every use of a private or undocumented part of
smtplib, imaplib and poplib in ``src/``. Those parts can change in any Python release without
notice, so this test pins the range of versions the list was checked against and checks,
on the interpreter running the suite, that each part is still there and still used the way
the code assumes. An upgrade then fails here, naming what to re-check, not in production.

The checks need no server and no network: names and signatures are read from the classes,
and where the code relies on how a stdlib method uses an attribute, from the method's source.
"""

from __future__ import annotations

import imaplib
import inspect
import poplib
import re
import smtplib
import sys
import tomllib

import pytest

from support.testsupport import ROOT

ADR = "docs/adr/0009-stdlib-private-apis.md"
#: Oldest and newest minor versions the ADR's list was checked against (both included).
OLDEST = (3, 11)
NEWEST = (3, 13)

RECHECK = (
    f"re-check every entry of {ADR} against this version's smtplib, imaplib and poplib "
    "(and the mail tests against Dovecot and smtp-sink), then widen OLDEST/NEWEST in "
    "tests/test_supported_python.py and the version range in the ADR"
)


def _version(info: tuple[int, int]) -> str:
    return f"{info[0]}.{info[1]}"


def test_python_is_within_the_checked_range() -> None:
    running = sys.version_info[:2]
    assert OLDEST <= running <= NEWEST, (
        f"Python {_version(running)} is outside {_version(OLDEST)} to {_version(NEWEST)}, the versions "
        f"whose stdlib internals Postroom's mail code was checked against: {RECHECK}"
    )


def test_pyproject_declares_the_same_oldest_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = re.fullmatch(r">=\s*(\d+)\.(\d+)", project["requires-python"].split(",")[0].strip())
    assert declared, f"requires-python {project['requires-python']!r} no longer starts with >=X.Y"
    assert (int(declared.group(1)), int(declared.group(2))) == OLDEST, (
        f"pyproject.toml requires Python {project['requires-python']} but the oldest version checked is "
        f"{_version(OLDEST)}: {RECHECK}"
    )


# -- names: (owner, attribute, where Postroom uses it) ------------------------------------------

NAMES = [
    (smtplib, "_MAXLINE", "_smtp.py _getreply/_rest_of_reply: the reply line limit"),
    (smtplib.SMTP, "_get_socket", "_smtp.py _Tracking: overridden to note that TCP connected"),
    (smtplib.SMTP, "getreply", "_smtp.py _getreply: the fallback for every reply not read the short way"),
    (imaplib.IMAP4, "_create_socket", "_imap.py _Streaming: overridden to note TCP and wrap TLS"),
    (imaplib.IMAP4, "_new_tag", "_imap.py ImapSession.idle: the tag of the IDLE command"),
    (imaplib.IMAP4, "_get_line", "_imap.py ImapSession.idle: one response line at a time"),
    (imaplib.IMAP4, "read", "_imap.py _Streaming.read: overridden to spool large literals"),
    (poplib.POP3, "_create_socket", "_pop3.py _POP3/_POP3S: overridden to note TCP and wrap TLS"),
    (poplib.POP3, "_shortcmd", "_pop3.py: AUTH PLAIN, AUTH XOAUTH2, RSET and QUIT"),
    (poplib.POP3, "_putcmd", "_pop3.py Pop3Session._send: pipelined RETR"),
    (poplib.POP3, "_getresp", "_pop3.py Pop3Session._read_multiline: the status line of RETR and TOP"),
    (poplib.POP3, "_getline", "_pop3.py: poplib's own reads, which share self.file with ours"),
]


@pytest.mark.parametrize(("owner", "name", "use"), NAMES, ids=[f"{o.__name__}.{n}" for o, n, _ in NAMES])
def test_stdlib_name_exists(owner: object, name: str, use: str) -> None:
    assert hasattr(owner, name), f"{owner.__name__}.{name} is gone (used by {use}): {RECHECK}"  # type: ignore[attr-defined]


def test_smtplib_line_limit_is_an_int() -> None:
    assert isinstance(smtplib._MAXLINE, int) and smtplib._MAXLINE > 1000, RECHECK


# -- signatures of the private methods Postroom overrides or calls ----------------------------

SIGNATURES = [
    (smtplib.SMTP._get_socket, ["self", "host", "port", "timeout"]),  # overridden
    (imaplib.IMAP4._create_socket, ["self", "timeout"]),  # overridden
    (poplib.POP3._create_socket, ["self", "timeout"]),  # overridden
    (imaplib.IMAP4.read, ["self", "size"]),  # overridden
    (imaplib.IMAP4._new_tag, ["self"]),
    (imaplib.IMAP4._get_line, ["self"]),
    (poplib.POP3._shortcmd, ["self", "line"]),
    (poplib.POP3._putcmd, ["self", "line"]),
    (poplib.POP3._getresp, ["self"]),
]


@pytest.mark.parametrize(("method", "parameters"), SIGNATURES, ids=[m.__qualname__ for m, _ in SIGNATURES])
def test_private_method_keeps_its_signature(method: object, parameters: list[str]) -> None:
    found = list(inspect.signature(method).parameters)  # type: ignore[arg-type]
    assert found == parameters, f"{method.__qualname__} now takes {found}: {RECHECK}"  # type: ignore[attr-defined]


# -- how stdlib methods use the attributes Postroom reads or writes -----------------------------
# (method, text its source must hold, what Postroom relies on)

USES = [
    (smtplib.SMTP.__init__, "self._host", "_Tracking sets _host, the TLS server name"),
    (smtplib.SMTP.starttls, "server_hostname=self._host", "STARTTLS checks the certificate against _host"),
    (smtplib.SMTP_SSL._get_socket, "server_hostname=self._host", "SMTPS checks the certificate against _host"),
    (smtplib.SMTP.getreply, "self.file", "_getreply reads replies from SMTP.file"),
    (smtplib.SMTP.connect, "self.sock", "the session reads SMTP.sock for the TLS version and cipher"),
    (smtplib.SMTP.login, "self.password", "_Opener._login blanks SMTP.password after login"),
    (imaplib.IMAP4.open, "self._create_socket(timeout)", "_Streaming._create_socket is called on connect"),
    (imaplib.IMAP4.open, "self.file = self.sock.makefile('rb')", "IDLE peeks at IMAP4.file, a buffered reader"),
    (imaplib.IMAP4.readline, "self.file", "IDLE's peek at IMAP4.file sees what readline will read"),
    (imaplib.IMAP4.read, "self.file", "_Streaming.read reads large literals from IMAP4.file"),
    (imaplib.IMAP4._get_response, "self.read(size)", "a literal is whatever read() returns (a spooled file)"),
    (imaplib.IMAP4._new_tag, "self.tagged_commands[tag]", "IDLE removes its tag from tagged_commands"),
    (imaplib.IMAP4._command, "literal = self.literal", "a UTF-8 SEARCH string is sent through IMAP4.literal"),
    (imaplib.IMAP4._connect, "self.welcome", "the greeting is read from IMAP4.welcome"),
    (imaplib.IMAP4._get_capabilities, "self.capabilities", "capabilities are read from IMAP4.capabilities"),
    (imaplib.IMAP4_SSL.__init__, "self.ssl_context", "_Streaming wraps the socket with IMAP4_SSL.ssl_context"),
    (poplib.POP3.__init__, "self._create_socket(timeout)", "_POP3/_POP3S._create_socket are called on connect"),
    (poplib.POP3.__init__, "self.file = self.sock.makefile('rb')", "RETR is read from POP3.file"),
    (poplib.POP3._getline, "self.file.readline", "poplib and Pop3Session read the same POP3.file"),
    (poplib.POP3_SSL.__init__, "self.context", "_POP3S wraps the socket with POP3_SSL.context"),
]


@pytest.mark.parametrize(("method", "text", "reliance"), USES,
                         ids=[f"{m.__qualname__}:{t}" for m, t, _ in USES])
def test_stdlib_method_still_uses_the_attribute(method: object, text: str, reliance: str) -> None:
    source = inspect.getsource(method)  # type: ignore[arg-type]
    assert text in source, (
        f"{method.__qualname__} no longer contains {text!r}; Postroom relies on it ({reliance}): {RECHECK}"  # type: ignore[attr-defined]
    )


def test_an_unconnected_smtp_client_has_the_attributes_read_before_connecting() -> None:
    client = smtplib.SMTP()
    for name in ("_host", "esmtp_features", "debuglevel", "file", "sock"):
        assert hasattr(client, name), f"smtplib.SMTP() has no {name}: {RECHECK}"
