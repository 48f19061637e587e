"""The web inbox and its JSON API, read with urllib like any HTTP client."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from email import policy
from email.message import EmailMessage

import pytest

from support.devmail_helpers import USER, no_leaked_threads, send  # noqa: F401 - no_leaked_threads is an autouse fixture

SCRIPT = "<script>alert('pwned')</script>"


def hostile_letter() -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Mallory <mallory@example.com>"
    message["To"] = USER
    message["Subject"] = f"Hello {SCRIPT} & <b>you</b>"
    message["Message-ID"] = "<hostile@example.com>"
    message.set_content(f"Plain text with {SCRIPT} in it.\n")
    message.add_alternative(
        f'<html><body><p onclick="steal()">Hi</p>{SCRIPT}<img src="https://tracker.example/p.gif"></body></html>\n',
        subtype="html",
    )
    message.add_attachment(
        b"%PDF-1.4 not really\n", maintype="application", subtype="pdf", filename="Résumé patient.pdf"
    )
    message.add_attachment(
        f"<html>{SCRIPT}</html>".encode(), maintype="text", subtype="html", filename="evil.html"
    )
    return message.as_bytes()


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def http_error(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> urllib.error.HTTPError:
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(url, headers, method)
    caught.value.close()
    return caught.value


@pytest.fixture
def stored(devmail):
    raw = hostile_letter()
    send(devmail, raw, to=[USER], sender="mallory@example.com")
    (message,) = devmail.wait_for(1)
    assert message.raw == raw
    return message


def test_inbox_lists_messages_escaped(devmail, stored):
    status, headers, body = get(devmail.web_url)
    page = body.decode()
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "script-src" not in headers["Content-Security-Policy"]  # falls back to 'none'
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert f'href="/messages/{stored.id}"' in page
    assert html.escape(f"Hello {SCRIPT} & <b>you</b>") in page
    assert "Mallory &lt;mallory@example.com&gt;" in page
    assert "<script" not in page.lower()
    assert "<b>you" not in page


def test_message_page_sandboxes_html_and_escapes_the_rest(devmail, stored):
    _, headers, body = get(f"{devmail.web_url}messages/{stored.id}")
    page = body.decode()
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    # Nothing from the mail can run: no script element, no event handler attribute outside
    # the srcdoc attribute value (where it is inert, escaped text).
    assert "<script" not in page.lower()
    outside_srcdoc = re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', page)
    assert "onclick" not in outside_srcdoc
    assert "tracker.example" not in outside_srcdoc
    # The HTML body is only inside a sandboxed iframe, without allow-scripts.
    frames = re.findall(r"<iframe[^>]*>", page)
    assert len(frames) == 1
    frame = frames[0]
    assert 'sandbox=""' in frame
    assert "allow-" not in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(srcdoc).startswith('<html><body><p onclick="steal()">Hi</p><script>')
    # Text body, headers and envelope are escaped text.
    assert f"Plain text with {html.escape(SCRIPT)} in it." in page
    assert "mallory@example.com" in page
    assert "Résumé patient.pdf" in page
    assert f'href="/messages/{stored.id}/raw"' in page


def test_attachments_download_as_files(devmail, stored):
    detail = json.loads(get(f"{devmail.web_url}api/messages/{stored.id}")[2])
    parts = {p["filename"]: p for p in detail["parts"]}
    assert set(parts) == {None, "Résumé patient.pdf", "evil.html"}
    assert [p["content_type"] for p in detail["parts"]] == [
        "text/plain",
        "text/html",
        "application/pdf",
        "text/html",
    ]

    pdf = parts["Résumé patient.pdf"]
    _, headers, body = get(f"{devmail.web_url}messages/{stored.id}/parts/{pdf['index']}")
    assert body == b"%PDF-1.4 not really\n"
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20patient.pdf" in headers["Content-Disposition"]

    evil = parts["evil.html"]
    _, headers, body = get(f"{devmail.web_url}messages/{stored.id}/parts/{evil['index']}")
    assert body == f"<html>{SCRIPT}</html>".encode()
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert headers["X-Content-Type-Options"] == "nosniff"

    assert http_error(f"{devmail.web_url}messages/{stored.id}/parts/99").code == 404


def test_raw_source_is_the_exact_bytes(devmail, stored):
    _, headers, body = get(f"{devmail.web_url}messages/{stored.id}/raw")
    assert body == stored.raw
    assert headers["Content-Type"].startswith("text/plain")
    _, headers, body = get(f"{devmail.web_url}api/messages/{stored.id}/raw")
    assert body == stored.raw
    assert headers["Content-Type"] == "message/rfc822"


def test_json_api_lists_envelope_and_headers(devmail, stored):
    status, headers, body = get(f"{devmail.web_url}api/messages")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    (item,) = json.loads(body)
    assert item["id"] == stored.id
    assert item["envelope"] == {"mail_from": "mallory@example.com", "rcpt_to": [USER]}
    assert item["subject"] == f"Hello {SCRIPT} & <b>you</b>"
    assert item["from"] == "Mallory <mallory@example.com>"
    assert item["to"] == USER
    assert item["message_id"] == "<hostile@example.com>"
    assert item["date"] == ""
    assert item["size"] == len(stored.raw)
    assert item["tls"] is False

    detail = json.loads(get(f"{devmail.web_url}api/messages/{stored.id}")[2])
    assert detail["text"] == f"Plain text with {SCRIPT} in it.\n"
    assert SCRIPT in detail["html"]
    assert ["Message-ID", "<hostile@example.com>"] in detail["headers"]


def test_decisions_api(devmail_factory):
    devmail = devmail_factory(reject_recipients=["nobody@*"])
    send(devmail, b"Subject: x\r\n\r\ny\r\n", to=[USER, "nobody@example.com"])
    decisions = json.loads(get(f"{devmail.web_url}api/decisions")[2])
    assert [(d["address"], d["code"], d["accepted"]) for d in decisions] == [
        (USER, 250, True),
        ("nobody@example.com", 550, False),
    ]


def test_delete_one_and_all(devmail, stored):
    send(devmail, b"Subject: second\r\n\r\nbody\r\n")
    devmail.wait_for(2)
    status, _, body = get(f"{devmail.web_url}api/messages/{stored.id}", method="DELETE")
    assert (status, json.loads(body)) == (200, {"deleted": 1})
    assert [m.subject for m in devmail.messages()] == ["second"]
    assert http_error(f"{devmail.web_url}api/messages/{stored.id}").code == 404

    status, _, body = get(f"{devmail.web_url}api/messages", method="DELETE")
    assert json.loads(body) == {"deleted": 1}
    assert devmail.messages() == []
    assert json.loads(get(f"{devmail.web_url}api/messages")[2]) == []
    assert "id=empty" in get(devmail.web_url)[2].decode()


def test_delete_all_form_redirects_to_the_inbox(devmail, stored):
    request = urllib.request.Request(
        f"{devmail.web_url}messages/delete",
        data=b"",
        method="POST",
        headers={"Origin": devmail.web_url.rstrip("/"), "Sec-Fetch-Site": "same-origin"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # follows the 303 to /
        assert response.url == devmail.web_url
        assert b"No messages yet" in response.read()
    assert devmail.messages() == []


def test_cross_site_and_rebinding_requests_are_refused(devmail, stored):
    url = f"{devmail.web_url}api/messages"
    assert http_error(url, {"Origin": "https://evil.example"}, "DELETE").code == 403
    assert http_error(url, {"Sec-Fetch-Site": "cross-site"}, "DELETE").code == 403
    assert http_error(url, {"Host": "evil.example"}).code == 421
    assert len(devmail.messages()) == 1
    assert get(url, {"Host": f"localhost:{devmail.web_port}"})[0] == 200


def test_unknown_paths_and_methods(devmail):
    assert http_error(f"{devmail.web_url}nothing-here").code == 404
    assert http_error(f"{devmail.web_url}messages/does-not-exist").code == 404
    assert http_error(f"{devmail.web_url}api/messages/does-not-exist/raw").code == 404
    error = http_error(f"{devmail.web_url}api/messages", method="POST")
    assert error.code == 405
