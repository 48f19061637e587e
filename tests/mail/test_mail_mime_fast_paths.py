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
