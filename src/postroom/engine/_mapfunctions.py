"""The Map functions of CONTRACT.md over text inputs; a bad input is a ValueError that says
why (the document then fails alone)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, DivisionByZero, InvalidOperation

from ..model._maps import MapEntry
from ._dates import format_date
from ._formats import format_number, parse_date, parse_number

__all__ = ["apply_function", "Lookup"]

Lookup = Callable[[str, str, str, str], str | None]  # table, match column, output column, value


def _number(text: str, entry: MapEntry) -> Decimal:
    return parse_number(text, entry.input_format)


def _write(value: Decimal, entry: MapEntry) -> str:
    return format_number(value, entry.output_format)


def _arith(entry: MapEntry, values: list[str]) -> str:
    numbers = [_number(v, entry) for v in values]
    total = numbers[0]
    for n in numbers[1:]:
        if entry.function == "add":
            total += n
        elif entry.function == "subtract":
            total -= n
        elif entry.function == "multiply":
            total *= n
        else:
            try:
                total /= n
            except (DivisionByZero, InvalidOperation):
                raise ValueError(f"divide: {values[0]} divided by zero") from None
    return _write(total, entry)


def _string(entry: MapEntry, values: list[str]) -> str:
    text = values[0] if values else ""
    name = entry.function
    if name == "concat":
        return "".join(values)
    simple: dict[str, Callable[[str], str]] = {
        "upper": str.upper, "lower": str.lower, "trim": str.strip, "left_trim": str.lstrip,
        "right_trim": str.rstrip, "length": lambda t: str(len(t))}
    if name in simple:
        return simple[name](text)
    if name == "substring":
        start = entry.start or 0
        return text[start:] if entry.length is None else text[start:start + entry.length]
    if name == "replace":
        return re.sub(entry.pattern or "", entry.replacement, text)
    if name in ("pad_left", "pad_right"):
        width = entry.length or 0
        return text.rjust(width, entry.char) if name == "pad_left" else text.ljust(width, entry.char)
    parts = text.split(entry.separator or ",")  # split
    index = entry.index or 0
    return parts[index] if index < len(parts) else ""


def apply_function(entry: MapEntry, values: list[str], lookup: Lookup) -> str:
    """The function of ``entry`` over ``values`` (its inputs, as text)."""
    name = entry.function
    if name in ("add", "subtract", "multiply", "divide"):
        return _arith(entry, values)
    if name == "number_format":
        return _write(_number(values[0], entry), entry)
    if name == "round":
        return format(_number(values[0], entry).quantize(Decimal(1).scaleb(-entry.digits)), "f")
    if name == "abs":
        return _write(abs(_number(values[0], entry)), entry)
    if name == "date_format":
        if values[0].strip() == "":
            return ""
        return format_date(parse_date(values[0], entry.input_format), entry.output_format)
    if name == "current_date":
        return format_date(datetime.now().astimezone(), entry.format or entry.output_format)
    if name == "cross_reference":
        found = lookup(entry.table or "", entry.match or "", entry.output or "", values[0])
        return "" if found is None else found
    return _string(entry, values)
