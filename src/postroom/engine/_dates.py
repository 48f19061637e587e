"""Dates formatted with Java SimpleDateFormat patterns (what Boomi users write), or
with strftime when the pattern holds a ``%``."""

from __future__ import annotations

import re
from datetime import datetime

from ..model import WRITE_LETTERS

__all__ = ["format_date"]

#: the letters import accepts for writing (model/_datepatterns.py); a and u stand alone
_TOKEN = re.compile(r"''|'(?:[^']|'')*'|(" + "|".join(c if c in "au" else f"{c}+" for c in WRITE_LETTERS) + ")")


def format_date(moment: datetime, pattern: str) -> str:
    if not pattern:
        return moment.isoformat()
    if "%" in pattern:
        return moment.strftime(pattern)
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(pattern):
        out.append(pattern[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "''":
            out.append("'")
        elif token.startswith("'"):  # quoted text; '' inside is one quote
            out.append(token[1:-1].replace("''", "'"))
        else:
            out.append(_field(moment, token))
    out.append(pattern[pos:])
    return "".join(out)


def _field(m: datetime, token: str) -> str:
    c, n = token[0], len(token)
    if c == "y":
        return f"{m.year % 100:02d}" if n == 2 else f"{m.year:0{n}d}"
    if c == "M":
        if n >= 4:
            return m.strftime("%B")
        if n == 3:
            return m.strftime("%b")
        return f"{m.month:0{n}d}"
    if c == "d":
        return f"{m.day:0{n}d}"
    if c == "D":
        return f"{m.timetuple().tm_yday:0{n}d}"
    if c == "H":
        return f"{m.hour:0{n}d}"
    if c == "k":
        return f"{m.hour or 24:0{n}d}"
    if c == "K":
        return f"{m.hour % 12:0{n}d}"
    if c == "h":
        return f"{(m.hour % 12) or 12:0{n}d}"
    if c == "m":
        return f"{m.minute:0{n}d}"
    if c == "s":
        return f"{m.second:0{n}d}"
    if c == "S":  # milliseconds as a number, at least n digits (Java's rule)
        return f"{m.microsecond // 1000:0{n}d}"
    if c == "a":
        return m.strftime("%p")
    if c == "E":
        return m.strftime("%A") if n >= 4 else m.strftime("%a")
    if c == "u":
        return str(m.isoweekday())
    if c == "z":
        return m.strftime("%Z") or "UTC"
    if c == "Z":
        return m.strftime("%z") or "+0000"
    if c == "X":
        offset = m.strftime("%z") or "+0000"
        if offset in ("+0000", "-0000"):
            return "Z"
        return offset if n == 2 else f"{offset[:3]}:{offset[3:]}" if n >= 3 else offset[:3]
    return token
