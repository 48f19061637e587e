"""The web inbox: a few HTML pages and a JSON API on the stdlib ``http.server``.

Mail is hostile input (the Dr. Smith tutorial sends patient letters, and tests send
``<script>`` on purpose), so:

* every value from a message is HTML-escaped;
* an HTML body is shown only inside ``<iframe sandbox srcdoc=...>`` with no
  ``allow-scripts`` and no ``allow-same-origin``: it runs in an opaque origin with
  scripts, forms and popups disabled;
* every HTML page carries a Content-Security-Policy with ``default-src 'none'`` (no
  script source at all); a ``srcdoc`` frame inherits it, so remote images and scripts
  in mail cannot load even if the sandbox were lifted;
* attachments are served as downloads with ``nosniff`` and a ``sandbox`` CSP, so an
  attached ``.html`` file cannot run in the inbox's origin;
* requests whose ``Host`` is not a local name are refused (DNS rebinding), and
  state-changing requests from another origin are refused (CSRF).

Routes: ``GET /``, ``GET /messages/{id}``, ``GET /messages/{id}/raw``,
``GET /messages/{id}/parts/{n}``, ``POST /messages/delete`` (form), ``POST
/messages/{id}/delete``; ``GET /api/messages``, ``GET /api/messages/{id}``, ``GET
/api/messages/{id}/raw``, ``GET /api/decisions``, ``DELETE /api/messages``, ``DELETE
/api/messages/{id}``.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import threading
import urllib.parse
from email.message import EmailMessage, Message
from email.utils import getaddresses
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .._http_guard import host_allowed, local_names
from ._net import bind_listener
from ._store import MailStore, StoredMessage

__all__ = ["WebInbox", "CONTENT_SECURITY_POLICY"]

log = logging.getLogger("postroom.devmail")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ATTACHMENT_POLICY = "sandbox; default-src 'none'"
_ROUTE_ID = r"(?P<id>[A-Za-z0-9._-]{1,70})"

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#24324a;color:#fff;padding:.7em 1.2em;display:flex;gap:1em;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:1em 1.2em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.k{white-space:nowrap;color:#556;width:12em}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #e3e6eb;padding:.8em}
iframe{width:100%;height:32em;border:1px solid #e3e6eb;background:#fff}
.muted{color:#778}
form{display:inline}
.actions{display:flex;gap:1em;align-items:center;margin:.5em 0}
button{cursor:pointer}
"""


def _e(value: object) -> str:
    """HTML-escape anything, quotes included (safe in text and in attribute values)."""
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=referrer content=no-referrer>"
        f"<title>{_e(title)} · Postroom devmail</title><style>{_STYLE}</style></head><body>"
        '<header><a href="/">Postroom devmail</a><span class=muted>development inbox</span></header>'
        f"<main>{body}</main></body></html>"
    ).encode()


def _leaf_parts(message: Message) -> list[Message]:
    """The non-multipart parts in walk order; their position is the download index."""
    return [part for part in message.walk() if not part.is_multipart()]


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _part_text(part: Message) -> str:
    """A text part decoded to ``str`` with ``\n`` line ends (SMTP's CRLF is wire format)."""
    try:
        content: str | bytes = part.get_content()  # type: ignore[attr-defined]
    except Exception:  # unknown charset, broken encoding: show what we can
        content = _part_bytes(part).decode("utf-8", "replace")
    if not isinstance(content, str):
        content = content.decode("utf-8", "replace")
    return content.replace("\r\n", "\n")


def _bodies(message: EmailMessage) -> tuple[str | None, str | None]:
    """The plain-text and HTML bodies, as the stdlib's ``get_body`` picks them."""
    text = html_body = None
    with contextlib.suppress(Exception):
        part = message.get_body(preferencelist=("plain",))
        if part is not None:
            text = _part_text(part)
    with contextlib.suppress(Exception):
        part = message.get_body(preferencelist=("html",))
        if part is not None:
            html_body = _part_text(part)
    return text, html_body


def _addresses(value: str) -> list[str]:
    return [addr for _, addr in getaddresses([value]) if addr] if value else []


def message_summary(message: StoredMessage) -> dict[str, Any]:
    """The JSON shape of one message in ``GET /api/messages``."""
    meta = message.metadata()
    return {
        "id": message.id,
        "envelope": {"mail_from": message.mail_from, "rcpt_to": list(message.rcpt_tos)},
        "subject": message.subject,
        "from": message.header("From"),
        "to": message.header("To"),
        "cc": message.header("Cc"),
        "date": message.header("Date"),
        "message_id": message.header("Message-ID"),
        "received": meta["received"],
        "size": message.size,
        "peer": message.peer,
        "tls": message.tls,
        "auth_user": message.auth_user,
        "smtp_utf8": message.smtp_utf8,
        "server": message.server,
        "deleted_for": meta["deleted_for"],
    }


def message_detail(message: StoredMessage) -> dict[str, Any]:
    """``GET /api/messages/{id}``: the summary plus headers, bodies and parts."""
    parsed = message.parse()
    text, html_body = _bodies(parsed)
    detail = message_summary(message)
    detail["headers"] = [[name, str(value)] for name, value in _safe_items(parsed)]
    detail["text"] = text
    detail["html"] = html_body
    detail["parts"] = [
        {
            "index": index,
            "content_type": part.get_content_type(),
            "filename": part.get_filename(),
            "disposition": part.get_content_disposition(),
            "size": len(_part_bytes(part)),
        }
        for index, part in enumerate(_leaf_parts(parsed))
    ]
    return detail


def _safe_items(message: Message) -> list[tuple[str, str]]:
    items = []
    for name, raw_value in message.raw_items():
        try:
            value = str(message.policy.header_fetch_parse(name, raw_value))
        except Exception:
            value = str(raw_value)
        items.append((name, value))
    return items


class _Handler(BaseHTTPRequestHandler):
    server_version = "PostroomDevmail"
    sys_version = ""
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads at stop
    timeout = 30
    store: MailStore  # set on the subclass made per server
    allowed_hosts: set[str]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("devmail web %s: " + format, self.address_string(), *args)

    # -- responses ---------------------------------------------------------------

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        extra = headers or {}
        if content_type.startswith("text/html") and "Content-Security-Policy" not in extra:
            self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            self.send_header("X-Frame-Options", "DENY")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, title: str, body: str, status: int = 200) -> None:
        self._send(status, _page(title, body), "text/html; charset=utf-8")

    def _json(self, data: Any, status: int = 200) -> None:
        self._send(
            status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"
        )

    def _error(self, status: HTTPStatus, detail: str) -> None:
        if self.path.startswith("/api/"):
            self._json({"error": detail}, status)
        else:
            self._html(
                status.phrase, f"<h1>{_e(status.value)} {_e(status.phrase)}</h1><p>{_e(detail)}</p>", status
            )

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": location})

    # -- guards ------------------------------------------------------------------

    def _guard(self, state_changing: bool) -> bool:
        if not host_allowed(self.headers.get("Host", ""), self.allowed_hosts):
            self._error(HTTPStatus.MISDIRECTED_REQUEST, "this inbox answers only to local host names")
            return False
        if state_changing:
            if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
                self._error(HTTPStatus.FORBIDDEN, "cross-site request refused")
                return False
            origin = self.headers.get("Origin")
            if origin and origin != "null":
                if urllib.parse.urlsplit(origin).netloc.lower() != self.headers.get("Host", "").lower():
                    self._error(HTTPStatus.FORBIDDEN, "cross-origin request refused")
                    return False
        return True

    def _message(self, message_id: str) -> StoredMessage | None:
        try:
            return self.store.get(message_id)
        except KeyError:
            self._error(HTTPStatus.NOT_FOUND, f"no message {message_id}")
            return None

    # -- dispatch ----------------------------------------------------------------

    def _route(self, method: str) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if not self._guard(state_changing=method in ("POST", "DELETE")):
            return
        for route_method, pattern, action in _ROUTES:
            if route_method != method:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                try:
                    action(self, **match.groupdict())
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
        if any(re.fullmatch(p, path) for _, p, _ in _ROUTES):
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed here")
        else:
            self._error(HTTPStatus.NOT_FOUND, f"nothing at {path}")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))  # a form body we do not need
        self._route("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")

    # -- HTML pages --------------------------------------------------------------

    def page_index(self) -> None:
        messages = list(reversed(self.store.messages()))
        rows = []
        for m in messages:
            link = f"/messages/{_e(m.id)}"
            rows.append(
                "<tr>"
                f"<td>{_e(m.header('From') or m.mail_from)}</td>"
                f"<td>{_e(m.header('To') or ', '.join(m.rcpt_tos))}</td>"
                f'<td><a href="{link}">{_e(m.subject or "(no subject)")}</a></td>'
                f"<td>{_e(m.header('Date') or m.received.strftime('%Y-%m-%d %H:%M:%S UTC'))}</td>"
                f"<td>{_e(m.size)}</td>"
                "</tr>"
            )
        table = (
            "<table><thead><tr><th>From</th><th>To</th><th>Subject</th><th>Date</th><th>Bytes</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            if rows
            else "<p class=muted id=empty>No messages yet. Send mail to the SMTP port and reload.</p>"
        )
        actions = (
            '<form method=post action="/messages/delete"><button type=submit>Delete all messages</button></form>'
            if rows
            else ""
        )
        self._html(
            "Inbox", f"<h1>Inbox <span class=muted>({len(messages)})</span></h1><p>{actions}</p>{table}"
        )

    def page_message(self, id: str) -> None:
        message = self._message(id)
        if message is None:
            return
        parsed = message.parse()
        text, html_body = _bodies(parsed)
        base = f"/messages/{_e(message.id)}"
        envelope = [
            ("Envelope from", message.mail_from),
            ("Envelope to", ", ".join(message.rcpt_tos)),
            ("Received", message.received.isoformat(timespec="seconds")),
            ("Peer", message.peer),
            ("TLS", "yes" if message.tls else "no"),
            ("AUTH user", message.auth_user or "-"),
            ("SMTPUTF8", "yes" if message.smtp_utf8 else "no"),
        ]
        env_rows = "".join(f"<tr><td class=k>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in envelope)
        header_rows = "".join(
            f"<tr><td class=k>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in _safe_items(parsed)
        )
        sections = [
            f"<h1>{_e(message.subject or '(no subject)')}</h1>",
            f'<div class=actions><a href="{base}/raw">Raw source</a>'
            f'<form method=post action="{base}/delete"><button type=submit>Delete</button></form></div>',
            f"<h2>Envelope</h2><table>{env_rows}</table>",
            f"<h2>Headers</h2><table>{header_rows}</table>",
        ]
        if text is not None:
            sections.append(f"<h2>Text body</h2><pre id=text-body>{_e(text)}</pre>")
        if html_body is not None:
            # The sandbox has no allow-scripts and no allow-same-origin: scripts, forms,
            # popups and top navigation are all off, and the frame has an opaque origin.
            sections.append(
                "<h2>HTML body</h2>"
                f'<iframe id=html-body sandbox="" referrerpolicy="no-referrer" title="HTML body" srcdoc="{_e(html_body)}"></iframe>'
            )
        part_rows = []
        for index, part in enumerate(_leaf_parts(parsed)):
            name = part.get_filename() or ""
            part_rows.append(
                "<tr>"
                f"<td>{index}</td><td>{_e(part.get_content_type())}</td>"
                f"<td>{_e(part.get_content_disposition() or 'inline')}</td>"
                f"<td>{_e(name or '-')}</td><td>{len(_part_bytes(part))}</td>"
                f'<td><a href="{base}/parts/{index}">download</a></td>'
                "</tr>"
            )
        sections.append(
            "<h2>Parts</h2><table><thead><tr><th>#</th><th>Type</th><th>Disposition</th><th>File name</th>"
            f"<th>Bytes</th><th></th></tr></thead><tbody>{''.join(part_rows)}</tbody></table>"
        )
        self._html(message.subject or "Message", "".join(sections))

    def page_raw(self, id: str) -> None:
        message = self._message(id)
        if message is not None:
            self._send(200, message.raw, "text/plain; charset=utf-8")

    def page_part(self, id: str, index: str) -> None:
        message = self._message(id)
        if message is None:
            return
        parts = _leaf_parts(message.parse())
        number = int(index)
        if number >= len(parts):
            self._error(HTTPStatus.NOT_FOUND, f"message {id} has no part {number}")
            return
        part = parts[number]
        filename = part.get_filename() or f"part-{number}"
        filename = filename.replace("\r", " ").replace("\n", " ")
        ascii_name = filename.encode("ascii", "replace").decode("ascii").replace('"', "'").replace("\\", "_")
        disposition = (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"
        )
        self._send(
            200,
            _part_bytes(part),
            part.get_content_type(),
            {"Content-Disposition": disposition, "Content-Security-Policy": ATTACHMENT_POLICY},
        )

    def form_delete_all(self) -> None:
        self.store.clear()
        self._redirect("/")

    def form_delete_one(self, id: str) -> None:
        self.store.delete([id])
        self._redirect("/")

    # -- JSON API ----------------------------------------------------------------

    def api_list(self) -> None:
        self._json([message_summary(m) for m in self.store.messages()])

    def api_get(self, id: str) -> None:
        message = self._message(id)
        if message is not None:
            self._json(message_detail(message))

    def api_raw(self, id: str) -> None:
        message = self._message(id)
        if message is not None:
            self._send(200, message.raw, "message/rfc822")

    def api_decisions(self) -> None:
        self._json([d.as_dict() for d in self.store.decisions()])

    def api_delete_all(self) -> None:
        self._json({"deleted": self.store.clear()})

    def api_delete_one(self, id: str) -> None:
        if self.store.delete([id]):
            self._json({"deleted": 1})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no message {id}")


_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", r"/", _Handler.page_index),
    ("GET", rf"/messages/{_ROUTE_ID}", _Handler.page_message),
    ("GET", rf"/messages/{_ROUTE_ID}/raw", _Handler.page_raw),
    ("GET", rf"/messages/{_ROUTE_ID}/parts/(?P<index>\d{{1,4}})", _Handler.page_part),
    ("POST", r"/messages/delete", _Handler.form_delete_all),
    ("POST", rf"/messages/{_ROUTE_ID}/delete", _Handler.form_delete_one),
    ("GET", r"/api/messages", _Handler.api_list),
    ("GET", rf"/api/messages/{_ROUTE_ID}", _Handler.api_get),
    ("GET", rf"/api/messages/{_ROUTE_ID}/raw", _Handler.api_raw),
    ("GET", r"/api/decisions", _Handler.api_decisions),
    ("DELETE", r"/api/messages", _Handler.api_delete_all),
    ("DELETE", rf"/api/messages/{_ROUTE_ID}", _Handler.api_delete_one),
]


class _Server(ThreadingHTTPServer):
    # Join request threads at close so a stopped inbox leaves no thread behind.
    daemon_threads = False
    block_on_close = True


class WebInbox:
    """The web inbox on one port, served from its own thread."""

    def __init__(
        self, store: MailStore, *, host: str, port: int, allowed_hosts: set[str] | None = None
    ) -> None:
        self.store = store
        self.host = host
        self.requested_port = port
        self.allowed_hosts = local_names(host, allowed_hosts or ())
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        handler = type("Handler", (_Handler,), {"store": self.store, "allowed_hosts": self.allowed_hosts})
        sock = bind_listener(self.host, self.requested_port)
        server = _Server(sock.getsockname()[:2], handler, bind_and_activate=False)
        server.socket.close()  # replace the unbound socket TCPServer made with ours
        server.socket = sock
        server.address_family = sock.family
        server.server_address = sock.getsockname()
        server.server_name, server.server_port = self.host, sock.getsockname()[1]
        self.port = server.server_port
        self._server = server
        # serve_forever notices shutdown() only between polls: a short interval keeps
        # stop(), and so every test's teardown, quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="devmail-web", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.server_close()
        self._server = None
        self._thread = None
