"""Settings checked when a component is validated (import): bad URLs, missing credentials,
placeholders without parameters; Retry-After read as seconds or an HTTP date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from postroom.connectors.http import HttpConnection, HttpOperation
from postroom.connectors.http._retry import MAX_RETRY_AFTER, retry_after

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(("url", "says"), [
    ("records.example.test/api", "is not an http(s) URL: write it whole, like https://api.example.com/v1"),
    ("ftp://records.example.test", "is not an http(s) URL"),
    ("https://", "is not an http(s) URL"),
    ("https://ann:pw@records.example.test", "put them in user_name and password"),
    ("https://records.example.test:port", "is not a URL"),
    ("https://records.example.test/a b", "contains spaces"),
])
def test_a_bad_base_url_is_refused_with_the_fix(url, says):
    with pytest.raises(ValidationError) as caught:
        HttpConnection(base_url=url)
    [error] = caught.value.errors()
    assert error["loc"] == ("base_url",) and says in error["msg"]


@pytest.mark.parametrize(("settings", "says"), [
    ({"auth": "basic"}, "auth basic needs user_name"),
    ({"auth": "bearer"}, "auth bearer needs token"),
    ({"auth": "api_key"}, "auth api_key needs api_key"),
    ({"auth": "oauth2_client_credentials", "token_url": "https://t.example/token", "client_id": "c"},
     "auth oauth2_client_credentials needs client_secret"),
    ({"auth": "oauth2_refresh_token", "client_id": "c", "refresh_token": "r"},
     "auth oauth2_refresh_token needs token_url"),
    ({"auth": "oauth2_refresh_token", "token_url": "oauth2.googleapis.com/token", "client_id": "c",
      "refresh_token": "r"}, "token_url: 'oauth2.googleapis.com/token' is not an http(s) URL"),
    ({"auth": "digest"}, "Input should be 'none', 'basic'"),
])
def test_each_auth_names_what_it_misses(settings, says):
    with pytest.raises(ValidationError) as caught:
        HttpConnection(base_url="https://api.example.test", **settings)
    assert says in str(caught.value)


@pytest.mark.parametrize(("settings", "says"), [
    ({"path": "/sheets/{2}/rows", "parameters": ["a"]}, "path uses {2} but parameters has 1 value(s)"),
    ({"path": "https://other.example/x"}, "is a whole URL: put the server in the connection's base_url"),
    ({"path": "/x", "parameters": [{"process_propety": "x"}]}, "one of: static, profile_element"),
    ({"method": "FETCH"}, "Input should be 'GET'"),
    ({"headers": {"Bad Name": "x"}}, "is not a header name"),
    ({"headers": {"X-City": "Zürich"}}, "the value of header X-City must be ASCII text on one line"),
    ({"response": "keep"}, "Input should be 'return' or 'pass_input'"),
    ({"retries": 11}, "less than or equal to 10"),
])
def test_operation_mistakes_are_refused(settings, says):
    with pytest.raises(ValidationError) as caught:
        HttpOperation(**settings)
    assert says in str(caught.value)


def test_the_contract_example_validates():
    HttpConnection(base_url="https://records.example.test/api", auth="none", api_key_header="X-API-Key",
                   timeout_seconds=30)
    op = HttpOperation(method="POST", path="/sheets/{1}/rows", parameters=[{"process_property": "sheet_id"}],
                       query={"mode": "append"}, headers={"Accept": "application/json"},
                       content_type="application/json", response="return", fail_on_status=True, retries=3)
    assert op.parameters == [{"process_property": "sheet_id"}]


def test_retry_after_in_seconds_or_as_an_http_date_and_capped():
    now = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
    assert retry_after("7") == 7.0
    assert retry_after("Fri, 04 Dec 2026 12:00:30 GMT", lambda: now) == 30.0
    assert retry_after("Fri, 04 Dec 2026 11:00:00 GMT", lambda: now) == 0.0
    assert retry_after("86400") == MAX_RETRY_AFTER == 120.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_single_parameter_may_stand_without_brackets():
    assert HttpOperation(path="/s/{1}", parameters={"process_property": "sheet_id"}).parameters == [
        {"process_property": "sheet_id"}]
