"""Process Reporting in a real browser: executions made with `postroom run`, filtered by
status and by process, with the CSV export link following the filters."""

from __future__ import annotations

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
