"""Every Map function implemented, with exact outputs."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from pydantic import ValidationError

from postroom.engine._mapfunctions import apply_function
from postroom.model._maps import MapEntry

pytestmark = pytest.mark.fast

TABLE = {("status-codes", "code", "label"): {"Y": "active", "N": "inactive"}}


def _lookup(table: str, match: str, output: str, value: str) -> str | None:
    return TABLE[(table, match, output)].get(value)


def _run(values: list[str], **settings: object) -> str:
    entry = MapEntry.model_validate({"to": "x", "inputs": [{"from": f"in{i}"} for i in range(len(values))],
                                     **settings})
    return apply_function(entry, values, _lookup)


@pytest.mark.parametrize("values, settings, out", [
    (["Ann", " ", "Lee"], {"function": "concat"}, "Ann Lee"),
    (["Zoë"], {"function": "upper"}, "ZOË"),
    (["ÉCOLE"], {"function": "lower"}, "école"),
    (["  a b  "], {"function": "trim"}, "a b"),
    (["  a b  "], {"function": "left_trim"}, "a b  "),
    (["  a b  "], {"function": "right_trim"}, "  a b"),
    (["Postroom"], {"function": "substring", "start": 4}, "room"),
    (["Postroom"], {"function": "substring", "start": 0, "length": 4}, "Post"),
    (["Postroom"], {"function": "substring", "start": 20, "length": 4}, ""),
    (["555-1234"], {"function": "replace", "pattern": "[^0-9]", "replacement": ""}, "5551234"),
    (["42"], {"function": "pad_left", "length": 6, "char": "0"}, "000042"),
    (["ab"], {"function": "pad_right", "length": 4, "char": "."}, "ab.."),
    (["toolong"], {"function": "pad_left", "length": 3}, "toolong"),
    (["a;b;c"], {"function": "split", "separator": ";", "index": 1}, "b"),
    (["a;b;c"], {"function": "split", "separator": ";", "index": 9}, ""),
    (["Zoë"], {"function": "length"}, "3"),
    (["1,234.5"], {"function": "number_format", "input_format": "#,##0.0", "output_format": "0.00"}, "1234.50"),
    (["1234567.891"], {"function": "number_format", "output_format": "#,##0.00"}, "1,234,567.89"),
    (["2", "3.5"], {"function": "add"}, "5.5"),
    (["10", "3", "2"], {"function": "subtract"}, "5"),
    (["1.5", "4"], {"function": "multiply", "output_format": "0.00"}, "6.00"),
    (["1", "3"], {"function": "divide", "output_format": "0.####"}, "0.3333"),
    (["2.675"], {"function": "round", "digits": 2}, "2.68"),
    (["-7.25"], {"function": "abs"}, "7.25"),
    (["3/7/2024"], {"function": "date_format", "input_format": "M/d/yyyy", "output_format": "yyyy-MM-dd"},
     "2024-03-07"),
    (["2024-03-07"], {"function": "date_format", "output_format": "dd MMM yyyy"}, "07 Mar 2024"),
    (["Thu, 7 Mar 2024 16:05:00 +0100"], {"function": "date_format", "input_format": "EEE, d MMM yyyy HH:mm:ss Z",
     "output_format": "yyyy-MM-dd'T'HH:mm:ssXXX EEEE"}, "2024-03-07T16:05:00+01:00 Thursday"),
    ([""], {"function": "date_format", "output_format": "yyyy"}, ""),
    (["Y"], {"function": "cross_reference", "table": "status-codes", "match": "code", "output": "label"}, "active"),
    (["Q"], {"function": "cross_reference", "table": "status-codes", "match": "code", "output": "label"}, ""),
])
def test_function(values: list[str], settings: dict, out: str) -> None:
    assert _run(values, **settings) == out


def test_current_date() -> None:
    before = datetime.now().astimezone().strftime("%Y-%m-%d")
    text = _run([], function="current_date", format="yyyy-MM-dd")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
    assert text >= before


@pytest.mark.parametrize("values, settings, says", [
    (["x", "1"], {"function": "add"}, "'x' is not a number"),
    (["1", "0"], {"function": "divide"}, "divide: 1 divided by zero"),
    (["2024-13-01"], {"function": "date_format", "input_format": "yyyy-MM-dd", "output_format": "yyyy"},
     "'2024-13-01' is not a date (month must be in 1..12) in the format yyyy-MM-dd"),
])
def test_bad_input_says_why(values: list[str], settings: dict, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        _run(values, **settings)
    assert str(caught.value) == says


@pytest.mark.parametrize("mapping, says", [
    ({"function": "substring", "inputs": [{"from": "a"}]}, "the function substring needs start; add start: ..."),
    ({"function": "add", "inputs": [{"from": "a"}]}, "the function add needs at least 2 input(s)"),
    ({"from": "a", "value": "b"}, "a mapping has exactly one of from, function or value (this one has from, value)"),
    ({"function": "cross_reference", "inputs": ["Y"], "table": "t"}, "the function cross_reference needs match"),
    ({"function": "sum", "inputs": ["1"]}, "Input should be 'concat'"),
    ({"function": "date_format", "inputs": ["a"], "input_format": "yyyy-QQ", "output_format": "yyyy"},
     "input_format 'yyyy-QQ' of the function date_format: Q is not a pattern letter Postroom reads"),
    ({"function": "date_format", "inputs": ["a"], "output_format": "yyyy-MM-dd G"},
     "output_format 'yyyy-MM-dd G' of the function date_format: G is not a pattern letter Postroom writes"),
    ({"function": "current_date", "format": "yyyy 'at"}, "format \"yyyy 'at\" of the function current_date: a quote"),
    ({"function": "add", "inputs": ["1", "2"], "output_format": "x"},
     "output_format 'x' of the function add: it has no digit (0 or #)"),
])
def test_mapping_form_errors(mapping: dict, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MapEntry.model_validate({"to": "x", **mapping})
    assert says in str(caught.value)
