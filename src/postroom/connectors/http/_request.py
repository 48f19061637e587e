"""One document into one HTTP request: URL with its placeholders and query, headers, body."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ...sdk import Document, RunContext
from .properties import HEADER_PREFIX
from .spec import HEADER_NAME, PLACEHOLDER, HttpConnection, HttpOperation

__all__ = ["BODY_METHODS", "Chunks", "Planned", "RequestProblem", "plan"]

#: The methods that send the document as the body; the others send none.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Headers the connector computes itself; a document property naming one is ignored.
_COMPUTED = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class RequestProblem(Exception):
    """The document cannot become a request (not JSON, a header with a line break)."""


class Chunks:
    """A spooled document's bytes read from its file in chunks, again for each try (a
    retry sends the body anew), so a large body is never held in memory whole."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def __iter__(self) -> Iterator[bytes]:
        return self.document.chunks(256 * 1024)


@dataclass
class Planned:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes | Chunks | None

    def describe(self) -> bytes:
        """The request as text, for a dry run (no authentication: it is added when sent)."""
        lines = [f"{self.method} {self.url}", *(f"{k}: {v}" for k, v in self.headers.items()), "", ""]
        body = self.body.document.data if isinstance(self.body, Chunks) else self.body or b""
        return "\n".join(lines).encode("utf-8") + body


def plan(connection: HttpConnection, operation: HttpOperation, document: Document, context: RunContext) -> Planned:
    """The request for ``document``; RequestProblem when the document cannot make one."""
    url = _url(connection, operation, document, context)
    headers = _headers(operation, document, context)
    body = None
    if operation.method in BODY_METHODS:
        body = _body(operation.content_type, document)
        headers.setdefault("Content-Type", operation.content_type)
        if isinstance(body, Chunks):
            headers["Content-Length"] = str(document.size)
    return Planned(operation.method, url, headers, body)


def _url(connection: HttpConnection, operation: HttpOperation, document: Document, context: RunContext) -> httpx.URL:
    values = [context.value(source, document) for source in operation.parameters]

    def fill(match: object) -> str:
        number = int(match.group(1))  # type: ignore[attr-defined]
        return urllib.parse.quote(values[number - 1], safe="")

    path = PLACEHOLDER.sub(fill, operation.path)
    if path and not path.startswith(("/", "?")):
        path = "/" + path
    url = httpx.URL(connection.base_url.rstrip("/") + path)
    query = {name: context.value(source, document) for name, source in operation.query.items()}
    return url.copy_merge_params(query) if query else url


def _headers(operation: HttpOperation, document: Document, context: RunContext) -> httpx.Headers:
    headers = httpx.Headers()
    chosen = {name: context.value(source, document) for name, source in operation.headers.items()}
    for name in document.properties:
        if name.startswith(HEADER_PREFIX) and len(name) > len(HEADER_PREFIX):
            value = document.outbound(name)  # None: a header a response recorded, not one to send
            header = name[len(HEADER_PREFIX):]
            if value is not None and header.lower() not in _COMPUTED:
                chosen[header] = value
    for name, value in chosen.items():
        headers[name] = _header_value(name, value)
    return headers


def _header_value(name: str, value: str) -> str:
    if not HEADER_NAME.fullmatch(name):
        raise RequestProblem(f"{name!r} (from http.headers.{name}) is not a header name: use letters, digits and -")
    if "\r" in value or "\n" in value:
        raise RequestProblem(f"the value of header {name} contains a line break: remove it")
    if not value.isascii():
        raise RequestProblem(f"the value of header {name} ({value!r}) is not ASCII, which HTTP headers must be: "
                             "percent-encode it or send it in the body")
    return value


def _body(content_type: str, document: Document) -> bytes | Chunks:
    kind = content_type.split(";", 1)[0].strip().lower()
    is_json = kind == "application/json" or kind.endswith("+json")
    if document.spooled and not is_json and kind != "application/x-www-form-urlencoded":
        return Chunks(document)
    data = document.data
    if is_json:
        try:
            json.loads(data)
        except ValueError as exc:
            raise RequestProblem(f"the document is not JSON ({exc}), and content_type is {content_type}: "
                                 "map it to JSON first or set another content_type") from None
    elif kind == "application/x-www-form-urlencoded":
        return _form(data)
    return data


def _form(data: bytes) -> bytes:
    """A JSON object becomes form fields (objects and arrays inside as JSON text); other
    data is taken as already encoded."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return data
    if not isinstance(parsed, dict):
        return data
    fields = {key: value if isinstance(value, str) else "" if value is None else json.dumps(value)
              for key, value in parsed.items()}
    return urllib.parse.urlencode(fields).encode("ascii")
