"""The Map component, its mappings and functions, and the cross_reference table
(CONTRACT.md, "Map")."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from ._datepatterns import date_pattern_problem, number_pattern_problem
from ._values import ValueSource, parse_source

__all__ = ["MapEntry", "MapInput", "FUNCTION_ARGS", "parse_input", "check_expression", "SCRIPT_FILE"]

SCRIPT_FILE = "<script>"  # the file name an expression is compiled under: its errors name lines in it

# Each function's required settings (besides inputs) and how many inputs it needs at least.
FUNCTION_ARGS: dict[str, tuple[tuple[str, ...], int]] = {
    "concat": ((), 1), "upper": ((), 1), "lower": ((), 1), "trim": ((), 1), "left_trim": ((), 1),
    "right_trim": ((), 1), "substring": (("start",), 1), "replace": (("pattern",), 1),
    "pad_left": (("length",), 1), "pad_right": (("length",), 1), "split": (("separator", "index"), 1),
    "length": ((), 1), "number_format": ((), 1), "add": ((), 2), "subtract": ((), 2), "multiply": ((), 2),
    "divide": ((), 2), "round": ((), 1), "abs": ((), 1), "date_format": (("output_format",), 1),
    "current_date": ((), 0), "cross_reference": (("table", "match", "output"), 1), "script": (("expression",), 0),
}


NUMBER_FUNCTIONS = ("number_format", "add", "subtract", "multiply", "divide", "round", "abs")


class MapInput(BaseModel):
    """One input: ``{from: PATH}`` (the source document) or a value source."""

    model_config = ConfigDict(frozen=True)
    path: str | None = None
    source: ValueSource | None = None


def inputs_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema of ``inputs`` as they are written: ``{from: PATH}`` or a value source
    (a text, or a mapping such as ``{document_property: mail.subject}``), not MapInput's fields."""
    schema["items"] = {"anyOf": [
        {"type": "object", "properties": {"from": {"type": "string", "minLength": 1}}, "required": ["from"],
         "additionalProperties": False},
        {"type": "string", "description": "a text (a static value)"},
        {"type": "object", "description": "a value source, such as {document_property: mail.subject}"},
    ]}


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
    inputs: list[MapInput] = Field(default_factory=list, json_schema_extra=inputs_schema,
                                   description="Each input: {from: PATH} (the source document) or a value source.")
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
    expression: str | None = Field(
        None, validation_alias=AliasChoices("expression", "code", "script"),
        description="script: a Python expression over inputs (a list of texts), such as inputs[0].title(); "
                    "code and script are accepted for it too.")

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        if value is None:
            return []
        return [parse_input(v) for v in (value if isinstance(value, list) else [value])]

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            check_expression(value)
        return value

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
            self._check_formats()
            if len(self.inputs) < count:
                raise ValueError(f"the function {self.function} needs at least {count} input(s); "
                                 "add inputs: [{from: PATH}, ...]")
        return self

    def _check_formats(self) -> None:
        """The function's Java patterns must be ones Postroom reads and writes."""
        name = self.function
        checks: list[tuple[str, str | None]] = []
        if name == "date_format":
            checks = [("input_format", date_pattern_problem(self.input_format)),
                      ("output_format", date_pattern_problem(self.output_format, writing=True))]
        elif name == "current_date":
            checks = [(key, date_pattern_problem(getattr(self, key), writing=True))
                      for key in ("format", "output_format")]
        elif name in NUMBER_FUNCTIONS:
            checks = [(key, number_pattern_problem(getattr(self, key))) for key in ("input_format", "output_format")]
        for key, problem in checks:
            if problem:
                raise ValueError(f"{key} {getattr(self, key)!r} of the function {name}: {problem}")


def check_expression(text: str) -> None:
    """A script mapping's expression must be one Python expression; ValueError says where not."""
    if not text.strip():
        raise ValueError("the function script needs an expression; add expression: inputs[0] (a Python "
                         "expression over inputs, the list of input texts) to the mapping")
    try:
        compile(text, SCRIPT_FILE, "eval")
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        raise ValueError(f"the script expression does not compile: {exc.msg} ({where} of the expression); "
                         "write one Python expression over inputs, such as inputs[0].strip().title()") from None
    except ValueError as exc:  # a NUL character
        raise ValueError(f"the script expression does not compile: {exc}; remove the character") from None
