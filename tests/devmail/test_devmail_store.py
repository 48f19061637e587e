"""The mail store on disk and in memory, and the generated certificates."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from postroom.devmail import DevMail, MailStore, ensure_certificates
from support.devmail_helpers import PASSWORD, USER, no_leaked_threads, pop3, send  # noqa: F401 - no_leaked_threads is an autouse fixture


def test_mail_persists_across_restart_with_a_data_dir(tmp_path):
    data = tmp_path / "devmail-data"
    raw = b"Subject: kept\r\nFrom: a@example.com\r\n\r\n.dotted\r\nbody\r\n"
    with DevMail(data_dir=data, users={USER: PASSWORD}, smtps_port=0) as devmail:
        send(devmail, raw, to=[USER, "other@example.com"])
        send(devmail, b"Subject: second\r\n\r\nx\r\n")
        first, second = devmail.wait_for(2)
        client = pop3(devmail)
        client.dele(2)
        client.quit()
        ca_bytes = devmail.ca_file.read_bytes()
        assert devmail.ca_file == data / "tls" / "ca.pem"

    assert sorted(p.name for p in (data / "messages").iterdir()) == sorted(
        [f"{first.id}.eml", f"{second.id}.eml"]
    )
    assert (data / "messages" / f"{first.id}.eml").read_bytes() == raw

    with DevMail(data_dir=data, users={USER: PASSWORD}) as devmail:
        again = devmail.messages()
        assert [m.id for m in again] == [first.id, second.id]
        kept = again[0]
        assert kept.raw == raw
        assert kept.rcpt_tos == (USER, "other@example.com")
        assert (kept.mail_from, kept.peer, kept.tls, kept.received) == (
            first.mail_from,
            first.peer,
            first.tls,
            first.received,
        )
        assert again[1].deleted_for == frozenset({USER})
        client = pop3(devmail)
        _, uids, _ = client.uidl()
        assert uids == [f"1 {first.id}".encode()]  # stable UIDL, the POP3 delete remembered
        client.quit()
        assert devmail.ca_file.read_bytes() == ca_bytes  # the CA the user trusts is reused
        devmail.clear()

    assert list((data / "messages").iterdir()) == []
    with DevMail(data_dir=data) as devmail:
        assert devmail.messages() == []


@pytest.mark.fast
def test_index_is_compacted_and_orphans_and_torn_lines_are_dropped(tmp_path):
    store = MailStore(tmp_path)
    kept = store.add(mail_from="a@example.com", rcpt_tos=["b@example.com"], raw=b"Subject: 1\r\n\r\n1\r\n")
    gone = store.add(mail_from="a@example.com", rcpt_tos=["b@example.com"], raw=b"Subject: 2\r\n\r\n2\r\n")
    store.delete([gone.id])
    store.delete_for("B@example.com", [kept.id])
    store.close()
    (tmp_path / "messages" / "orphan.eml").write_bytes(b"junk")
    with open(tmp_path / "index.jsonl", "a") as index:
        index.write('{"op": "add", "message": {"id": "torn"')  # a crash mid-write

    reopened = MailStore(tmp_path)
    assert [m.id for m in reopened.messages()] == [kept.id]
    assert reopened.get(kept.id).deleted_for == frozenset({"b@example.com"})
    assert reopened.mailbox("b@example.com") == []
    assert not (tmp_path / "messages" / "orphan.eml").exists()
    lines = [json.loads(line) for line in (tmp_path / "index.jsonl").read_text().splitlines()]
    assert [line["op"] for line in lines] == ["header", "add"]
    reopened.close()


@pytest.mark.fast
def test_wait_for_wakes_on_arrival_and_times_out(tmp_path):
    store = MailStore()
    timer = threading.Timer(
        0.05, lambda: store.add(mail_from="a@x.example", rcpt_tos=["b@x.example"], raw=b"x\r\n")
    )
    timer.start()
    try:
        assert len(store.wait_for(1, timeout=5)) == 1
    finally:
        timer.join()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="1 of 2 expected messages"):
        store.wait_for(2, timeout=0.1)
    assert time.monotonic() - started < 2


@pytest.mark.fast
def test_mailbox_matches_recipients_case_insensitively():
    store = MailStore()
    store.add(mail_from="a@example.com", rcpt_tos=["Clinic@Example.com"], raw=b"1\r\n")
    store.add(mail_from="a@example.com", rcpt_tos=["x@example.com"], raw=b"2\r\n")
    assert [m.raw for m in store.mailbox("clinic@example.com")] == [b"1\r\n"]
    assert len(store.mailbox("clinic@example.com", catch_all=True)) == 2
    assert [m.raw for m in store.messages(recipient="X@example.com")] == [b"2\r\n"]


@pytest.mark.fast
def test_certificates_cover_local_names_and_keys_are_private(tmp_path):
    files = ensure_certificates(tmp_path, ["mail.dev.localhost"])
    for key in (files.key_file, files.ca_key_file):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    leaf = x509.load_pem_x509_certificates(files.cert_file.read_bytes())[0]
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "mail.dev.localhost"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    now = datetime.now(UTC)
    assert leaf.not_valid_before_utc < now < leaf.not_valid_after_utc
    assert leaf.not_valid_after_utc - now < timedelta(days=398)  # what browsers and strict clients accept
    assert ca.not_valid_after_utc - now > timedelta(days=365 * 5)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    leaf.verify_directly_issued_by(ca)

    # Reused as they are while they cover the names...
    before = (files.ca_file.read_bytes(), files.cert_file.read_bytes())
    ensure_certificates(tmp_path, ["mail.dev.localhost"])
    assert (files.ca_file.read_bytes(), files.cert_file.read_bytes()) == before
    # ...and a new name gets a new leaf from the same CA.
    ensure_certificates(tmp_path, ["other.localhost"])
    assert files.ca_file.read_bytes() == before[0]
    assert files.cert_file.read_bytes() != before[1]
