"""What the POP3 and IMAP readers need of the session that owns them.

:class:`~.get.MailGetSession` satisfies :class:`ReaderHost`; the readers depend on this
protocol, not on ``get``, so the import arrows point one way (get -> readers -> here).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import IO, Protocol

from ...sdk import Document, Failed, RunContext
from ._inbound import Inbound
from ._marks import MarkStore
from ._selection import Selection
from .spec import MailOperation

__all__ = ["ReaderHost"]


class ReaderHost(Protocol):
    """The session side a reader uses: settings, watermarks, documents and stopping."""

    @property
    def operation(self) -> MailOperation: ...

    @property
    def context(self) -> RunContext: ...

    @property
    def inbound(self) -> Inbound: ...

    @property
    def selection(self) -> Selection: ...

    @property
    def stopping(self) -> threading.Event: ...

    @property
    def IDLE_SLICE(self) -> float: ...  # the session's class constant

    @property
    def POLL_SECONDS(self) -> float: ...  # the session's class constant

    @property
    def marks(self) -> MarkStore: ...

    def resource_key(self) -> str: ...

    def read_message(self, raw: IO[bytes], received: datetime | None, extra: dict[str, str],
                     label: str) -> list[Document] | Failed: ...

    def sleep(self, seconds: float) -> None: ...
