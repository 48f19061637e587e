"""docs/http.md's examples call web APIs: while one of them runs, a local server answers
like them (a records API and the Google Sheets API with its OAuth 2.0 token endpoint), and
the environment variables the examples read point at it."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
