"""Issue 12 item 1: DKIM signing on the Mail connection. Letters sent through devmail are
read back byte for byte and verified by dkimpy against the published TXT record (served
by a DNS function of the test); a changed body or an added From fails verification."""

from __future__ import annotations

import base64
import json
import logging
import re

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import ValidationError

from postroom.connectors.mail._dkim import txt_record
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.sendkit import run, send_op, starttls

DOMAIN = "example.com"  # devmail's user is clinic@example.com (the From of send_op)

#: A throwaway 512-bit RSA key (too short: cryptography will not even generate one)
SHORT_RSA = """-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAMs86lSWAJYRoH8V48rQ5Krs+w38EwsmL6tx/FEidS/bfq0Nzdpv
IDkbpT2IK304CZ+eeTSq6WQZOMyy/3cjeacCAwEAAQJAbuFmCw3ndfhZ8tvTcnRz
PRmbgq6zCRMlUMkYWn+NJbUGyFqOdunA/MUqwN08sbPB1WfUnyIRwLbvQeMPvRJJ
SQIhAOazG7zuFc17n2sdwjbGLxPm5YYzAh/syxyFb8sYqLujAiEA4YbR8si7/IoE
7ROuLJG+SxDP9fTjbUcK+uLbmrmjai0CIB6fKZBjXdt/jEKQmaXhmoAextqQTLjm
GnO3toYTyNnXAiBLHkHt8SiUXFB5uvVnyP+uNyJdlTzvWBtzJ37oEW853QIhAJEd
8llaZBFijh/XjxhcBoPZQSKItJF9vFCvyE0iPYD/
-----END RSA PRIVATE KEY-----
"""


def _rsa_pem(bits: int = 2048, pkcs8: bool = True) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _ed25519_raw() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def _dns(connection):
    """A DNS TXT lookup serving the connection's public key, as dkimpy's dnsfunc."""
    name, value = txt_record(connection.dkim_selector, connection.dkim_domain, connection.dkim_signer().key)
    asked: list[str] = []

    def lookup(qname: bytes, timeout: int = 5) -> bytes | None:
        asked.append(qname.decode().rstrip("."))
        return value.encode() if qname.decode().rstrip(".") == name else None

    lookup.asked = asked  # type: ignore[attr-defined]
    return lookup


def _signed_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    signature = re.search(r"^DKIM-Signature:(.*?)(?=^\S)", head + "\r\nX:", re.M | re.S)
    assert signature, head
    tags = dict(part.strip().split("=", 1) for part in signature.group(1).replace("\r\n", "").split(";") if "=" in part)
    return [name.strip() for name in tags["h"].split(":")]


@pytest.mark.parametrize("algorithm,key", [("rsa-sha256", _rsa_pem()), ("ed25519-sha256", _ed25519_raw())],
                         ids=["rsa", "ed25519"])
def test_a_sent_letter_verifies_with_dkimpy(devmail, algorithm, key):
    connection = starttls(devmail, dkim_domain=DOMAIN, dkim_selector="pr2026", dkim_private_key=key,
                          dkim_algorithm=algorithm)
    op = send_op(cc="front-desk@example.org", reply_to="office@example.com", disposition="attachment",
                 attachment_content_type="text/csv", headers={"X-Campaign": "recall"})
    document = Document("id,name\n1,Zoë\n", {"mail.to_address": "alice@example.org", "mail.body": "Dear Alice,\n"})
    [result] = run(connection, op, [document])
    assert not isinstance(result, Failed), result
    [stored] = devmail.store.wait_for(1)
    dns = _dns(connection)
    assert dkim.verify(stored.raw, dnsfunc=dns)
    assert dns.asked == [f"pr2026._domainkey.{DOMAIN}"]
    names = _signed_names(stored.raw)
    assert names.count("from") == 2  # oversigned
    for name in ("to", "cc", "reply-to", "subject", "date", "message-id", "mime-version", "content-type"):
        assert name in names, names
    assert "x-campaign" not in names and "bcc" not in names
    assert f"a={algorithm};".encode() in stored.raw and b"c=relaxed/relaxed;" in stored.raw


def test_a_changed_body_or_an_added_from_fails_verification(devmail):
    connection = starttls(devmail, dkim_domain=DOMAIN, dkim_selector="s1", dkim_private_key=_ed25519_raw(),
                          dkim_algorithm="ed25519-sha256")
    [result] = run(connection, send_op(), [Document("Your results are ready.\n", {"mail.to_address": "a@example.org"})])
    assert not isinstance(result, Failed), result
    [stored] = devmail.store.wait_for(1)
    dns = _dns(connection)
    assert dkim.verify(stored.raw, dnsfunc=dns)
    assert not dkim.verify(stored.raw.replace(b"ready", b"READY"), dnsfunc=dns)
    head, body = stored.raw.split(b"\r\n\r\n", 1)
    assert not dkim.verify(head + b"\r\nFrom: mallory@example.net\r\n\r\n" + body, dnsfunc=dns)


def test_without_dkim_settings_nothing_is_signed(devmail):
    [result] = run(starttls(devmail), send_op(), [Document("hi\n", {"mail.to_address": "a@example.org"})])
    assert not isinstance(result, Failed)
    assert b"DKIM-Signature" not in devmail.store.wait_for(1)[0].raw


def test_a_from_domain_outside_dkim_domain_is_warned_about(devmail, caplog):
    connection = starttls(devmail, dkim_domain="clinic.example", dkim_selector="s1", dkim_private_key=_rsa_pem(1024))
    context = MemoryContext(execution_id="exec-1")
    documents = [Document("hi\n", {"mail.to_address": "a@example.org"}) for _ in range(2)]
    with caplog.at_level(logging.WARNING, logger=context.log.name):
        results = run(connection, send_op(), documents, context=context)
    assert not any(isinstance(r, Failed) for r in results)
    warned = [r.getMessage() for r in caplog.records if "not within dkim_domain" in r.getMessage()]
    assert warned == ["the From domain example.com is not within dkim_domain clinic.example: receivers such as "
                      "Gmail and Yahoo treat the signature as not aligned; sign with the From domain"]


# -- bad input -----------------------------------------------------------------------------------

def _error(**settings) -> str:
    with pytest.raises(ValidationError) as caught:
        starttls(_FakeDm(), **settings)
    return str(caught.value)


class _FakeDm:
    client_host, smtp_port, ca_file = "127.0.0.1", 2525, "ca.pem"


@pytest.mark.fast
@pytest.mark.parametrize("key,algorithm,expected", [
    ("not a key", "rsa-sha256", "dkim_private_key is not an unencrypted PEM private key: set dkim_private_key to"),
    (SHORT_RSA, "rsa-sha256", "RSA key of 512 bits"),
    (_ed25519_raw(), "rsa-sha256", "not an unencrypted PEM private key"),
    (_rsa_pem(1024), "ed25519-sha256", "not an Ed25519 key, but dkim_algorithm is ed25519-sha256"),
    ("c2hvcnQ=", "ed25519-sha256", "not an Ed25519 key (PEM, or base64 of 32 bytes)"),
], ids=["not-a-key", "rsa-512", "ed25519-as-rsa", "rsa-as-ed25519", "short-base64"])  # fixed ids: pytest-xdist
def test_a_malformed_key_is_refused_naming_the_setting_and_never_echoed(key, algorithm, expected):
    said = _error(dkim_domain=DOMAIN, dkim_selector="s1", dkim_private_key=key, dkim_algorithm=algorithm)
    assert "dkim_private_key" in said and expected in said, said
    assert key.strip().splitlines()[min(1, len(key.strip().splitlines()) - 1)] not in said


@pytest.mark.fast
def test_dkim_needs_all_three_settings():
    said = _error(dkim_domain=DOMAIN)
    assert "set dkim_selector, dkim_private_key" in said, said


@pytest.mark.fast
def test_an_ed25519_pem_key_and_a_pkcs1_rsa_key_are_accepted():
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    ed = starttls(_FakeDm(), dkim_domain=DOMAIN, dkim_selector="s", dkim_private_key=pem,
                  dkim_algorithm="ed25519-sha256")
    assert txt_record("s", DOMAIN, ed.dkim_signer().key)[1].startswith("v=DKIM1; k=ed25519; p=")
    rsa1 = starttls(_FakeDm(), dkim_domain=DOMAIN, dkim_selector="s", dkim_private_key=_rsa_pem(1024, pkcs8=False))
    assert "PRIVATE KEY" not in repr(rsa1) and "PRIVATE KEY" not in repr(rsa1.dkim_signer().key)


def test_a_malformed_key_fails_the_import_with_exit_2(cli, workdir):
    (workdir / "conn.yaml").write_text(f"""\
type: connection
connector: mail
name: Clinic
id: clinic
settings:
  host: smtp.example.com
  dkim_domain: {DOMAIN}
  dkim_selector: s1
  dkim_private_key: "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"
""", encoding="utf-8")
    imported = cli("import", "conn.yaml")
    assert imported.code == 2, imported
    said = imported.stdout + imported.stderr
    assert "conn.yaml" in said and "dkim_private_key" in said and "openssl genrsa" in said
    assert "AAAA" not in said and "Traceback" not in said


def test_an_unaligned_from_domain_is_warned_about_at_import(cli, workdir):
    key = _rsa_pem(1024)
    (workdir / "set.yaml").write_text(f"""\
type: connection
connector: mail
name: Relay
id: relay
settings:
  host: smtp.example.com
  dkim_domain: mail-relay.example
  dkim_selector: s1
  dkim_private_key: {json.dumps(key)}
---
type: operation
connector: mail
name: Announce
id: announce
settings: {{action: send, from: "Riverside Clinic <clinic@riverside.example>"}}
---
type: operation
connector: mail
name: Aligned
id: aligned
settings: {{action: send, from: "news@lists.mail-relay.example"}}
---
type: process
name: Announce
id: announce-process
shapes:
  start: {{type: start, next: send}}
  send: {{type: connector, connection: relay, operation: announce, next: also}}
  also: {{type: connector, connection: relay, operation: aligned}}
""", encoding="utf-8")
    imported = cli("import", "set.yaml")
    assert imported.code == 0, imported
    said = imported.stdout + imported.stderr
    assert ("shape send: the From domain riverside.example is not within dkim_domain mail-relay.example of "
            "connection relay") in said, said
    assert "shape also:" not in said
    assert "BEGIN" not in said
    # the literal key went into the secret store: the export holds a reference, never the key
    assert cli("export", "--out", "out").code == 0
    exported = "".join(p.read_text() for p in (workdir / "out").rglob("*.yaml"))
    assert "dkim_private_key: ${secret:" in exported and key.splitlines()[1] not in exported


@pytest.mark.fast
def test_the_rsa_signature_is_the_one_dkimpy_computes(monkeypatch):
    """RSA is signed with cryptography (OpenSSL) over dkimpy's canonical header hash: PKCS#1 v1.5
    is deterministic, so at the same t= the b= value equals dkimpy's own, for a letter with
    folded, repeated and non-ASCII-encoded headers and a multipart body."""
    import time

    from postroom.connectors.mail._dkim import DkimSigner, load_key

    monkeypatch.setattr(time, "time", lambda: 1796400000.5)
    key = load_key(_rsa_pem())
    message = (b"From: =?utf-8?q?Praxis_Dr=2E_M=C3=BCller?= <clinic@example.com>\r\n"
               b"To: <a@example.org>,\r\n  Zoe <z@example.org>\r\nSubject:  Your   results \r\n"
               b"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n"
               b"X-Campaign: recall\r\nMIME-Version: 1.0\r\n"
               b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
               b"--b1\r\nContent-Type: text/plain\r\n\r\nDear Zo\xc3\xab,  \r\n\r\n\r\n--b1--\r\n\r\n")
    ours = DkimSigner(DOMAIN, "s1", key).sign(message)
    include = [b"from", b"subject", b"date", b"to", b"message-id", b"mime-version", b"content-type", b"from"]
    theirs = dkim.sign(message, b"s1", DOMAIN.encode(), key.private, canonicalize=(b"relaxed", b"relaxed"),
                       include_headers=include, linesep=b"\r\n") + message

    def tags(signed: bytes) -> dict[str, str]:
        head = signed.split(b"\r\nFrom:", 1)[0].decode().removeprefix("DKIM-Signature:")
        return {k.strip(): "".join(v.split()) for k, v in (t.split("=", 1) for t in head.split(";"))}

    assert tags(ours)["h"] == "from:subject:date:to:message-id:mime-version:content-type:from"
    assert tags(ours) == tags(theirs)
    value = txt_record("s1", DOMAIN, key)[1].encode()
    assert dkim.verify(ours, dnsfunc=lambda name, timeout=5: value)
    assert not dkim.verify(ours.replace(b"Zo\xc3\xab", b"Zoe"), dnsfunc=lambda name, timeout=5: value)
