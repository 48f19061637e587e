"""Issue 12 item 2: an HTML body goes with its plain-text twin (multipart/alternative, the
text first), given by the operation or mail.text_body, or made from the HTML; sent to
devmail and parsed back with the email package."""

from __future__ import annotations

import pytest

from postroom.connectors.mail._html_text import html_to_text
from postroom.sdk import Document, Failed
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
