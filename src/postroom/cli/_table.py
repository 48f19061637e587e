"""The listing commands' tables: Rich's heavy-headed table, drawn without Rich when the
output is plain text.

Rich measures and renders every cell as a rich object: about 0.4 s for a thousand rows.
When stdout is not a terminal (no colour, 240 columns, UTF-8), every cell is plain text
(no markup, no emoji code, one column per character) and the table fits, the lines are
written directly, byte for byte what Rich writes (a test compares the two). Anything else
(a terminal, a cell Rich would interpret or wrap) goes through Rich as before.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence

__all__ = ["print_table"]

#: the console width ``_common.console`` gives Rich when stdout is not a terminal
PIPE_WIDTH = 240

# A cell is written as it is only when made of characters one column wide that Rich shows
# as they are: printable ASCII and the Latin-1 and Latin Extended-A/B letters.
_PLAIN = re.compile(r"[\x20-\x7e\u00c0-\u024f]*")
# Rich replaces :name: with an emoji; a two-digit name (the minutes of a time) is none.
_EMOJI_CODE = re.compile(r":(\S*?)(?:-(?:emoji|text))?:")
# Environment variables that make Rich treat a pipe as a terminal (colour, styles).
_FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``headers`` as Rich's default table on stdout."""
    if not (rows and _plain_output() and _plain_cells(headers, rows)):
        _print_with_rich(headers, rows)
        return
    lines = render_plain(headers, rows)
    if lines is None:
        _print_with_rich(headers, rows)
        return
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def render_plain(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 width: int = PIPE_WIDTH) -> list[str] | None:
    """The table's lines as Rich draws it unstyled at ``width`` columns; None when it
    would not fit (Rich would then shrink and wrap columns)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    if sum(widths) + 3 * len(widths) + 1 > width:
        return None
    bars = ["━" * (w + 2) for w in widths]
    lines = ["┏" + "┳".join(bars) + "┓",
             "┃" + "┃".join(f" {h.ljust(w)} " for h, w in zip(headers, widths, strict=True)) + "┃",
             "┡" + "╇".join(bars) + "┩"]
    lines.extend("│" + "│".join(f" {c.ljust(w)} " for c, w in zip(row, widths, strict=True)) + "│"
                 for row in rows)
    lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return lines


def _plain_output() -> bool:
    """stdout is a UTF-8 pipe or file that Rich would not style."""
    if sys.platform == "win32" or any(os.environ.get(name) for name in _FORCING):
        return False
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    try:
        return encoding == "utf8" and not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def plain_cell(text: str) -> bool:
    """Rich would show ``text`` as it is: no markup, no emoji code, no wide or control
    character, no space at either end."""
    if not text:
        return True
    if "[" in text or text[0] == " " or text[-1] == " " or not _PLAIN.fullmatch(text):
        return False
    return ":" not in text or all(name.isdigit() and len(name) == 2 for name in _EMOJI_CODE.findall(text))


def _plain_cells(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bool:
    return all(plain_cell(h) for h in headers) and all(
        len(row) == len(headers) and all(plain_cell(c) for c in row) for row in rows)


def _print_with_rich(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.table import Table

    from ._common import console

    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    console().print(table)
