"""The Dev Inbox shows what the devmail of the same POSTROOM_HOME caught: an HTML body in a
sandboxed iframe (no scripts), an XSS payload in the subject as text."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

from support.testsupport import ROOT

XSS = '<img src=x onerror="window.pwned=1">Hello <b>Dr. Smith</b>'


def test_a_caught_message_with_html_and_a_hostile_subject(new_page, postroom) -> None:
    message = EmailMessage()
    message["From"] = "clinic@example.com"
    message["To"] = "patient@example.com"
    message["Subject"] = XSS
    message.set_content("plain version")
    message.add_alternative('<p id="inside">Dear patient</p><script>parent.pwned=2</script>', subtype="html")
    with smtplib.SMTP("127.0.0.1", postroom.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)

    page = new_page("viewer")
    page.get_by_role("link", name="Dev Inbox").click()
    link = page.get_by_role("link", name=XSS)
    link.wait_for()
    row = page.get_by_role("row").filter(has=link)
    assert "clinic@example.com" in row.inner_text() and "patient@example.com" in row.inner_text()
    link.click()
    page.get_by_role("heading", name=XSS).wait_for()
    frame = page.locator("iframe.html-body")
    assert frame.get_attribute("sandbox") == ""
    assert "Dear patient" in page.frame_locator("iframe.html-body").locator("#inside").inner_text()
    assert page.evaluate("window.pwned") is None
    assert page.locator("img[src=x]").count() == 0
    page.get_by_role("button", name="Raw Source").click()
    assert "Subject:" in page.get_by_label("Raw source").inner_text()
    if os.environ.get("POSTROOM_SCREENSHOTS"):
        page.screenshot(path=str(ROOT / "docs" / "images" / "inbox-message.png"))
