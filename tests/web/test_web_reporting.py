"""Process Reporting in a real browser: executions made with `postroom run`, filtered by
status and by process, with the CSV export link following the filters."""

from __future__ import annotations

import json

OK = """type: process
name: Reporting OK
id: reporting-ok
shapes:
  start: {type: start, next: data}
  data: {type: message, text: "hello", next: end}
  end: {type: stop}
"""
FAILING = """type: process
name: Reporting Failing
id: reporting-failing
shapes:
  start: {type: start, next: data}
  data: {type: message, text: "hello", next: boom}
  boom: {type: exception, message: "refused on purpose", stop_process: true}
"""


def test_filters_by_status_and_process(new_page, postroom, tmp_path) -> None:
    for name, text in (("ok.yaml", OK), ("failing.yaml", FAILING)):
        (tmp_path / name).write_text(text)
    assert postroom.cli("import", str(tmp_path / "ok.yaml"), str(tmp_path / "failing.yaml")).returncode == 0
    assert postroom.cli("run", "reporting-ok").returncode == 0
    assert postroom.cli("run", "reporting-failing").returncode == 1

    page = new_page("viewer")
    page.get_by_role("link", name="Process Reporting").click()
    table = page.get_by_role("table", name="Executions")
    table.get_by_role("link", name="Reporting Failing").wait_for()
    assert table.get_by_role("link", name="Reporting OK").is_visible()
    page.get_by_label("Status").select_option("failed")
    table.get_by_role("link", name="Reporting OK").wait_for(state="detached")
    assert table.get_by_role("link", name="Reporting Failing").is_visible()
    assert "status=failed" in (page.get_by_role("link", name="Export as CSV").get_attribute("href") or "")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Process").select_option(label="Reporting OK")
    table.get_by_role("link", name="Reporting Failing").wait_for(state="detached")
    table.get_by_role("link", name="Reporting OK").click()
    page.get_by_label("Process log").wait_for()
    page.screenshot(path=str(tmp_path / "reporting.png"))


def test_an_executions_page_lists_its_letters_that_bounced_later_and_its_chunks(new_page, postroom, tmp_path) -> None:
    """What a mail Get with ``recognize: bounces`` and a run on the workers record with the
    execution (written here into the serve's repository) shows on its page as two tables."""
    from postroom.repository import ChunkRecord, MailReport, open_repository

    (tmp_path / "ok.yaml").write_text(OK.replace("reporting-ok", "reporting-bounced").replace(
        "Reporting OK", "Reporting Bounced"))
    assert postroom.cli("import", str(tmp_path / "ok.yaml")).returncode == 0
    ran = postroom.cli("run", "reporting-bounced", "--json")
    assert ran.returncode == 0, ran.stderr
    execution_id = json.loads(ran.stdout)["id"]
    repo = open_repository(f"sqlite:///{postroom.home / 'postroom.db'}", home=postroom.home)
    try:
        repo.add_mail_report(MailReport(
            report_id="<dsn-1@mta.example>", recipient="bob@example.net", kind="bounce", action="failed",
            status="5.1.1", diagnostic="550 5.1.1 <bob@example.net>: no such user",
            original_message_id="<letter-1@clinic.example>", execution_id=execution_id, journal_key="send/a.0",
            reported_at="2026-12-04T10:00:00+00:00", read_by="read-replies"))
        repo.add_chunk(ChunkRecord(execution_id=execution_id, shape="flow", number=1, documents=20), {})
    finally:
        repo.close()

    page = new_page("viewer")
    page.get_by_role("link", name="Process Reporting").click()
    page.get_by_role("table", name="Executions").get_by_role("link", name="Reporting Bounced").click()
    bounced = page.get_by_role("table", name="Bounced later")
    bounced.wait_for()
    row = bounced.get_by_role("row").nth(1)
    assert "bob@example.net" in row.inner_text() and "5.1.1" in row.inner_text()
    assert "<letter-1@clinic.example>" in row.inner_text()
    assert "550 5.1.1 <bob@example.net>: no such user" in row.inner_text()
    chunk = page.get_by_role("table", name="Chunks").get_by_role("row").nth(1)
    assert chunk.inner_text().split("\t")[:5] == ["flow", "1", "", "20", "queued"], chunk.inner_text()
