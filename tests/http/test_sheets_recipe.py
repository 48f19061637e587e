"""docs/http.md's Google Sheets recipe, run as the page gives it against a local server
that answers like the Sheets API (values:append) and Google's token endpoint: the rows it
stores are the patients', one token serves the run, a revoked token is refreshed."""

from __future__ import annotations

import csv

import pytest

from support.docs_examples import parse_page
from support.httpkit import ApiServer, OAuthServer, Sheets
from support.testsupport import FIXTURES, ROOT

CLIENT = ("recipe-client.apps.googleusercontent.com", "recipe-client-secret", "1//recipe-refresh-token")
SPREADSHEET_ID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


@pytest.fixture
def sheets_api():
    server = ApiServer()
    server.oauth = OAuthServer(*CLIENT, expires_in=3599)
    sheet = Sheets(SPREADSHEET_ID)
    sheet.install(server)
    try:
        yield server, sheet
    finally:
        server.close()


@pytest.fixture
def recipe(cli, workdir, sheets_api):
    server, _ = sheets_api
    [example] = [s for s in parse_page((ROOT / "docs" / "http.md").read_text(encoding="utf-8"), "docs/http.md")
                 if s.name == "sheets"]
    (workdir / "recipe").mkdir()
    for n, block in enumerate(example.blocks, 1):
        (workdir / "recipe" / f"{n}.yaml").write_text(block.text, encoding="utf-8")
    env = {"SHEETS_API_URL": server.url, "SHEETS_TOKEN_URL": server.url + "/token", "SHEETS_CLIENT_ID": CLIENT[0],
           "SHEETS_CLIENT_SECRET": CLIENT[1], "SHEETS_REFRESH_TOKEN": CLIENT[2]}
    done = cli("import", "recipe", env=env)
    assert done.code == 0, done

    def run():  # noqa: ANN202
        return cli("run", "patients-to-sheet", "--input", "examples/data/patients.csv", "--json", env=env)
    return run


def _patients() -> list[list[str]]:
    with open(FIXTURES / "patients.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [[r["patient_id"], r["first_name"], r["last_name"], r["email"]] for r in rows if "\n" not in r["last_name"]]


def test_the_recipe_appends_every_patient_row_with_one_token(recipe, sheets_api, cli):
    server, sheet = sheets_api
    ran = recipe()
    assert ran.code == 1, ran  # P0023's name holds a line break: hand-built JSON; it fails alone
    record = ran.json()
    assert record["documents_failed"] == 1 and record["documents_out"] == 23
    assert sheet.rows == _patients()
    shown = cli("executions", "show", record["id"], "--json").json()
    notes = [line["message"] for line in shown["log"] if "row(s) at" in line["message"]]
    assert notes == [f"1 row(s) at Patients!A{n}:D{n}" for n in range(1, 24)]
    appends = server.api_requests()
    assert {r.target for r in appends} == {
        f"/v4/spreadsheets/{SPREADSHEET_ID}/values/Patients%21A%3AD:append?valueInputOption=RAW"}
    [grant] = server.oauth.grants
    assert grant == {"grant_type": "refresh_token", "refresh_token": CLIENT[2], "client_id": CLIENT[0],
                     "client_secret": CLIENT[1], "scope": "https://www.googleapis.com/auth/spreadsheets"}
    shown = cli("executions", "show", record["id"], "--json", "--documents")
    assert shown.code == 0, shown
    secrets = [CLIENT[1], CLIENT[2], *server.oauth.issued]  # the access tokens too
    assert not [s for s in secrets if s in ran.stdout + ran.stderr + shown.stdout]


def test_a_token_revoked_mid_run_is_refreshed_and_no_row_is_lost(recipe, sheets_api):
    server, sheet = sheets_api
    original = sheet.append
    calls = {"n": 0}

    def revoke_after_ten(seen):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 10:
            server.oauth.revoke_all()
        return original(seen)

    server.routes.clear()
    server.route("POST", Sheets.PATH, revoke_after_ten)
    ran = recipe()
    assert ran.code == 1, ran
    assert sheet.rows == _patients()  # every row once: the refused request was sent again, once
    assert server.oauth.token_calls() == 2
