"""The HTTP operation run for documents: one request per document."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx

from ...errors import ConnectionFailed, DocumentError, Interrupted
from ...sdk import Document, Failed, OperationSession, RunContext
from ._pool import Pool, acquire, release
from ._request import Planned, RequestProblem, plan
from ._retry import Dropped, Unreachable, pause, send
from .properties import HEADER_PREFIX, STATUS
from .spec import HttpConnection, HttpOperation

__all__ = ["HttpSession", "HttpReadSession", "EXCERPT"]

#: How much of a refused response's body a failure message quotes.
EXCERPT = 200


class HttpSession(OperationSession):
    """A request per document; a failed request fails its document, the others go on."""

    side_effects = True

    def __init__(self, connection: HttpConnection, operation: HttpOperation, context: RunContext) -> None:
        self.connection, self.operation, self.context = connection, operation, context
        self._pool: Pool | None = acquire(connection, context.execution_id)

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("the HTTP session is closed")
        return self._pool

    def execute(self, documents: list[Document], shape_id: str) -> Iterator[Document | Failed]:
        for document in documents:
            if self.context.stop_requested():
                raise Interrupted("stopped before every document was sent",
                                  fix="postroom executions resume continues the execution")
            try:
                request = plan(self.connection, self.operation, document, self.context)
            except (RequestProblem, DocumentError) as exc:  # DocumentError: a value source could not read it
                yield Failed(document, self.pool.scrub(str(exc)))
                continue
            if self.context.dry_run and self.side_effects:
                self.context.record_dry_run(shape_id, document, "http.request", request.describe)
                yield document
                continue
            yield self._one(document, request)

    def fetch(self) -> Iterator[Document | Failed]:
        """As a start shape: one request, made for an empty document; the response (or
        the input, with pass_input) is the execution's one document."""
        yield from self.execute([Document(b"")], self.operation_id or "start")

    def _one(self, document: Document, planned: Planned) -> Document | Failed:
        pool = self.pool
        request = pool.client.build_request(planned.method, planned.url, headers=planned.headers,
                                            content=planned.body)
        target = f"{planned.method} {planned.url.copy_with(query=None)}"
        try:
            response = send(pool.client, request, pool.auth, self.operation.retries, self._wait(target))
        except Unreachable as exc:
            fix = ("add the server's CA to trusted_ca_file" if exc.certificate
                   else "check base_url and that the server is up")
            raise ConnectionFailed(pool.scrub(f"{target}: cannot connect: {exc}"), field="base_url",
                                   fix=fix, retryable=not exc.certificate) from None
        except Dropped as exc:
            sent_twice = planned.method in ("POST", "PATCH")
            note = (f"; not sent again: a {planned.method} may have reached the server" if sent_twice
                    else f" (after {self.operation.retries} retries)")
            return Failed(document, pool.scrub(f"{target}: no answer (the connection dropped or timed out): "
                                               f"{exc}{note}"), retryable=True)
        except httpx.HTTPError as exc:  # an answer that cannot be read (a broken gzip body, a bad header)
            return Failed(document, pool.scrub(f"{target}: {type(exc).__name__}: {exc}"))
        return self._result(document, response, target)

    def _wait(self, target: str) -> Callable[[float, str], None]:
        """The pause between tries for ``send``: logged, and cut short by a stop request."""

        def wait(seconds: float, why: str) -> None:
            self.context.log.warning(f"{target}: {why}; trying again in {seconds:.1f} s")
            pause(seconds, self.context.stop_requested)
            if self.context.stop_requested():  # the document is left for a resume, neither sent nor failed
                raise Interrupted(f"stopped while waiting to try {target} again",
                                  fix="postroom executions resume continues the execution")
        return wait

    def _result(self, document: Document, response: httpx.Response, target: str) -> Document | Failed:
        status = response.status_code
        if self.operation.fail_on_status and not 200 <= status < 300:
            return Failed(document, self.pool.scrub(_refusal(target, response, self.connection)),
                          retryable=status in (408, 429) or status >= 500)
        result = document.with_data(response.content) if self.operation.response == "return" else document.copy()
        for name in [n for n in result.properties if n.startswith(HEADER_PREFIX)]:
            del result.properties[name]
        recorded = {STATUS: str(status)}
        for raw_name, raw_value in response.headers.raw:
            name = HEADER_PREFIX + raw_name.decode("latin-1")
            value = raw_value.decode("latin-1")
            recorded[name] = f"{recorded[name]}, {value}" if name in recorded else value
        result.properties.update(recorded)
        result.mark_inbound(recorded)
        return result

    def close(self) -> None:
        if self._pool is not None:
            release(self._pool)
            self._pool = None


class HttpReadSession(HttpSession):
    """GET, HEAD and OPTIONS change nothing: they run in a dry run too."""

    side_effects = False


def _refusal(target: str, response: httpx.Response, connection: HttpConnection) -> str:
    status = response.status_code
    text = " ".join(response.text.split())
    excerpt = text[:EXCERPT] + ("..." if len(text) > EXCERPT else "")
    message = f"{target} answered HTTP {status} {response.reason_phrase}".rstrip()
    if status == 401:
        message += f": the server refused the credentials (auth {connection.auth})"
    elif status == 403:
        message += ": the credentials are not allowed to do this"
    return message + (f": {excerpt}" if excerpt else "")
