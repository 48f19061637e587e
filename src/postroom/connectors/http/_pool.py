"""One HTTP pool (an ``httpx.Client``) per connection per execution, shared by every shape
that uses the connection, with its authentication; closed when the last shape is done."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Generator
from pathlib import Path

import httpx

from ...errors import ConfigError
from ._oauth import TokenSource
from ._secrets import Scrubber
from .spec import HttpConnection

__all__ = ["Pool", "acquire", "release", "ssl_context"]


class _HeaderAuth(httpx.Auth):
    """A fixed header on every request (bearer token, API key)."""

    def __init__(self, name: str, value: str) -> None:
        self._name, self._value = name, value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._name] = self._value
        yield request


class _OAuth(httpx.Auth):
    """Authorization: Bearer from the token source; a 401 refreshes the token once and
    sends the request again."""

    def __init__(self, tokens: TokenSource) -> None:
        self._tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._tokens.refused(token)
            request.headers["Authorization"] = f"Bearer {self._tokens.token()}"
            yield request


def ssl_context(connection: HttpConnection) -> ssl.SSLContext:
    """The system's trusted CAs, plus ``trusted_ca_file``; certificates and names verified."""
    context = ssl.create_default_context()
    if connection.trusted_ca_file:
        path = Path(connection.trusted_ca_file).expanduser()
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot read the CA file {str(path)!r}: {exc}", field="trusted_ca_file",
                              fix="name a PEM file of CA certificates, or leave trusted_ca_file empty") from None
    return context


class Pool:
    """The client, authentication and secret scrubber of one connection."""

    def __init__(self, connection: HttpConnection) -> None:
        self.connection = connection
        self.scrub = Scrubber(connection)
        timeout = httpx.Timeout(connection.timeout_seconds)
        self.client = httpx.Client(verify=ssl_context(connection), timeout=timeout, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=20, max_keepalive_connections=10))
        self.tokens: TokenSource | None = None
        self.auth = self._auth()
        self.users = 0

    def _auth(self) -> httpx.Auth | None:
        conn = self.connection
        if conn.auth == "basic":
            return httpx.BasicAuth(conn.user_name, conn.password)
        if conn.auth == "bearer":
            return _HeaderAuth("Authorization", f"Bearer {conn.token}")
        if conn.auth == "api_key":
            return _HeaderAuth(conn.api_key_header, conn.api_key)
        if conn.auth in ("oauth2_client_credentials", "oauth2_refresh_token"):
            self.tokens = TokenSource(conn, self.client, self.scrub)
            return _OAuth(self.tokens)
        return None

    def close(self) -> None:
        self.client.close()


_pools: dict[tuple[str, str], Pool] = {}
_lock = threading.Lock()


def acquire(connection: HttpConnection, execution_id: str) -> Pool:
    """The pool of ``connection`` in this execution (made on first use)."""
    key = (execution_id, connection.model_dump_json())
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = Pool(connection)
        pool.users += 1
        return pool


def release(pool: Pool) -> None:
    """A session is done with ``pool``; the last one closes it."""
    with _lock:
        pool.users -= 1
        if pool.users > 0:
            return
        for key, value in list(_pools.items()):
            if value is pool:
                del _pools[key]
    pool.close()
