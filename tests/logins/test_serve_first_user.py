"""``postroom serve`` as a subprocess on a free port: with no user it prints how to create the
first one and answers only that hint; a user added with the CLI while it runs logs in at once."""

from __future__ import annotations

from pathlib import Path

from logins.conftest import Client
from support.listenerkit import Serve

HINT = "no user yet: create the first with: postroom users add NAME --role admin --password-stdin"


def test_serve_hints_at_the_first_user_then_logs_them_in_without_a_restart(cli, workdir: Path,  # noqa: ANN001
                                                                           home: Path) -> None:
    server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--no-listeners", login=False).wait_ready()
    try:
        output = server.output()
        assert HINT in output and f"open the web app at http://127.0.0.1:{server.port}/" in output
        client = Client(server.port)
        assert client.request("GET", "/api/health").status == 200
        for path in ("/api/components", "/api/session", "/api/users"):
            answer = client.request("GET", path)
            assert (answer.status, answer.json()) == (503, {"detail": HINT}), path
        page = client.request("GET", "/")
        assert page.status == 503 and "postroom users add NAME --role admin --password-stdin" in page.text
        assert "default-src 'self'" in (page.header("content-security-policy") or "")

        added = cli("users", "add", "anna", "--role", "admin", "--password-stdin", input="Anna-pw-4711\n")
        assert added.code == 0, added
        wrong = client.request("POST", "/api/login", {"user_name": "anna", "password": "nope"})
        assert wrong.status == 401
        csrf = client.login("anna", "Anna-pw-4711")
        assert client.request("GET", "/api/components").status == 200
        assert client.request("GET", "/api/session").json()["user"] == {"name": "anna", "role": "admin"}
        assert client.request("POST", "/api/logout", headers={"X-CSRF-Token": csrf}).status == 204
        assert client.request("GET", "/api/session").status == 401
        assert server.terminate() == 0
        assert "Anna-pw-4711" not in server.output()
    finally:
        server.close()
