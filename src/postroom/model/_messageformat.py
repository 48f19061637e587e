"""Boomi's message text: numbered placeholders with Java MessageFormat quoting.

Rules (SEMANTICS.md, Message): ``{1}``, ``{2}``... are filled from the parameters
(1-based). ``''`` gives one ``'``; a single ``'`` opens a quoted run that ends at the next
single ``'`` and whose text is literal (so JSON braces go in quotes); the quote marks
vanish; an unclosed quote makes the rest literal. An unquoted ``{`` that is not a
placeholder is an error. Quotes inside parameter values are never touched, because
parameters are substituted after parsing.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["compile_message", "render", "MessageFormatError", "QuotedPlaceholder", "quoted_placeholders"]

_PLACEHOLDER = re.compile(r"\{\s*(\d+)\s*\}")


class MessageFormatError(ValueError):
    pass


class QuotedPlaceholder(NamedTuple):
    """A placeholder made literal by a quoted run: ``it's ... {2}``."""

    word: str  # the word holding the opening quote ("it's"), or the quote alone
    placeholder: str  # "{2}"
    fixed_word: str  # the word with the quote doubled ("it''s")


def quoted_placeholders(text: str) -> list[QuotedPlaceholder]:
    """Placeholders inside quoted runs: almost always an apostrophe (``it's``) that opened
    a run by accident and made the placeholders after it literal text."""
    found: list[QuotedPlaceholder] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "'":
            i += 1
            continue
        if text.startswith("''", i):
            i += 2
            continue
        end = _run_end(text, i + 1)
        for match in _PLACEHOLDER.finditer(text, i + 1, end):
            word = _word_around(text, i)
            found.append(QuotedPlaceholder(word, match.group(), word.replace("'", "''")))
        i = end + 1
    return found


def _run_end(text: str, i: int) -> int:
    """Index of the quote closing a run that starts at ``i`` (len(text) when unclosed)."""
    while i < len(text):
        if text[i] == "'":
            if text.startswith("''", i):
                i += 2
                continue
            return i
        i += 1
    return len(text)


def _word_around(text: str, i: int) -> str:
    start, end = i, i + 1
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def compile_message(text: str, parameter_count: int | None = None) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Parse once: literal pieces and the (0-based) parameter index between each pair.

    Returns ``(literals, indexes)`` with ``len(literals) == len(indexes) + 1``.
    """
    literals: list[str] = []
    indexes: list[int] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            if i + 1 < n and text[i + 1] == "'":
                buf.append("'")
                i += 2
                continue
            # quoted run: literal up to the next single quote ('' inside gives ')
            i += 1
            while i < n:
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        buf.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            continue
        if ch == "{":
            match = _PLACEHOLDER.match(text, i)
            if not match:
                end = text.find("}", i)
                shown = text[i : end + 1] if end != -1 and end - i < 40 else text[i : i + 20]
                raise MessageFormatError(
                    f"{shown!r} at character {i + 1} is not a placeholder: write {{1}}, {{2}}... "
                    "for parameters, and put literal braces in single quotes ('{' or '{\"a\": 1}')"
                )
            number = int(match.group(1))
            if number < 1:
                raise MessageFormatError(f"placeholder {{{number}}} at character {i + 1}: placeholders start at {{1}}")
            if parameter_count is not None and number > parameter_count:
                raise MessageFormatError(
                    f"placeholder {{{number}}} at character {i + 1} has no parameter: "
                    f"the shape lists {parameter_count} parameter(s); add one or fix the number"
                )
            literals.append("".join(buf))
            buf = []
            indexes.append(number - 1)
            i = match.end()
            continue
        buf.append(ch)
        i += 1
    literals.append("".join(buf))
    return tuple(literals), tuple(indexes)


def render(compiled: tuple[tuple[str, ...], tuple[int, ...]], values: list[str]) -> str:
    literals, indexes = compiled
    if not indexes:
        return literals[0]
    parts = [literals[0]]
    for k, index in enumerate(indexes):
        parts.append(values[index] if index < len(values) else "")
        parts.append(literals[k + 1])
    return "".join(parts)
