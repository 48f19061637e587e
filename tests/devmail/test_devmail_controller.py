"""The DevMail controller's lifecycle, serve(), the pytest plugin and the public API."""

from __future__ import annotations

import io
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

import pytest

import postroom.devmail
from postroom.devmail import DevMail, MailStore, serve
from support.devmail_helpers import PASSWORD, USER, ca_context, no_leaked_threads, pop3, send  # noqa: F401 - no_leaked_threads is an autouse fixture


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_public_api_is_pinned():
    assert sorted(postroom.devmail.__all__) == sorted(
        [
            "CertificateFiles",
            "DevMail",
            "MailStore",
            "RecipientDecision",
            "SERVE_DEFAULT_USERS",
            "StoredMessage",
            "default_state_file",
            "ensure_certificates",
            "read_state",
            "serve",
        ]
    )
    for name in postroom.devmail.__all__:
        assert getattr(postroom.devmail, name) is not None
    with pytest.raises(AttributeError):
        postroom.devmail.nothing_here  # noqa: B018


def test_importing_the_plugin_stays_cheap():
    code = (
        "import sys, postroom.devmail.pytest_plugin; "
        "heavy = [m for m in ('aiosmtpd', 'cryptography', 'http.server', 'postroom.devmail._controller') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_fixture_defaults(devmail):
    ports = [devmail.smtp_port, devmail.smtps_port, devmail.pop3_port, devmail.pop3s_port, devmail.web_port]
    assert all(isinstance(p, int) and p > 0 for p in ports)
    assert len(set(ports)) == 5
    assert devmail.users == {USER: PASSWORD}
    assert devmail.ca_file is not None and devmail.ca_file.exists()
    assert devmail.web_url == f"http://127.0.0.1:{devmail.web_port}/"
    assert devmail.running


def test_ports_are_closed_after_stop(devmail_factory):
    devmail = devmail_factory()
    ports = [devmail.smtp_port, devmail.smtps_port, devmail.pop3_port, devmail.pop3s_port, devmail.web_port]
    client = pop3(devmail)  # an open session must not keep the server alive
    devmail.stop()
    devmail.stop()  # idempotent
    assert not devmail.running
    assert all(_refused(port) for port in ports)
    client.close()


def test_disabled_listeners_and_restart(tmp_path):
    devmail = DevMail(smtp_port=0, pop3_port=None, cert_dir=tmp_path)
    with devmail:
        assert devmail.pop3_port is None and devmail.smtps_port is None and devmail.web_port is None
        send(devmail, b"Subject: a\r\n\r\nb\r\n")
    with devmail:  # a stopped DevMail starts again, with its in-memory mail
        send(devmail, b"Subject: c\r\n\r\nd\r\n")
        assert [m.subject for m in devmail.messages()] == ["a", "c"]


def test_without_tls_there_is_no_starttls_and_no_ca():
    with DevMail(tls=False) as devmail:
        assert devmail.ca_file is None
        with smtplib.SMTP("127.0.0.1", devmail.smtp_port, timeout=10) as client:
            client.ehlo()
            assert not client.has_extn("starttls")
        with pytest.raises(RuntimeError):
            devmail.client_ssl_context()
    with pytest.raises(ValueError, match="tls=True"):
        DevMail(tls=False, smtps_port=0)


def test_temporary_certificates_are_removed_at_stop():
    with DevMail() as devmail:
        folder = devmail.ca_file.parent
        assert folder.exists()
    assert not folder.exists()


def test_busy_port_fails_start_at_once_and_leaks_nothing(devmail):
    started = time.monotonic()
    with pytest.raises(OSError):
        DevMail(smtp_port=0, pop3_port=devmail.pop3_port, tls=False).start()
    assert time.monotonic() - started < 3


def test_ipv6_loopback(devmail_factory):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    devmail = devmail_factory(host="::1")
    with smtplib.SMTP_SSL("::1", devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        client.login(USER, PASSWORD)
        client.sendmail(USER, [USER], b"Subject: v6\r\n\r\nx\r\n")
    assert devmail.wait_for(1)[0].peer.startswith("[::1]:")
    assert devmail.web_url == f"http://[::1]:{devmail.web_port}/"


def test_client_ssl_context_and_connection_settings(devmail):
    with smtplib.SMTP("localhost", devmail.smtp_port, timeout=10) as client:
        client.starttls(context=devmail.client_ssl_context())
        client.login(USER, PASSWORD)
    assert devmail.connection_settings("smtps") == {
        "host": "localhost",
        "port": devmail.smtps_port,
        "use_ssl": True,
        "use_tls": False,
        "trusted_ca_file": str(devmail.ca_file),
        "user_password_auth": True,
        "user_name": USER,
        "password": PASSWORD,
    }
    pop = devmail.connection_settings("pop3")
    assert (pop["port"], pop["use_tls"], pop["use_ssl"], pop["inbound_protocol"]) == (
        devmail.pop3_port,
        True,
        False,
        "pop3",
    )
    with pytest.raises(ValueError):
        devmail.connection_settings("imap")


class TestOptionsOverride:
    """A test module or class overrides ``devmail_options`` to reconfigure ``devmail``."""

    @pytest.fixture
    def devmail_options(self):
        return {
            "users": {"a@example.com": "pw"},
            "web_port": None,
            "reject_recipients": ["*@nowhere.example"],
        }

    def test_overridden(self, devmail):
        assert devmail.users == {"a@example.com": "pw"}
        assert devmail.web_port is None
        refused = send(devmail, b"Subject: x\r\n\r\ny\r\n", to=["a@example.com", "z@nowhere.example"])
        assert list(refused) == ["z@nowhere.example"]


def test_serve_prints_where_everything_is_and_stops_on_the_event(tmp_path):
    out = io.StringIO()
    stop = threading.Event()
    seen: list[DevMail] = []
    result: list[int] = []

    def ready(devmail: DevMail) -> None:
        seen.append(devmail)
        send(devmail, b"Subject: served\r\n\r\nx\r\n")
        stop.set()

    thread = threading.Thread(
        target=lambda: result.append(
            serve(
                smtp_port=0,
                smtps_port=0,
                pop3_port=0,
                pop3s_port=0,
                web_port=0,
                data_dir=tmp_path,
                out=out,
                stop_event=stop,
                on_ready=ready,
            )
        )
    )
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert result == [0]
    (devmail,) = seen
    text = out.getvalue()
    assert f"127.0.0.1:{devmail.smtp_port}" in text
    assert f"127.0.0.1:{devmail.pop3s_port}" in text
    assert f"http://127.0.0.1:{devmail.web_port}/" in text
    assert str(tmp_path / "tls" / "ca.pem") in text
    assert "clinic@example.com / app-password-123" in text
    assert "Stopping devmail" in text
    reopened = MailStore(tmp_path)  # the data folder holds what was sent
    assert [m.subject for m in reopened.messages()] == ["served"]
    reopened.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_sigterm_and_ctrl_c(tmp_path, signum):
    code = (
        "from postroom.devmail import serve\n"
        f"raise SystemExit(serve(smtp_port=0, smtps_port=0, pop3_port=0, pop3s_port=0, web_port=0, "
        f"cert_dir={str(tmp_path)!r}))\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        lines = []
        for line in process.stdout:  # ends when the banner's last line is read, or at EOF
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert any(line.strip().startswith("SMTP") for line in lines), "".join(lines) + process.stderr.read()
        assert any(str(tmp_path / "ca.pem") in line for line in lines)
        process.send_signal(signum)
        remaining_out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "Stopping devmail" in remaining_out
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
