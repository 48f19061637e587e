"""Retries: 429 with Retry-After, 502/503/504 with backoff, dropped connections (sent again
only when the method allows it), a server that is not there yet."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from postroom.errors import ConnectionFailed
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.httpkit import DROP, ApiServer, Reply


def test_429_waits_as_long_as_retry_after_says_then_succeeds(api_server, http_run):
    api_server.then(Reply(429, "slow down", {"Retry-After": "1"}), Reply(201, {"id": 1}))
    started = time.monotonic()
    [result] = http_run([Document("{}")], method="POST", path="/r")
    waited = time.monotonic() - started
    assert isinstance(result, Document) and result.properties["http.status"] == "201"
    assert [r.method for r in api_server.requests] == ["POST", "POST"]
    assert 1.0 <= waited < 5


def test_503_every_time_fails_the_document_after_the_retries(api_server, http_run):
    api_server.then(*[Reply(503, "maintenance")] * 3, Reply(200, {"ok": True}))
    ctx = MemoryContext()
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    ctx.log.addHandler(handler)
    try:
        [failed, passed] = http_run([Document("{}"), Document("{}")], context=ctx, method="POST", path="/r",
                                    retries=2)
    finally:
        ctx.log.removeHandler(handler)
    assert isinstance(failed, Failed) and "HTTP 503 Service Unavailable: maintenance" in failed.message
    assert failed.retryable
    assert isinstance(passed, Document)  # the next document goes on
    assert len(api_server.requests) == 4
    assert sum("HTTP 503; trying again in" in line for line in lines) == 2


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_tried_again(status, api_server, http_run):
    api_server.then(Reply(status, "gateway"), Reply(200, {"ok": True}))
    [result] = http_run([Document("{}")], method="GET", path="/r", retries=1)
    assert isinstance(result, Document) and len(api_server.requests) == 2


def test_retries_zero_does_not_try_again(api_server, http_run):
    api_server.then(Reply(503, "x"), Reply(200, {}))
    [result] = http_run([Document("{}")], method="GET", path="/r", retries=0)
    assert isinstance(result, Failed) and len(api_server.requests) == 1


def test_a_dropped_connection_is_tried_again_for_a_get(api_server, http_run):
    api_server.then(DROP, Reply(200, {"ok": True}))
    [result] = http_run([Document("")], method="GET", path="/r")
    assert isinstance(result, Document) and len(api_server.requests) == 2


def test_a_post_whose_connection_dropped_is_not_sent_twice(api_server, http_run):
    api_server.then(DROP, Reply(200, {"ok": True}))
    [result, after] = http_run([Document("{}"), Document("{}")], method="POST", path="/r")
    assert isinstance(result, Failed)
    assert "no answer (the connection dropped or timed out)" in result.message
    assert "not sent again: a POST may have reached the server" in result.message
    assert isinstance(after, Document)
    assert len(api_server.requests) == 2  # the failed POST once, the next document once


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_post_that_could_not_connect_is_tried_again_when_the_server_comes_up(http_run):
    port = _free_port()
    started: list[ApiServer] = []
    ctx = MemoryContext()

    class StartOnRetry(logging.Handler):  # the first retry notice brings the server up
        def emit(self, record: logging.LogRecord) -> None:
            if "trying again" in record.getMessage() and not started:
                started.append(ApiServer(port=port))

    ctx.log.addHandler(StartOnRetry())
    try:
        [result] = http_run([Document('{"a": 1}')], context=ctx, connection={"base_url": f"http://127.0.0.1:{port}"},
                            method="POST", path="/r")
        assert isinstance(result, Document) and result.properties["http.status"] == "200"
        assert [r.body for r in started[0].requests] == [b'{"a": 1}']
    finally:
        for server in started:
            server.close()


def test_a_server_that_never_comes_fails_the_session_naming_base_url(http_run):
    port = _free_port()
    with pytest.raises(ConnectionFailed) as caught:
        http_run([Document("{}")], connection={"base_url": f"http://127.0.0.1:{port}"}, method="POST", path="/r",
                 retries=1)
    assert "cannot connect" in str(caught.value) and "base_url" in str(caught.value)


def test_concurrent_documents_share_one_pool(api_server):
    from postroom.connectors.http import HttpConnection, HttpConnector, HttpOperation

    conn = HttpConnection(base_url=api_server.url)
    ctx = MemoryContext()
    sessions = [HttpConnector().open(conn, HttpOperation(method="GET", path=f"/{n}"), ctx) for n in range(2)]
    try:
        assert sessions[0].pool is sessions[1].pool  # type: ignore[attr-defined]
        threads = [threading.Thread(target=lambda s=s: list(s.execute([Document("")], "x"))) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        for session in sessions:
            session.close()
    assert sorted(r.path for r in api_server.requests) == ["/0", "/1"]


@pytest.mark.parametrize(("method", "tries"), [("POST", 1), ("GET", 2)])
def test_a_server_slower_than_timeout_seconds_fails_the_document(method, tries, api_server, http_run):
    release = threading.Event()

    def slow(seen):  # noqa: ANN001, ANN202
        release.wait(5)
        return Reply(200, {"late": True})

    api_server.handler = slow
    try:
        [result] = http_run([Document("{}")], connection={"timeout_seconds": 0.3}, method=method, path="/slow",
                            retries=1)
    finally:
        release.set()
    assert isinstance(result, Failed) and "ReadTimeout" in result.message
    assert len(api_server.requests) == tries


def test_a_stop_during_the_wait_ends_it_and_leaves_the_document_for_a_resume(api_server, http_run):
    from postroom.errors import Interrupted

    api_server.then(Reply(503, "busy", {"Retry-After": "60"}))
    ctx = MemoryContext()

    class StopOnRetry(logging.Handler):  # Ctrl-C while the connector waits 60 s
        def emit(self, record: logging.LogRecord) -> None:
            ctx.stop = True

    ctx.log.addHandler(StopOnRetry())
    started = time.monotonic()
    with pytest.raises(Interrupted) as caught:
        http_run([Document("{}")], context=ctx, method="POST", path="/r")
    assert time.monotonic() - started < 5 and "stopped while waiting to try POST" in str(caught.value)
    assert len(api_server.requests) == 1
