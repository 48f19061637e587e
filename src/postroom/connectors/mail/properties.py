"""The Mail connector's document properties: the one list import checks names against and
the docs show (:attr:`postroom.sdk.Connector.document_properties`). A name the connector
reads or sets that is missing here fails ``tests/mail/test_mail_spec.py``."""

from __future__ import annotations

from ...sdk import DocumentProperty

__all__ = ["MAIL_PROPERTIES"]

MAIL_PROPERTIES: tuple[DocumentProperty, ...] = (
    DocumentProperty("mail.to_address", "Send: the recipients (overrides the operation's to); "
                     "get: the message's To addresses.", boomi="connector.mail.toAddress"),
    DocumentProperty("mail.from_address", "Send: the sender; get: the message's From address.",
                     boomi="connector.mail.fromAddress"),
    DocumentProperty("mail.cc_address", "Send: copy recipients; get: the message's Cc addresses.",
                     boomi="connector.mail.ccAddress"),
    DocumentProperty("mail.bcc_address", "Send: blind copy recipients.", boomi="connector.mail.bccAddress"),
    DocumentProperty("mail.reply_to_address", "Send: where replies go; get: the message's Reply-To.",
                     boomi="connector.mail.replyToAddress"),
    DocumentProperty("mail.subject", "Send: the subject line; get: the decoded subject.",
                     boomi="connector.mail.subject"),
    DocumentProperty("mail.file_name", "Send: the attachment's name; get: an attachment's name.",
                     boomi="connector.mail.fileName"),
    DocumentProperty("mail.body", "Send with disposition attachment: the body text.", boomi="connector.mail.body"),
    DocumentProperty("mail.text_body", "Send: the plain-text twin of an HTML body (else made from the HTML)."),
    DocumentProperty("mail.group", "Send with disposition attachment: documents of one batch with the same "
                     "value go in one email, each attached; the first addresses it."),
    DocumentProperty("mail.content_id", "Send, in a mail.group: the cid by which the HTML body shows this "
                     "document as an inline image (cid:NAME)."),
    DocumentProperty("mail.list_unsubscribe", "Send: where this recipient unsubscribes (an https:// URL "
                     "and/or mailto:); overrides the operation's list_unsubscribe."),
    DocumentProperty("mail.dsn_notify", "Send: the delivery notices asked for this document (failure, delay, "
                     "success, or never); overrides the operation's dsn_notify."),
    DocumentProperty("mail.bounce.<field>", "Get with recognize: bounces, on each delivery report or complaint: "
                     "kind (bounce, delay, delivered, complaint), recipient, action (failed, delayed, delivered, "
                     "relayed, expanded; a complaint's feedback type, such as abuse), status (such as 5.1.1), "
                     "diagnostic (what the receiving server said), original_message_id (the letter's Message-ID), "
                     "execution_id and journal_key (the send that letter came from, blank when unknown), "
                     "reported_at (ISO 8601)."),
    DocumentProperty("mail.from_name", "Get: the sender's display name."),
    DocumentProperty("mail.message_id", "After a send or get: the Message-ID.", boomi="connector.mail.messageId"),
    DocumentProperty("mail.received_date", "Get: when the message arrived (ISO 8601).",
                     boomi="connector.mail.receivedDate"),
    DocumentProperty("mail.content_type", "Send: the type of the document's data, inline or attached "
                     "(overrides attachment_content_type); get: the type of the document's body or attachment.",
                     boomi="connector.mail.contentType"),
    DocumentProperty("mail.headers.<Name>", "Get: every header of the message, by name."),
    DocumentProperty("mail.smtp_response", "After a send: the server's reply."),
    DocumentProperty("mail.refused_recipients", "After a send: recipients the server refused."),
    DocumentProperty("mail.uid", "Get over IMAP: the message's UID."),
    DocumentProperty("mail.folder", "Get over IMAP: the folder read."),
    DocumentProperty("mail.uidl", "Get over POP3: the message's UIDL."),
)
