"""devmail's SMTP and SMTPS servers, driven by smtplib over real sockets."""

from __future__ import annotations

import smtplib
import ssl

import pytest

from postroom.devmail import DevMail
from support.devmail_helpers import PASSWORD, USER, ca_context, no_leaked_threads, send, smtp  # noqa: F401 - no_leaked_threads is an autouse fixture

MESSAGE = (
    b"From: Dr. Smith <dr.smith@example.com>\r\n"
    b"To: Alice Walker <alice.walker@example.com>\r\n"
    b"Subject: Announcement: Dr. Smith is Retiring\r\n"
    b"Message-ID: <letter-1@example.com>\r\n"
    b"\r\n"
    b"Dear Alice,\r\n"
    b"\r\n"
    b"Dr. Smith is retiring at the end of the year.\r\n"
)


def test_plain_send_keeps_exact_bytes_and_envelope(devmail_factory):
    devmail = devmail_factory(auth_required=False)  # about the bytes and the envelope, not AUTH
    refused = send(
        devmail, MESSAGE, to=["alice.walker@example.com", "bob@example.org"], sender="dr.smith@example.com"
    )

    assert refused == {}
    (message,) = devmail.wait_for(1, timeout=5)
    assert message.raw == MESSAGE
    assert message.mail_from == "dr.smith@example.com"
    assert message.rcpt_tos == ("alice.walker@example.com", "bob@example.org")
    assert message.tls is False
    assert message.auth_user is None
    assert message.server == "smtp"
    assert message.peer.startswith("127.0.0.1:")
    assert message.parse()["Subject"] == "Announcement: Dr. Smith is Retiring"
    assert message.subject == "Announcement: Dr. Smith is Retiring"
    assert message.received.tzinfo is not None


def test_ehlo_offers_starttls_smtputf8_size_and_auth(devmail):
    with smtp(devmail) as client:
        code, _ = client.ehlo("client.example")
        assert code == 250
        assert client.has_extn("starttls")
        assert client.has_extn("smtputf8")
        assert client.has_extn("8bitmime")
        assert client.esmtp_features["size"] == str(10 * 1024 * 1024)
        assert client.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]


def test_starttls_verified_against_the_ca_with_auth_plain(devmail):
    with smtplib.SMTP("localhost", devmail.smtp_port, timeout=10) as client:
        client.starttls(context=ca_context(devmail))
        cert = client.sock.getpeercert()
        assert ("DNS", "localhost") in cert["subjectAltName"]
        client.login(USER, PASSWORD)  # smtplib picks PLAIN from LOGIN PLAIN
        assert client.sendmail(USER, ["alice.walker@example.com"], MESSAGE) == {}

    (message,) = devmail.wait_for(1)
    assert message.tls is True
    assert message.auth_user == USER
    assert message.raw == MESSAGE


def test_auth_login_mechanism(devmail):
    with smtp(devmail) as client:
        client.starttls(context=ssl.create_default_context(cafile=str(devmail.ca_file)))
        client.ehlo()
        client.user, client.password = USER, PASSWORD
        code, reply = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        assert code == 235, reply
        client.sendmail(USER, ["bob@example.org"], MESSAGE)
    assert devmail.wait_for(1)[0].auth_user == USER


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1"])
def test_smtps_tls_from_first_byte_with_auth(devmail, hostname):
    with smtplib.SMTP_SSL(hostname, devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")  # already TLS
        client.login(USER, PASSWORD)
        client.sendmail(USER, ["alice.walker@example.com"], MESSAGE)

    (message,) = devmail.wait_for(1)
    assert (message.server, message.tls, message.auth_user) == ("smtps", True, USER)
    assert message.raw == MESSAGE


def test_smtps_is_refused_by_a_client_that_does_not_trust_the_ca(devmail):
    untrusting = ssl.create_default_context(cafile=None)
    untrusting.load_verify_locations(cadata=_unrelated_ca_pem())
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL("localhost", devmail.smtps_port, context=untrusting, timeout=10)


def _unrelated_ca_pem() -> str:
    """A CA that did not sign devmail's certificate (from a fresh, separate folder)."""
    import tempfile

    from postroom.devmail import ensure_certificates

    with tempfile.TemporaryDirectory() as folder:
        return ensure_certificates(folder).ca_file.read_text()


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong-password"), ("nobody@example.com", PASSWORD)])
def test_wrong_credentials_are_refused_with_535(devmail, user, password):
    with smtplib.SMTP_SSL("localhost", devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(user, password)
    assert refused.value.smtp_code == 535


def test_auth_is_not_offered_before_starttls_when_auth_require_tls(devmail_factory):
    devmail = devmail_factory(auth_require_tls=True)
    with smtp(devmail, login=False) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        code, _ = client.docmd("AUTH", "PLAIN AGNsaW5pY0BleGFtcGxlLmNvbQBhcHAtcGFzc3dvcmQtMTIz")
        assert code == 538
        client.starttls(context=ca_context(devmail))
        client.ehlo()
        assert client.has_extn("auth")
        client.login(USER, PASSWORD)
    # On SMTPS the whole session is TLS, so AUTH is offered at once.
    with smtplib.SMTP_SSL("localhost", devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        client.ehlo()
        assert client.has_extn("auth")
        client.login(USER, PASSWORD)


def test_require_starttls_refuses_mail_in_clear(devmail_factory):
    devmail = devmail_factory(require_starttls=True)
    with smtp(devmail, login=False) as client:
        client.ehlo()
        code, reply = client.mail("sender@example.com")
        assert code == 530, reply
        client.starttls(context=ca_context(devmail))
        client.ehlo()
        client.login(USER, PASSWORD)
        assert client.mail("sender@example.com")[0] == 250


def test_auth_required_refuses_mail_before_auth(devmail_factory):
    devmail = devmail_factory(auth_required=True, auth_require_tls=True)
    with smtplib.SMTP_SSL("localhost", devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        client.ehlo()
        assert client.mail("sender@example.com")[0] == 530
        client.rset()
        client.login(USER, PASSWORD)
        assert client.sendmail(USER, [USER], MESSAGE) == {}


def test_every_smtp_port_requires_auth_by_default_like_gmail(devmail):
    """Issue 7, item 20: devmail took mail without login although it has users."""
    def refused_before_login(client: smtplib.SMTP) -> None:
        client.ehlo()
        assert client.mail("sender@example.com") == (530, b"5.7.0 Authentication required")
        assert client.rcpt(USER)[0] == 530
        assert client.docmd("DATA")[0] == 530
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("sender@example.com", [USER], MESSAGE)
        assert refused.value.smtp_code == 530

    with smtp(devmail, login=False) as client:  # plain
        refused_before_login(client)
    with smtp(devmail, login=False) as client:  # after STARTTLS
        client.starttls(context=ca_context(devmail))
        refused_before_login(client)
        client.login(USER, PASSWORD)
        assert client.sendmail("sender@example.com", [USER], MESSAGE) == {}
    with smtplib.SMTP_SSL("localhost", devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        refused_before_login(client)
        client.login(USER, PASSWORD)
        assert client.sendmail("sender@example.com", [USER], MESSAGE) == {}
    assert [m.auth_user for m in devmail.wait_for(2)] == [USER, USER]
    assert len(devmail.messages()) == 2


def test_auth_required_false_takes_mail_without_login_though_users_exist(devmail_factory):
    devmail = devmail_factory(auth_required=False)
    assert send(devmail, MESSAGE) == {}  # smtp() logs in only when AUTH is required
    assert devmail.wait_for(1)[0].auth_user is None


def test_auth_required_without_users_is_a_mistake():
    with pytest.raises(ValueError, match="auth_required needs users"):
        DevMail(users={}, auth_required=True)


def test_no_users_means_no_auth_offered_and_open_relay(devmail_factory):
    devmail = devmail_factory(users={})
    with smtp(devmail) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        assert client.sendmail("a@example.com", ["b@example.com"], MESSAGE) == {}
    assert devmail.wait_for(1)[0].auth_user is None


def test_refused_recipient_gets_550_while_the_other_is_accepted(devmail_factory):
    devmail = devmail_factory(reject_recipients=["*@bounce.example", "re:no-?reply@.*"])
    refused = send(
        devmail,
        MESSAGE,
        to=["alice.walker@example.com", "ghost@BOUNCE.example", "noreply@example.org"],
    )

    assert set(refused) == {"ghost@BOUNCE.example", "noreply@example.org"}
    code, reply = refused["ghost@BOUNCE.example"]
    assert code == 550
    assert b"5.1.1" in reply
    (message,) = devmail.wait_for(1)
    assert message.rcpt_tos == ("alice.walker@example.com",)
    assert message.raw == MESSAGE
    decisions = [(d.address, d.code, d.accepted) for d in devmail.decisions()]
    assert decisions == [
        ("alice.walker@example.com", 250, True),
        ("ghost@BOUNCE.example", 550, False),
        ("noreply@example.org", 550, False),
    ]


def test_all_recipients_refused_raises_and_stores_nothing(devmail_factory):
    devmail = devmail_factory(reject_recipients=["*"], reject_reply="554 5.7.1 Relay access denied")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(devmail, MESSAGE, to=["x@example.com"])
    assert refused.value.recipients == {"x@example.com": (554, b"5.7.1 Relay access denied")}
    assert devmail.messages() == []


def test_temporary_4xx_for_the_first_attempts_then_success(devmail_factory):
    devmail = devmail_factory(defer_recipients={"slow@example.com": 2})
    for _ in range(2):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as deferred:
            send(devmail, MESSAGE, to=["slow@example.com"])
        code, _ = deferred.value.recipients["slow@example.com"]
        assert code == 451
    # The count goes on across connections and listeners: the third attempt, on SMTPS, passes.
    with smtplib.SMTP_SSL("localhost", devmail.smtps_port, context=ca_context(devmail), timeout=10) as client:
        client.login(USER, PASSWORD)
        assert client.sendmail("sender@example.com", ["slow@example.com"], MESSAGE) == {}

    assert [(d.code, d.attempt, d.temporary) for d in devmail.decisions()] == [
        (451, 1, True),
        (451, 2, True),
        (250, 3, False),
    ]
    assert [m.rcpt_tos for m in devmail.wait_for(1)] == [("slow@example.com",)]


def test_clear_resets_the_attempt_counter(devmail_factory):
    devmail = devmail_factory(defer_recipients={"slow@example.com": 1})
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(devmail, MESSAGE, to=["slow@example.com"])
    devmail.clear()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(devmail, MESSAGE, to=["slow@example.com"])
    assert send(devmail, MESSAGE, to=["slow@example.com"]) == {}


def test_smtputf8_address_and_headers(devmail):
    raw = (
        "From: Jürgen <jürgen@bücher.example>\r\n"
        "To: Zoë <zoë@exämple.org>\r\n"
        "Subject: Grüße\r\n"
        "\r\n"
        "Schöne Grüße\r\n"
    ).encode()
    with smtp(devmail) as client:
        refused = client.sendmail(
            "jürgen@bücher.example", ["zoë@exämple.org"], raw, mail_options=["SMTPUTF8"]
        )
    assert refused == {}

    (message,) = devmail.wait_for(1)
    assert message.smtp_utf8 is True
    assert message.mail_from == "jürgen@bücher.example"
    assert message.rcpt_tos == ("zoë@exämple.org",)
    assert message.raw == raw
    assert message.parse()["Subject"] == "Grüße"


def test_non_ascii_address_without_smtputf8_is_refused(devmail):
    with smtp(devmail) as client:
        client.ehlo()
        client.command_encoding = "utf-8"  # send the bytes, but without the SMTPUTF8 parameter
        code, reply = client.mail("jürgen@bücher.example")
        assert code == 553, reply
        assert client.mail("ascii@example.com")[0] == 250
        code, reply = client.rcpt("zoë@exämple.org")
        assert code == 553, reply
    assert [d.code for d in devmail.decisions()] == [553]


def test_smtputf8_can_be_turned_off(devmail_factory):
    devmail = devmail_factory(smtputf8=False)
    with smtp(devmail) as client:
        client.ehlo()
        assert not client.has_extn("smtputf8")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.sendmail("jürgen@bücher.example", ["b@example.com"], MESSAGE, mail_options=["SMTPUTF8"])


def test_max_message_size(devmail_factory):
    devmail = devmail_factory(max_message_size=1000)
    with smtp(devmail) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "1000"
        assert client.sendmail("a@example.com", [USER], MESSAGE) == {}
        big = MESSAGE + b"x" * 70 + b"\r\n"
        big = big * 10
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("a@example.com", [USER], big)
        assert refused.value.smtp_code == 552
        # A client that does not announce SIZE is stopped after DATA.
        client.rset()
        client.mail("a@example.com")
        client.rcpt(USER)
        code, _ = client.data(big)
        assert code == 552
    assert len(devmail.messages()) == 1


def test_several_messages_in_one_session(devmail):
    with smtp(devmail) as client:
        for number in range(5):
            client.sendmail(
                "a@example.com", [USER], MESSAGE.replace(b"letter-1", f"letter-{number}".encode())
            )
    messages = devmail.wait_for(5)
    assert [m.header("Message-ID") for m in messages] == [f"<letter-{n}@example.com>" for n in range(5)]
    assert len({m.id for m in messages}) == 5


def test_concurrent_senders_all_land(devmail):
    """Four clients at once on SMTP and SMTPS: the store loses nothing and mixes nothing."""
    import threading

    errors: list[BaseException] = []

    def sender(worker: int) -> None:
        try:
            if worker % 2:
                client = smtplib.SMTP_SSL(
                    "localhost", devmail.smtps_port, context=ca_context(devmail), timeout=10
                )
                client.login(USER, PASSWORD)
            else:
                client = smtp(devmail)
            with client:
                for number in range(25):
                    raw = f"Subject: w{worker} n{number}\r\n\r\nbody {worker}/{number}\r\n".encode()
                    client.sendmail(f"w{worker}@example.com", [USER], raw)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    messages = devmail.wait_for(100, timeout=10)
    assert sorted(m.subject for m in messages) == sorted(f"w{w} n{n}" for w in range(4) for n in range(25))
    for message in messages:
        worker, number = message.subject[1:].split(" n")
        assert message.raw == f"Subject: w{worker} n{number}\r\n\r\nbody {worker}/{number}\r\n".encode()
        assert message.mail_from == f"w{worker}@example.com"
        assert message.tls is (int(worker) % 2 == 1)
