"""The shapes of a process (CONTRACT.md, "Shape reference"), one pydantic model each."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._messageformat import MessageFormatError, compile_message
from ._values import Source, SourceList

__all__ = ["SHAPE_MODELS", "ProcessCallShape", "ReturnDocumentsShape", "FlowControlShape", "PropertyEntry", "Shape", "ShapeBase", "outlets_of", "primary_outlet"]

Comparison = Literal["equals", "not_equals", "greater", "greater_or_equal", "less", "less_or_equal", "regex", "wildcard"]


class ShapeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    label: str | None = Field(None, description="A name shown on the canvas and in logs.")

    def outlets(self) -> list[tuple[str, str | None]]:
        """(outlet name, next shape id) in the order paths run."""
        nxt = getattr(self, "next", None)
        return [("next", nxt)]


class _TextShape(ShapeBase):
    """Shapes whose text uses numbered placeholders."""

    @model_validator(mode="after")
    def _check_text(self) -> Self:
        text = getattr(self, "text", None)
        if text is None:
            text = getattr(self, "message", "")
        try:
            compile_message(text or "", len(self.parameters))  # type: ignore[attr-defined]
        except MessageFormatError as exc:
            raise ValueError(str(exc)) from None
        return self


class StartShape(ShapeBase):
    type: Literal["start"]
    mode: Literal["no_data", "data_passthrough", "connector", "listener"] = Field(
        "no_data", description="Where the documents come from."
    )
    connection: str | None = Field(None, description="Connection id (connector and listener modes).")
    operation: str | None = Field(None, description="Operation id (connector and listener modes).")
    interval_seconds: float | None = Field(None, description="Listener: polling interval.")
    next: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.mode in ("connector", "listener") and not (self.connection and self.operation):
            raise ValueError(f"a start shape in mode {self.mode} needs connection and operation ids")
        return self

    def binding(self) -> tuple[str, str]:
        """The connection and operation ids of a connector or listener start (validation
        guarantees both are set in those modes)."""
        if not (self.connection and self.operation):
            raise ValueError(f"a start shape in mode {self.mode} reads from no connection")
        return self.connection, self.operation


class MessageShape(_TextShape):
    type: Literal["message"]
    text: str = Field(..., description="The new document data; {1}, {2}... are the parameters.")
    parameters: SourceList = Field(default_factory=list)
    combine: bool = Field(False, description="Combine all documents into one before building the message.")
    next: str | None = None


class PropertyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    property: str = Field(..., description="mail.to_address, dynamic.NAME, process.NAME or dynamic_process.NAME")
    value: SourceList = Field(default_factory=list)
    persist: bool = False

    @field_validator("property")
    @classmethod
    def _check_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("property name is empty")
        for prefix in ("dynamic.", "process.", "dynamic_process."):
            if value.startswith(prefix) and len(value) == len(prefix):
                raise ValueError(f"{value!r} needs a name after the prefix")
        return value

    @model_validator(mode="after")
    def _check_persist(self) -> Self:
        if self.persist and not self.property.startswith("dynamic_process."):
            raise ValueError("persist: true applies to dynamic process properties (dynamic_process.NAME) only")
        return self


class SetPropertiesShape(ShapeBase):
    type: Literal["set_properties"]
    properties: list[PropertyEntry] = Field(default_factory=list)
    next: str | None = None


class SplitStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["split"]
    profile_type: Literal["flat_file", "json", "xml"] = "flat_file"
    by: Literal["line", "profile"] = "line"
    batch_count: int = Field(0, ge=0)
    headers: Literal["none", "remove", "retain"] = "none"
    profile: str | None = None
    link_element: str | None = None
    element: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.profile_type in ("json", "xml") and not self.element:
            raise ValueError(f"a {self.profile_type} split needs element: the path of the repeating element")
        if self.by == "profile" and not self.link_element:
            raise ValueError("a split by profile needs link_element: the column whose value groups records")
        return self


class CombineStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["combine"]
    profile_type: Literal["flat_file", "json", "xml", "none"] = "none"
    element: str | None = Field(None, description="XML: the root element wrapping the combined documents.")


class SearchReplaceStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["search_replace"]
    pattern: str
    replacement: str = ""

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return value


class Base64EncodeStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["base64_encode"]


class Base64DecodeStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["base64_decode"]


class CharacterEncodeStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["character_encode", "character_decode"]
    encoding: str = "utf-8"

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown character encoding {value!r}") from None
        return value


class ZipStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["zip", "unzip"]


class ScriptStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["script"]
    language: Literal["python"] = "python"
    code: str

    @field_validator("code")
    @classmethod
    def _check_code(cls, value: str) -> str:
        try:
            compile(value, "<script step>", "exec")
        except SyntaxError as exc:
            raise ValueError(f"the Python script does not compile: {exc.msg} (script line {exc.lineno})") from None
        return value


Step = Annotated[
    SplitStep | CombineStep | SearchReplaceStep | Base64EncodeStep | Base64DecodeStep | CharacterEncodeStep
    | ZipStep | ScriptStep,
    Field(discriminator="type"),
]


class DataProcessShape(ShapeBase):
    type: Literal["data_process"]
    steps: list[Step] = Field(default_factory=list)
    profile: str | None = None
    next: str | None = None


class DecisionShape(ShapeBase):
    type: Literal["decision"]
    first: Source
    comparison: Comparison = "equals"
    second: Source = Field(default_factory=lambda: {"static": ""})  # type: ignore[assignment]
    profile: str | None = None
    true: str | None = None
    false: str | None = None

    def outlets(self) -> list[tuple[str, str | None]]:
        return [("true", self.true), ("false", self.false)]


class BranchShape(ShapeBase):
    type: Literal["branch"]
    branches: list[str] = Field(..., min_length=2, max_length=25)

    def outlets(self) -> list[tuple[str, str | None]]:
        return [(f"branch {i + 1}", target) for i, target in enumerate(self.branches)]


class RouteCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comparison: Comparison = "equals"
    value: str = ""
    next: str | None = None


class RouteShape(ShapeBase):
    type: Literal["route"]
    by: Source
    cases: list[RouteCase] = Field(default_factory=list)
    default: str | None = None
    profile: str | None = None

    def outlets(self) -> list[tuple[str, str | None]]:
        return [(f"case {i + 1}", case.next) for i, case in enumerate(self.cases)] + [("default", self.default)]


class ConnectorShape(ShapeBase):
    type: Literal["connector"]
    connection: str
    operation: str
    next: str | None = None


class NotifyShape(_TextShape):
    type: Literal["notify"]
    level: Literal["info", "warning", "error"] = "info"
    message: str = ""
    parameters: SourceList = Field(default_factory=list)
    next: str | None = None


class ExceptionShape(_TextShape):
    type: Literal["exception"]
    message: str = "Exception shape reached"
    parameters: SourceList = Field(default_factory=list)
    stop_process: bool = False

    def outlets(self) -> list[tuple[str, str | None]]:
        return []


class TryCatchShape(ShapeBase):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, title="Try/Catch")
    type: Literal["try_catch"]
    retry_count: int = Field(0, ge=0, le=5)
    failure_trigger: Literal["document_errors", "all_errors"] = "document_errors"
    try_: str | None = Field(None, alias="try")
    catch: str | None = None

    def outlets(self) -> list[tuple[str, str | None]]:
        return [("try", self.try_), ("catch", self.catch)]


class MapShape(ShapeBase):
    """Each document becomes the map's target profile's form; properties carry over."""

    type: Literal["map"]
    map: str = Field(..., min_length=1, description="Id of the map component.")
    next: str | None = None


class StopShape(ShapeBase):
    type: Literal["stop"]
    continue_: bool = Field(True, alias="continue")

    def outlets(self) -> list[tuple[str, str | None]]:
        return []


class ProcessCallShape(ShapeBase):
    """Process Call: runs another process on the documents; what reaches its Return Documents goes on."""

    type: Literal["process_call"]
    process: str = Field(..., description="Id of the process to call; its start shape is data_passthrough.")
    wait: bool = Field(True, description="Wait for the called process and go on with what it returns; "
                                         "false: start it and pass the input documents on at once.")
    abort_on_error: bool = Field(True, description="A failure in the called process fails this shape's documents "
                                                   "(the execution, unless a Try/Catch catches all errors).")
    next: str | None = None


class ReturnDocumentsShape(ShapeBase):
    """Return Documents: ends a path of a called process; its documents go back to the caller."""

    type: Literal["return_documents"]

    def outlets(self) -> list[tuple[str, str | None]]:
        return []


class FlowControlShape(ShapeBase):
    """Flow Control: the rest of the path runs per document or per batch, optionally in parallel threads."""

    type: Literal["flow_control"]
    unit: Literal["document", "batch"] = Field("document", description="Run the rest of the path for each "
                                                                         "document, or for each batch.")
    batch_size: int = Field(100, ge=1, le=1_000_000, description="Documents per unit when unit is batch.")
    parallel: int = Field(1, ge=1, le=64, description="Units run at once, each in its own thread.")
    next: str | None = None


SHAPE_MODELS: dict[str, type[ShapeBase]] = {
    "start": StartShape,
    "message": MessageShape,
    "set_properties": SetPropertiesShape,
    "data_process": DataProcessShape,
    "decision": DecisionShape,
    "branch": BranchShape,
    "route": RouteShape,
    "connector": ConnectorShape,
    "notify": NotifyShape,
    "exception": ExceptionShape,
    "try_catch": TryCatchShape,
    "stop": StopShape,
    "process_call": ProcessCallShape,
    "return_documents": ReturnDocumentsShape,
    "flow_control": FlowControlShape,
    "map": MapShape,
}

Shape = Annotated[
    StartShape | MessageShape | SetPropertiesShape | DataProcessShape | DecisionShape | BranchShape | RouteShape
    | ConnectorShape | NotifyShape | ExceptionShape | TryCatchShape | StopShape | ProcessCallShape
    | ReturnDocumentsShape | FlowControlShape | MapShape,
    Field(discriminator="type"),
]


def outlets_of(shape: ShapeBase) -> list[tuple[str, str | None]]:
    return shape.outlets()


def primary_outlet(shape: Any) -> str | None:
    outs = shape.outlets()
    return outs[0][0] if outs else None
