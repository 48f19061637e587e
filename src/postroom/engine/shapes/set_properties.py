"""Set Properties: document, dynamic document, process and dynamic process properties."""

from __future__ import annotations

from ...model import SetPropertiesShape
from ...sdk import Document
from .._context import ExecutionContext
from .._values import Getter, compile_value
from ._base import PerDocument


class SetPropertiesRunner(PerDocument):
    def __init__(self, shape_id: str, model: SetPropertiesShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.entries: list[tuple[str, str, Getter]] = []
        for entry in model.properties:
            name = entry.property
            if name.startswith("dynamic_process."):
                kind, key = "dynamic_process", name[len("dynamic_process."):]
                if entry.persist:
                    ctx.persist_names.add(key)
            elif name.startswith("process."):
                kind, key = "process", name[len("process."):]
            elif name.startswith("dynamic."):
                kind, key = "dynamic", name[len("dynamic."):]
            else:
                kind, key = "document", name
            self.entries.append((kind, key, compile_value(list(entry.value), ctx, None, shape_id)))

        # every entry a document property: each set without choosing its kind again
        self.plain = [(key, get) for kind, key, get in self.entries] if all(
            kind == "document" for kind, _, _ in self.entries) else None

    def handle(self, doc: Document) -> tuple[str, Document]:
        default = self.default_profile
        if self.plain is not None:
            for key, get in self.plain:
                doc.set_property(key, get(doc, default))
            return "next", doc
        ctx = self.ctx
        for kind, key, get in self.entries:
            value = get(doc, default)
            if kind == "document":
                doc.set_property(key, value)
            elif kind == "dynamic":
                doc.dynamic[key] = value
            elif kind == "process":
                ctx.process_properties[key] = value
            else:
                ctx.dynamic_process_properties[key] = value
        return "next", doc
