"""What serve answers outside /api: the first-user hint, the "build the app" page, the built
app with index.html for client-side routes; and the security headers on every answer."""

from __future__ import annotations

from pathlib import Path

from logins.conftest import Web
from postroom.web._pages import SECURITY_HEADERS

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def test_the_pages_before_a_user_before_the_build_and_after(web: Web, ui_dir: Path) -> None:
    client = web.client()
    hint = client.request("GET", "/")
    assert hint.status == 503 and (hint.header("content-type") or "").startswith("text/html")
    assert "postroom users add NAME --role admin --password-stdin" in hint.text
    assert "No user yet" in hint.text

    web.add_users("anna")
    unbuilt = client.request("GET", "/")
    assert unbuilt.status == 503 and "The browser app was not built" in unbuilt.text
    assert "cd ui &amp;&amp; npm ci &amp;&amp; npm run build" in unbuilt.text

    (ui_dir / "assets").mkdir()
    (ui_dir / "index.html").write_text('<!doctype html><div id="root"></div><script src="/assets/app.js"></script>')
    (ui_dir / "assets" / "app.js").write_text("console.log('postroom');")
    for path in ("/", "/build", "/build/process/orders", "/process-reporting?status=failed",
                 "/assets/missing.js", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"):
        answer = client.request("GET", path)
        assert answer.status == 200 and '<div id="root">' in answer.text, (path, answer)
    script = client.request("GET", "/assets/app.js")
    assert script.status == 200 and script.text == "console.log('postroom');"
    assert "javascript" in (script.header("content-type") or "")
    missing = client.request("GET", "/api/nope")  # not the app's index.html: a JSON 404 (it reveals nothing)
    assert missing.status == 404 and "no API route '/api/nope'" in missing.json()["detail"]


def test_every_answer_carries_the_security_headers(web: Web, ui_dir: Path) -> None:
    assert SECURITY_HEADERS["Content-Security-Policy"] == CSP
    client = web.client()
    answers = [client.request("GET", "/"), client.request("GET", "/api/components")]  # 503: no user
    web.add_users("anna")
    answers += [client.request("GET", "/"), client.request("GET", "/api/health"),
                client.request("GET", "/api/components"),  # 401
                client.request("GET", "/api/health", headers={"Host": "rebound.example"}),  # 421
                client.request("POST", "/api/login", {"user_name": "anna", "password": "wrong"})]
    client.login("anna")
    answers += [client.request("GET", "/api/session"), client.request("POST", "/api/logout")]  # 403: no CSRF
    assert [a.status for a in answers] == [503, 503, 503, 200, 401, 421, 401, 200, 403]
    for answer in answers:
        assert answer.header("content-security-policy") == CSP, answer
        assert answer.header("x-content-type-options") == "nosniff"
        assert answer.header("referrer-policy") == "same-origin"
