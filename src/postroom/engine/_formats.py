"""Reading dates and numbers written with Java patterns (Boomi's ``M/d/yyyy``, ``#,##0.00``),
and writing numbers with them. Dates are written by :func:`postroom.engine._dates.format_date`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from ..model import READ_LETTERS

__all__ = ["parse_date", "parse_number", "format_number"]

#: the regex group each pattern letter the model accepts for reading fills (model/_datepatterns.py
#: checks patterns at import against the same READ_LETTERS, so import and run agree)
_GROUPS = {"y": "year", "M": "month", "d": "day", "H": "hour", "h": "hour12", "m": "minute", "s": "second",
           "S": "milli", "a": "ampm", "E": "dayname", "Z": "zone", "X": "zone"}
_TOKEN = re.compile(r"''|'(?:[^']|'')*'|(" + "|".join("a" if c == "a" else f"{c}+" for c in READ_LETTERS) + ")")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


@lru_cache(maxsize=256)
def _date_regex(pattern: str) -> re.Pattern[str]:
    out, pos = [], 0
    for match in _TOKEN.finditer(pattern):
        out.append(re.escape(pattern[pos:match.start()]))
        pos, token = match.end(), match.group(0)
        if token.startswith("'"):
            out.append(re.escape("'" if token == "''" else token[1:-1].replace("''", "'")))
            continue
        name, n = _GROUPS[token[0]], len(token)
        if token[0] == "M" and n >= 3:
            out.append(f"(?P<{name}>[A-Za-z]{{3,9}})")
        elif token[0] == "a":
            out.append(f"(?P<{name}>[AaPp][Mm])")
        elif token[0] == "E":
            out.append(f"(?P<{name}>[A-Za-z]{{2,9}})")
        elif token[0] in "ZX":
            out.append(f"(?P<{name}>Z|[+-]\\d{{2}}(?::?\\d{{2}})?)")
        elif token[0] == "y" and n == 2:
            out.append(f"(?P<{name}>\\d{{2}})")
        else:
            out.append(f"(?P<{name}>\\d{{{n},{max(n, 4 if token[0] == 'y' else 2 if token[0] != 'S' else 3)}}})")
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out) + r"\Z")


def parse_date(text: str, pattern: str) -> datetime:
    """``text`` read with the Java pattern; ValueError naming the pattern when it does not fit."""
    if not pattern:
        try:
            return datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a date in ISO 8601 form (2024-03-07 or 2024-03-07T16:05:00); "
                             "give the element a format (M/d/yyyy...) to read another form") from None
    match = _date_regex(pattern).match(text.strip())
    if not match:
        raise ValueError(f"{text!r} does not match the date format {pattern}")
    parts = match.groupdict()
    month = parts.get("month") or "1"
    month_number = int(month) if month.isdigit() else _MONTHS.index(month[:3].lower()) + 1 \
        if month[:3].lower() in _MONTHS else 0
    year = int(parts.get("year") or 1970)
    if parts.get("year") and len(parts["year"]) == 2:
        year += 2000
    hour = int(parts.get("hour") or parts.get("hour12") or 0)
    if parts.get("ampm"):
        hour = hour % 12 + (12 if parts["ampm"].lower() == "pm" else 0)
    try:
        return datetime(year, month_number, int(parts.get("day") or 1), hour, int(parts.get("minute") or 0),
                        int(parts.get("second") or 0), int(parts.get("milli") or 0) * 1000, _zone(parts.get("zone")))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date ({exc}) in the format {pattern}") from None


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-offset if text[0] == "-" else offset)


def parse_number(text: str, pattern: str = "") -> Decimal:
    """``text`` as a number; with a pattern, its grouping commas are allowed."""
    cleaned = text.strip()
    if "," in pattern or not pattern:
        cleaned = cleaned.replace(",", "") if "," in pattern else cleaned
    if "%" in pattern:
        cleaned = cleaned.rstrip("%")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number" + (f" in the format {pattern}" if pattern else "")) from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value / 100 if "%" in pattern else value


def format_number(value: Decimal, pattern: str) -> str:
    """``value`` written with a Java DecimalFormat pattern (``#,##0.00``, ``0.###``, ``000``)."""
    if not pattern:
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    prefix_match = re.match(r"[^#0,.]*", pattern)
    prefix = prefix_match.group(0) if prefix_match else ""
    core = pattern[len(prefix):]
    suffix = core[len(core.rstrip("'%¤ ")):] if core else ""
    core = core[:len(core) - len(suffix)] if suffix else core
    whole, _, frac = core.partition(".")
    if "%" in suffix:
        value = value * 100
    min_frac, max_frac = frac.count("0"), len(frac)
    quantum = Decimal(1).scaleb(-max_frac)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    text = format(abs(rounded), "f")
    int_part, _, frac_part = text.partition(".")
    frac_part = frac_part.rstrip("0").ljust(min_frac, "0")
    min_int = whole.replace(",", "").count("0")
    int_part = int_part.lstrip("0").rjust(min_int, "0") if min_int else int_part.lstrip("0")
    if "," in whole:
        size = len(whole) - whole.rindex(",") - 1
        groups: list[str] = []
        while len(int_part) > size:
            groups.insert(0, int_part[-size:])
            int_part = int_part[:-size]
        int_part = ",".join([int_part, *groups]) if int_part else ",".join(groups)
    body = int_part + ("." + frac_part if frac_part else "")
    sign = "-" if rounded < 0 else ""
    return f"{prefix}{sign}{body or '0'}{suffix}"
