"""The HTTP Client connector against a real HTTP server (http.server on a free port):
methods, URL placeholders and their encoding, query and headers, bodies, the response."""

from __future__ import annotations

import json

import pytest

from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.httpkit import Reply

BODY = b'{"name": "Ann"}'


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_every_method_reaches_the_server_with_a_body_only_when_it_has_one(method, api_server, http_run):
    [result] = http_run([Document(BODY)], method=method, path="/records")
    seen = api_server.requests[-1]
    assert (seen.method, seen.path) == (method, "/records")
    if method in ("POST", "PUT", "PATCH"):
        assert seen.body == BODY and seen.header("Content-Type") == "application/json"
    else:
        assert seen.body == b"" and seen.header("Content-Type") is None
    assert isinstance(result, Document) and result.properties["http.status"] == "200"


def test_placeholders_are_url_encoded_so_a_value_never_changes_the_path(api_server, http_run):
    http_run([Document("{}", {"id": "a/b?c=1#d %"})], method="GET", path="/sheets/{1}/rows/{2}",
             parameters=[{"document_property": "id"}, "x"])
    assert api_server.requests[-1].target == "/sheets/a%2Fb%3Fc%3D1%23d%20%25/rows/x"
    assert api_server.requests[-1].query == {}


def test_values_come_from_value_sources_per_document(api_server, http_run):
    ctx = MemoryContext(process_properties={"sheet": "S-1"})
    docs = [Document("{}", {"who": "ann"}), Document("{}", {"who": "bob"})]
    http_run(docs, context=ctx, method="GET", path="/s/{1}/{2}",
             parameters=[{"process_property": "sheet"}, {"document_property": "who"}],
             query={"mode": "append", "who": {"document_property": "who"}},
             headers={"Accept": "application/json", "X-Who": {"document_property": "who"}})
    first, second = api_server.requests
    assert first.path == "/s/S-1/ann" and second.path == "/s/S-1/bob"
    assert first.query == {"mode": ["append"], "who": ["ann"]} and second.query["who"] == ["bob"]
    assert (first.header("Accept"), first.header("X-Who"), second.header("X-Who")) == (
        "application/json", "ann", "bob")


def test_a_fixed_query_in_the_path_is_kept_beside_the_query_map(api_server, http_run):
    http_run([Document("{}")], method="POST", path="/v/{1}:append?valueInputOption=RAW",
             parameters=["Sheet1!A1:C1"], query={"insertDataOption": "INSERT_ROWS"})
    seen = api_server.requests[-1]
    assert seen.path == "/v/Sheet1%21A1%3AC1:append"
    assert seen.query == {"valueInputOption": ["RAW"], "insertDataOption": ["INSERT_ROWS"]}


def test_http_headers_properties_add_request_headers_but_response_headers_are_not_sent_again(
        api_server, http_run):
    doc = Document("{}")
    doc.set_property("http.headers.X-Trace", "t-1")
    [first] = http_run([doc], method="POST", path="/a", headers={"X-Trace": "operation"})
    assert api_server.requests[-1].header("X-Trace") == "t-1"  # the document's value wins
    assert first.properties["http.headers.X-Echo"] == "yes" and "http.headers.X-Trace" not in first.properties
    first.set_property("http.headers.X-Again", "1")
    http_run([first.with_data("{}")], method="POST", path="/b")
    second = api_server.requests[-1]
    assert second.header("X-Again") == "1"
    assert second.header("X-Echo") is None  # recorded from the response, not set for this request


@pytest.mark.parametrize(("content_type", "data", "sent"), [
    ("application/json", b'{"a": [1, 2]}', b'{"a": [1, 2]}'),
    ("application/xml", b"<r><a>1</a></r>", b"<r><a>1</a></r>"),
    ("application/x-www-form-urlencoded", b'{"name": "Ann Lee", "age": 7, "ok": true}',
     b"name=Ann+Lee&age=7&ok=true"),
    ("application/x-www-form-urlencoded", b"a=1&b=2", b"a=1&b=2"),
    ("application/octet-stream", bytes(range(256)), bytes(range(256))),
])
def test_bodies_of_each_content_type(content_type, data, sent, api_server, http_run):
    [result] = http_run([Document(data)], method="POST", path="/in", content_type=content_type)
    assert isinstance(result, Document)
    seen = api_server.requests[-1]
    assert seen.body == sent and seen.header("Content-Type") == content_type


def test_a_document_that_is_not_json_fails_alone_and_the_others_are_sent(api_server, http_run):
    results = http_run([Document('{"n": 1}'), Document("name,city"), Document('{"n": 3}')], method="POST",
                       path="/in")
    assert [type(r).__name__ for r in results] == ["Document", "Failed", "Document"]
    assert "not JSON" in results[1].message and "content_type" in results[1].message
    assert [r.body for r in api_server.requests] == [b'{"n": 1}', b'{"n": 3}']


def test_response_return_makes_the_body_the_document_with_status_and_headers(api_server, http_run):
    api_server.then(Reply(201, {"id": 42}, {"Location": "/records/42", "X-Multi": "a"}))
    doc = Document(BODY, {"dynamic.keep": "x"})
    [result] = http_run([doc], method="POST", path="/records")
    assert json.loads(result.data) == {"id": 42}
    assert result.seq == 1 and result.properties["dynamic.keep"] == "x"
    assert result.properties["http.status"] == "201"
    assert result.properties["http.headers.Content-Type"] == "application/json"
    assert result.properties["http.headers.Location"] == "/records/42"


def test_response_pass_input_passes_the_input_on_with_the_status(api_server, http_run):
    api_server.then(Reply(202, {"queued": True}))
    [result] = http_run([Document(BODY)], method="POST", path="/records", response="pass_input")
    assert result.data == BODY and result.properties["http.status"] == "202"


def test_an_error_status_fails_that_document_with_the_status_and_an_excerpt(api_server, http_run):
    api_server.then(Reply(200, {"ok": 1}), Reply(404, "no such record " + "x" * 500), Reply(200, {"ok": 3}))
    results = http_run([Document("{}"), Document("{}"), Document("{}")], method="PUT", path="/r/{1}",
                       parameters=["7"])
    assert [type(r).__name__ for r in results] == ["Document", "Failed", "Document"]
    message = results[1].message
    assert message.startswith(f"PUT {api_server.url}/r/7 answered HTTP 404 Not Found: no such record xxx")
    assert message.endswith("...") and len(message) < 320


def test_fail_on_status_off_passes_the_document_on_with_its_status(api_server, http_run):
    api_server.then(Reply(404, {"error": "gone"}))
    [result] = http_run([Document("{}")], method="GET", path="/r", fail_on_status=False)
    assert isinstance(result, Document) and result.properties["http.status"] == "404"
    assert json.loads(result.data) == {"error": "gone"}


def test_dry_run_records_a_post_without_sending_it_and_still_runs_a_get(api_server, http_run):
    ctx = MemoryContext(dry_run=True)
    [kept] = http_run([Document(BODY)], context=ctx, method="POST", path="/records", headers={"X-A": "1"})
    assert kept.data == BODY and api_server.requests == []
    [(_, _, action, payload)] = ctx.dry_runs
    assert action == "http.request" and payload.startswith(f"POST {api_server.url}/records\n".encode())
    assert BODY in payload
    http_run([Document("")], context=MemoryContext(dry_run=True), method="GET", path="/records")
    assert [r.method for r in api_server.requests] == ["GET"]


def test_a_value_source_that_cannot_read_the_document_fails_that_document(api_server, http_run):
    class Context(MemoryContext):
        def value(self, source, document):  # noqa: ANN001, ANN201 - as the engine does for unreadable data
            if document.data == b"broken":
                from postroom.errors import DocumentError
                raise DocumentError("profile_element cannot read the document: not valid JSON")
            return super().value(source, document)

    results = http_run([Document("{}"), Document("broken")], context=Context(), method="GET", path="/r/{1}",
                       parameters=[{"profile_element": "id"}])
    assert isinstance(results[0], Document)
    assert isinstance(results[1], Failed) and "profile_element cannot read the document" in results[1].message
    assert len(api_server.requests) == 1


def test_a_redirect_is_not_followed_so_credentials_stay_with_the_server(api_server, http_run):
    api_server.then(Reply(302, "", {"Location": "http://127.0.0.1:9/elsewhere"}), Reply(302, "", {"Location": "/x"}))
    connection = {"auth": "api_key", "api_key": "key-never-elsewhere"}
    [failed] = http_run([Document("")], connection=connection, method="GET", path="/r")
    assert isinstance(failed, Failed) and "answered HTTP 302 Found" in failed.message
    [passed] = http_run([Document("")], connection=connection, method="GET", path="/r", fail_on_status=False)
    assert passed.properties["http.status"] == "302" and passed.properties["http.headers.Location"] == "/x"
    assert [r.path for r in api_server.requests] == ["/r", "/r"]


def test_a_large_document_is_streamed_whole_and_sent_again_whole_on_a_retry(api_server, http_run, tmp_path):
    data = bytes(range(256)) * (3 * 4096 + 7)  # about 3 MB: above the spool threshold
    doc = Document(data)
    assert doc.spooled
    api_server.then(Reply(503, "busy", {"Retry-After": "0"}))
    [result] = http_run([doc], method="PUT", path="/blob", content_type="application/octet-stream",
                        response="pass_input")
    assert result.properties["http.status"] == "200"
    first, second = api_server.requests
    assert first.body == data and second.body == data
    assert second.header("Content-Length") == str(len(data))


@pytest.mark.parametrize(("prop", "value", "says"), [
    ("http.headers.X-Name", "Zoë", "the value of header X-Name ('Zoë') is not ASCII"),
    ("http.headers.X-Name", "a\r\nInjected: 1", "the value of header X-Name contains a line break"),
    ("http.headers.Bad Name", "x", "'Bad Name' (from http.headers.Bad Name) is not a header name"),
])
def test_a_header_that_http_cannot_carry_fails_its_document_alone(prop, value, says, api_server, http_run):
    bad = Document("{}")
    bad.set_property(prop, value)
    results = http_run([bad, Document("{}")], method="POST", path="/r")
    assert isinstance(results[0], Failed) and says in results[0].message
    assert isinstance(results[1], Document) and len(api_server.requests) == 1


def test_a_response_that_cannot_be_decoded_fails_its_document(api_server, http_run):
    api_server.then(Reply(200, b"this is not gzip", {"Content-Encoding": "gzip"}))
    results = http_run([Document("{}"), Document("{}")], method="POST", path="/r")
    assert isinstance(results[0], Failed) and "DecodingError" in results[0].message
    assert isinstance(results[1], Document)
