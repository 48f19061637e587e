"""The plain-text twin of an HTML body, readable in a mail client that shows no HTML.

Paragraphs and headings are separated by a blank line, ``<br>`` breaks a line, list items
start with ``- `` (indented two spaces a level when nested), a link becomes
``text (url)`` (just the url when the text is the url), an image its ``alt`` text; scripts,
styles and the head are dropped, and entities are decoded. Whitespace in the HTML is
collapsed as a browser does, except inside ``<pre>``. Built on :mod:`html.parser`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCKS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "section", "article",
    "header", "footer", "main", "nav", "aside", "figure", "form", "hr", "pre", "address", "dl",
})
_ROWS = frozenset({"tr", "dt", "dd", "caption"})
_LISTS = frozenset({"ul", "ol"})
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source"})
_SPACE = re.compile(r"[ \t\r\n\f\v]+")


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.lists = 0
        self.links: list[tuple[str, int]] = []  # (href, where its text starts in out)

    # -- output ---------------------------------------------------------------------------
    def _tail(self) -> str:
        return "".join(self.out[-3:])

    def _break(self, lines: int) -> None:
        """End the current line, and leave ``lines - 1`` blank lines (none at the start)."""
        if not self.out:
            return
        tail = self._tail()
        have = len(tail) - len(tail.rstrip("\n"))
        if have < lines:
            self.out.append("\n" * (lines - have))

    def _write(self, text: str) -> None:
        if not text:
            return
        tail = self._tail()
        if not self.pre and (not tail or tail.endswith((" ", "\n"))):
            text = text.lstrip(" ")
        if text:
            self.out.append(text)

    # -- parser callbacks -------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif self.hidden:
            return
        elif tag == "br":
            self.out.append("\n")
        elif tag in _LISTS:
            self._break(2 if not self.lists else 1)
            self.lists += 1
        elif tag == "li":
            self._break(1)
            self.out.append("  " * max(self.lists - 1, 0) + "- ")
        elif tag in _BLOCKS or tag in _ROWS:
            self._break(1 if tag in _ROWS else 2)
            self.pre += tag == "pre"
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            self._write(dict(attrs).get("alt") or "")
        elif tag in ("td", "th") and not self._tail().endswith(("\n", " ")) and self.out:
            self.out.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif self.hidden:
            return
        elif tag in _LISTS:
            self.lists = max(self.lists - 1, 0)
            self._break(2 if not self.lists else 1)
        elif tag in _BLOCKS or tag in _ROWS:
            self.pre -= tag == "pre" and self.pre > 0
            self._break(1 if tag in _ROWS else 2)
        elif tag == "a" and self.links:
            self._end_link(*self.links.pop())

    def _end_link(self, href: str, start: int) -> None:
        text = "".join(self.out[start:]).strip()
        href = href.strip()
        if not href or href.startswith(("#", "cid:", "javascript:")):
            return
        shown = href[len("mailto:"):] if href.startswith("mailto:") else href
        if not text:
            self._write(shown)
        elif text not in (href, shown):
            self.out.append(f" ({shown})")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre:
            self.out.append(data.replace("\r\n", "\n"))
        else:
            self._write(_SPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """The readable plain text of ``html`` (ending with one newline; empty when no text)."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [line.rstrip(" ") for line in "".join(writer.out).replace("\u00a0", " ").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text + "\n" if text else ""
