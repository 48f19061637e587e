"""Issue 7 item 17: a server that echoes the AUTH line in its refusal must not put the
credentials (in clear or base64, whole or in part) into the CLI output, the log, the
execution record or anything stored in POSTROOM_HOME."""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Iterator

import pytest

USER = "clinic@example.com"
PASSWORD = "Echo-Me-Pässwörd-71"  # non-ASCII too: its UTF-8 bytes are what AUTH carries


class _Echoing(socketserver.StreamRequestHandler):
    """A little SMTP server that refuses every login, quoting what it was sent."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("utf-8") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 echo.example ESMTP")
        login_user = ""
        while line := self.rfile.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-echo.example")
                self.reply("250 AUTH PLAIN LOGIN")
            elif verb == "AUTH" and text.upper().startswith("AUTH LOGIN"):
                login_user = text.split()[-1]
                self.reply("334 UGFzc3dvcmQ6")
            elif verb == "AUTH":
                blob = text.split()[-1]
                clear = base64.b64decode(blob).decode("utf-8", "replace").replace("\0", " ")
                self.reply(f"535 5.7.8 refused: {text} ({clear})")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif login_user:  # the LOGIN password line
                clear = base64.b64decode(login_user).decode() + " " + base64.b64decode(text).decode()
                self.reply(f"535 5.7.8 refused: AUTH LOGIN {login_user} {text} ({clear})")
                login_user = ""
            else:
                self.reply("250 OK")


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echoing)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _components(port: int, mechanism: str) -> str:
    return f"""\
type: connection
connector: mail
name: Echo
id: echo
settings:
  host: 127.0.0.1
  port: {port}
  use_tls: false
  use_ssl: false
  allow_insecure_auth: true
  user_password_auth: true
  auth_mechanism: {mechanism}
  user_name: {USER}
  password: {PASSWORD}
---
type: operation
connector: mail
name: Send
id: send
settings:
  action: send
  from: {USER}
  to: alice.walker@example.com
  subject: Hello
  disposition: inline
---
type: process
name: Announce
id: announce
shapes:
  start: {{type: start, next: letter}}
  letter: {{type: message, text: "Dear patient", next: send}}
  send: {{type: connector, connection: echo, operation: send}}
"""


def _forms() -> list[str]:
    """Every way the credentials could be echoed."""
    raw_user, raw_password = USER.encode(), PASSWORD.encode()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return [PASSWORD, b64(raw_password), b64(raw_user), b64(b"\0" + raw_user + b"\0" + raw_password),
            b64(raw_user + b"\0" + raw_user + b"\0" + raw_password),
            # the password's base64 as it sits inside the PLAIN blob (another 3-byte alignment)
            b64(b"\0" + raw_user + b"\0" + raw_password)[8 * (len(raw_user) + 2) // 6 + 1:][:12]]


@pytest.mark.parametrize("mechanism", ["plain", "login", "auto"])
def test_an_echoed_auth_line_leaks_nothing(cli, home, echo_port, mechanism):
    outputs = []

    def run(*args: str):
        result = cli(*args)
        outputs.append(result.stdout + result.stderr)
        return result

    (home.parent / "work" / "c.yaml").write_text(_components(echo_port, mechanism), encoding="utf-8")
    assert run("import", "c.yaml").code == 0
    refused = run("run", "announce", "--json")
    assert refused.code == 3, refused
    assert "Traceback" not in refused.stderr
    assert "refused the user name or password" in outputs[-1] and "535 5.7.8 refused: AUTH" in outputs[-1]
    execution = refused.json()["id"]
    run("executions", "show", execution, "--json")
    run("executions", "show", execution, "--documents")
    run("executions", "list", "--json")
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    everything = "\n".join(outputs)
    for form in _forms():
        assert form not in everything, form
        assert form.encode() not in stored, form


def test_a_utf8_password_logs_in_from_the_cli(cli, home, devmail_factory):
    """The reported command: `postroom run` with a non-ASCII password sends (exit 0), and a
    wrong one ends with exit 3 and a message, not a traceback."""
    dm = devmail_factory(auth_required=True, users={USER: PASSWORD})
    yaml = _components(dm.smtp_port, "auto").replace("allow_insecure_auth: true", "allow_insecure_auth: true\n"
                                                     "  max_retries: 0")
    work = home.parent / "work"
    (work / "c.yaml").write_text(yaml, encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    ok = cli("run", "announce")
    assert ok.code == 0, ok
    assert [m.auth_user for m in dm.store.wait_for(1)] == [USER]
    (work / "c.yaml").write_text(yaml.replace(PASSWORD, "Fälsch-Pässwört"), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    refused = cli("run", "announce")
    assert refused.code == 3, refused
    assert "Traceback" not in refused.stdout + refused.stderr
    assert "refused the user name or password for" in refused.stdout + refused.stderr
