"""The MIME writer's short ways give the bytes its general ones give (tests/mail)."""

from __future__ import annotations

import pytest

from postroom.connectors.mail.mime import (
    ContentType,
    Letter,
    MessageTemplate,
    parse_addresses,
    render_address_header,
)

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("to", [
    "patient0@example.com",
    "a" * 64 + "@" + "sub." * 40 + "example.com",  # longer than a header line: never folded alone
    "jörg@bücher.example",  # a non-ASCII local part (SMTPUTF8) and an IDNA domain
    "Dr. Ann Smith <ann@example.com>",  # a display name: the general way
    "a@example.com, b@example.com",
])
def test_the_to_line_of_a_letter_is_what_the_address_renderer_writes(to):
    addresses = parse_addresses(to)
    template = MessageTemplate(disposition="inline", attachment_type=ContentType("text", "plain"),
                               body_type=ContentType("text", "plain"))
    letter = Letter(sender=parse_addresses("clinic@example.com")[0], to=addresses, cc=[], reply_to=[],
                    subject="Hello", message_id="<1@example.com>", data=b"Dear Ann,")
    lines = template.headers(letter)
    assert lines[1] == render_address_header("To", addresses)
    assert lines[0] == render_address_header("From", [letter.sender])


# The text clean-ups skip their regular expression when the text holds nothing it would
# replace; each must give exactly what the expression gives (the bytes on the wire).
_TEXTS = ["", "plain", "two\nlines\n", "crlf\r\nonly\r\n", "lone\rcr", "mixed\r\n\n\r\r\nend", "\n", "\r",
          "tab\tand\x00nul", "line\u2028sep\u2029par\x85nel\x7fdel", "nbsp\xa0and soft\xadhyphen", " padded  "]


@pytest.mark.parametrize("text", _TEXTS)
def test_canonical_text_and_header_cleaning_match_their_expressions(text: str) -> None:
    from postroom.connectors.mail import _addresses, _encoding

    assert _encoding._canonical_text(text) == _encoding._LINE_BREAK.sub("\r\n", text)  # noqa: SLF001
    assert _addresses.clean_header_text(text) == _addresses._CONTROL.sub(" ", text).strip()  # noqa: SLF001


@pytest.mark.parametrize("message", [b"", b"plain\r\n", b".starts with a dot\r\n", b"a\r\n.b\r\n..c\r\n",
                                     b"a\r\n.", b"no dot after\r.cr\r\n", b"x" * 70000 + b"\n.y"])
def test_dot_stuffing_matches_its_expression(message: bytes) -> None:
    import re

    from postroom.connectors.mail._smtp.wire import dot_stuffed

    body = re.sub(rb"(?m)^\.", b"..", message)
    body += b"" if body[-2:] == b"\r\n" else b"\r\n"
    assert b"".join(dot_stuffed(message, b"MAIL FROM:<a@b>\r\n")) == body + b".\r\n" + b"MAIL FROM:<a@b>\r\n"
