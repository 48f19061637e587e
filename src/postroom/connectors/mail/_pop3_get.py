"""The POP3 side of the Get operation (see :mod:`.get`): which messages to read, by UIDL,
and the commit (DELE) once the execution succeeded."""

from __future__ import annotations

from collections.abc import Iterator

from ...sdk import Document, Failed
from ._marks import Pop3Mark
from ._message import header_block, held_back, received_from_headers
from ._parse import parse_headers
from ._pop3 import Pop3Message, Pop3Session
from ._reader_inputs import ReaderInputs

__all__ = ["Pop3Reader"]


class Pop3Reader:
    """The POP3 side of a :class:`~.get.MailGetSession`: UIDLs taken and passed."""

    def __init__(self, inputs: ReaderInputs) -> None:
        self.inputs = inputs
        self.pop: Pop3Session | None = None
        self.loaded = False
        self.watermark: Pop3Mark | None = None
        self.present: set[str] = set()
        self.taken: dict[str, int] = {}  # UIDL -> message number in self.pop, read this execution
        self.kept: set[str] = set()  # passed this execution without being taken
        self.failed: set[str] = set()  # taken, but a document failed later in the process
        self.leftover: dict[str, int] = {}  # committed before, still on the server (to delete)
        self.stored = False  # the watermark in self.watermark is the repository's

    def _open(self) -> Pop3Session:
        if self.pop is None:
            self.pop = Pop3Session.open(self.inputs.inbound)
        return self.pop

    def _load(self) -> bool:
        """Load the watermark at the first read; True when there is none (a first run)."""
        self.loaded = True
        mark = self.inputs.marks.load()
        assert mark is None or isinstance(mark, Pop3Mark)
        self.watermark, self.stored = mark, mark is not None
        return mark is None

    def read(self) -> Iterator[Document | Failed]:
        s, op = self.inputs, self.inputs.operation
        pop = self._open()
        listing = pop.listing()
        by_uidl = {m.uidl: m for m in listing}
        self.present = set(by_uidl)
        first = not self.loaded and self._load()
        assert self.watermark is not None or first
        before_taken = set(self.watermark.taken) if self.watermark else set()
        before_kept = set(self.watermark.kept) if self.watermark else set()
        if op.delete_after_read:
            self.leftover = {u: by_uidl[u].number for u in before_taken if u in by_uidl}
        done = before_taken | before_kept | set(self.taken) | self.kept
        candidates = [m for m in listing if m.uidl not in done]
        if first:
            if op.start_from == "now":
                self.watermark = Pop3Mark.of([], [m.uidl for m in candidates])
                if not s.dry_run:
                    s.marks.save(self.watermark)
                    self.stored = True
                s.log.info(
                    f"first run on {s.mailbox}: {len(candidates)} message(s) already there are left alone "
                    "(start_from: now); set start_from: all or date to read them")
                return
            self.watermark = Pop3Mark()
        first_date = op.start_date if first and op.start_from == "date" else None
        needs_headers = bool(s.selection.filtering or first_date)
        # Which messages to read: with header filters, each is looked at first (TOP);
        # without, they are read in one pipelined stream.
        wanted: list[Pop3Message] = []
        for message in candidates:
            if op.max_messages and len(wanted) >= op.max_messages:
                break
            if needs_headers:
                headers = parse_headers(header_block(pop.top(message.number)))
                received = received_from_headers(headers)
                if (first_date and received.date() < first_date) or not s.selection.matches(headers, received):
                    self.kept.add(message.uidl)
                    continue
            wanted.append(message)
        uidl_of = {m.number: m.uidl for m in wanted}
        stream = pop.retrieve_many([m.number for m in wanted])
        try:
            for number, raw in stream:
                uidl = uidl_of[number]
                try:
                    result = s.documents(raw, None, {"mail.uidl": uidl}, f"POP3 message {number}")
                finally:
                    raw.close()
                if isinstance(result, Failed):
                    self.kept.add(uidl)
                    yield result
                    continue
                yield from result[:-1]
                self.taken[uidl] = number
                if result:
                    yield result[-1]
        finally:
            stream.close()

    def document_failed(self, properties: dict[str, str]) -> None:
        uidl = properties.get("mail.uidl")
        if uidl:
            self.failed.add(uidl)

    def commit(self) -> None:
        s, op = self.inputs, self.inputs.operation
        if not self.loaded or self.watermark is None:
            return
        failed = self.failed & set(self.taken)
        for uidl in failed:  # neither taken nor kept: the next run reads it again
            del self.taken[uidl]
        if s.dry_run:
            if self.taken:
                action = "deleted" if op.delete_after_read else "passed by the watermark"
                s.log.info(f"dry run: {len(self.taken)} message(s) would now be {action}")
            return
        if failed:
            s.log.warning(held_back(len(failed)))
        taken = (set(self.watermark.taken) & self.present) | set(self.taken)
        kept = (set(self.watermark.kept) & self.present) | self.kept
        watermark = Pop3Mark.of(taken, kept)
        if watermark != self.watermark or not self.stored:
            s.marks.save(watermark)
        self.watermark, self.stored = watermark, True
        due = {**self.leftover, **self.taken}
        if op.delete_after_read and due:
            pop = self.pop
            if pop is None or not pop.alive():
                if pop is not None:
                    pop.abandon()
                self.pop = pop = Pop3Session.open(s.inbound)
                numbers = {m.uidl: m.number for m in pop.listing()}
                due = {uidl: numbers[uidl] for uidl in due if uidl in numbers}
            for number in sorted(due.values()):
                pop.delete(number)
            self.pop = None
            pop.quit()
            s.log.info(f"deleted {len(due)} message(s) from {s.mailbox} after the execution succeeded")
        self.taken, self.kept, self.leftover, self.failed = {}, set(), {}, set()

    def close(self) -> None:
        pop, self.pop = self.pop, None
        if pop is not None:
            pop.abandon()
