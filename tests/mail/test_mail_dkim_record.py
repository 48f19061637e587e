"""Issue 12 item 1 (DNS side): ``postroom mail dkim-record`` prints the TXT record to publish,
and ``postroom connections test`` checks the signing key against the selector's record,
served by a real (tiny) DNS server over UDP; with no DNS it warns and still passes."""

from __future__ import annotations

import base64
import socket
import threading

import dkim
import dns.message
import dns.rcode
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class _Dns:
    """A UDP DNS server answering TXT queries from ``records`` (NXDOMAIN otherwise)."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            name = query.question[0].name.to_text().rstrip(".")
            texts = self.records.get(name)
            if texts:
                strings = " ".join('"' + t[i:i + 255] + '"' for t in texts for i in range(0, len(t), 255))
                reply.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "TXT", strings))
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dns_server():
    server = _Dns()
    yield server
    server.close()


def _import(cli, workdir, devmail, key: str, algorithm: str = "rsa-sha256") -> None:
    assert cli("secrets", "set", "dkim-key", input=key).code == 0
    (workdir / "conn.yaml").write_text(f"""\
type: connection
connector: mail
name: Clinic
id: clinic
settings:
  host: {devmail.client_host}
  port: {devmail.smtp_port}
  use_tls: true
  trusted_ca_file: "{devmail.ca_file}"
  user_password_auth: true
  user_name: {DEVMAIL_USER}
  password: {DEVMAIL_PASSWORD}
  dkim_domain: example.com
  dkim_selector: pr2026
  dkim_algorithm: {algorithm}
  dkim_private_key: ${{secret:dkim-key}}
""", encoding="utf-8")
    imported = cli("import", "conn.yaml")
    assert imported.code == 0, imported


def _record(stdout: str) -> tuple[str, str]:
    lines = dict(line.split(":", 1) for line in stdout.splitlines() if ":" in line)
    return lines["name"].strip(), lines["value"].strip()


def test_dkim_record_prints_what_verifies_a_signature(cli, workdir, devmail):
    key = _rsa_pem()
    _import(cli, workdir, devmail, key)
    printed = cli("mail", "dkim-record", "clinic")
    assert printed.code == 0, printed
    name, value = _record(printed.stdout)
    assert name == "pr2026._domainkey.example.com" and value.startswith("v=DKIM1; k=rsa; p=MIIB")
    assert "PRIVATE" not in printed.stdout and key.splitlines()[1] not in printed.stdout
    # the printed record verifies a message signed with the key
    message = b"From: clinic@example.com\r\nTo: a@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    signed = dkim.sign(message, b"pr2026", b"example.com", key.encode(), include_headers=[b"from"])
    assert dkim.verify(signed + message, dnsfunc=lambda qname, timeout=5: value.encode())


def test_dkim_record_from_a_key_file(cli, workdir):
    raw = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    (workdir / "ed.key").write_text(base64.b64encode(raw).decode() + "\n")
    printed = cli("mail", "dkim-record", "--key", "ed.key", "--selector", "ed1", "--domain", "clinic.example",
                  "--algorithm", "ed25519-sha256", "--json")
    assert printed.code == 0, printed
    assert '"name": "ed1._domainkey.clinic.example"' in printed.stdout and "k=ed25519; p=" in printed.stdout
    (workdir / "bad.key").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    bad = cli("mail", "dkim-record", "--key", "bad.key", "--selector", "s", "--domain", "clinic.example")
    assert bad.code == 2, bad
    assert "bad.key" in bad.stderr and "not an unencrypted PEM private key" in bad.stderr
    assert "AAAA" not in bad.stderr
    missing = cli("mail", "dkim-record", "--key", "ed.key")
    assert missing.code == 2 and "--selector and --domain missing" in missing.stderr, missing


def test_connections_test_checks_the_published_key(cli, workdir, devmail, dns_server):
    key = _rsa_pem()
    _import(cli, workdir, devmail, key)
    name, value = _record(cli("mail", "dkim-record", "clinic").stdout)
    env = {"POSTROOM_DNS_SERVER": f"127.0.0.1:{dns_server.port}"}
    missing = cli("connections", "test", "clinic", env=env)
    assert missing.code == 0, missing
    assert f"DKIM: no DKIM key published at {name} yet" in missing.stdout
    assert f"warning: publish a TXT record at {name}: {value}" in missing.stdout
    dns_server.records[name] = [value]
    matched = cli("connections", "test", "clinic", env=env)
    assert matched.code == 0, matched
    assert f"DKIM: the key matches the TXT record at {name} (rsa-sha256)" in matched.stdout
    assert "warning" not in matched.stdout
    other = _record(cli("mail", "dkim-record", "--key", _write(workdir, _rsa_pem()), "--selector", "pr2026",
                        "--domain", "example.com").stdout)[1]
    dns_server.records[name] = [other]
    wrong = cli("connections", "test", "clinic", env=env)
    assert wrong.code == 3, wrong
    assert f"the TXT record at {name} publishes another key" in wrong.stdout + wrong.stderr


def test_without_dns_the_test_warns_and_passes(cli, workdir, devmail):
    _import(cli, workdir, devmail, _rsa_pem())
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing answers there
    result = cli("connections", "test", "clinic", env={"POSTROOM_DNS_SERVER": f"127.0.0.1:{port}"})
    assert result.code == 0, result
    assert "DKIM: not checked: DNS could not be reached" in result.stdout
    assert "warning: publish a TXT record at pr2026._domainkey.example.com: v=DKIM1; k=rsa; p=" in result.stdout


def test_a_bad_key_in_a_secret_fails_the_connection_test_with_exit_2(cli, workdir, devmail):
    _import(cli, workdir, devmail, _rsa_pem())
    assert cli("secrets", "set", "dkim-key", input="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").code == 0
    result = cli("connections", "test", "clinic")
    assert result.code == 2, result
    assert "dkim_private_key" in result.stderr and "openssl genrsa" in result.stderr and "AAAA" not in result.stderr


def _write(workdir, text: str) -> str:
    path = workdir / "other.pem"
    path.write_text(text)
    return str(path)


def test_a_bad_key_in_a_secret_stops_a_run_before_anything_is_sent(cli, workdir, devmail):
    _import(cli, workdir, devmail, _rsa_pem())
    (workdir / "p.yaml").write_text(f"""\
type: operation
connector: mail
name: Note
id: note
settings: {{action: send, from: {DEVMAIL_USER}, to: a@example.org, subject: Note}}
---
type: process
name: Note
id: note-process
shapes:
  start: {{type: start, next: text}}
  text: {{type: message, text: "hello", next: send}}
  send: {{type: connector, connection: clinic, operation: note}}
""", encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    assert cli("secrets", "set", "dkim-key", input="garbage-key-material\n").code == 0
    ran = cli("run", "note-process")
    assert ran.code == 2, ran
    assert "dkim_private_key" in ran.stderr and "garbage-key-material" not in ran.stderr
    assert devmail.messages() == []
