"""DSN requests on Send (RFC 3461): RET and ENVID on MAIL FROM, NOTIFY and ORCPT on each RCPT TO,
seen by Postfix's smtp-sink (which dumps each command's parameters), pipelined and one by one;
left out, with a note in the log, when the server does not offer DSN."""

from __future__ import annotations

import logging
import re

import pytest

from postroom.connectors.mail._smtp.dsn import DsnRequest, xtext
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.mailkit import plain_connection
from support.sendkit import run, send_op


def _args(text: str, name: str) -> list[str]:
    return re.findall(rf"^{name}: (.*)$", text, re.M)


@pytest.mark.parametrize("options", [(), ("-p",)], ids=["pipelined", "one-by-one"])
def test_dsn_parameters_reach_the_server(smtp_sink, options):
    sink = smtp_sink(*options)
    operation = send_op(**{"from": "clinic@example.com", "to": "ann@example.net, bob@example.net",
                           "dsn_notify": ["failure", "delay"]})
    context = MemoryContext(execution_id="exec-dsn")
    [result] = run(plain_connection(sink.port), operation, [Document(b"Your appointment")], context)
    assert isinstance(result, Document)
    message_id = result.properties["mail.message_id"]
    [text] = sink.dumps(1)
    [mail_args] = _args(text, "X-Mail-Args")
    assert mail_args.split()[1:] == ["RET=HDRS", f"ENVID={message_id}"]
    assert _args(text, "X-Rcpt-Args") == [
        "<ann@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;ann@example.net",
        "<bob@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.net",
    ]
    # the journal entry carries the Message-ID the ENVID names: a bounce finds the letter by it
    [entry] = context.journal().entries().values()
    assert entry.message_id == message_id and entry.status == "sent"


def test_a_document_asks_for_its_own_notices_and_full_return(smtp_sink):
    sink = smtp_sink()
    operation = send_op(**{"from": "clinic@example.com", "to": "ann@example.net", "dsn_notify": ["failure"],
                           "dsn_ret": "full"})
    quiet = Document(b"No news", {"mail.dsn_notify": "never"})
    loud = Document(b"Tell me", {"mail.dsn_notify": "success, failure"})
    results = run(plain_connection(sink.port), operation, [quiet, loud])
    assert all(isinstance(r, Document) for r in results)
    texts = sink.dumps(2)
    rcpts = sorted(a for t in texts for a in _args(t, "X-Rcpt-Args"))
    assert rcpts == ["<ann@example.net> NOTIFY=NEVER ORCPT=rfc822;ann@example.net",
                     "<ann@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;ann@example.net"]
    assert all(_args(t, "X-Mail-Args")[0].split()[1] == "RET=FULL" for t in texts)


def test_a_server_without_dsn_gets_the_email_without_them_and_the_log_says_so(smtp_sink, caplog):
    sink = smtp_sink("-N")  # -N: smtp-sink does not announce DSN
    operation = send_op(**{"from": "clinic@example.com", "to": "ann@example.net", "dsn_notify": ["failure"]})
    context = MemoryContext(execution_id="exec-nodsn")
    with caplog.at_level(logging.INFO, logger=context.log.name):
        [result] = run(plain_connection(sink.port), operation, [Document(b"hello")], context)
    assert isinstance(result, Document)
    [text] = sink.dumps(1)
    assert _args(text, "X-Mail-Args")[0].split()[1:] == []
    assert _args(text, "X-Rcpt-Args") == ["<ann@example.net>"]
    assert f"the server at 127.0.0.1:{sink.port} does not offer DSN" in caplog.text


def test_without_dsn_notify_nothing_is_asked(smtp_sink):
    sink = smtp_sink()
    operation = send_op(**{"from": "clinic@example.com", "to": "ann@example.net"})
    run(plain_connection(sink.port), operation, [Document(b"hello")])
    [text] = sink.dumps(1)
    assert _args(text, "X-Rcpt-Args") == ["<ann@example.net>"]
    assert "ENVID" not in text


@pytest.mark.fast
def test_a_bad_mail_dsn_notify_fails_that_document_before_anything_is_sent():
    operation = send_op(**{"from": "clinic@example.com", "to": "ann@example.net"})
    document = Document(b"x", {"mail.dsn_notify": "failure, sometimes"})
    [result] = run(plain_connection(1), operation, [document])
    assert isinstance(result, Failed)
    assert result.message == ("document property mail.dsn_notify: sometimes is not a DSN notice: use failure, "
                             "delay and/or success, or never alone")


@pytest.mark.fast
def test_xtext_and_the_envid_limit():
    assert xtext("<a+b=c d@x>") == "<a+2Bb+3Dc+20d@x>"
    assert xtext("é") == "+C3+A9"
    request = DsnRequest(("failure",), "hdrs", "<" + "x" * 120 + "@example.com>")
    assert request.mail_options() == ["RET=HDRS"]  # an ENVID over 100 characters is left out
    assert DsnRequest(("failure",), "", "<a@b>").rcpt_options("zoë@example.com") == ["NOTIFY=FAILURE"]


@pytest.mark.parametrize(("options", "shown"), [((), "yes (dsn_notify is sent)"), (("-N",), "no (dsn_notify is left out)")])
def test_the_connection_test_says_whether_the_server_offers_dsn(smtp_sink, options, shown):
    from postroom.connectors.mail import connection as mail_connection

    sink = smtp_sink(*options)
    report = mail_connection.test_smtp(plain_connection(sink.port))
    assert dict(report.facts)["DSN"] == shown


@pytest.mark.fast
@pytest.mark.parametrize(("value", "said"), [
    (["never", "failure"], "dsn_notify: never asks for no notice at all, so it stands alone"),
    (["failure", "bounce"], "dsn_notify: bounce is not a DSN notice: use failure, delay and/or success"),
    ({"failure": True}, "dsn_notify: write a list such as [failure, delay], or never"),
])
def test_a_bad_dsn_notify_is_refused_at_import(value, said):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        send_op(dsn_notify=value)
    assert said in str(caught.value)


def test_import_names_the_bad_dsn_setting_and_exits_2(cli, workdir):
    (workdir / "op.yaml").write_text("type: operation\nconnector: mail\nname: Letters\nid: letters\n"
                                     "settings: {action: send, from: clinic@example.com, dsn_notify: [always]}\n")
    result = cli("import", "op.yaml")
    assert result.code == 2, result
    assert "dsn_notify" in result.stderr and "always is not a DSN notice" in result.stderr
