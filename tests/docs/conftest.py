"""docs/http.md's examples call web APIs: while one of them runs, a local server answers
like them (a records API and the Google Sheets API with its OAuth 2.0 token endpoint), and
the environment variables the examples read point at it. docs/mail-reading.md's examples read
a clinic mailbox: a devmail holding two patients' replies (``DEVMAIL_*`` variables)."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.httpkit import ApiServer, OAuthServer, Reply, Seen, Sheets

RECORDS_KEY = "docs-records-key"
SHEETS_CLIENT = ("docs-client.apps.googleusercontent.com", "docs-client-secret", "1//docs-refresh-token")
SPREADSHEET_ID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


def records(seen: Seen) -> Reply:
    if seen.header("X-API-Key") != RECORDS_KEY:
        return Reply(401, {"error": "bad key"})
    patient = re.fullmatch(r"/patients/([^/]+)/records", seen.path)
    assert patient is not None and seen.query == {"source": ["postroom"]}
    return Reply(201, {"id": f"rec-{patient.group(1)}"}, {"Location": f"/records/rec-{patient.group(1)}"})


@pytest.fixture(autouse=True)
def web_apis(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiServer | None]:
    if "docs/http.md" not in request.node.name:
        yield None
        return
    records_api, sheets_api = ApiServer(), ApiServer()
    records_api.route("POST", r"/patients/[^/]+/records", records)
    sheets_api.oauth = OAuthServer(*SHEETS_CLIENT, expires_in=3599)
    Sheets(SPREADSHEET_ID).install(sheets_api)
    for name, value in {"RECORDS_API_URL": records_api.url, "RECORDS_API_KEY": RECORDS_KEY,
                        "SHEETS_API_URL": sheets_api.url, "SHEETS_TOKEN_URL": sheets_api.url + "/token",
                        "SHEETS_CLIENT_ID": SHEETS_CLIENT[0], "SHEETS_CLIENT_SECRET": SHEETS_CLIENT[1],
                        "SHEETS_REFRESH_TOKEN": SHEETS_CLIENT[2]}.items():
        monkeypatch.setenv(name, value)
    try:
        yield sheets_api
    finally:
        records_api.close()
        sheets_api.close()


CLINIC = ("clinic@example.com", "docs-Clinic-pw1")
RUNS_EXAMPLES = "test_example_imports_and_runs_as_the_page_says"  # the other tests of a page need no server
REPLIES = [(1, "Re: your appointment on Monday"), (2, "Re: please hold my appointment")]


@pytest.fixture(autouse=True)
def clinic_mailbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """For docs/mail-reading.md: devmail (SMTP and POP3, STARTTLS, the clinic's login) whose
    clinic mailbox holds the replies of patients 1 and 2 (reply 2 asks to hold)."""
    if "docs/mail-reading.md" not in request.node.name or request.node.originalname != RUNS_EXAMPLES:
        return None
    factory: Callable[..., Any] = request.getfixturevalue("devmail_factory")
    devmail = factory(smtps_port=None, pop3s_port=None, web_port=None, users=dict([CLINIC]))
    with smtplib.SMTP(devmail.client_host, devmail.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=devmail.client_ssl_context())
        smtp.login(*CLINIC)
        for n, subject in REPLIES:
            smtp.sendmail(f"patient{n}@example.org", [CLINIC[0]], (
                f"From: Patient {n} <patient{n}@example.org>\r\nTo: {CLINIC[0]}\r\nSubject: {subject}\r\n"
                f"Message-ID: <reply-{n}@patients.example.org>\r\n\r\nSee you then.\r\n").encode())
    for name, value in {"DEVMAIL_SMTP_PORT": str(devmail.smtp_port), "DEVMAIL_POP3_PORT": str(devmail.pop3_port),
                        "DEVMAIL_CA_FILE": str(devmail.ca_file), "CLINIC_PASSWORD": CLINIC[1]}.items():
        monkeypatch.setenv(name, value)
    return devmail
