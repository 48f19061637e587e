"""Decision: one comparison per document; true documents run their path first."""

from __future__ import annotations

import fnmatch
import re

from ...sdk import Document
from .._values import resolve
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
    def handle(self, doc: Document) -> tuple[str, Document]:
        m = self.model
        first = resolve(m.first, doc, self.ctx, m.profile, self.id)
        second = resolve(m.second, doc, self.ctx, m.profile, self.id)
        return ("true" if compare(first, m.comparison, second) else "false"), doc
