"""The Mail operation's settings (see :mod:`.spec`, which re-exports them): what to send
(addresses, subject, content types, headers) or what to read (folder, filters, commit)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import field_validator, model_validator

from ...sdk import Settings, setting, setting_error
from ._dsn import parse_notify
from ._headers import HeaderError, check_header_name
from ._parts import CID_NAME as _CID_NAME
from ._reply_headers import parse_unsubscribe
from .mime import AddressError, parse_addresses, parse_content_type

__all__ = ["MailOperation"]

def _check_address_list(value: str, field: str) -> str:
    try:
        parse_addresses(value)
    except AddressError as exc:
        raise setting_error(field, f"{field}: {exc}", fix="write addresses such as Clinic <clinic@example.com>, "
                                                            "several separated by commas") from None
    return value


class MailOperation(Settings):
    """What to do with a Mail connection: send each document as an email, or (issue 4) get mail."""

    action: Literal["send", "get"] = setting(
        "send", title="Connector Action", enum_titles=("Send", "Get"), help="send: each document becomes an email. get: read mail.", group="Action"
    )

    # -- send --------------------------------------------------------------------------------
    from_: str = setting(
        "",
        alias="from",
        title="From",
        help="The sender, such as Clinic <clinic@example.com>. mail.from_address overrides it per document.",
        group="Addresses",
        show_if={"action": "send"},
    )
    to: str = setting(
        "",
        title="To",
        help="Recipients, separated by ; or ,. Blank: they come from mail.to_address on each document.",
        group="Addresses",
        show_if={"action": "send"},
    )
    cc: str = setting(
        "",
        title="Cc",
        help="Copy recipients (everyone sees them). mail.cc_address overrides it.",
        group="Addresses",
        show_if={"action": "send"},
    )
    bcc: str = setting(
        "",
        title="Bcc",
        help="Blind copy recipients: they get the email, no header names them. mail.bcc_address overrides it.",
        group="Addresses",
        show_if={"action": "send"},
    )
    reply_to: str = setting(
        "",
        title="Reply-To",
        help="Where replies go, when not to the sender. mail.reply_to_address overrides it.",
        group="Addresses",
        show_if={"action": "send"},
    )
    subject: str = setting(
        "",
        title="Subject",
        help="The subject line. mail.subject overrides it per document.",
        group="Content",
        show_if={"action": "send"},
    )
    disposition: Literal["inline", "attachment"] = setting(
        "inline",
        title="Disposition",
        enum_titles=("Inline", "Attachment"),
        help="send: inline makes the document the body; attachment attaches it, with mail.body as the "
        "body. get: inline makes the body the document; attachment makes each attachment one.",
        group="Content",
    )
    attachment_content_type: str = setting(
        "text/plain",
        title="Attachment Content Type",
        help="The type of the document data, inline or attached: text/plain, text/html, text/xml, "
        "application/xml, application/octet-stream (application/binary), application/edifact, "
        "application/edi-x12, or any type/subtype. Text is sent as UTF-8 unless a charset is given.",
        group="Content",
        show_if={"action": "send"},
    )
    body_content_type: str = setting(
        "text/plain",
        title="Body Content Type",
        help="The type of mail.body when the disposition is attachment (text/plain or text/html); "
        "with inline the document is the body, of the Attachment Content Type.",
        group="Content",
        show_if={"action": "send"},
    )
    text_body: str = setting(
        "",
        title="Text body",
        help="The plain-text twin sent beside an HTML body (multipart/alternative), for clients that show no "
        "HTML. Blank: made from the HTML (paragraphs, line breaks, lists as '- ', links as 'text (url)'). "
        "mail.text_body overrides it per document.",
        group="Content",
        show_if={"action": "send"},
    )
    inline_images: dict[str, str] = setting(
        {},
        title="Inline images",
        help="Images an HTML body shows by cid, cid: file (logo: /srv/clinic/logo.png for an img whose src is cid:logo). "
        "They go with the HTML in multipart/related. A document whose HTML shows a cid not listed here fails "
        "before it is sent. A relative path is taken from the directory postroom runs in.",
        group="Content",
        show_if={"action": "send"},
    )
    attachments: list[str] = setting(
        [],
        title="Attached files",
        help="Files attached to every email (paths; the name is the file's, the type guessed from its "
        "extension), after the document when the disposition is attachment. A file that cannot be read "
        "fails the document before it is sent.",
        group="Content",
        show_if={"action": "send"},
    )
    file_name: str = setting(
        "",
        title="Attachment file name",
        help="The attachment's name when mail.file_name is not set. Blank: a name from the time, the "
        "document number and the type, such as 20261123-101500-3.txt.",
        group="Content",
        show_if={"action": "send", "disposition": "attachment"},
    )
    headers: dict[str, str] = setting(
        {},
        title="Custom headers",
        help="Extra header lines for every email, name: value (such as X-Campaign: retirement-2026). "
        "mail.headers.NAME set on a document (Set Properties) adds or overrides one; a blank value drops it. "
        "From, To, Cc, Bcc, Subject, Date, Message-ID, MIME-Version, Reply-To, Sender, Content-*, Resent-*, "
        "Return-Path, Received, DKIM-Signature and other server headers cannot be set.",
        group="Content",
        show_if={"action": "send"},
    )
    list_unsubscribe: str = setting(
        "",
        title="List-Unsubscribe",
        help="Where recipients unsubscribe: an https:// URL and/or a mailto: address (separated by commas). "
        "Sends List-Unsubscribe and, with an https URL, List-Unsubscribe-Post for one-click unsubscribe "
        "(RFC 8058; Gmail and Yahoo require it of bulk senders). mail.list_unsubscribe overrides it per document.",
        group="Content",
        show_if={"action": "send"},
    )
    thread_replies: bool = setting(
        True,
        title="Thread replies",
        help="A document a mail Get read is answered in its thread: In-Reply-To and References name the "
        "message read. Turn off to send it as a new conversation.",
        group="Content",
        show_if={"action": "send"},
    )
    dsn_notify: list[str] = setting(
        [],
        title="Delivery notices (DSN)",
        help="Ask the receiving servers for delivery status notifications (RFC 3461): any of failure, delay, "
        "success, or never alone. Each email then names itself by its Message-ID (ENVID), so a Get with "
        "recognize: bounces links a bounce back to the letter. Sent only when the server offers DSN (else the "
        "log says so). Empty: nothing asked (servers bounce failures anyway). mail.dsn_notify overrides it.",
        group="Delivery notices",
        show_if={"action": "send"},
    )
    dsn_ret: Literal["hdrs", "full"] = setting(
        "hdrs",
        title="Bounce returns",
        enum_titles=("Headers only", "Full message"),
        help="With dsn_notify: what a bounce brings back of the letter: its headers (hdrs, the default: enough "
        "to link it, without the patient's letter) or the full message.",
        group="Delivery notices",
        show_if={"action": "send"},
    )
    one_email_per_recipient: bool = setting(
        False,
        title="One email per recipient",
        help="Send a separate email to each To address, so recipients never see each other. Cc and Bcc "
        "recipients get every one of those emails.",
        group="Addresses",
        show_if={"action": "send"},
    )

    # -- get (issue 4) -----------------------------------------------------------------------
    from_address: str = setting(
        "",
        title="From filter",
        help="Read only mail from this address. Blank: all mail.",
        group="Reading",
        show_if={"action": "get"},
    )
    delete_after_read: bool = setting(
        False,
        title="Delete after reading",
        help="Delete each message once the execution that read it has succeeded (POP3 and IMAP).",
        group="Reading",
        show_if={"action": "get"},
    )
    folder: str = setting(
        "INBOX", title="Folder", help="IMAP: the folder to read.", group="Reading", show_if={"action": "get"}
    )
    unread_only: bool = setting(
        True, title="Unread only", help="IMAP: read only unseen messages.", group="Reading", show_if={"action": "get"}
    )
    mark_as_read: bool = setting(
        True,
        title="Mark as read",
        help="IMAP: flag messages as seen once their documents are stored.",
        group="Reading",
        show_if={"action": "get"},
    )
    move_to_folder: str = setting(
        "",
        title="Move to folder",
        help="IMAP: move messages here once their documents are stored. Blank: leave them.",
        group="Reading",
        show_if={"action": "get"},
    )
    max_messages: int = setting(
        0,
        title="Messages per run",
        help="Read at most this many messages in one execution (0: all).",
        group="Reading",
        ge=0,
        show_if={"action": "get"},
    )
    body: Literal["text", "html", "both"] = setting(
        "text",
        title="Body",
        help="disposition inline: which body becomes the document. text: the plain-text body (the HTML one "
        "when a message has no other); html: the HTML body (else the text one); both: one document for each "
        "that the message has. Bodies are delivered as UTF-8; mail.content_type says which one a document is.",
        group="Reading",
        show_if={"action": "get", "disposition": "inline"},
    )
    recognize: Literal["none", "bounces"] = setting(
        "none",
        title="Recognize",
        enum_titles=("Nothing", "Bounces and complaints"),
        help="bounces: each delivery status notification (RFC 3464, a bounce or delay notice) becomes one "
        "document per recipient, and each feedback report (RFC 5965, a spam complaint) one document, with "
        "mail.bounce.* properties (kind, recipient, action, status, diagnostic, original_message_id) and, when "
        "the send journal has the letter, the execution and journal key that sent it. Other mail is read as usual.",
        group="Reading",
        show_if={"action": "get"},
    )
    subject_filter: str = setting(
        "",
        title="Subject filter",
        help="Read only mail whose subject contains this text (case-blind; IMAP searches on the server). "
        "Blank: any subject.",
        group="Reading",
        show_if={"action": "get"},
    )
    since: date | None = setting(
        None,
        title="Received since",
        help="Read only mail received on or after this date (YYYY-MM-DD; IMAP searches on the server). "
        "Blank: any date.",
        group="Reading",
        show_if={"action": "get"},
    )
    start_from: Literal["now", "all", "date"] = setting(
        "now",
        title="First run takes",
        help="What the first run on a mailbox takes. now: only mail that arrives from then on (the mail "
        "already there is left alone, and the log says how much); all: every message already there; date: "
        "the messages received on or after start_date. Later runs take what arrived since the last one.",
        group="Reading",
        show_if={"action": "get"},
    )
    start_date: date | None = setting(
        None,
        title="Start date",
        help="With start_from: date, the first run takes the mail received on or after this date (YYYY-MM-DD).",
        group="Reading",
        show_if={"action": "get", "start_from": "date"},
    )

    commit_failed_messages: bool = setting(
        False,
        title="Commit failed messages",
        help="Also delete, move or mark as read (and pass by the watermark) a message some of whose documents "
        "failed later in the process. Off (the default): such a message stays on the server as it was and "
        "the next run reads it again; the other messages are committed.",
        group="Reading",
        show_if={"action": "get"},
    )
    max_mime_depth: int = setting(
        50,
        title="Deepest MIME nesting",
        help="A message whose multiparts nest deeper than this fails alone as broken (it stays on the server).",
        group="Limits", advanced=True,
        ge=1,
        le=200,
        show_if={"action": "get"},
    )
    max_header_fields: int = setting(
        1000,
        title="Most header fields",
        help="A message (or one of its parts) with more header fields than this fails alone as broken.",
        group="Limits", advanced=True,
        ge=10,
        show_if={"action": "get"},
    )
    max_header_bytes: int = setting(
        1024 * 1024,
        title="Most header bytes",
        help="A message (or one of its parts) whose header fields take more bytes than this fails alone as "
        "broken.",
        group="Limits", advanced=True,
        ge=1024,
        show_if={"action": "get"},
    )

    @field_validator("from_", "to", "cc", "bcc", "reply_to", "from_address")
    @classmethod
    def _addresses(cls, value: str, info) -> str:  # noqa: ANN001 - pydantic's ValidationInfo
        field = "from" if info.field_name == "from_" else info.field_name
        return _check_address_list(value, field)

    @field_validator("from_")
    @classmethod
    def _one_sender(cls, value: str) -> str:
        if len(parse_addresses(value)) > 1:
            raise ValueError("from holds more than one address: write one sender")
        return value

    @field_validator("dsn_notify", mode="before")
    @classmethod
    def _dsn_notify(cls, value: object) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, str | list) or not all(isinstance(item, str) for item in value):
            raise ValueError("dsn_notify: write a list such as [failure, delay], or never")
        try:
            return list(parse_notify(value))
        except ValueError as exc:
            raise ValueError(f"dsn_notify: {exc}") from None

    @field_validator("list_unsubscribe")
    @classmethod
    def _list_unsubscribe(cls, value: str) -> str:
        try:
            parse_unsubscribe(value)
        except HeaderError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _start_date_needed(self) -> MailOperation:
        if self.action == "get" and self.start_from == "date" and self.start_date is None:
            raise setting_error("start_date", "start_from is date but start_date is blank",
                                fix="set start_date (YYYY-MM-DD)")
        return self

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[str] = set()
        for name, text in value.items():
            try:
                check_header_name(name)
            except HeaderError as exc:
                raise ValueError(f"headers: {exc}") from None
            if name.lower() in seen:
                raise ValueError(f"headers: {name} is given twice (header names compare case-blind)")
            seen.add(name.lower())
            if re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", text):
                raise ValueError(f"headers: the value of {name} must be one line of text (it holds a line break "
                                 "or another control character)")
        return value

    @field_validator("inline_images")
    @classmethod
    def _cids(cls, value: dict[str, str]) -> dict[str, str]:
        for cid, path in value.items():
            if not _CID_NAME.match(cid):
                raise ValueError(f"inline_images: {cid!r} is not a usable cid: use letters, digits and . _ - @ "
                                 "(the HTML refers to it as cid:NAME)")
            if not path.strip():
                raise ValueError(f"inline_images: {cid} has no file: write {cid}: PATH")
        return value

    @field_validator("attachments")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        if any(not path.strip() for path in value):
            raise ValueError("attachments: a path is blank: write each file's path, or remove the entry")
        return value

    @field_validator("attachment_content_type", "body_content_type")
    @classmethod
    def _content_type(cls, value: str) -> str:
        return str(parse_content_type(value))

    @field_validator("subject", "file_name", "subject_filter")
    @classmethod
    def _one_line(cls, value: str, info) -> str:  # noqa: ANN001 - pydantic's ValidationInfo
        if re.search(r"[\r\n]", value):
            raise ValueError(f"{info.field_name} must be one line (it holds a line break)")
        return value
