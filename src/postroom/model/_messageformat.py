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

__all__ = ["compile_message", "render", "MessageFormatError"]

_PLACEHOLDER = re.compile(r"\{\s*(\d+)\s*\}")


class MessageFormatError(ValueError):
    pass


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
