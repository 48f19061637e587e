"""One TLS context per process for the same trust: the system store is read once, and
what is trusted never changes because of the sharing (a rewritten trusted_ca_file, another
SSL_CERT_FILE, verification off, a client certificate each get their own context)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from postroom.connectors.mail._tls import ssl_context_for
from postroom.devmail._tls import ensure_certificates
from postroom.errors import ConnectionFailed
from postroom.sdk import Document, Failed
from support.sendkit import gmail_like, run, send_op


@pytest.fixture(autouse=True)
def _no_ambient_ca(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _serials(context) -> set[int]:  # noqa: ANN001
    return {int(cert["serialNumber"], 16) for cert in context.get_ca_certs()}


@pytest.mark.fast
def test_sessions_share_a_context_until_the_trust_changes(tmp_path: Path, monkeypatch) -> None:
    one, two = ensure_certificates(tmp_path / "one"), ensure_certificates(tmp_path / "two")
    trusted = tmp_path / "trusted.pem"
    shutil.copyfile(one.ca_file, trusted)
    conn = gmail_like_settings(trusted)
    first = ssl_context_for(conn)
    assert ssl_context_for(gmail_like_settings(trusted)) is first  # the system store read once
    with_one = _serials(first)
    assert _serial_of(one.ca_file) in with_one

    trusted.write_bytes(two.ca_file.read_bytes() + b"\n")  # rewritten in place: read again
    second = ssl_context_for(conn)
    assert second is not first
    assert _serial_of(two.ca_file) in _serials(second) and _serial_of(one.ca_file) not in _serials(second)

    monkeypatch.setenv("SSL_CERT_FILE", str(one.ca_file))  # another system store: its own context
    assert ssl_context_for(conn) is not second
    monkeypatch.delenv("SSL_CERT_FILE")
    assert ssl_context_for(conn) is second

    off = gmail_like_settings(trusted, verify_certificates=False)
    assert ssl_context_for(off) is not second and not ssl_context_for(off).check_hostname
    assert ssl_context_for(conn) is second and second.check_hostname  # verification stays on for it


def test_a_rewritten_trusted_ca_file_is_trusted_by_the_next_send(devmail_factory, tmp_path: Path) -> None:
    """A long-lived process (a worker) sends to a server, the CA file is replaced by another
    server's CA: the next send trusts the new file, not the context of the first."""
    first = devmail_factory(auth_required=True)
    second = devmail_factory(auth_required=True, cert_dir=tmp_path / "other-ca")
    trusted = tmp_path / "trusted.pem"
    shutil.copyfile(first.ca_file, trusted)
    [sent] = run(gmail_like(first, trusted_ca_file=str(trusted)), send_op(), [Document("one", {"mail.to_address": "a@example.com"})])
    assert not isinstance(sent, Failed)

    with pytest.raises(ConnectionFailed, match="is not trusted"):  # the first CA does not vouch for it
        run(gmail_like(second, trusted_ca_file=str(trusted)), send_op(), [Document("two", {"mail.to_address": "a@example.com"})])

    trusted.write_bytes(second.ca_file.read_bytes())
    [sent] = run(gmail_like(second, trusted_ca_file=str(trusted)), send_op(),
                 [Document("three", {"mail.to_address": "a@example.com"})])
    assert not isinstance(sent, Failed)
    assert [m.server for m in second.store.wait_for(1)] == ["smtps"]


def gmail_like_settings(trusted: Path, **overrides):  # noqa: ANN201
    from postroom.connectors.mail import MailConnection

    return MailConnection(host="localhost", port=465, use_ssl=True, trusted_ca_file=str(trusted), **overrides)


def _serial_of(pem: Path) -> int:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem.read_bytes()).serial_number
