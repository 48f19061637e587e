"""What a POP3 or IMAP reader is given: its inputs as one frozen value (:class:`ReaderInputs`).

The session (:class:`~.get.MailGetSession`) builds it once, at the first read, and hands it
to the reader; a reader never sees the session. Messages become documents through the pure
function :func:`~._message.message_documents` (settings, limits and the raw bytes in,
documents or a ``Failed`` out), the role Camel's ``MailBinding`` plays. Waiting for new mail
(IMAP IDLE) gets what it needs as arguments: the stop event and the two intervals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from ...sdk import Document, Failed
from ._inbound import Inbound
from ._marks import MarkStore
from ._message import message_documents
from ._parse import Limits
from ._selection import Selection
from .spec import MailOperation

__all__ = ["ReaderInputs"]


@dataclass(frozen=True)
class ReaderInputs:
    """A reader's inputs: settings, selection, watermark store, and where to log."""

    operation: MailOperation  # what to read and what to do once the execution succeeded
    inbound: Inbound  # the server: address, TLS, credentials
    selection: Selection  # the from, subject and since filters
    marks: MarkStore  # this operation's typed watermark for this mailbox and selection
    mailbox: str  # the resource key (imap://user@host:993/INBOX), for log lines
    limits: Limits  # MIME depth and header limits of one message
    dry_run: bool
    log: logging.Logger

    @property
    def folder(self) -> str:
        return self.operation.folder or "INBOX"

    def documents(self, raw: IO[bytes], received: datetime | None, extra: dict[str, str],
                  label: str) -> list[Document] | Failed:
        """The documents of one fetched message, or a Failed when it is broken."""
        return message_documents(raw, self.operation, self.limits, received=received, extra=extra, label=label,
                                 warn=self.log.warning)
