"""`postroom devmail` as a user runs it: banner, a letter through SMTPS with AUTH, web JSON, SIGTERM."""

import json
import os
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import time
import urllib.request


def test_devmail_command_serves_smtps_pop3_and_web(tmp_path, home):
    env = dict(os.environ, POSTROOM_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "postroom", "devmail", "--smtp-port", "0", "--smtps-port", "0", "--pop3-port", "0",
         "--pop3s-port", "0", "--web-port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            banner.append(line)
            if "User" in line or not line:
                break
        text = "".join(banner)
        smtps = int(re.search(r"SMTPS\s+\S+:(\d+)", text).group(1))
        web = re.search(r"Web inbox\s+(\S+)", text).group(1)
        ca_file = re.search(r"CA file\s+(\S+)", text).group(1)
        assert ca_file.startswith(str(home))  # the CA stays in POSTROOM_HOME across runs
        assert "clinic@example.com / app-password-123" in text
        context = ssl.create_default_context(cafile=ca_file)
        with smtplib.SMTP_SSL("localhost", smtps, context=context, timeout=30) as client:
            client.login("clinic@example.com", "app-password-123")
            client.sendmail("clinic@example.com", ["zoe.obrien@example.com"],
                            b"Subject: Hello\r\nFrom: clinic@example.com\r\n\r\nDear Zoe\r\n")
        with urllib.request.urlopen(web.rstrip("/") + "/api/messages", timeout=30) as response:
            listed = json.load(response)
        items = listed["messages"] if isinstance(listed, dict) else listed
        assert len(items) == 1 and "zoe.obrien@example.com" in json.dumps(items)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_devmail_busy_port_is_a_clear_exit_2(tmp_path, home):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, POSTROOM_HOME=str(home))
        proc = subprocess.run(
            [sys.executable, "-m", "postroom", "devmail", "--smtp-port", str(port), "--smtps-port", "0",
             "--pop3-port", "0", "--pop3s-port", "0", "--web-port", "0"],
            env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "--smtp-port" in proc.stderr and "Traceback" not in proc.stderr


def _start_devmail(home, *extra):  # noqa: ANN001, ANN202
    env = dict(os.environ, POSTROOM_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "postroom", "devmail", "--smtp-port", "0", "--smtps-port", "0", "--pop3-port", "0",
         "--pop3s-port", "0", "--web-port", "0", *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    banner = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        banner.append(line)
        if line.startswith("Press Ctrl-C") or not line:
            break
    return proc, "".join(banner)


def test_devmail_requires_auth_on_every_smtp_port_unless_no_auth(home):
    """Issue 7, item 20: `postroom devmail` took mail without login although its help said
    users log in. Now MAIL before AUTH gets 530 on SMTP and SMTPS; --no-auth relaxes it."""
    proc, text = _start_devmail(home)
    try:
        assert "Login     required on every SMTP port" in text
        smtp_port = int(re.search(r"SMTP\s+\S+:(\d+)", text).group(1))
        smtps = int(re.search(r"SMTPS\s+\S+:(\d+)", text).group(1))
        ca_file = re.search(r"CA file\s+(\S+)", text).group(1)
        context = ssl.create_default_context(cafile=ca_file)
        for client in (smtplib.SMTP("127.0.0.1", smtp_port, timeout=30),
                       smtplib.SMTP_SSL("localhost", smtps, context=context, timeout=30)):
            with client:
                client.ehlo()
                assert client.mail("someone@example.com") == (530, b"5.7.0 Authentication required")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)

    proc, text = _start_devmail(home, "--no-auth")
    try:
        assert "Users     none: SMTP accepts mail without AUTH" in text
        smtp_port = int(re.search(r"SMTP\s+\S+:(\d+)", text).group(1))
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
            assert client.sendmail("someone@example.com", ["x@example.com"], b"Subject: open\r\n\r\nx\r\n") == {}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)

    shown = subprocess.run([sys.executable, "-m", "postroom", "devmail", "--help"], capture_output=True, text=True,
                           env=dict(os.environ, COLUMNS="200"), timeout=60)
    help_text = " ".join(shown.stdout.split())
    assert "every SMTP port (plain with STARTTLS, and SMTPS) requires a login" in help_text
    assert "530 5.7.0 Authentication required" in help_text and "--no-auth turns logins off" in help_text


def test_readme_ca_line_names_the_ca_devmail_prints_with_and_without_postroom_home(tmp_path):
    """Issue 7, item 21: README's by-hand steps named ~/.postroom/devmail/tls/ca.pem, wrong
    whenever POSTROOM_HOME is set. Its export line now matches what devmail prints (and the
    export line devmail prints itself) in both cases."""
    from support.testsupport import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    export = next(line for line in readme.splitlines() if line.startswith("export POSTROOM_DEVMAIL_CA="))
    user_home = tmp_path / "user"
    user_home.mkdir()
    for postroom_home in (str(tmp_path / "project-home"), None):
        env = {k: v for k, v in os.environ.items() if k != "POSTROOM_HOME"}
        env["HOME"] = str(user_home)
        if postroom_home:
            env["POSTROOM_HOME"] = postroom_home
        shell = subprocess.run(["bash", "-c", export + '\necho "$POSTROOM_DEVMAIL_CA"'], env=env,
                               capture_output=True, text=True, check=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "postroom", "devmail", "--smtp-port", "0", "--smtps-port", "0", "--pop3-port",
             "0", "--pop3s-port", "0", "--web-port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            banner = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "export POSTROOM_DEVMAIL_CA=" not in banner:
                line = proc.stdout.readline()
                if not line:
                    break
                banner += line
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
        printed = re.search(r"CA file\s+(\S+)", banner).group(1)
        assert shell.stdout.strip() == printed, (postroom_home, banner)
        assert f"export POSTROOM_DEVMAIL_CA={printed}" in banner
        assert os.path.isfile(printed)
