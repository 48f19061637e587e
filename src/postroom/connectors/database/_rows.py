"""Rows as JSON and JSON as rows.

A row read from the database becomes a JSON object: dates and times in ISO form, decimals
as their exact text, binary as base64, UUIDs as text, JSON columns as they are. A document
to store is a JSON object (one row) or an array of objects (a row each); a text in a date
or time column is read as ISO form.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy import types as sqltypes

from ...sdk import Document

__all__ = ["RowError", "as_json", "columns_problem", "row_to_bytes", "rows_of", "prepared"]


class RowError(ValueError):
    """Why a document's rows cannot be stored (the document fails with this text)."""


def as_json(value: Any) -> Any:
    """One column value as a JSON value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, UUID | dt.timedelta):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return str(value)


def row_to_bytes(row: Mapping[Any, Any]) -> bytes:
    return json.dumps({str(k): as_json(v) for k, v in row.items()}, ensure_ascii=False).encode("utf-8")


def rows_of(document: Document) -> tuple[list[dict[str, Any]], bool]:
    """The rows a document holds and whether it was an array; RowError when it holds none."""
    try:
        data = json.loads(document.data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RowError(f"the document is not JSON ({exc}): insert and upsert take a JSON object (a row) "
                       "or an array of objects") from None
    many = isinstance(data, list)
    rows = data if many else [data]
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            where = f"item {n} of the array" if many else "the document"
            raise RowError(f"{where} is a JSON {type(row).__name__}, not an object: write a row as "
                           "{\"column\": value, ...}")
    if not rows:
        raise RowError("the document is an empty array: there is no row to store")
    return rows, many


def columns_problem(rows: list[dict[str, Any]], table: Table) -> str | None:
    known = set(table.columns.keys())
    for row in rows:
        for name in row:
            if name not in known:
                return (f"column {name!r} is not in table {table.name} (its columns: {', '.join(table.columns.keys())}); "
                        "rename the key or add the column")
    return None


_TEMPORAL = ((sqltypes.DateTime, dt.datetime), (sqltypes.Date, dt.date), (sqltypes.Time, dt.time))


def prepared(row: dict[str, Any], table: Table) -> dict[str, Any]:
    """``row`` with ISO texts in date/time columns read as dates and times."""
    temporal = _temporal_columns(table)
    out = row
    for name, value in row.items():
        py_type = temporal.get(name)
        if py_type is None or not isinstance(value, str):
            continue
        if out is row:
            out = dict(row)
        try:
            out[name] = py_type.fromisoformat(value)
        except ValueError:
            raise RowError(f"column {name}: {value!r} is not a {py_type.__name__} in ISO form "
                           f"(such as {_SAMPLE[py_type]})") from None
    return out


@lru_cache(maxsize=64)
def _temporal_columns(table: Table) -> dict[str, type[dt.date | dt.time]]:
    """The table's date, time and timestamp columns and the Python type each reads (once per
    table: looked up for every column of every row, it was a good part of an insert's time)."""
    found: dict[str, type[dt.date | dt.time]] = {}
    for column in table.columns:
        for sql_type, py_type in _TEMPORAL:
            if isinstance(column.type, sql_type):
                found[column.name] = py_type
                break
    return found


_SAMPLE = {dt.datetime: "2026-11-24T09:30:00", dt.date: "2026-11-24", dt.time: "09:30:00"}
