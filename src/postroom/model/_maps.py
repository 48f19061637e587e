"""The Map component, its mappings and functions, and the cross_reference table
(CONTRACT.md, "Map")."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._values import ValueSource, parse_source

__all__ = ["MapEntry", "MapInput", "FUNCTION_ARGS", "parse_input"]

# Each function's required settings (besides inputs) and how many inputs it needs at least.
FUNCTION_ARGS: dict[str, tuple[tuple[str, ...], int]] = {
    "concat": ((), 1), "upper": ((), 1), "lower": ((), 1), "trim": ((), 1), "left_trim": ((), 1),
    "right_trim": ((), 1), "substring": (("start",), 1), "replace": (("pattern",), 1),
    "pad_left": (("length",), 1), "pad_right": (("length",), 1), "split": (("separator", "index"), 1),
    "length": ((), 1), "number_format": ((), 1), "add": ((), 2), "subtract": ((), 2), "multiply": ((), 2),
    "divide": ((), 2), "round": ((), 1), "abs": ((), 1), "date_format": (("output_format",), 1),
    "current_date": ((), 0), "cross_reference": (("table", "match", "output"), 1),
}


class MapInput(BaseModel):
    """One input: ``{from: PATH}`` (the source document) or a value source."""

    model_config = ConfigDict(frozen=True)
    path: str | None = None
    source: ValueSource | None = None


def parse_input(value: Any) -> MapInput:
    if isinstance(value, MapInput):
        return value
    if isinstance(value, dict) and "from" in value:
        if len(value) != 1 or not isinstance(value["from"], str) or not value["from"]:
            raise ValueError("an input {from: PATH} names one path of the source document and nothing else")
        return MapInput(path=value["from"])
    return MapInput(source=parse_source(value))


class MapEntry(BaseModel):
    """One mapping: to a target path from a source path, a function over inputs, or a value."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    to: str = Field(..., min_length=1, description="The target path.")
    from_: str | None = Field(None, alias="from", description="The source path (direct mapping).")
    function: Literal[tuple(FUNCTION_ARGS)] | None = None  # type: ignore[valid-type]
    inputs: list[MapInput] = Field(default_factory=list)
    value: ValueSource | None = None
    default: str | None = Field(None, description="Written when the mapped value is empty.")
    start: int | None = Field(None, ge=0)
    length: int | None = Field(None, ge=0)
    pattern: str | None = None
    replacement: str = ""
    char: str = Field(" ", min_length=1, max_length=1)
    separator: str | None = None
    index: int | None = Field(None, ge=0)
    input_format: str = ""
    output_format: str = ""
    format: str = ""
    digits: int = 0
    table: str | None = None
    match: str | None = None
    output: str | None = None
    expression: str | None = None

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        if value is None:
            return []
        return [parse_input(v) for v in (value if isinstance(value, list) else [value])]

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        return None if value is None else parse_source(value)

    @model_validator(mode="after")
    def _check(self) -> Self:
        given = [k for k, v in (("from", self.from_), ("function", self.function), ("value", self.value)) if v]
        if len(given) != 1:
            raise ValueError("a mapping has exactly one of from, function or value "
                             f"(this one has {', '.join(given) or 'none'})")
        if self.function:
            needed, count = FUNCTION_ARGS[self.function]
            for name in needed:
                if getattr(self, name) is None:
                    raise ValueError(f"the function {self.function} needs {name}; add {name}: ... to the mapping")
            if len(self.inputs) < count:
                raise ValueError(f"the function {self.function} needs at least {count} input(s); "
                                 "add inputs: [{from: PATH}, ...]")
        return self
