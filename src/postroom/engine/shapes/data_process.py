"""Data Process: an ordered list of steps over the document stream."""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from ...errors import ConfigError, PostroomError
from ...model import CombineStep, Profile, ScriptStep, SplitStep
from ...sdk import Document
from .._combine import combine_documents
from .._flatfile import ERROR, FIELDS, TEXT, Record, flat_readers, iter_records, record_bytes
from .._parse import parse_json, parse_xml
from .._profiles import record_problems
from .._sandbox import Sandbox, SandboxResult, ScriptLimits
from ._base import Outputs, ShapeRunner
from ._script import SCRIPT_NAMES, SCRIPT_PRELUDE, as_text, next_chunk, script_outputs


class DataProcessRunner(ShapeRunner):
    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        stream: Iterator[Document] = (d for batch in batches for d in batch)
        for index, step in enumerate(self.model.steps):
            stream = self._step(step, index + 1, stream)
        if any(step.type in ("split", "unzip", "script") for step in self.model.steps):
            stream = self._renumber(stream)
        size = self.ctx.batch_size
        while True:
            batch = list(itertools.islice(stream, size))
            if not batch:
                return
            yield "next", batch

    @staticmethod
    def _renumber(docs: Iterator[Document]) -> Iterator[Document]:
        """Documents a split makes are new: the record numbers them when they enter the next shape."""
        for doc in docs:
            doc.seq = -1
            yield doc

    # -- steps -------------------------------------------------------------------------
    def _step(self, step: Any, number: int, docs: Iterator[Document]) -> Iterator[Document]:
        # step: any Step model; dispatched on step.type, which mypy cannot narrow the union by
        kind = step.type
        if kind == "split":
            return self._split(step, docs)
        if kind == "combine":
            return self._combine(step, docs)
        if kind == "script":
            return self._script(step, number, docs)
        return self._per_document(step, number, docs)

    def _per_document(self, step: Any, number: int, docs: Iterator[Document]) -> Iterator[Document]:
        kind = step.type
        pattern = re.compile(step.pattern) if kind == "search_replace" else None
        for doc in docs:
            try:
                if kind == "search_replace":
                    text = doc.text(errors="strict")
                    yield doc.with_data(pattern.sub(step.replacement, text))  # type: ignore[union-attr]
                elif kind == "base64_encode":
                    yield doc.with_data(base64.b64encode(doc.data))
                elif kind == "base64_decode":
                    yield doc.with_data(base64.b64decode(doc.data, validate=False))
                elif kind == "character_encode":
                    yield doc.with_data(doc.text(errors="strict").encode(step.encoding))
                elif kind == "character_decode":
                    yield doc.with_data(doc.data.decode(step.encoding).encode("utf-8"))
                elif kind == "zip":
                    buf = io.BytesIO()
                    name = doc.properties.get("disk.file_name") or "document.dat"
                    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
                        archive.writestr(name, doc.data)
                    yield doc.with_data(buf.getvalue())
                elif kind == "unzip":
                    with zipfile.ZipFile(io.BytesIO(doc.data)) as archive:
                        for info in archive.infolist():
                            if info.is_dir():
                                continue
                            child = doc.with_data(archive.read(info))
                            child.properties["disk.file_name"] = info.filename.rsplit("/", 1)[-1]
                            yield child
            except (UnicodeError, binascii.Error, zipfile.BadZipFile, ValueError) as exc:
                self.ctx.fail(doc, self.id, f"step {number} ({kind}) failed: {exc}")
            except Exception as exc:  # noqa: BLE001 - bad data that broke a step fails its document only
                self.ctx.fail(doc, self.id, f"step {number} ({kind}) failed: {type(exc).__name__}: {exc}")

    def _split(self, step: SplitStep, docs: Iterator[Document]) -> Iterator[Document]:
        for doc in docs:
            try:
                if step.profile_type == "flat_file":
                    yield from self._split_flat(step, doc)
                elif step.profile_type == "json":
                    yield from self._split_json(step, doc)
                else:
                    yield from self._split_xml(step, doc)
            except PostroomError:
                raise  # configuration (a link_element that is not a column): stops the execution
            except (UnicodeError, ValueError) as exc:
                self.ctx.fail(doc, self.id, f"split failed: {exc}")
            except Exception as exc:  # noqa: BLE001 - bad data that broke a parser fails its document only
                self.ctx.fail(doc, self.id, f"split failed: {type(exc).__name__}: {exc}")

    def _split_flat(self, step: SplitStep, doc: Document) -> Iterator[Document]:
        profile = self.ctx.profile(step.profile or self.model.profile, self.id)
        quote = profile.quote if profile else '"'
        delimiter = profile.delimiter if profile else ","
        with doc.open() as raw:
            records = iter_records(raw, delimiter, quote)
            header: Record | None = None
            if step.headers in ("remove", "retain"):
                header = next(records, None)
                if header is None:
                    return
                if header[ERROR] is not None:
                    raise ValueError(f"{_where(doc)}the header record cannot be read: {header[ERROR]}")
            good = self._good_records(doc, records, profile)
            if step.by == "profile":
                yield from self._split_linked(step, doc, good, header, profile)
                return
            per_doc = max(step.batch_count, 1)
            prefix = f"{header[TEXT]}\n" if step.headers == "retain" and header is not None else ""
            if per_doc == 1:
                view = _view_key(header, profile, step.profile or self.model.profile) if prefix else None
                if view is None:
                    for text, _, _, _ in good:
                        yield doc.with_data(prefix + text)
                    return
                reader = flat_readers(header[FIELDS])  # type: ignore[index] # set when there is a prefix
                for text, fields, _, _ in good:
                    child = doc.with_data(prefix + text)
                    child.keep_view(view, reader(fields))
                    yield child
            else:
                while True:
                    chunk = list(itertools.islice(good, per_doc))
                    if not chunk:
                        break
                    yield doc.with_data(prefix + "\n".join(record[TEXT] for record in chunk))

    def _good_records(self, doc: Document, records: Iterator[Record], profile: Profile | None) -> Iterator[Record]:
        """The records that can be read; each one that cannot (not UTF-8, a quoted field
        never closed) fails alone as a document holding its bytes, naming line and offset.
        With a profile (delimited, with fields), a record that does not fit it fails alone too."""
        check = profile if profile is not None and profile.fields and profile.layout != "fixed_width" else None
        for record in records:
            text, fields, line, error = record
            if error is not None:
                self.ctx.fail(doc.with_data(record_bytes(text)), self.id, f"split failed: {_where(doc)}{error}")
                continue
            if check is not None:
                problems = record_problems(check, fields)
                if problems:
                    self.ctx.fail(doc.with_data(text), self.id,
                                  f"split failed: {_where(doc)}line {line}: the record does not fit profile "
                                  f"{check.id}: " + "; ".join(problems[:5]))
                    continue
            yield record

    def _split_linked(self, step: SplitStep, doc: Document, records: Iterable[Record], header: Record | None,
                      profile: Profile | None) -> Iterator[Document]:
        if header is not None:
            names = header[FIELDS]
        elif profile is not None:
            names = [f.name for f in profile.fields]
        else:
            raise ConfigError("a split by profile needs a header line or a profile naming the columns",
                              shape=self.id, field="steps.profile")
        try:
            column = names.index(step.link_element or "")  # validation: set when by is profile
        except ValueError:
            raise ConfigError(f"link_element {step.link_element!r} is not a column ({', '.join(names)})",
                              shape=self.id, field="steps.link_element") from None
        prefix = f"{header[TEXT]}\n" if step.headers == "retain" and header is not None else ""
        group: list[str] = []
        key = None
        for text, row, _, _ in records:
            value = row[column] if column < len(row) else ""
            if group and value != key:
                yield doc.with_data(prefix + "\n".join(group))
                group = []
            key = value
            group.append(text)
        if group:
            yield doc.with_data(prefix + "\n".join(group))

    def _split_json(self, step: SplitStep, doc: Document) -> Iterator[Document]:
        data = parse_json(doc.data)
        node = data
        element = step.element or ""  # validation: set for a json split
        for part in [p for p in element.replace("[*]", "").lstrip("$").split(".") if p]:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
        items = node if isinstance(node, list) else [node]
        for item in items:
            yield doc.with_data(json.dumps(item, ensure_ascii=False))

    def _split_xml(self, step: SplitStep, doc: Document) -> Iterator[Document]:
        import xml.etree.ElementTree as ET

        root = parse_xml(doc.data)
        path = (step.element or "").strip("/")  # validation: set for an xml split
        if path.split("/")[0] == root.tag:
            path = "/".join(path.split("/")[1:]) or "."
        for element in root.iterfind(path if path != "." else "*"):
            yield doc.with_data(ET.tostring(element, encoding="unicode"))

    def _combine(self, step: CombineStep, docs: Iterator[Document]) -> Iterator[Document]:
        try:
            combined = combine_documents(docs, step.profile_type, step.element)
        except ValueError as exc:
            raise ConfigError(f"combine failed: a document is not {step.profile_type}: {exc}", shape=self.id) from None
        if combined is not None:
            yield combined

    def _script(self, step: ScriptStep, number: int, docs: Iterator[Document]) -> Iterator[Document]:
        """The script runs in a child process (see ``_sandbox``): one per step and execution,
        fed documents in batches."""
        sandbox = Sandbox(step.code, f"<script step {number} of shape {self.id}>", list(SCRIPT_NAMES),
                          ScriptLimits.from_env(), prelude=SCRIPT_PRELUDE)
        live = self.ctx.dynamic_process_properties
        warned = False
        try:
            while chunk := next_chunk(docs):
                items = [{"data": d.data, "properties": d.properties, "dynamic": d.dynamic} for d in chunk]
                results = sandbox.run(items, {"process_properties": live})
                for doc, result in zip(chunk, results, strict=True):
                    if sandbox.unconfined and not warned:
                        warned = True
                        self.ctx.log_line("warning", f"script step {number} runs without file confinement "
                                          f"({sandbox.unconfined}): it can read what Postroom's user can", self.id)
                    yield from self._script_result(doc, number, result)
        finally:
            sandbox.close()

    def _script_result(self, doc: Document, number: int, result: SandboxResult) -> Iterator[Document]:
        for level, line in result.logs:
            self.ctx.log_line(level if level in ("info", "warning", "error") else "info", line, self.id)
        changed = (result.state or {}).get("process_properties")
        if isinstance(changed, dict):
            live = self.ctx.dynamic_process_properties
            live.clear()
            live.update({str(k): as_text(v) for k, v in changed.items()})
        if not result.ok:
            self.ctx.fail(doc, self.id, f"script step {number} {result.error}")
            return
        try:
            outputs, props, dynamic = script_outputs(result.values, doc)
        except TypeError as exc:
            self.ctx.fail(doc, self.id, f"script step {number} {exc}")
            return
        for item in outputs:
            new = doc.with_data(item)
            new.properties, new.dynamic = dict(props), dict(dynamic)
            yield new

def _where(doc: Document) -> str:
    """The file a document came from, when it came from one, for the start of a message."""
    name = doc.properties.get("disk.file_name")
    return f"{name}: " if name else ""


def _view_key(header: Record | None, profile: Profile | None, profile_id: str | None) -> str | None:
    """The key under which a profile_element reads a record the split made (the header line,
    then the record), when what the split parsed is exactly what that read would parse: no
    profile (a comma-separated header that does not look like JSON or XML), or a delimited
    flat-file profile with a header. None: the document is parsed when it is read."""
    if header is None:
        return None
    if profile is None:
        head = header[TEXT][:1]
        return "" if head and not head.isspace() and head not in "{[<" else None
    if profile.profile_type == "flat_file" and profile.header and profile.layout != "fixed_width":
        return profile_id or ""
    return None
