"""Decision: one comparison per document; true documents run their path first."""

from __future__ import annotations

import fnmatch
import re

from ...model._shapes import DecisionShape
from ...sdk import Document
from .._context import ExecutionContext
from .._values import compile_value
from ._base import PerDocument

__all__ = ["DecisionRunner", "compare"]


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def compare(first: str, comparison: str, second: str) -> bool:
    """Case-sensitive strings; numeric when both sides are numbers; regex is a full match."""
    if comparison == "regex":
        pattern = _REGEX_CACHE.get(second)
        if pattern is None:
            pattern = _REGEX_CACHE[second] = re.compile(second)
        return pattern.fullmatch(first) is not None
    if comparison == "wildcard":
        return fnmatch.fnmatchcase(first, second)
    a, b = _number(first), _number(second)
    left: float | str
    right: float | str
    left, right = (a, b) if a is not None and b is not None else (first, second)
    if comparison == "equals":
        return left == right
    if comparison == "not_equals":
        return left != right
    if comparison == "greater":
        return left > right  # type: ignore[operator]
    if comparison == "greater_or_equal":
        return left >= right  # type: ignore[operator]
    if comparison == "less":
        return left < right  # type: ignore[operator]
    if comparison == "less_or_equal":
        return left <= right  # type: ignore[operator]
    raise ValueError(f"unknown comparison {comparison!r}")


class DecisionRunner(PerDocument):
    def __init__(self, shape_id: str, model: DecisionShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.first = compile_value([model.first], ctx, model.profile, shape_id)
        self.second = compile_value([model.second], ctx, model.profile, shape_id)
        self.text_equals: str | None = None
        if model.comparison == "equals" and model.second.kind == "static" and _number(model.second.arg) is None:
            # a fixed text that is not a number: the comparison is of texts, whatever the first is
            self.text_equals = model.second.arg

    def handle(self, doc: Document) -> tuple[str, Document]:
        default = self.default_profile
        first = self.first(doc, default)
        if self.text_equals is not None:
            return ("true" if first == self.text_equals else "false"), doc
        second = self.second(doc, default)
        return ("true" if compare(first, self.model.comparison, second) else "false"), doc
