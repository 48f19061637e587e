"""The Document: bytes plus properties, travelling through every shape.

A document's bytes live in memory up to ``SPOOL_THRESHOLD``; larger data is written to a
file in the current spool directory (set by the engine for each execution and removed
when the execution ends). Documents are cheap to copy: the bytes (or the spool file) are
shared and never changed in place; properties are copied on :meth:`copy`.
"""

from __future__ import annotations

import contextvars
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["Document", "SPOOL_THRESHOLD", "spool_directory"]

SPOOL_THRESHOLD = 1024 * 1024

_NONE: Mapping[str, str] = {}

_spool_dir: contextvars.ContextVar[str | None] = contextvars.ContextVar("postroom_spool_dir", default=None)


class spool_directory:
    """Context manager: documents created inside spill to files under ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._token: contextvars.Token | None = None

    def __enter__(self) -> str:
        os.makedirs(self.path, exist_ok=True)
        self._token = _spool_dir.set(self.path)
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _spool_dir.reset(self._token)


class _Spooled:
    """Bytes kept in a file; removed when the last document sharing it is gone."""

    __slots__ = ("path", "size", "__weakref__")

    def __init__(self, data: bytes | None = None, source: IO[bytes] | None = None) -> None:
        directory = _spool_dir.get() or tempfile.gettempdir()
        fd, self.path = tempfile.mkstemp(prefix="doc-", suffix=".bin", dir=directory)
        size = 0
        with os.fdopen(fd, "wb") as out:
            if data is not None:
                out.write(data)
                size = len(data)
            if source is not None:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
                    size += len(chunk)
        self.size = size

    def read(self) -> bytes:
        return Path(self.path).read_bytes()

    def __del__(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass


class Document:
    """Bytes plus properties.

    ``properties`` holds document properties set by connectors or Set Properties
    (``mail.to_address``, ``disk.file_name``...); ``dynamic`` holds the user's dynamic
    document properties (``dynamic.NAME`` in a process file). Values are strings.

    Inbound and outbound values (SEMANTICS.md "Properties reading and writing"): what an
    inbound connector recorded about where a document came from (the From, To and Subject
    of a fetched email) is marked with :meth:`mark_inbound`. Reading a property gives the
    value in ``properties`` whatever set it; an outbound connector asks :meth:`outbound`,
    which gives only values set for it in this process: a value still equal to the one
    the inbound connector recorded, and not set again by :meth:`set_property`, is None.
    """

    __slots__ = ("_data", "_spooled", "properties", "dynamic", "origin", "seq", "view", "_inbound")

    def __init__(
        self,
        data: bytes | str = b"",
        properties: Mapping[str, str] | None = None,
        dynamic: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._data: bytes | None
        self._spooled: _Spooled | None
        if len(data) > SPOOL_THRESHOLD:
            self._data, self._spooled = None, _Spooled(data=data)
        else:
            self._data, self._spooled = data, None
        self.properties: dict[str, str] = dict(properties) if properties else {}
        self.dynamic: dict[str, str] = dict(dynamic) if dynamic else {}
        # The document as it entered the innermost Try/Catch (for the catch path).
        # Engine bookkeeping: where a failure inside a Try path goes, and the number
        # under which the execution record names this document (-1 until assigned).
        self.origin: object | None = None
        self.seq: int = -1
        # The parsed view of the data (a CSV record's reader...) as ``(key, view)``, or None:
        # kept by :meth:`cached` and :meth:`keep_view`, read by the engine's value sources.
        self.view: tuple[str, Any] | None = None
        self._inbound: Mapping[str, str] = _NONE

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_stream(cls, stream: IO[bytes], properties: Mapping[str, str] | None = None) -> Document:
        """Read a stream without holding more than the threshold in memory."""
        head = stream.read(SPOOL_THRESHOLD + 1)
        if len(head) <= SPOOL_THRESHOLD:
            return cls(head, properties)
        doc = cls(b"", properties)
        doc._data, doc._spooled = None, _Spooled(data=head, source=stream)
        return doc

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], properties: Mapping[str, str] | None = None) -> Document:
        with open(path, "rb") as handle:
            return cls.from_stream(handle, properties)

    # -- data ---------------------------------------------------------------------
    @property
    def data(self) -> bytes:
        if self._spooled is not None:
            return self._spooled.read()
        return self._data  # type: ignore[return-value]

    @property
    def size(self) -> int:
        return self._spooled.size if self._spooled is not None else len(self._data or b"")

    @property
    def spooled(self) -> bool:
        return self._spooled is not None

    def text(self, encoding: str = "utf-8", errors: str = "replace") -> str:
        return self.data.decode(encoding, errors)

    def open(self) -> IO[bytes]:
        """A binary stream over the data (a file for spooled documents)."""
        if self._spooled is not None:
            return open(self._spooled.path, "rb")
        import io

        return io.BytesIO(self._data or b"")

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        with self.open() as stream:
            while chunk := stream.read(size):
                yield chunk

    # -- derivation -----------------------------------------------------------------
    def copy(self) -> Document:
        """A new document sharing the bytes, with its own copy of the properties."""
        # (a Document's own members, set on the new one: not another class's private members)
        new = Document.__new__(Document)
        new._data, new._spooled = self._data, self._spooled  # noqa: SLF001
        new.properties = dict(self.properties)
        new.dynamic = dict(self.dynamic)
        new.origin = self.origin
        new.seq = self.seq
        new.view = self.view
        new._inbound = self._inbound  # noqa: SLF001
        return new

    def with_data(self, data: bytes | str) -> Document:
        """A new document with other bytes and its own copy of the same properties."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > SPOOL_THRESHOLD:
            new = Document(data, self.properties, self.dynamic)
        else:  # the common case, without a second pass through the constructor's checks
            new = Document.__new__(Document)
            new._data, new._spooled, new.view = data, None, None  # noqa: SLF001
            new.properties = dict(self.properties)
            new.dynamic = dict(self.dynamic) if self.dynamic else {}
        new.origin = self.origin
        new.seq = self.seq
        new._inbound = self._inbound  # noqa: SLF001
        return new

    # -- inbound and outbound values ----------------------------------------------------
    def mark_inbound(self, names: Iterable[str] | None = None) -> Document:
        """Mark properties (all of them by default) as recorded by an inbound connector:
        readable as ever, but not taken by an outbound connector (see :meth:`outbound`)."""
        chosen = self.properties.keys() if names is None else names
        inbound = dict(self._inbound)
        inbound.update({name: self.properties[name] for name in chosen if name in self.properties})
        self._inbound = inbound
        return self

    def set_property(self, name: str, value: str) -> None:
        """Set a property for what follows (Set Properties, a Map): an outbound value."""
        self.properties[name] = value
        if name in self._inbound:
            self._inbound = {k: v for k, v in self._inbound.items() if k != name}

    def outbound(self, name: str) -> str | None:
        """The value of ``name`` set for an outbound connector in this process, or None
        when it is unset or is only what an inbound connector recorded."""
        value = self.properties.get(name)
        if value is not None and name in self._inbound and self._inbound[name] == value:
            return None
        return value

    def keep_marks(self, other: Document) -> None:
        """Carry ``other``'s inbound marks onto this document (made from its properties)."""
        self._inbound = other._inbound

    # -- engine cache (a parsed view of the data) -----------------------------------------
    # A document's data never changes once it is made (other data makes another document,
    # which starts without a view; a copy shares the data and so the view): the view is
    # kept under its key alone.
    def cached(self, key: str, compute):  # noqa: ANN001 - internal helper
        """One parsed view of the data (e.g. a CSV record), kept with the document."""
        cache = self.view
        if cache is not None and cache[0] == key:
            return cache[1]
        value = compute(self)
        self.view = (key, value)
        return value

    def keep_view(self, key: str, value: Any) -> None:
        """Keep ``value`` as the parsed view ``key`` of the data, as :meth:`cached` would have
        computed it (a split that has just parsed the record)."""
        self.view = (key, value)

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        """Pickled (the engine's spool, past its memory limit): every slot but the parsed
        view of the data, which may hold a function (a JSON reader) and is made again."""
        state = {name: getattr(self, name) for name in self.__slots__}
        state["view"] = None
        return None, state

    def __repr__(self) -> str:
        preview = self.data[:40] if not self.spooled else b"<spooled>"
        return f"Document({preview!r}, size={self.size}, properties={self.properties!r})"
