"""The process canvas in a real browser: a process built by dragging shapes from the palette
and connecting their outlets saves to exactly the YAML the CLI exports; a process imported
with the CLI round-trips through the canvas unchanged; Test lights the shapes up and a
shape's documents open in the viewer."""

from __future__ import annotations

from typing import Any

from postroom.model import load_text
from support.testsupport import ROOT

# the browser fixtures (a real serve + devmail with users, Playwright on Debian's chromium) come
# from tests/web/conftest.py: one browser and one serve for the whole session

EXPECTED = """\
type: process
name: Hello canvas
start: start
shapes:
  start: {type: start, next: greeting}
  greeting: {type: message, label: Greeting, text: "Hello <img src=x onerror=alert(1)>", next: stop}
  stop: {type: stop}
"""


def _yaml(text: str) -> Any:
    """YAML as ``postroom import`` reads it (``true:``/``false:`` stay outlet names)."""
    return load_text(text)[0].data


def _open_new_process(page, name: str) -> None:
    page.get_by_role("link", name="Build").click()
    page.get_by_role("button", name="Create New").click()
    page.get_by_role("menuitem", name="Process").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_role("button", name="Create").click()
    page.get_by_role("navigation", name="Shapes").wait_for()
    page.get_by_label("Component name", exact=True).fill(name)


def _drop(page, title: str, x: int, y: int) -> None:
    palette = page.get_by_role("navigation", name="Shapes")
    palette.get_by_role("button", name=title, exact=True).drag_to(
        page.get_by_test_id("rf__wrapper"), target_position={"x": x, "y": y})


def _shape(page, name: str):
    return page.get_by_role("group", name=name, exact=True)


def _component_id(page, base: str, name: str) -> str:
    found = [c for c in page.request.get(f"{base}/api/components?type=process&q={name}").json() if c["name"] == name]
    assert len(found) == 1, found
    return found[0]["id"]


def test_a_process_built_on_the_canvas_saves_to_the_expected_yaml(new_page, postroom) -> None:
    page = new_page("builder")
    alerts: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an alert() from injected markup would land here
        alerts.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    _open_new_process(page, "Hello canvas")
    _drop(page, "Start", 20, 20)
    _drop(page, "Message", 20, 160)
    _drop(page, "Stop", 20, 300)
    page.get_by_test_id("handle-start-next").drag_to(_shape(page, "message"))
    page.get_by_test_id("handle-message-next").drag_to(_shape(page, "stop"))
    _shape(page, "message").click()
    side = page.get_by_role("complementary", name="Shape settings")
    side.get_by_label("Message", exact=True).fill("Hello <img src=x onerror=alert(1)>")
    side.get_by_label("Label").fill("Greeting")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved version 1").wait_for()

    component_id = _component_id(page, postroom.url, "Hello canvas")
    assert page.url.endswith(f"/build/c/{component_id}"), page.url  # the address names the saved process
    exported = page.request.get(f"{postroom.url}/api/components/{component_id}/yaml")
    assert exported.ok, exported.text()
    body = _yaml(exported.text())
    layout = body.pop("layout")
    # a new shape's id is its type's; a label given names it (on Save here)
    dropped = {"start": (20, 20), "greeting": (20, 160), "stop": (20, 300)}
    assert set(layout) == set(dropped)  # where each was dropped (a pixel off: the page's fractional offsets)
    assert all(abs(layout[k]["x"] - x) <= 2 and abs(layout[k]["y"] - y) <= 2 for k, (x, y) in dropped.items()), layout
    assert body.pop("id") == component_id
    assert body == _yaml(EXPECTED)

    page.get_by_role("button", name="Test", exact=True).click()
    for name in ("start", "Greeting", "stop"):
        _shape(page, name).and_(page.locator("[data-status=passed]")).wait_for()
    page.get_by_role("region", name="Process Log").wait_for()
    _shape(page, "stop").click()  # what entered Stop is the Message's text, shown as text
    document = page.get_by_role("region", name="Documents of stop").get_by_role("article", name="Document 1")
    document.get_by_text("Hello <img src=x onerror=alert(1)>").wait_for()
    assert page.locator("img[src=x]").count() == 0
    assert alerts == []
    page.reload()  # a reload (or a bookmark) of that address opens the saved process
    _shape(page, "Greeting").wait_for()


def test_the_canvas_takes_most_of_a_1280_wide_window(new_page) -> None:
    """At 1280×900 the component list folds away for a process and the canvas keeps more than
    half the width with the palette and the shape settings beside it (none overlapping)."""
    page = new_page("builder")
    assert page.viewport_size == {"width": 1280, "height": 900}
    _open_new_process(page, "Wide canvas")
    _drop(page, "Message", 300, 200)
    side = page.get_by_role("complementary", name="Shape settings")
    side.wait_for()
    canvas = page.get_by_test_id("canvas-surface").bounding_box()
    palette = page.get_by_role("navigation", name="Shapes").bounding_box()
    panel = side.bounding_box()
    assert canvas and palette and panel
    assert canvas["width"] >= 0.5 * 1280, canvas
    assert palette["x"] + palette["width"] <= canvas["x"], (palette, canvas)
    assert canvas["x"] + canvas["width"] <= panel["x"] and panel["x"] + panel["width"] <= 1280, (canvas, panel)
    assert panel["width"] >= 240, panel  # the settings stay readable
    toggle = page.get_by_role("button", name="Components", exact=True)
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()  # the component list opens again on demand
    page.get_by_role("searchbox", name="Search components").wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"


def test_an_imported_process_round_trips_through_the_canvas(new_page, postroom, tmp_path) -> None:
    source = (ROOT / "examples" / "dr-smith" / "process-1-announcement.yaml").read_text()
    for name in ("connections.yaml", "operations.yaml"):
        # the browser tests share one serve: the example's Gmail connection is renamed so that
        # the Build tests can still create "Gmail Mail Connection" as version 1
        text = (ROOT / "examples" / "dr-smith" / name).read_text()
        (tmp_path / name).write_text(text.replace("gmail-mail-connection", "canvas-gmail-connection")
                                     .replace("Gmail Mail Connection", "Canvas Gmail Connection"))
    (tmp_path / "process.yaml").write_text(source)
    done = postroom.cli("import", str(tmp_path))
    assert done.returncode == 0, done.stderr + done.stdout
    page = new_page("builder")
    page.goto(f"{postroom.url}/build/c/dr-smith-announcement")
    decision = _shape(page, "Still a patient?")
    decision.wait_for()
    box = decision.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 60, box["y"] + 90, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved version 2").wait_for()
    exported = _yaml(page.request.get(
        f"{postroom.url}/api/components/dr-smith-announcement/yaml").text())
    layout = exported.pop("layout")
    assert set(layout) == set(exported["shapes"])
    assert exported == _yaml(source)
