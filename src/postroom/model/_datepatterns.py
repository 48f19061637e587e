"""Which Java date and number patterns Postroom understands, checked at import so that a
pattern it cannot read is refused there (naming the field), not on every document."""

from __future__ import annotations

import re

__all__ = ["READ_LETTERS", "WRITE_LETTERS", "date_pattern_problem", "number_pattern_problem"]

READ_LETTERS = "yMdHhmsSaEZX"  # engine/_formats.py reads these
WRITE_LETTERS = READ_LETTERS + "DkKuz"  # engine/_dates.py writes these too
_QUOTED = re.compile(r"''|'(?:[^']|'')*'")
_LETTERS = {"y": "year", "M": "month", "d": "day", "H": "hour (0-23)", "h": "hour (1-12)", "m": "minute",
            "s": "second", "S": "millisecond", "a": "AM/PM", "E": "day name", "Z": "zone offset",
            "X": "zone offset", "D": "day of the year", "k": "hour (1-24)", "K": "hour (0-11)",
            "u": "day number of the week", "z": "zone name"}


def date_pattern_problem(pattern: str, *, writing: bool = False) -> str | None:
    """Why Postroom cannot read (or, ``writing``, write) dates with this Java pattern; None when it can."""
    if not pattern or (writing and "%" in pattern):
        return None  # empty: ISO 8601; a % pattern is written with strftime
    text = _QUOTED.sub(" ", pattern)
    if "'" in text:
        return "a quote (') is not closed; text in a pattern is quoted as 'T' and a quote itself as ''"
    allowed = WRITE_LETTERS if writing else READ_LETTERS
    seen: set[str] = set()
    for match in re.finditer(r"([A-Za-z])\1*", text):
        letter = match.group(1)
        if letter not in allowed:
            known = ", ".join(f"{c} {_LETTERS[c]}" for c in dict.fromkeys(allowed))
            return (f"{letter} is not a pattern letter Postroom {'writes' if writing else 'reads'} "
                    f"(it knows {known}; put other text in single quotes, as 'T')")
        part = {"h": "H", "Z": "X"}.get(letter, letter)
        if not writing and part in seen:
            return f"the {_LETTERS[letter]} appears twice ({letter}); a pattern reads each part once"
        seen.add(part)
    return None


def number_pattern_problem(pattern: str) -> str | None:
    """Why this is not a number pattern Postroom understands (``#,##0.00``, ``0.###``, ``0%``)."""
    if not pattern:
        return None
    if not re.search(r"[0#]", pattern):
        return "it has no digit (0 or #); write a Java number pattern such as #,##0.00"
    core = re.sub(r"^[^#0,.]*|[^#0,.]*$", "", pattern)
    if re.search(r"[^#0,.]", core) or core.count(".") > 1:
        return ("Postroom understands digits (0, #), grouping commas, one decimal point, and text or % "
                "before and after (such as #,##0.00 or 0.0%)")
    return None
