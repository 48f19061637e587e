"""Issue 12: SpamAssassin, run over a sample of every kind of letter Postroom builds, fires no
format rule. The letters are made by the Send operation (the connector's own code paths) and
sent to Postfix's smtp-sink, whose dumps are what SpamAssassin reads, with the tutorial's
announcement as `postroom run` sends it to devmail; one ``spamassassin --local --test-mode
--mbox`` run over all of them (network tests off, no Bayes, no learning)."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from postroom.sdk import Document, Failed
from support.mailkit import SinkDump, operation, plain_connection
from support.sendkit import run
from support.testsupport import ROOT, require_binary

#: Rules about how a letter is put together (headers, MIME structure, encodings, the text/HTML
#: pair), the rules a MIME builder is responsible for. Content rules (words, URLs, images per
#: text), rules about the path (NO_RECEIVED, NO_RELAYS: relays add Received, the builder does
#: not) and informational ones (HTML_MESSAGE) are not format rules. Sub-rules
#: (``__``) never show in the report; SpamAssassin lists only the rules that score.
FORMAT_RULES = re.compile(r"""^(
    MISSING_\w+ | MIME_\w+ | INVALID_\w+ | MSGID_\w+ | DATE_IN_\w+ | HEADER_\w+ | FROM_\w+ | TO_\w+
  | CTYPE_\w+ | CTE_\w+ | BASE64_\w+ | QP_\w+ | MPART_\w+ | TVD_\w+ | HTML_MIME_\w+ | HTML_TAG_\w+
  | HTML_BADTAG_\w+ | HTML_EXTRA_CLOSE | HTML_SHORT_\w+ | HTML_NONELEMENT_\w+ | SUBJ_ILLEGAL_CHARS
  | SUBJECT_NEEDS_ENCODING | FROM_EXCESS_BASE64 | TO_EXCESS_BASE64 | PP_MIME_FAKE_ASCII_TEXT
  | EMPTY_MESSAGE | NO_HEADERS_MESSAGE | UNPARSEABLE_RELAY | MALFORMED_\w+ | CHARSET_FARAWAY\w*
  | UNWANTED_LANGUAGE_BODY | NONEXISTENT_CHARSET | DKIM_INVALID | T_DKIM_INVALID | LIST_PARTIAL_SHORT_MSG
  | MULTIPART_ALT_NON_TEXT | HEAD_ILLEGAL_CHARS | BODY_8BITS | ADVANCE_FEE_\w+
)$""", re.X)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00\xff" * 20
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LETTER = ("Dear Ms Smith,\n\nyour next appointment at Riverside Clinic is on Monday, 14 December, at 9:30.\n"
          "Please bring your insurance card and the list of your current medication.\n\n"
          "If you cannot come, call us on 555 0100 or answer this email.\n\nKind regards,\nDr. Jones\n")
HTML = ("<html><head><title>Your appointment</title></head><body>\n"
        "<p><img src=\"cid:logo\" alt=\"Riverside Clinic\"></p>\n"
        "<p>Dear Ms Smith,</p>\n<p>your next appointment at Riverside Clinic is on <b>Monday, 14 December</b>, "
        "at 9:30. Please bring your insurance card and the list of your current medication.</p>\n"
        "<ul><li>Address: 1 River Street</li><li>Phone: 555 0100</li></ul>\n"
        "<p>Kind regards,<br>Dr. Jones</p>\n</body></html>\n")
HTML_NO_IMAGE = HTML.replace('<p><img src="cid:logo" alt="Riverside Clinic"></p>\n', "")
UNSUBSCRIBE = "https://clinic.example/unsubscribe?p=P0000001&t=9f2c"


def _rsa() -> str:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def _ed25519() -> str:
    return base64.b64encode(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())).decode()


def _doc(body: str | bytes, to: str = "Alice Smith <alice@example.org>", **properties: str) -> Document:
    document = Document(body, {"mail.to_address": to})
    for name, value in properties.items():
        document.set_property(name, value)
    return document


def _reply() -> Document:
    """A document as a mail Get makes it, so the Send threads the reply under it."""
    document = Document("Thank you, we got your message and will call you back today.\n",
                        {"mail.to_address": "patient@example.org", "mail.message_id": "<q2@patient.example>",
                         "mail.subject": "Re: appointment",
                         "mail.headers.References": "<q0@clinic.example> <q1@patient.example>"})
    document.mark_inbound(["mail.message_id", "mail.subject", "mail.headers.References"])
    return document


def _grouped(data: bytes, name: str, content_type: str, **extra: str) -> Document:
    return _doc(data, "patient@example.org", **{"mail.group": "P0001", "mail.file_name": name,
                                                 "mail.content_type": content_type, **extra})


def _kinds(tmp_path) -> dict[str, tuple[dict, dict, list[Document]]]:
    """name -> (connection settings, operation settings, documents): one email each."""
    logo, leaflet, notes = tmp_path / "logo.png", tmp_path / "Merkblatt für Patientinnen.pdf", tmp_path / "map.txt"
    logo.write_bytes(PNG)
    leaflet.write_bytes(PDF)
    notes.write_text("North wing, second floor.\n", encoding="utf-8")
    html = {"body_content_type": "text/html"}
    return {
        "plain": ({}, {}, [_doc(LETTER)]),
        "non-ascii": ({}, {"from": "Praxis Dr. Müller <clinic@example.com>", "subject": "Ihr Termin am Montag – Änderung"},
                      [_doc(LETTER.replace("Ms Smith", "Frau Zoë Ørsted"), "Zoë Ørsted <zoe@example.org>")]),
        "html-twin": ({}, {"attachment_content_type": "text/html"}, [_doc(HTML_NO_IMAGE)]),
        "html-given-twin-inline-image": ({}, {"attachment_content_type": "text/html", "text_body": LETTER,
                                              "inline_images": {"logo": str(logo)}}, [_doc(HTML)]),
        "attachments": ({}, {"disposition": "attachment", "attachment_content_type": "text/csv",
                             "file_name": "Befund März.csv", "attachments": [str(leaflet), str(notes)]},
                        [_doc(b"date;value\n2026-12-01;5.4\n", **{"mail.body": LETTER})]),
        "grouped-html-logo": ({}, {"disposition": "attachment", "attachment_content_type": "text/plain", **html,
                                   "inline_images": {"logo": str(logo)}},
                              [_grouped(b"date;value\n2026-12-01;5.4\n", "results.csv", "text/csv",
                                        **{"mail.body": HTML}),
                               _grouped(PDF, "Überweisung.pdf", "application/pdf")]),
        "reply": ({}, {"subject": "Re: appointment"}, [_reply()]),
        "unsubscribe": ({}, {"list_unsubscribe": f"{UNSUBSCRIBE}, mailto:unsubscribe@example.com"}, [_doc(LETTER)]),
        "dkim-rsa": ({"dkim_domain": "example.com", "dkim_selector": "s1", "dkim_private_key": _rsa()},
                     {"cc": "front-desk@example.org", "reply_to": "office@example.com"}, [_doc(LETTER)]),
        "dkim-ed25519-html": ({"dkim_domain": "example.com", "dkim_selector": "s2", "dkim_private_key": _ed25519(),
                               "dkim_algorithm": "ed25519-sha256"},
                              {"attachment_content_type": "text/html", "list_unsubscribe": UNSUBSCRIBE},
                              [_doc(HTML_NO_IMAGE)]),
    }


def _build(smtp_sink, tmp_path) -> dict[str, bytes]:
    """Every kind sent through the Send operation to smtp-sink; Message-ID -> (kind, the bytes received)."""
    sink = smtp_sink()
    kinds = _kinds(tmp_path)
    sent: dict[str, str] = {}
    defaults = {"subject": "Your appointment on Monday", "body_content_type": "text/plain",
                "attachment_content_type": "text/plain"}
    for name, (connection, op, documents) in kinds.items():
        # a shape per kind: the Message-ID is made from the execution, the shape and the document
        results = run(plain_connection(sink.port, **connection), operation(**{**defaults, **op}), documents,
                      shape=name)
        assert not any(isinstance(r, Failed) for r in results), (name, results)
        assert results[0].properties["mail.message_id"] not in sent, name
        sent[results[0].properties["mail.message_id"]] = name
    received = {}
    for text in sink.dumps(len(kinds)):
        raw = SinkDump.parse(text).raw
        found = re.search(rb"(?mi)^Message-ID:\s*(<[^>]+>)", raw)
        assert found, raw[:500]
        received[found.group(1).decode()] = raw
    assert set(received) == set(sent), (sorted(received), sent)
    return {message_id: (sent[message_id], raw) for message_id, raw in received.items()}


def _tutorial(cli, workdir, devmail) -> dict[str, tuple[str, bytes]]:
    """The Dr. Smith announcement (examples/dr-smith) as `postroom run` sends it: Message-ID ->
    ("tutorial-run", the bytes devmail received)."""
    folder = workdir / "dr-smith"
    shutil.copytree(ROOT / "examples" / "dr-smith", folder)
    connections = folder / "connections.yaml"
    connections.write_text(connections.read_text().replace("port: 2465", f"port: {devmail.smtps_port}"))
    env = {"POSTROOM_DEVMAIL_CA": str(devmail.ca_file)}
    assert cli("secrets", "set", "devmail-password", input="app-password-123\n").code == 0
    assert cli("import", "dr-smith", env=env).code == 0
    ran = cli("run", "dr-smith-announcement", env=env)
    assert ran.code == 0, ran
    letters = {}
    for stored in devmail.messages():
        message_id = re.search(rb"(?mi)^Message-ID:\s*(<[^>]+>)", stored.raw)
        assert message_id, stored.raw[:500]
        letters[message_id.group(1).decode()] = ("tutorial-run", stored.raw)
    assert len(letters) == 3, letters
    return letters


def _mbox(letters: dict[str, tuple[str, bytes]]) -> bytes:
    out = b""
    for _name, raw in letters.values():
        body = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))
        out += b"From postroom@example.com Fri Dec  4 10:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n"
    return out


def _fired(report: str) -> dict[str, list[str]]:
    """Message-ID -> the rules SpamAssassin listed in X-Spam-Status, for each message of the report."""
    fired: dict[str, list[str]] = {}
    for message in re.split(r"(?m)^From postroom@example\.com ", report)[1:]:
        head = message.split("\n\n", 1)[0]
        status = re.search(r"^X-Spam-Status:.*?tests=(.*?)\s+autolearn=", head, re.M | re.S)
        message_id = re.search(r"^Message-ID:\s*(<[^>]+>)", head, re.M | re.I)
        assert status and message_id, head
        tests = status.group(1).replace("\n", "").replace("\t", "").replace(" ", "")
        fired[message_id.group(1)] = [t for t in tests.split(",") if t and t != "none"]
    return fired


def test_no_format_rule_fires_on_any_kind_of_letter(smtp_sink, tmp_path, cli, workdir, devmail):
    binary = require_binary("spamassassin", "/usr/bin/spamassassin")
    letters = {**_build(smtp_sink, tmp_path), **_tutorial(cli, workdir, devmail)}
    prefs = tmp_path / "user_prefs"
    prefs.write_text("", encoding="ascii")
    # -L: local tests only (no DNS, no URIBL, no DCC/Razor/Pyzor); no Bayes and no learning, so
    # nothing is stored in ~/.spamassassin; the user preferences are this test's own file.
    done = subprocess.run([binary, "-L", "-t", "--mbox", "-p", str(prefs), "--cf", "use_bayes 0",
                           "--cf", "bayes_auto_learn 0", "--cf", "use_auto_whitelist 0"],
                          input=_mbox(letters), capture_output=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    fired = _fired(done.stdout.decode("utf-8", "replace"))
    assert set(fired) == set(letters), (sorted(fired), sorted(letters))
    every = {f"{letters[mid][0]} {mid}": rules for mid, rules in fired.items()}
    bad = {name: [rule for rule in rules if FORMAT_RULES.match(rule)] for name, rules in every.items()}
    assert not any(bad.values()), {"format rules": bad, "all rules": every}
    assert sorted({name for name, _raw in letters.values()}) == sorted([*_kinds(tmp_path), "tutorial-run"])
    signed = sorted(name for name, raw in letters.values() if raw.startswith(b"DKIM-Signature:"))
    assert signed == ["dkim-ed25519-html", "dkim-rsa"], signed  # (-L turns SpamAssassin's DKIM rules off)
