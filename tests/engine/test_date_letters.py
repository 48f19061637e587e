"""The pattern letters import accepts for reading dates are the ones the engine reads."""

import pytest

from postroom.engine import _formats
from postroom.model import READ_LETTERS


@pytest.mark.fast
def test_every_letter_import_accepts_has_a_group_the_engine_fills() -> None:
    assert set(_formats._GROUPS) == set(READ_LETTERS)
    assert _formats.parse_date("Fri 04/12/2026 07:05 PM +01:00", "EEE dd/MM/yyyy hh:mm a XXX").isoformat() == (
        "2026-12-04T19:05:00+01:00")
