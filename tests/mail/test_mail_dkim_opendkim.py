"""Issue 12: letters Postroom signs are verified by OpenDKIM, not only by dkimpy (the library
that signs them). Postroom sends to a private Postfix whose smtpd runs each message through
an OpenDKIM milter (tests/support/milterkit.py); the Authentication-Results header OpenDKIM
adds must say dkim=pass for every kind of letter, with RSA-SHA256 and Ed25519 keys, and
dkim=fail for a letter changed after signing."""

from __future__ import annotations

import base64
import smtplib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from postroom.connectors.mail._dkim import txt_record
from postroom.sdk import Document, Failed
from support.mailkit import SinkDump, operation, plain_connection
from support.sendkit import run

DOMAIN = "example.com"  # the From of support.mailkit.operation is clinic@example.com
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00\xff" * 20
URL = "https://clinic.example/unsubscribe?p=P0000001&t=9f2c"


def _key(algorithm: str) -> str:
    if algorithm == "ed25519-sha256":
        seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        return base64.b64encode(seed).decode()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def _signed_connection(port: int, algorithm: str, selector: str):
    return plain_connection(port, dkim_domain=DOMAIN, dkim_selector=selector, dkim_private_key=_key(algorithm),
                            dkim_algorithm=algorithm)


def _published(connection) -> dict[str, str]:
    name, value = txt_record(connection.dkim_selector, connection.dkim_domain, connection.dkim_signer().key)
    return {name: value}


def _grouped(data: bytes, name: str, content_type: str, **extra: str) -> Document:
    document = Document(data, {"mail.to_address": "patient@example.org"})
    for prop, value in {"mail.group": "P0001", "mail.file_name": name, "mail.content_type": content_type,
                        **extra}.items():
        document.set_property(prop, value)
    return document


def _letters(tmp_path):
    """(operation, documents) pairs: a plain letter with one-click unsubscribe, and the full
    letter (HTML, text twin, inline logo, two grouped documents and a file as attachments)."""
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "Merkblatt Ärztin.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    plain = operation(subject="Your appointment on Monday", list_unsubscribe=URL)
    plain_doc = Document("Dear Ms Smith,\nsee you on Monday at 9.\n", {"mail.to_address": "a@example.org"})
    full = operation(disposition="attachment", body_content_type="text/html", attachment_content_type="text/plain",
                     subject="Ihre Befunde – März", inline_images={"logo": str(tmp_path / "logo.png")},
                     attachments=[str(tmp_path / "Merkblatt Ärztin.pdf")])
    html = '<p><img src="cid:logo" alt="Riverside"></p><p>Dear Ms Smith,<br>your results are attached.</p>'
    grouped = [_grouped(b"date;value\n2026-12-01;5.4\n", "Befund März.csv", "text/csv", **{"mail.body": html}),
               _grouped(b"\x89PNG\r\n\x1a\n\x00scan\xff", "scan.png", "image/png")]
    return [(plain, [plain_doc]), (full, grouped)]


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_opendkim_in_postfix_passes_every_kind_of_signed_letter(dkim_mx, tmp_path, algorithm):
    probe = _signed_connection(1, algorithm, "pr2026")
    mx = dkim_mx(_published(probe))
    connection = probe.model_copy(update={"port": mx.port})
    for op, documents in _letters(tmp_path):
        results = run(connection, op, documents)
        assert not any(isinstance(r, Failed) for r in results), results
    verdicts = mx.results(2)
    for verdict in verdicts:
        assert verdict.startswith("dkim=pass"), (verdict, mx.log())
        assert f"header.d={DOMAIN}" in verdict and f"header.a={algorithm}" in verdict and \
            "header.s=pr2026" in verdict, verdict
    relayed = [SinkDump.parse(dump).message for dump in mx.sink.dumps(2)]
    assert sorted(m["List-Unsubscribe-Post"] or "" for m in relayed) == ["", "List-Unsubscribe=One-Click"]
    assert sorted(m.get_content_type() for m in relayed) == ["multipart/mixed", "text/plain"]


def test_opendkim_fails_a_letter_changed_after_signing(dkim_mx, smtp_sink, tmp_path):
    """The letter is signed and sent to a plain sink, then handed to Postfix as it was, with a
    changed body, and with a changed Subject: pass, fail, fail."""
    sink = smtp_sink()
    connection = _signed_connection(sink.port, "rsa-sha256", "s1")
    [result] = run(connection, operation(subject="Your results"),
                   [Document("Your results are ready.\n", {"mail.to_address": "a@example.org"})])
    assert not isinstance(result, Failed), result
    signed = SinkDump.parse(sink.dumps(1)[0]).raw
    assert signed.startswith(b"DKIM-Signature:"), signed[:200]
    mx = dkim_mx(_published(connection))
    variants = [signed, signed.replace(b"are ready", b"are READY"),
                signed.replace(b"Subject: Your results", b"Subject: Your invoice")]
    assert len(set(variants)) == 3
    with smtplib.SMTP("127.0.0.1", mx.port, timeout=10) as client:
        for raw in variants:
            client.sendmail("clinic@example.com", ["a@example.org"], raw)
    first, body_changed, subject_changed = mx.results(3)
    assert first.startswith("dkim=pass"), first
    assert body_changed.startswith("dkim=fail") and subject_changed.startswith("dkim=fail"), \
        (body_changed, subject_changed)
