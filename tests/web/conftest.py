"""Browser tests: Playwright driving Debian's chromium against a real ``postroom serve``
(see tests/support/browser.py). None of them is `fast`."""

from support.browser import browser, built_ui, new_page, postroom  # noqa: F401 - fixtures
