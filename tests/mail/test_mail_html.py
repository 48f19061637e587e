"""Issue 12 item 2: an HTML body goes with its plain-text twin (multipart/alternative, the
text first), given by the operation or mail.text_body, or made from the HTML; sent to
devmail and parsed back with the email package."""

from __future__ import annotations

import re

import pytest

from postroom.connectors.mail._html_text import html_to_text
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.sendkit import run, send_op, starttls

HTML = """<html><head><title>Reminder</title><style>p {color: red}</style></head><body>
<h1>Your appointment</h1>
<p>Dear Ms&nbsp;Smith,<br>your visit is on <b>Monday</b> at 9&nbsp;&amp;&nbsp;nothing &lt;else&gt;.</p>
<ul><li>Bring your card</li><li>See <a href="https://example.com/map">the map</a></li></ul>
<p>Questions? <a href="mailto:desk@example.com">desk@example.com</a></p>
</body></html>
"""
TWIN = ("Your appointment\n\nDear Ms Smith,\nyour visit is on Monday at 9 & nothing <else>.\n\n"
        "- Bring your card\n- See the map (https://example.com/map)\n\nQuestions? desk@example.com\n")


def _structure(part) -> object:
    if part.is_multipart():
        return (part.get_content_type(), [_structure(inner) for inner in part.iter_parts()])
    return part.get_content_type()


def _texts(message) -> list[str]:
    return [part.get_content().replace("\r\n", "\n") for part in message.walk() if not part.is_multipart()]


@pytest.mark.fast
def test_the_twin_keeps_paragraphs_lists_and_links_and_no_tags():
    assert html_to_text(HTML) == TWIN
    nested = html_to_text("<ol><li>one<ul><li>inner</li></ul></li><li>two</li></ol><pre>a\n  b</pre>x<br/>y")
    assert nested == "- one\n  - inner\n- two\n\na\n  b\n\nx\ny\n"
    assert html_to_text('<a href="https://e.com">https://e.com</a> <img src="cid:l" alt="Logo">') == \
        "https://e.com Logo\n"
    assert html_to_text("<script>alert(1)</script>") == ""


def test_an_inline_html_document_goes_with_a_generated_twin(devmail):
    op = send_op(attachment_content_type="text/html")
    [result] = run(starttls(devmail), op, [Document(HTML, {"mail.to_address": "a@example.com"})])
    assert not isinstance(result, Failed), result
    message = devmail.store.wait_for(1)[0].parse()
    assert _structure(message) == ("multipart/alternative", ["text/plain", "text/html"])
    assert _texts(message) == [TWIN, HTML]


def test_the_twin_given_by_the_operation_or_the_document_wins(devmail):
    op = send_op(disposition="attachment", body_content_type="text/html", attachment_content_type="text/csv",
                 file_name="list.csv", text_body="See the list.\n")
    docs = [Document("a,b\n", {"mail.to_address": "a@example.com", "mail.body": "<p>See <i>the</i> list.</p>"}),
            Document("c,d\n", {"mail.to_address": "b@example.com", "mail.body": "<p>Hi</p>"})]
    docs[1].set_property("mail.text_body", "Hi, Zoë.\n")
    results = run(starttls(devmail), op, docs)
    assert not any(isinstance(r, Failed) for r in results), results
    stored = sorted(devmail.store.wait_for(2), key=lambda m: m.rcpt_tos)
    for message, twin, html, data in ((stored[0].parse(), "See the list.\n", "<p>See <i>the</i> list.</p>", b"a,b\n"),
                                      (stored[1].parse(), "Hi, Zoë.\n", "<p>Hi</p>", b"c,d\n")):
        assert _structure(message) == ("multipart/mixed", [("multipart/alternative", ["text/plain", "text/html"]),
                                                           "text/csv"])
        alternative, attached = message.iter_parts()
        assert _texts(alternative) == [twin, html]
        assert attached.get_filename() == "list.csv" and attached.get_payload(decode=True) == data


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00\xff" * 20


def test_inline_images_go_with_the_html_in_multipart_related(devmail, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    op = send_op(attachment_content_type="text/html", inline_images={"logo": str(logo), "unused": "/nowhere.png"})
    html = '<p><img src="cid:logo" alt="Riverside Clinic"></p><p>See you soon.</p>'
    [result] = run(starttls(devmail), op, [Document(html, {"mail.to_address": "a@example.com"})])
    assert not isinstance(result, Failed), result
    message = devmail.store.wait_for(1)[0].parse()
    assert _structure(message) == ("multipart/alternative", ["text/plain", ("multipart/related",
                                                                            ["text/html", "image/png"])])
    twin, related = message.iter_parts()
    assert twin.get_content().replace("\r\n", "\n") == "Riverside Clinic\n\nSee you soon.\n"
    page, image = related.iter_parts()
    assert page.get_content() == html
    assert image["Content-ID"] == "<logo>" and image.get_content_disposition() == "inline"
    assert image.get_filename() == "logo.png" and image.get_payload(decode=True) == PNG


def test_a_missing_image_fails_its_document_before_anything_is_sent(devmail, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    op = send_op(attachment_content_type="text/html", inline_images={"logo": str(logo)})
    missing_cid = Document('<img src="cid:signature">', {"mail.to_address": "a@example.com"})
    fine = Document('<img src="cid:logo">', {"mail.to_address": "b@example.com"})
    failed, sent = run(starttls(devmail), op, [missing_cid, fine])
    assert isinstance(failed, Failed) and failed.message == (
        "the HTML body (the document) shows the image cid:signature, but inline_images has no signature "
        "(it has: logo); add signature: FILE to the operation's inline_images or remove the reference")
    assert not isinstance(sent, Failed)
    gone = send_op(attachment_content_type="text/html", inline_images={"logo": str(tmp_path / "gone.png")})
    [unreadable] = run(starttls(devmail), gone, [Document('<img src="cid:logo">', {"mail.to_address": "c@x.org"})])
    assert isinstance(unreadable, Failed)
    assert unreadable.message.startswith(f"inline_images logo: the file {tmp_path / 'gone.png'} cannot be read "
                                         "(No such file or directory); fix the path in the operation")
    assert [m.rcpt_tos for m in devmail.store.wait_for(1)] == [("b@example.com",)]


@pytest.mark.fast
def test_a_bad_cid_or_blank_path_is_refused_with_the_setting_named():
    with pytest.raises(ValueError, match=r"inline_images: 'my logo' is not a usable cid"):
        send_op(inline_images={"my logo": "/srv/logo.png"})
    with pytest.raises(ValueError, match=r"attachments: a path is blank"):
        send_op(attachments=["/srv/a.pdf", " "])


def test_files_named_in_the_operation_are_attached_after_the_document(devmail, tmp_path):
    (tmp_path / "Ärztliche Hinweise.pdf").write_bytes(b"%PDF-1.7\n\x00\xff")
    (tmp_path / "map.txt").write_bytes(b"North wing\n")
    op = send_op(disposition="attachment", attachment_content_type="text/plain",
                 attachments=[str(tmp_path / "Ärztliche Hinweise.pdf"), str(tmp_path / "map.txt")])
    doc = Document(b"a;b\n", {"mail.to_address": "a@example.com", "mail.body": "Attached.",
                              "mail.file_name": "list.csv"})
    doc.set_property("mail.content_type", "text/csv")
    bad = Document(b"x", {"mail.to_address": "b@example.com"})
    bad.set_property("mail.content_type", "multipart/mixed")
    sent, failed = run(starttls(devmail), op, [doc, bad])
    assert not isinstance(sent, Failed), sent
    assert isinstance(failed, Failed) and failed.message.startswith("document property mail.content_type: ")
    [stored] = devmail.store.wait_for(1)
    message = stored.parse()
    assert _structure(message) == ("multipart/mixed", ["text/plain", "text/csv", "application/pdf", "text/plain"])
    parts = list(message.iter_parts())[1:]
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in parts] == [
        ("list.csv", b"a;b\n"), ("Ärztliche Hinweise.pdf", b"%PDF-1.7\n\x00\xff"), ("map.txt", b"North wing\n")]
    assert b"filename*=utf-8''%C3%84rztliche%20Hinweise.pdf" in stored.raw  # RFC 2231


def test_an_email_over_the_servers_size_fails_its_document_with_the_size_and_the_limit(devmail_factory, tmp_path):
    dm = devmail_factory(max_message_size=4000)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF" + bytes(range(256)) * 12)  # about 4 KB in base64
    op = send_op(disposition="attachment", attachment_content_type="text/plain", attachments=[str(tmp_path / "scan.pdf")])
    big = Document("a", {"mail.to_address": "a@example.com", "mail.body": "Your scan."})
    [failed] = run(starttls(dm), op, [big])
    assert isinstance(failed, Failed)
    assert re.fullmatch(r"the message is \d{4} bytes, over the 4000 bytes the server at [\w.]+:\d+ accepts \(SIZE\); "
                        r"nothing was sent: make it smaller \(fewer or smaller attachments or inline images\) or send "
                        r"it through a server that takes larger messages", failed.message), failed.message
    [ok] = run(starttls(dm), send_op(), [Document("small", {"mail.to_address": "b@example.com"})])
    assert not isinstance(ok, Failed)
    assert [m.rcpt_tos for m in dm.store.wait_for(1)] == [("b@example.com",)]


def _grouped(data: bytes, name: str, content_type: str, **extra: str) -> Document:
    document = Document(data, {"mail.to_address": "patient@example.com"})
    for prop, value in {"mail.group": "P0001", "mail.file_name": name, "mail.content_type": content_type,
                        **extra}.items():
        document.set_property(prop, value)
    return document


def test_the_full_letter_html_text_logo_and_three_attachments_parsed_back_exactly(devmail, tmp_path):
    """Issue 12: HTML + text twin + inline logo + 3 attachments (two grouped documents, one of them
    with a non-ASCII name, and a file named in the operation)."""
    logo, leaflet = tmp_path / "logo.png", tmp_path / "Leaflet.pdf"
    logo.write_bytes(PNG)
    leaflet.write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    op = send_op(disposition="attachment", body_content_type="text/html", attachment_content_type="text/plain",
                 subject="Your results", inline_images={"logo": str(logo)}, attachments=[str(leaflet)])
    html = '<p><img src="cid:logo" alt="Riverside"></p><p>Dear Ms Smith,<br>your results are attached.</p>'
    csv = b"date;value\n2026-12-01;5.4\n"
    letter = _grouped(csv, "Befund März.csv", "text/csv", **{"mail.body": html})
    scan = _grouped(b"\x89PNG\r\n\x1a\n\x00scan\xff", "scan.png", "image/png")
    other = Document("<p>Hello</p>", {"mail.to_address": "other@example.com", "mail.body": "<p>Hi</p>"})
    first, alone, second = run(starttls(devmail), op, [letter, other, scan])  # the group need not be adjacent
    assert not any(isinstance(r, Failed) for r in (first, second, alone)), (first, second, alone)
    assert first.properties["mail.message_id"] == second.properties["mail.message_id"] != \
        alone.properties["mail.message_id"]
    stored = {m.rcpt_tos: m for m in devmail.store.wait_for(2)}
    assert sorted(stored) == [("other@example.com",), ("patient@example.com",)]
    raw = stored[("patient@example.com",)].raw
    message = stored[("patient@example.com",)].parse()
    assert _structure(message) == ("multipart/mixed", [
        ("multipart/alternative", ["text/plain", ("multipart/related", ["text/html", "image/png"])]),
        "text/csv", "image/png", "application/pdf"])
    alternative, *attached = message.iter_parts()
    twin, related = alternative.iter_parts()
    page, image = related.iter_parts()
    assert twin.get_content().replace("\r\n", "\n") == "Riverside\n\nDear Ms Smith,\nyour results are attached.\n"
    assert page.get_content() == html
    assert (image["Content-ID"], image.get_content_disposition(), image.get_payload(decode=True)) == \
        ("<logo>", "inline", PNG)
    assert [(p.get_content_disposition(), p.get_filename(), p.get_payload(decode=True)) for p in attached] == [
        ("attachment", "Befund März.csv", csv), ("attachment", "scan.png", b"\x89PNG\r\n\x1a\n\x00scan\xff"),
        ("attachment", "Leaflet.pdf", leaflet.read_bytes())]
    assert b"filename*=utf-8''Befund%20M%C3%A4rz.csv" in raw and message["Subject"] == "Your results"


def test_grouping_needs_the_attachment_disposition_and_shares_a_failure(devmail):
    op = send_op(attachment_content_type="text/plain")
    one, two = _grouped(b"a", "a.txt", "text/plain"), _grouped(b"b", "b.txt", "text/plain")
    failed = run(starttls(devmail), op, [one, two])
    assert [type(r) for r in failed] == [Failed, Failed] and failed[1].document is two
    assert failed[0].message == failed[1].message == (
        "mail.group puts several documents in one email as attachments: set the operation's disposition to "
        "attachment, or do not set mail.group")
    no_to = _grouped(b"a", "a.txt", "text/plain", **{"mail.to_address": " "})
    grouped = run(starttls(devmail), send_op(disposition="attachment", to=""), [no_to, two])
    assert [(type(r), r.message) for r in grouped] == [(Failed, "To address is missing")] * 2
    assert len(devmail.store) == 0


def test_a_grouped_email_is_journaled_once_and_a_resume_does_not_send_it_again(devmail):
    op = send_op(disposition="attachment", attachment_content_type="text/plain")
    context = MemoryContext(execution_id="exec-group")
    first = run(starttls(devmail), op, [_grouped(b"a", "a.txt", "text/plain"), _grouped(b"b", "b.txt", "text/plain")],
                context=context)
    again = run(starttls(devmail), op, [_grouped(b"a", "a.txt", "text/plain"), _grouped(b"b", "b.txt", "text/plain")],
                context=context)  # the same execution resumed: the email is on record as sent
    assert [r.properties["mail.message_id"] for r in again] == [r.properties["mail.message_id"] for r in first]
    assert len(context.journal().entries()) == 1
    assert len(devmail.store.wait_for(1)) == 1 and [m.rcpt_tos for m in devmail.store.messages()] == [
        ("patient@example.com",)]


def test_a_grouped_document_with_a_content_id_is_an_inline_image(devmail, tmp_path):
    op = send_op(disposition="attachment", body_content_type="text/html", attachment_content_type="text/plain")
    html = '<p>Your X-ray:</p><img src="cid:xray-1" alt="X-ray">'
    letter = _grouped(b"notes\n", "notes.txt", "text/plain", **{"mail.body": html})
    xray = _grouped(PNG, "xray.png", "image/png", **{"mail.content_id": "xray-1"})
    spare = _grouped(b"GIF89a", "spare.gif", "image/gif", **{"mail.content_id": "not-shown"})
    results = run(starttls(devmail), op, [letter, xray, spare])
    assert not any(isinstance(r, Failed) for r in results), results
    message = devmail.store.wait_for(1)[0].parse()
    assert _structure(message) == ("multipart/mixed", [
        ("multipart/alternative", ["text/plain", ("multipart/related", ["text/html", "image/png"])]),
        "text/plain", "image/gif"])  # an image the HTML does not show is attached, not lost
    image = list(list(list(message.iter_parts())[0].iter_parts())[1].iter_parts())[1]
    assert (image["Content-ID"], image.get_filename(), image.get_payload(decode=True)) == ("<xray-1>", "xray.png", PNG)
    bad = _grouped(b"x", "x.png", "image/png", **{"mail.content_id": "x ray"})
    failed = run(starttls(devmail), op, [_grouped(b"n", "n.txt", "text/plain", **{"mail.body": html}), bad])
    assert [r.message for r in failed] == ["document 1 of the mail.group: document property mail.content_id: "
                                           "'x ray' is not a usable cid: use letters, digits and . _ - @ (the HTML "
                                           "refers to it as cid:NAME)"] * 2


@pytest.mark.fast
def test_an_inline_html_document_with_files_is_mixed_around_the_alternative():
    from email import message_from_bytes, policy

    from postroom.connectors.mail.mime import (
        Letter,
        MessageTemplate,
        Part,
        parse_addresses,
        parse_content_type,
    )

    sender = parse_addresses("clinic@example.com")[0]
    letter = Letter(sender=sender, to=[sender], cc=[], reply_to=[], subject="s", message_id="<1@example.com>",
                    data=b'<p>Hi <img src="cid:logo"></p>', text_body="Hi\n",
                    inline_images=[Part("logo.png", parse_content_type("image/png"), PNG, cid="logo")],
                    attachments=[Part("Übersicht.pdf", parse_content_type("application/pdf"), b"%PDF")])
    template = MessageTemplate(disposition="inline", attachment_type=parse_content_type("text/html"),
                               body_type=parse_content_type("text/plain"))
    message = message_from_bytes(template.build(letter), policy=policy.default)
    assert _structure(message) == ("multipart/mixed", [
        ("multipart/alternative", ["text/plain", ("multipart/related", ["text/html", "image/png"])]),
        "application/pdf"])
    twin, related = list(message.iter_parts())[0].iter_parts()
    page, image = related.iter_parts()
    assert (twin.get_content().replace("\r\n", "\n"), page.get_content()) == ("Hi\n", '<p>Hi <img src="cid:logo"></p>')
    assert related.get_param("type") == "text/html" and image.get_payload(decode=True) == PNG
    assert list(message.iter_parts())[1].get_filename() == "Übersicht.pdf"


@pytest.mark.fast
def test_cid_references_are_attribute_values_and_css_urls_not_text():
    from postroom.connectors.mail._parts import cid_references

    html = ("<img src=\"cid:logo\"><td background='cid:bg%20x'><div style=\"background: url(cid:pat)\">"
            "write cid:nothing here <img SRC=cid:a@b><img src=\"cid:logo\">")
    assert cid_references(html) == ["logo", "bg x", "pat", "a@b"]
