"""A real HTTP server for the HTTP Client connector's tests (http.server in a thread, on a
free port, plain or TLS): it records every request as it arrived on the wire and answers
with replies a test scripts, with an OAuth 2.0 token endpoint and a Google Sheets-like
``values:append`` API."""

from __future__ import annotations

import base64
import json
import re
import secrets
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

__all__ = ["ApiServer", "DROP", "Reply", "Seen", "Sheets", "api_server"]


@dataclass
class Seen:
    """One request as it arrived: the raw target (path and query, still percent-encoded)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.target).query)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)


#: A scripted reply that closes the connection without answering.
DROP = Reply(status=0)

Handler = Callable[[Seen], Reply]


def echo(seen: Seen) -> Reply:
    """The default answer: the request as JSON."""
    return Reply(200, {"method": seen.method, "path": seen.path, "query": seen.query,
                       "body": seen.body.decode("utf-8", "replace")}, {"X-Echo": "yes"})


class ApiServer:
    """Answers each request with the next scripted reply (:meth:`then`) or its handler."""

    def __init__(self, context: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.requests: list[Seen] = []
        self.handler: Handler = echo
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self.oauth: OAuthServer | None = None
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self.httpd.daemon_threads = True
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if context is not None else "http"
        host = "localhost" if context is not None else "127.0.0.1"
        self.url = f"{scheme}://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def then(self, *replies: Reply) -> ApiServer:
        """Answer the next requests (not the token endpoint's) with these, in order."""
        with self._lock:
            self._script.extend(replies)
        return self

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
        if self.oauth is not None and seen.path == "/token":
            return self.oauth.token(seen)
        if self.oauth is not None and not self.oauth.allows(seen):
            return Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}},
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        with self._lock:
            if self._script:
                return self._script.pop(0)
        for method, pattern, handler in self.routes:
            if method == seen.method and pattern.fullmatch(seen.path):
                return handler(seen)
        return self.handler(seen)

    def api_requests(self) -> list[Seen]:
        """The requests other than the token endpoint's."""
        return [r for r in self.requests if r.path != "/token"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class OAuthServer:
    """A token endpoint at /token: client credentials and refresh-token grants; the API
    then takes only the access tokens it issued, until they expire or are revoked."""

    def __init__(self, client_id: str, client_secret: str, refresh_token: str = "", expires_in: int = 3600) -> None:
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.expires_in = expires_in
        self.issued: dict[str, float] = {}
        self.grants: list[dict[str, str]] = []
        self.gate: threading.Event | None = None  # set: the endpoint waits for it before answering
        self.asked = threading.Event()  # set once the endpoint was asked for a token

    def token(self, seen: Seen) -> Reply:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(seen.body.decode()).items()}
        self.grants.append(form)
        self.asked.set()
        if self.gate is not None:
            self.gate.wait(10)
        if form.get("client_id") != self.client_id or form.get("client_secret", "") != self.client_secret:
            return Reply(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("refresh_token") != self.refresh_token:
            return Reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        if grant not in ("refresh_token", "client_credentials"):
            return Reply(400, {"error": "unsupported_grant_type"})
        token = "ya29." + secrets.token_urlsafe(16)
        self.issued[token] = time.monotonic() + self.expires_in
        return Reply(200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer",
                           "scope": form.get("scope", "")})

    def allows(self, seen: Seen) -> bool:
        value = seen.header("Authorization") or ""
        token = value.removeprefix("Bearer ")
        return value.startswith("Bearer ") and self.issued.get(token, 0) > time.monotonic()

    def revoke_all(self) -> None:
        self.issued.clear()

    def token_calls(self) -> int:
        return len(self.grants)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _make_handler(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # headers and body leave in one write (no Nagle / delayed-ACK stall)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, dict(self.headers.items()), body)
            reply = server.answer(seen)
            if reply.status == 0:  # DROP: close without a word
                self.close_connection = True
                return
            data = reply.body if isinstance(reply.body, bytes) else (
                reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json"} if isinstance(reply.body, dict | list) else {}
            headers.update(reply.headers)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return _Handler


class Sheets:
    """Answers like the Google Sheets API's spreadsheets.values.append
    (POST /v4/spreadsheets/{spreadsheetId}/values/{range}:append?valueInputOption=RAW):
    appends the rows to the sheet and returns an AppendValuesResponse."""

    PATH = r"/v4/spreadsheets/([^/]+)/values/([^/]+):append"

    def __init__(self, spreadsheet_id: str, sheet: str = "Sheet1") -> None:
        self.spreadsheet_id, self.sheet = spreadsheet_id, sheet
        self.rows: list[list[object]] = []

    def install(self, server: ApiServer) -> None:
        server.route("POST", self.PATH, self.append)

    def append(self, seen: Seen) -> Reply:
        match = re.fullmatch(self.PATH, seen.path)
        assert match is not None
        spreadsheet_id, cell_range = (urllib.parse.unquote(g) for g in match.groups())
        if spreadsheet_id != self.spreadsheet_id:
            return Reply(404, {"error": {"code": 404, "message": "Requested entity was not found.",
                                         "status": "NOT_FOUND"}})
        if seen.query.get("valueInputOption") not in (["RAW"], ["USER_ENTERED"]):
            return Reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                         "message": "'valueInputOption' is required but not specified"}})
        values = json.loads(seen.body)["values"]
        first = len(self.rows) + 1
        self.rows.extend(values)
        width = max(len(row) for row in values)
        last_col = chr(ord("A") + width - 1)
        sheet = cell_range.split("!", 1)[0]
        updated = f"{sheet}!A{first}:{last_col}{first + len(values) - 1}"
        answer: dict[str, object] = {"spreadsheetId": spreadsheet_id}
        if first > 1:  # the table the rows were added after (Google leaves it out for an empty sheet)
            answer["tableRange"] = f"{sheet}!A1:{last_col}{first - 1}"
        answer["updates"] = {"spreadsheetId": spreadsheet_id, "updatedRange": updated, "updatedRows": len(values),
                             "updatedColumns": width, "updatedCells": len(values) * width}
        return Reply(200, answer)


@pytest.fixture
def api_server() -> Iterator[ApiServer]:
    server = ApiServer()
    try:
        yield server
    finally:
        server.close()
