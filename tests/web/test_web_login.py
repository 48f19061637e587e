"""The app needs a login: every page shows the login form first; a wrong password gets the
server's message; the deep link opened is the page shown after logging in."""

from __future__ import annotations

from support.browser import PASSWORDS


def test_every_page_shows_the_login_page_first(new_page, postroom) -> None:
    page = new_page()
    for path in ("/", "/build", "/reporting", "/inbox"):
        page.goto(postroom.url + path)
        page.get_by_role("button", name="Log In").wait_for()
        assert page.get_by_role("link", name="Build").count() == 0
        assert page.get_by_role("button", name="Log Out").count() == 0


def test_a_wrong_password_gets_the_servers_message_and_no_way_in(new_page, postroom) -> None:
    page = new_page()
    page.goto(postroom.url + "/build")
    page.get_by_label("User Name").fill("builder")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log In").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().strip(), "the server's message is shown"
    assert page.get_by_role("button", name="Log Out").count() == 0
    assert "not-the-password" not in page.content()


def test_logging_in_opens_the_deep_link_and_shows_who_and_log_out(new_page, postroom) -> None:
    page = new_page()
    page.goto(postroom.url + "/reporting")
    page.get_by_label("User Name").fill("viewer")
    page.get_by_label("Password").fill(PASSWORDS["viewer"])
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("heading", name="Process Reporting").wait_for()
    for name in ("Build", "Process Reporting", "Dev Inbox"):
        assert page.get_by_role("link", name=name).is_visible()
    assert "viewer" in page.locator("header").inner_text()
    page.get_by_role("button", name="Log Out").click()
    page.get_by_role("button", name="Log In").wait_for()
    page.goto(postroom.url + "/build")
    page.get_by_role("button", name="Log In").wait_for()
