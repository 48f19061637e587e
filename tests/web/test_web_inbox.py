"""The Dev Inbox shows what the devmail of the same POSTROOM_HOME caught: an HTML body in a
sandboxed iframe (no scripts), an XSS payload in the subject as text."""

from __future__ import annotations

import json
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


def test_the_dev_inbox_names_every_port_devmail_took(new_page, postroom) -> None:
    """The ports in the page are those devmail recorded for this POSTROOM_HOME: plain SMTP and
    POP3 (offering STARTTLS), SMTPS and POP3S, and the web inbox; each can be typed as Port."""
    state = json.loads((postroom.home / "devmail" / "state.json").read_text())
    page = new_page("viewer")
    page.get_by_role("link", name="Dev Inbox").click()
    table = page.get_by_role("table", name="Ports")
    table.wait_for()
    rows = {cells[0]: cells[1:] for cells in (
        [cell.inner_text() for cell in row.get_by_role("cell").all()] for row in table.get_by_role("row").all()[1:])}
    assert rows["SMTP"][:2] == [str(state["smtp_port"]), "STARTTLS available"], rows
    assert rows["SMTPS"][:2] == [str(state["smtps_port"]), "TLS from the first byte"], rows
    assert rows["POP3"][0] == str(state["pop3_port"]) and rows["POP3S"][0] == str(state["pop3s_port"]), rows
    assert rows["Web inbox"][0] == str(state["web_port"]), rows
    assert rows["SMTPS"][2] == "Send; Use SSL? on"
    assert state["smtp_port"] == postroom.smtp_port
    assert "localhost" in page.get_by_role("region", name="Dev mail ports").inner_text()
