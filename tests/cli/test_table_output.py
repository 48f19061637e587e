"""The listing commands' plain-text tables are byte for byte what Rich draws, and every cell
Rich would show differently (markup, emoji codes, wide characters, wrapping) goes to Rich."""

from __future__ import annotations

import io
import random
import string

import pytest
from rich.console import Console
from rich.table import Table

from postroom.cli._table import PIPE_WIDTH, plain_cell, print_table, render_plain

pytestmark = pytest.mark.fast


def rich_text(headers: list[str], rows: list[list[str]], width: int = PIPE_WIDTH) -> str:
    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(table)
    return buffer.getvalue()


def random_cell(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + " -_./@()'\",;:!?=+*#ÀéñüÿŁž"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
    return text.strip() if rng.random() < 0.9 else text


def test_plain_tables_equal_rich_byte_for_byte() -> None:
    rng = random.Random(13)
    for _ in range(200):
        columns = rng.randint(1, 8)
        headers = [random_cell(rng) or "h" for _ in range(columns)]
        rows = [[random_cell(rng) for _ in range(columns)] for _ in range(rng.randint(1, 12))]
        if not all(plain_cell(c) for row in [headers, *rows] for c in row):
            continue
        lines = render_plain(headers, rows)
        if lines is None:
            continue
        assert "\n".join(lines) + "\n" == rich_text(headers, rows), (headers, rows)


def test_listing_shapes_equal_rich() -> None:
    rows = [["bench-announcement-0001", "process", "José Núñez's letters", "", "12"],
            ["local-mail-connection", "connection", "Local Mail Connection (devmail)", "Tutorials/Dr Smith", "1"],
            ["run-1", "dr-smith", "complete with errors", "2026-12-04 17:59:58", "4"]]
    headers = ["id", "type", "name", "folder", "version"]
    assert "\n".join(render_plain(headers, rows) or []) + "\n" == rich_text(headers, rows)


def test_a_table_wider_than_the_console_is_left_to_rich() -> None:
    rows = [["x" * 150, "y" * 150]]
    assert render_plain(["a", "b"], rows) is None
    assert render_plain(["a", "b"], rows, width=400) is not None


@pytest.mark.parametrize("cell", ["[bold]x[/bold]", ":thumbs_up:", "a:ok:b", "日本", "tab\there", " lead", "trail ",
                                  "line\nbreak", "soft\u00adhyphen"])
def test_cells_rich_would_change_are_not_plain(cell: str) -> None:
    assert not plain_cell(cell)


@pytest.mark.parametrize("cell", ["2026-12-04 17:59:58", "Tutorials/Dr Smith", "Zoë O'Brien", ""])
def test_everyday_cells_are_plain(cell: str) -> None:
    assert plain_cell(cell)


def test_print_table_writes_what_rich_writes_for_any_cell(capsys: pytest.CaptureFixture[str]) -> None:
    headers = ["id", "name"]
    for rows in ([["a", "plain"], ["b", "José"]], [["a", "[bold]marked up[/bold]"], ["b", ":thumbs_up:"]]):
        print_table(headers, rows)
        assert capsys.readouterr().out == rich_text(headers, rows)
