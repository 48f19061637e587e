"""Typed watermarks (issue 8 item 1): ``ImapMark`` and ``Pop3Mark`` keep the JSON form stored
before they existed, so every stored watermark still loads (no migration)."""

from __future__ import annotations

import pytest

from postroom.connectors.mail._marks import ImapMark, Pending, Pop3Mark, mark_from_json

# The forms the dict-based readers stored (issue 7 code), byte for byte as JSON objects.
STORED = [
    ("imap", {"protocol": "imap", "uidvalidity": 1764000000, "uid": 42}),
    ("imap", {"protocol": "imap", "uidvalidity": 7, "uid": 9, "retry": "3,5:8"}),
    ("imap", {"protocol": "imap", "uidvalidity": 7, "uid": 9, "retry": "4",
              "pending": {"uids": "1:3,6", "mark": True, "move": "Processed", "delete": False}}),
    ("pop3", {"protocol": "pop3", "taken": ["UID-1", "UID-2"], "kept": []}),
    ("pop3", {"protocol": "pop3", "taken": [], "kept": ["a", "b", "c"]}),
]


@pytest.mark.parametrize(("protocol", "stored"), STORED)
def test_a_stored_watermark_loads_and_is_stored_again_unchanged(protocol, stored):
    mark = mark_from_json(stored, protocol)
    assert isinstance(mark, ImapMark if protocol == "imap" else Pop3Mark)
    assert mark.to_json() == stored
    assert list(mark.to_json()) == list(stored)  # same key order too


def test_marks_read_with_what_older_forms_left_out():
    assert mark_from_json({"uidvalidity": 5, "uid": "12"}, "imap") == ImapMark(5, 12)
    assert mark_from_json({"protocol": "imap", "uidvalidity": 5, "uid": 3, "pending": {}}, "imap").pending is None
    assert mark_from_json({"protocol": "imap", "uidvalidity": 5, "uid": 3, "pending": {"uids": "2"}},
                          "imap").pending == Pending("2")
    assert mark_from_json({"taken": ["b", "a"]}, "pop3") == Pop3Mark(("a", "b"), ())


@pytest.mark.timeout(120)
def test_a_watermark_stored_by_the_dict_readers_is_honoured_by_a_real_get(mailbox):
    """Through Dovecot: the stored JSON of a first run is the old form, and a watermark
    written in the old form (with a commit left to finish) is read and finished."""
    from postroom.connectors.mail import MailConnection, connector
    from postroom.sdk.testing import MemoryContext
    from support.getkit import get_op, simple

    for n in (1, 2, 3):
        mailbox.deliver(simple(n))
    context = MemoryContext()
    connection = MailConnection.model_validate(mailbox.connection("imaps"))

    def take(operation: str = "op", **settings: object) -> tuple[list[str], str]:
        session = connector.open(connection, get_op(**settings), context)
        session.operation_id = operation
        try:
            items = [i.properties["mail.message_id"] for i in session.fetch()]
            session.commit()
        finally:
            session.close()
        return items, session.watermark_key()

    items, key = take(start_from="now")
    assert items == []
    stored = context.watermarks().get(key, "op")
    assert stored is not None and list(stored) == ["protocol", "uidvalidity", "uid"] and stored["uid"] == 3
    # As the dict readers left it when killed inside commit: message 1 due to be marked read.
    context.watermarks().set(key, {"protocol": "imap", "uidvalidity": stored["uidvalidity"], "uid": 1,
                                   "pending": {"uids": "1", "mark": True, "move": "", "delete": False}}, "op")
    items, _ = take(unread_only=True, mark_as_read=False)
    assert items == ["<msg-2@example.org>", "<msg-3@example.org>"]  # above uid 1 only; 1 was marked read
    assert context.watermarks().get(key, "op") == {"protocol": "imap", "uidvalidity": stored["uidvalidity"],
                                                   "uid": 3}
    assert take(unread_only=False, mark_as_read=False)[0] == []
    # The finished commit marked message 1 read on the server: a fresh reader of unread mail skips it.
    assert take("fresh", unread_only=True, mark_as_read=False)[0] == ["<msg-2@example.org>", "<msg-3@example.org>"]
