"""The Dev Inbox through the REST API: a real devmail (the pytest plugin's) that writes its
state file under POSTROOM_HOME, a letter sent to it over SMTP, and the API reading it."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from postroom.devmail import default_state_file
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from postroom.web._auth import Role
from support.apikit import api_client


def _letter() -> EmailMessage:
    message = EmailMessage()
    message["From"] = DEVMAIL_USER
    message["To"] = "alice@example.com, bob@example.org"
    message["Subject"] = "Dr. Smith is retiring"
    message.set_content("Dear Alice,\nDr. Smith is retiring.\n")
    message.add_alternative("<p>Dear Alice,</p><script>alert(1)</script>", subtype="html")
    message.add_attachment(b"name,email\n", maintype="text", subtype="csv", filename="patients.csv")
    return message


def test_dev_inbox_lists_shows_and_serves_raw(home, devmail_factory) -> None:
    with api_client(home) as api:
        assert api.get("/api/devmail").json()["running"] is False
        missing = api.get("/api/devmail/messages")
        assert missing.status_code == 404 and "postroom devmail" in missing.json()["detail"]

        server = devmail_factory(state_file=default_state_file(home))
        status = api.get("/api/devmail").json()
        assert status == {"running": True, "smtp_port": server.smtp_port, "smtps_port": server.smtps_port,
                          "pop3_port": server.pop3_port, "pop3s_port": server.pop3s_port,
                          "web_port": server.web_port, "host": "localhost", "starttls": True,
                          "ca_file": str(server.ca_file)}
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
            smtp.starttls(context=server.client_ssl_context())
            smtp.login(DEVMAIL_USER, DEVMAIL_PASSWORD)
            smtp.send_message(_letter())
        server.wait_for(1)

        [listed] = api.get("/api/devmail/messages").json()
        assert listed["subject"] == "Dr. Smith is retiring" and listed["from"] == DEVMAIL_USER
        assert listed["to"] == ["alice@example.com", "bob@example.org"] and listed["size"] > 0
        one = api.get(f"/api/devmail/messages/{listed['id']}").json()
        assert ["Subject", "Dr. Smith is retiring"] in one["headers"]
        parts = {p["content_type"]: p for p in one["parts"]}
        assert parts["text/plain"]["text"] == "Dear Alice,\nDr. Smith is retiring.\n"
        assert parts["text/html"]["html"].startswith("<p>Dear Alice,</p>") and parts["text/html"]["text"] is None
        assert parts["text/csv"]["filename"] == "patients.csv"
        raw = api.get(f"/api/devmail/messages/{listed['id']}/raw")
        assert raw.headers["content-type"].startswith("message/rfc822")
        assert b"Subject: Dr. Smith is retiring" in raw.content
        assert api.get("/api/devmail/messages/nope").status_code == 404
        api.as_role(Role.viewer)
        assert api.get("/api/devmail/messages").status_code == 200

        server.stop()
        assert not default_state_file(home).exists()
        assert api.get("/api/devmail").json()["running"] is False


def test_postroom_devmail_writes_its_state_file_while_it_runs(home) -> None:
    import io
    import threading

    from postroom.devmail import read_state, serve

    stop, seen = threading.Event(), {}

    def ready(server) -> None:  # noqa: ANN001
        seen.update(read_state(default_state_file(home)) or {}, web=server.web_port)
        stop.set()

    serve(smtp_port=0, smtps_port=0, pop3_port=0, pop3s_port=0, web_port=0, out=io.StringIO(), stop_event=stop,
          on_ready=ready)
    assert seen["web_port"] == seen["web"] and seen["smtp_port"] > 0  # under POSTROOM_HOME, ports it took
    assert not default_state_file(home).exists()
