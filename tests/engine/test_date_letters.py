"""The pattern letters import accepts for dates are the ones the engine reads and writes."""

import pytest

from postroom.engine import _dates, _formats
from postroom.model import READ_LETTERS, WRITE_LETTERS


@pytest.mark.fast
def test_every_letter_import_accepts_has_a_group_the_engine_fills() -> None:
    assert set(_formats._GROUPS) == set(READ_LETTERS)
    assert _formats.parse_date("Fri 04/12/2026 07:05 PM +01:00", "EEE dd/MM/yyyy hh:mm a XXX").isoformat() == (
        "2026-12-04T19:05:00+01:00")


@pytest.mark.fast
def test_every_letter_import_accepts_for_writing_is_written() -> None:
    moment = _formats.parse_date("2026-12-04 19:05:09 +01:00", "yyyy-MM-dd HH:mm:ss XXX")
    for letter in WRITE_LETTERS:
        assert _dates.format_date(moment, letter) != letter, letter  # a letter it did not know stays as text
    assert _dates.format_date(moment, "EEE d MMM yyyy 'at' h:mm a, D'th day'") == "Fri 4 Dec 2026 at 7:05 PM, 338th day"
