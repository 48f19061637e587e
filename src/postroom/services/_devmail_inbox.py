"""The Dev Inbox: the messages of the ``postroom devmail`` running with this POSTROOM_HOME,
found through the state file it writes (any ports it took) and read from its web inbox's
JSON API on this machine; one message is parsed here from its raw source."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from ..devmail import default_state_file, read_state
from ..errors import ConfigError, NotFound

__all__ = ["DevInbox"]

_TIMEOUT = 10.0


class DevInbox:
    """The devmail of one home (``state_file``: where it says where it listens)."""

    def __init__(self, state_file: str | Path | None = None) -> None:
        self.state_file = Path(state_file) if state_file is not None else default_state_file()

    def status(self) -> dict[str, Any]:
        """Whether it runs and every port it took, with what a Mail connection needs to use them:
        the host to name, whether the plain ports offer STARTTLS, the CA file of its certificate."""
        state = read_state(self.state_file) or {}
        tls = bool(state.get("tls"))
        return {"running": bool(state), "smtp_port": state.get("smtp_port"), "smtps_port": state.get("smtps_port"),
                "pop3_port": state.get("pop3_port"), "pop3s_port": state.get("pop3s_port"),
                "web_port": state.get("web_port"),
                "host": _client_host(state.get("host"), tls) if state else None,
                "starttls": tls, "ca_file": state.get("ca_file")}

    def _get(self, path: str) -> bytes:
        state = read_state(self.state_file)
        if state is None:
            raise NotFound("no devmail is running with this POSTROOM_HOME",
                           fix="start one with: postroom devmail (with the same POSTROOM_HOME)")
        if not state.get("web_port"):
            raise ConfigError("the devmail of this POSTROOM_HOME runs without its web inbox",
                              fix="restart it with a --web-port (0 picks a free one)")
        host = state.get("host") or "127.0.0.1"
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        url = f"http://{'[' + host + ']' if ':' in host else host}:{state['web_port']}{path}"
        try:
            with urllib.request.urlopen(url, timeout=_TIMEOUT) as answer:  # noqa: S310 - a local URL we built
                return bytes(answer.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NotFound("no such message in the Dev Inbox", fix="list the messages again") from None
            raise ConfigError(f"the devmail web inbox answered {exc.code}", fix="look at devmail's output") from None
        except OSError as exc:
            raise ConfigError(f"cannot reach the devmail web inbox on port {state['web_port']}: {exc}",
                              fix="check that postroom devmail still runs") from None

    def messages(self) -> list[dict[str, Any]]:
        """``[{"id", "from", "to", "subject", "date", "size"}]``, newest first."""
        found = json.loads(self._get("/api/messages"))
        found.sort(key=lambda m: m.get("received") or "", reverse=True)
        return [{"id": m["id"], "from": m.get("from", ""), "to": _addresses(m.get("to", "")),
                 "subject": m.get("subject", ""), "date": m.get("date") or m.get("received"),
                 "size": m.get("size")} for m in found]

    def raw(self, message_id: str) -> bytes:
        return self._get(f"/api/messages/{_quoted(message_id)}/raw")

    def message(self, message_id: str) -> dict[str, Any]:
        """Headers, addresses, subject and each leaf part (text or HTML decoded, else null)."""
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw(message_id))
        assert isinstance(parsed, EmailMessage)
        return {"id": message_id, "headers": [[name, str(value)] for name, value in parsed.items()],
                "from": str(parsed.get("From", "")), "to": _addresses(str(parsed.get("To", ""))),
                "subject": str(parsed.get("Subject", "")), "parts": [_part(p) for p in _leaves(parsed)]}


def _quoted(message_id: str) -> str:
    return urllib.parse.quote(message_id, safe="")


def _addresses(value: str) -> list[str]:
    return [address for _, address in getaddresses([value]) if address] if value else []


def _leaves(message: Message) -> list[Message]:
    return [part for part in message.walk() if not part.is_multipart()]


def _part(part: Message) -> dict[str, Any]:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    kind = part.get_content_type()
    text: str | None = None
    if part.get_content_maintype() == "text":
        text = data.decode(part.get_content_charset() or "utf-8", "replace").replace("\r\n", "\n")
    return {"content_type": kind, "filename": part.get_filename(),
            "text": text if text is not None and kind != "text/html" else None,
            "html": text if kind == "text/html" else None, "size": len(data)}


def _client_host(host: Any, tls: bool) -> str:
    """The name a client connects to: its certificate names localhost; a wildcard bind is local."""
    if tls:
        return "localhost"
    if not isinstance(host, str) or host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return host
