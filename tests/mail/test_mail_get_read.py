"""The Get operation against a real Dovecot: the right documents with the right properties,
over POP3 (STLS), POP3S, IMAP (STARTTLS) and IMAPS.

Mail goes in two ways: raw fixtures written into the maildir (getkit), and messages sent
through Postroom's own Send operation to an SMTP server that delivers into Dovecot.
"""

from __future__ import annotations

import logging
import tracemalloc

import pytest

from postroom.connectors.mail import MailConnection, MailOperation, connector
from postroom.sdk import Document
from postroom.sdk.testing import MemoryContext
from support.getkit import (
    CLINIC,
    PDF,
    PNG,
    alternative,
    broken,
    by_id,
    latin1,
    nested,
    no_message_id,
    raw_utf8,
    read,
    simple,
)

TRANSPORTS = ["pop3", "pop3s", "imap", "imaps"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bodies_and_properties(mailbox, transport):
    for raw in (alternative(), nested(), latin1(), raw_utf8(), no_message_id()):
        mailbox.deliver(raw)
    documents, failed, _ = read(mailbox.connection(transport), body="text")
    assert failed == []
    docs = by_id(documents)
    assert len(documents) == 5 and all(len(v) == 1 for v in docs.values())

    [alt] = docs["<alt-1@example.org>"]
    p = alt.properties
    assert alt.data == "Bitte übertragen Sie meine Akten an Dr. Jörg Weber.\nDanke!".encode()
    assert p["mail.subject"] == "Überweisung meiner Akten ✓"
    assert p["mail.from_address"] == "zoe.mueller@example.org"
    assert p["mail.from_name"] == "Zoë Müller"
    assert p["mail.to_address"] == CLINIC
    assert p["mail.cc_address"] == "smith@example.com, records@example.com"
    assert p["mail.reply_to_address"] == "zoe.private@example.net"
    assert p["mail.content_type"] == "text/plain; charset=utf-8"
    assert p["mail.headers.X-Patient-Id"] == "P0042"
    assert p["mail.headers.Subject"] == "Überweisung meiner Akten ✓"
    assert p["mail.headers.Date"] == "Mon, 23 Nov 2026 09:15:00 +0100"
    assert p["mail.received_date"][:4] == "2026" and "T" in p["mail.received_date"]
    if transport.startswith("imap"):
        assert p["mail.folder"] == "INBOX" and int(p["mail.uid"]) >= 1
    else:
        assert len(p["mail.uidl"]) >= 8

    [mixed] = docs["<nested@example.org>"]
    assert mixed.data == b"Please send my records to the clinic in Lyon."
    assert mixed.properties["mail.subject"] == "Records transfer, documents attached"

    [fr] = docs["<latin1@example.fr>"]
    assert fr.properties["mail.subject"] == "Résultats d'analyse à transférer"
    assert fr.properties["mail.from_name"] == "François Lefèvre"
    assert fr.data == "Bonjour, pourriez-vous transférer mon dossier à l'hôpital ?\nMerci.\n".encode()

    [de] = docs["<utf8@example.de>"]
    assert de.properties["mail.subject"] == "Überweisung: meine Unterlagen (日本語)"
    assert de.properties["mail.from_name"] == "Jürgen Groß"
    assert de.data == "Grüße aus München.\n".encode()

    [anonymous] = [d for d in documents if d.properties["mail.message_id"].endswith("@postroom.invalid>")]
    assert anonymous.data == b"hello\n"


@pytest.mark.parametrize("transport", ["pop3s", "imaps"])
def test_body_html_and_both(mailbox, transport):
    mailbox.deliver(alternative(1))
    mailbox.deliver(latin1())  # text only: html falls back to it
    html, _, context = read(mailbox.connection(transport), body="html")
    docs = by_id(html)
    assert docs["<alt-1@example.org>"][0].data == (
        "<p>Bitte übertragen Sie meine Akten an Dr. Jörg Weber.</p>\n<p>Danke!</p>".encode())
    assert docs["<alt-1@example.org>"][0].properties["mail.content_type"] == "text/html; charset=utf-8"
    assert docs["<latin1@example.fr>"][0].properties["mail.content_type"] == "text/plain; charset=utf-8"

    mailbox.deliver(alternative(2))
    both, _, _ = read(mailbox.connection(transport), context, body="both")
    [(message_id, pair)] = by_id(both).items()
    assert message_id == "<alt-2@example.org>"
    assert [d.properties["mail.content_type"] for d in pair] == ["text/plain; charset=utf-8",
                                                                 "text/html; charset=utf-8"]
    assert pair[0].properties["mail.subject"] == pair[1].properties["mail.subject"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_attachments_become_documents_with_decoded_names(mailbox, transport):
    mailbox.deliver(nested())
    mailbox.deliver(latin1())  # no attachment: no document
    documents, failed, _ = read(mailbox.connection(transport), disposition="attachment")
    assert failed == []
    names = {d.properties["mail.file_name"]: d for d in documents}
    assert sorted(names) == sorted(["logo.png", "Résumé médical de Bob — 2026.pdf", "médicaments.csv",
                                    "Earlier letter.eml"])
    assert names["Résumé médical de Bob — 2026.pdf"].data == PDF
    assert names["Résumé médical de Bob — 2026.pdf"].properties["mail.content_type"] == "application/pdf"
    assert names["logo.png"].data == PNG
    assert names["médicaments.csv"].data == "drug,dose\r\nParacétamol,500mg".encode()
    assert names["médicaments.csv"].properties["mail.content_type"] == "text/csv; charset=utf-8"
    assert names["Earlier letter.eml"].data.startswith(b"From: old@example.org\r\n")
    assert names["Earlier letter.eml"].data.rstrip().endswith(b"The earlier letter.")
    assert {d.properties["mail.message_id"] for d in documents} == {"<nested@example.org>"}
    assert {d.properties["mail.subject"] for d in documents} == {"Records transfer, documents attached"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_broken_message_fails_alone_and_stays(mailbox, transport):
    mailbox.deliver(simple(1))
    mailbox.deliver(broken())
    mailbox.deliver(simple(2))
    extra = {"delete_after_read": True} if transport.startswith("pop3") else {"move_to_folder": "Processed"}
    documents, failed, context = read(mailbox.connection(transport), **extra)
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-1@example.org>", "<msg-2@example.org>"]
    [failure] = failed
    assert "<broken@example.org> is broken" in failure.message
    assert "part 2 (application/pdf) is declared base64 but holds b'!'" in failure.message
    assert "stays on the server" in failure.message
    assert failure.document.data == broken()  # the raw message, for whoever looks at it
    assert failure.document.properties["mail.subject"] == "Broken attachment"
    # the two good messages are gone from the inbox, the broken one stays where it was
    assert mailbox.messages() == [broken()] if transport.startswith("pop3") else len(mailbox.messages()) == 1
    assert b"broken@example.org" in mailbox.messages()[0]
    # ... and the next run passes it instead of failing on it again
    documents, failed, _ = read(mailbox.connection(transport), context, **extra)
    assert documents == [] and failed == []


def test_a_broken_message_in_a_process_is_one_failed_document(mailbox, tmp_path, home):
    from postroom.repository import open_repository
    from postroom.services import RunRequest, import_paths, run_process
    from support.getkit import write_components

    mailbox.deliver(simple(1))
    mailbox.deliver(broken())
    mailbox.deliver(simple(2))
    settings = mailbox.connection("imaps")
    path = write_components(tmp_path, f"""
        type: connection
        connector: mail
        name: Clinic mailbox
        id: clinic-imap
        settings: {{host: "{settings['host']}", port: {settings['port']}, use_ssl: true, user_name: "{mailbox.user}",
                    password: "{mailbox.password}", inbound_protocol: imap, trusted_ca_file: "{settings['trusted_ca_file']}"}}
        ---
        type: operation
        connector: mail
        name: Read replies
        id: read-replies
        settings: {{action: get, start_from: all}}
        ---
        type: connection
        connector: disk
        name: Out
        id: out
        settings: {{directory: "{tmp_path / 'out'}"}}
        ---
        type: operation
        connector: disk
        name: Write
        id: write
        settings: {{action: send, write_option: overwrite, create_directories: true}}
        ---
        type: process
        name: Replies to disk
        id: replies-to-disk
        start: start
        shapes:
          start: {{type: start, mode: connector, connection: clinic-imap, operation: read-replies, next: name}}
          name:
            type: set_properties
            properties: [{{property: disk.file_name, value: [{{document_property: mail.message_id}}]}}]
            next: write
          write: {{type: connector, connection: out, operation: write}}
        """)
    repo = open_repository()
    try:
        import_paths(repo, [str(path)])
        record, result = run_process(repo, RunRequest("replies-to-disk"))
        assert record.status == "complete_with_errors"
        assert (record.documents_in, record.documents_out, record.documents_failed) == (3, 2, 1)
        [error] = repo.get_document_errors(record.id)
        assert error.shape == "start" and "<broken@example.org> is broken" in error.message
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["<msg-1@example.org>",
                                                                        "<msg-2@example.org>"]
        assert result.exit_code == 1
    finally:
        repo.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mail_sent_through_postroom_reads_back(mailbox, dovecot_smtp, transport):
    sender = MailConnection(host="127.0.0.1", port=dovecot_smtp.port, use_tls=False, timeout_seconds=10)
    send = MailOperation.model_validate({"action": "send", "from": "Clinique Dupré <clinic@example.com>",
                                         "subject": "", "disposition": "inline"})
    context = MemoryContext(execution_id="send-1")
    session = connector.open(sender, send, context)
    letters = [
        Document("Liebe Frau Müller,\nIhre Akten sind unterwegs.\n",
                 {"mail.to_address": mailbox.user, "mail.subject": "Ihre Akten: Überweisung bestätigt"}),
        Document("Chère Mme Lefèvre,\nvotre dossier est transféré.\n",
                 {"mail.to_address": mailbox.user, "mail.subject": "Votre dossier médical à Lyon",
                  "mail.cc_address": ""}),
    ]
    try:
        sent = list(session.execute(letters, "send"))
    finally:
        session.close()
    assert all(isinstance(d, Document) for d in sent)
    documents, failed, _ = read(mailbox.connection(transport))
    assert failed == []
    got = {d.properties["mail.message_id"]: d for d in documents}
    assert set(got) == {d.properties["mail.message_id"] for d in sent}
    for original, result in zip(letters, sent, strict=True):
        back = got[result.properties["mail.message_id"]]
        assert back.data == original.data
        assert back.properties["mail.subject"] == original.properties["mail.subject"]
        assert back.properties["mail.from_address"] == "clinic@example.com"
        assert back.properties["mail.from_name"] == "Clinique Dupré"
        assert back.properties["mail.to_address"] == mailbox.user


def test_from_and_subject_filters(mailbox):
    mailbox.deliver(simple(1, subject="Records please", sender="alice@example.org"))
    mailbox.deliver(simple(2, subject="Records please", sender="malice@example.org"))  # IMAP FROM is a substring
    mailbox.deliver(simple(3, subject="Appointment", sender="alice@example.org"))
    mailbox.deliver(simple(4, subject="Überweisung der AKTEN", sender="alice@example.org"))
    for transport in ("pop3s", "imaps"):
        documents, _, _ = read(mailbox.connection(transport), from_address="Alice <alice@example.org>",
                               subject_filter="records")
        assert [d.properties["mail.message_id"] for d in documents] == ["<msg-1@example.org>"], transport
        documents, _, _ = read(mailbox.connection(transport), subject_filter="überweisung der akten")
        assert [d.properties["mail.message_id"] for d in documents] == ["<msg-4@example.org>"], transport


def test_imap_searches_on_the_server(mailbox, monkeypatch):
    """Only matching messages travel: the search (UTF-8 subject, FROM, SINCE) runs in Dovecot."""
    from postroom.connectors.mail import _imap_get

    fetched: list[int] = []
    original = _imap_get.fetch_messages

    def spy(session, uids):  # noqa: ANN001, ANN202
        fetched.extend(uids)
        return original(session, uids)

    monkeypatch.setattr(_imap_get, "fetch_messages", spy)
    for n in range(1, 6):
        mailbox.deliver(simple(n, subject="Hallo", sender=f"p{n}@example.org"))
    mailbox.deliver(simple(6, subject="Überweisung", sender="p6@example.org"))
    mailbox.deliver(simple(7, subject="Überweisung", sender="p7@example.org"))
    documents, _, _ = read(mailbox.connection("imaps"), subject_filter="überweisung", from_address="p7@example.org")
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-7@example.org>"]
    assert len(fetched) == 1
    fetched.clear()
    documents, _, _ = read(mailbox.connection("imaps"), since="2030-01-01")
    assert documents == [] and fetched == []


def test_large_attachment_streams_to_disk(mailbox):
    big = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MB
    from support.getkit import _b64, crlf

    raw = crlf(f"""From: scanner@example.org
To: {CLINIC}
Subject: Scan
Message-ID: <scan@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="s"

--s
Content-Type: text/plain

Scan attached.
--s
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="scan.bin"
Content-Transfer-Encoding: base64

""") + _b64(big).encode() + b"\r\n--s--\r\n"
    mailbox.deliver(raw)
    for transport in ("pop3s", "imaps"):
        tracemalloc.start()
        try:
            documents, _, _ = read(mailbox.connection(transport), disposition="attachment")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        [document] = documents
        assert document.spooled and document.size == len(big)
        assert document.data == big
        # a 16 MB message (base64) read and decoded with a few MB at most in memory
        assert peak < 6 * 1024 * 1024, f"{transport}: peak {peak / 1e6:.1f} MB"


def test_unknown_charset_is_read_as_utf8_with_a_warning(mailbox, caplog):
    from support.getkit import crlf

    mailbox.deliver(crlf(f"""From: a@example.org
To: {CLINIC}
Subject: odd
Message-ID: <odd@example.org>
Content-Type: text/plain; charset=x-no-such-charset

caf\u00e9
"""))
    with caplog.at_level(logging.WARNING):
        documents, failed, context = read(mailbox.connection("imaps"))
    assert failed == [] and documents[0].data == "café\n".encode()
    assert "unknown charset 'x-no-such-charset'" in caplog.text
