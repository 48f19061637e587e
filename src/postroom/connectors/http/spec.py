"""HTTP Client connector settings (CONTRACT.md, "HTTP client connector")."""

from __future__ import annotations

import re
import urllib.parse
from typing import Literal

from pydantic import field_validator, model_validator

from ...sdk import Settings, ValueSourceSetting, setting

__all__ = ["HEADER_NAME", "HttpConnection", "HttpOperation", "PLACEHOLDER", "url_problem"]

#: ``{1}``, ``{2}``... in an operation's path: filled from its parameters, URL-encoded.
PLACEHOLDER = re.compile(r"\{(\d+)\}")
#: What a header name may hold (RFC 9110 token).
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

Auth = Literal["none", "basic", "bearer", "api_key", "oauth2_client_credentials", "oauth2_refresh_token"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

_OAUTH = ("oauth2_client_credentials", "oauth2_refresh_token")
_SHOW_OAUTH = {"auth": list(_OAUTH)}


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an absolute http(s) URL without credentials; None when it is."""
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"{value!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an http(s) URL: write it whole, like https://api.example.com/v1"
    if parts.username or parts.password:
        return "the URL carries a user name or password: put them in user_name and password (auth: basic)"
    if any(ch.isspace() for ch in value):
        return f"{value!r} contains spaces: encode them as %20"
    return None


class HttpConnection(Settings):
    base_url: str = setting(..., title="Base URL", help="The API's address; operation paths are added to it, "
                            "e.g. https://sheets.googleapis.com. http or https.")
    auth: Auth = setting("none", title="Authentication",
                         help="none; basic (user name and password); bearer (a fixed token); api_key (a key in a "
                              "header); oauth2_client_credentials or oauth2_refresh_token (a token from token_url, "
                              "cached and refreshed before it expires).")
    user_name: str = setting("", title="User Name", help="Basic authentication: the user name.", group="auth",
                             show_if={"auth": "basic"})
    password: str = setting("", title="Password", help="Basic authentication: the password.", secret=True,
                            group="auth", show_if={"auth": "basic"})
    token: str = setting("", title="Token", help="Bearer authentication: the token sent as Authorization: Bearer.",
                         secret=True, group="auth", show_if={"auth": "bearer"})
    api_key_header: str = setting("X-API-Key", title="API key header", help="API key authentication: the header "
                                  "that carries the key.", group="auth", show_if={"auth": "api_key"})
    api_key: str = setting("", title="API key", help="API key authentication: the key.", secret=True, group="auth",
                           show_if={"auth": "api_key"})
    token_url: str = setting("", title="Token URL", help="OAuth 2.0: the token endpoint, e.g. "
                             "https://oauth2.googleapis.com/token.", group="auth", show_if=_SHOW_OAUTH)
    client_id: str = setting("", title="Client ID", help="OAuth 2.0: the client id.", group="auth",
                             show_if=_SHOW_OAUTH)
    client_secret: str = setting("", title="Client secret", help="OAuth 2.0: the client secret.", secret=True,
                                 group="auth", show_if=_SHOW_OAUTH)
    refresh_token: str = setting("", title="Refresh token", help="OAuth 2.0 refresh-token flow: the long-lived "
                                 "refresh token a consent gave.", secret=True, group="auth",
                                 show_if={"auth": "oauth2_refresh_token"})
    scope: str = setting("", title="Scope", help="OAuth 2.0: the scopes asked for, space-separated (optional).",
                         group="auth", show_if=_SHOW_OAUTH)
    timeout_seconds: float = setting(30, title="Timeout (seconds)", help="How long to wait to connect and for "
                                     "each read or write of a request.", gt=0, le=3600)
    trusted_ca_file: str = setting("", title="Trusted CA file", help="A PEM file of certificate authorities "
                                   "trusted besides the system's (a company or self-signed CA). Certificates are "
                                   "always verified.")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _auth_fields(self) -> HttpConnection:
        needed = {"basic": ["user_name"], "bearer": ["token"], "api_key": ["api_key_header", "api_key"],
                  "oauth2_client_credentials": ["token_url", "client_id", "client_secret"],
                  "oauth2_refresh_token": ["token_url", "client_id", "refresh_token"]}.get(self.auth, [])
        missing = [name for name in needed if not str(getattr(self, name)).strip()]
        if missing:
            raise ValueError(f"auth {self.auth} needs {' and '.join(missing)}: set "
                             f"{'it' if len(missing) == 1 else 'them'} (secrets as ${{secret:NAME}})")
        if self.auth in _OAUTH:
            problem = url_problem(self.token_url)
            if problem:
                raise ValueError(f"token_url: {problem}")
        return self


class HttpOperation(Settings):
    method: Method = setting("GET", title="Method", help="The HTTP method. POST, PUT and PATCH send the document "
                             "as the body; GET, DELETE, HEAD and OPTIONS send none.")
    path: str = setting("", title="Path", help="Added to the connection's base_url, e.g. /sheets/{1}/rows: {1}, "
                        "{2}... are filled from parameters, URL-encoded (a / or ? in a value stays in its segment). "
                        "May end with a fixed ?query.")
    parameters: list[ValueSourceSetting] = setting([], title="Parameters", help="Value sources for {1}, {2}... "
                                                   "of the path, resolved for each document (one may stand without the list).")
    query: dict[str, ValueSourceSetting] = setting({}, title="Query", help="Query parameters: name to a text or "
                                                   "a value source resolved for each document.")
    headers: dict[str, ValueSourceSetting] = setting({}, title="Headers", help="Request headers: name to a text "
                                                     "or a value source resolved for each document. A document "
                                                     "property http.headers.<Name> adds or replaces one.")
    content_type: str = setting("application/json", title="Content type",
                                help="The body's type: application/json (the document must be JSON), an XML type, "
                                     "application/x-www-form-urlencoded (a JSON object document is encoded as "
                                     "fields; other data is sent as it is) or any other type (the bytes as they are).")
    response: Literal["return", "pass_input"] = setting("return", title="Response",
                                                        help="return: the response body becomes the document; "
                                                             "pass_input: the input document goes on.")
    fail_on_status: bool = setting(True, title="Fail on error status",
                                   help="A status outside 2xx fails the document with the status and the start of "
                                        "the response body; off: the document goes on with http.status.")
    retries: int = setting(3, title="Retries", help="Tries again on 429, 502, 503 and 504 and on dropped "
                           "connections, waiting longer each time and as long as Retry-After says (at most 120 s).",
                           ge=0, le=10)

    @field_validator("parameters", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        """A single value source may stand without the list brackets (as in a Message)."""
        return value if isinstance(value, list) or value is None else [value]

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if "://" in value.split("?", 1)[0]:
            raise ValueError(f"path {value!r} is a whole URL: put the server in the connection's base_url and "
                             "only the part after it here")
        if any(ch.isspace() for ch in value):
            raise ValueError(f"path {value!r} contains spaces: encode them as %20 or pass them as a parameter")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, object]) -> dict[str, object]:
        for name, text in value.items():
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a header name: use letters, digits and -")
            if isinstance(text, str) and (not text.isascii() or "\r" in text or "\n" in text):
                raise ValueError(f"the value of header {name} must be ASCII text on one line: percent-encode it "
                                 "or send it in the body")
        return value

    @model_validator(mode="after")
    def _placeholders(self) -> HttpOperation:
        for number in sorted({int(n) for n in PLACEHOLDER.findall(self.path)}):
            if not 1 <= number <= len(self.parameters):
                raise ValueError(f"path uses {{{number}}} but parameters has {len(self.parameters)} value(s): "
                                 f"add parameters (the first fills {{1}}) or fix the path")
        return self
