"""The shapes of a process (CONTRACT.md, "Shape reference"), one pydantic model each."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ._messageformat import MessageFormatError, compile_message
from ._values import Source, SourceList

__all__ = ["SHAPE_MODELS", "ProcessCallShape", "ReturnDocumentsShape", "FlowControlShape", "PropertyEntry", "Shape", "ShapeBase", "outlets_of", "primary_outlet"]

Comparison = Literal["equals", "not_equals", "greater", "greater_or_equal", "less", "less_or_equal", "regex", "wildcard"]
#: Boomi's words for each comparison, in the order of :data:`Comparison`
COMPARISON_TITLES = ("Equal To", "Not Equal To", "Greater Than", "Greater Than or Equal To", "Less Than",
                     "Less Than or Equal To", "Regular Expression", "Wildcard")


def _choice(default: Any, titles: tuple[str, ...], **kw: Any) -> Any:
    """A Literal field whose JSON Schema names each value for the forms (``x-enumNames``, in the
    order of the Literal's values)."""
    return Field(default, json_schema_extra={"x-enumNames": list(titles)}, **kw)


def _step_items(title: str) -> Any:
    """``json_schema_extra`` for a list field: its items titled (``Step`` → Step 1, Step 2 in a form)."""

    def extra(schema: dict[str, Any]) -> None:
        items = schema.get("items")
        if isinstance(items, dict):
            items["title"] = title

    return extra


class ShapeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    label: str | None = Field(None, title="Label", description="A name shown on the canvas and in logs.")

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
    mode: Literal["no_data", "data_passthrough", "connector", "listener"] = _choice(
        "no_data", ("No Data", "Data Passthrough", "Connector", "Listener"), title="Type",
        description="Where the documents come from.")
    connection: str | None = Field(None, title="Connection",
                                   description="Connection id (connector and listener modes).")
    operation: str | None = Field(None, title="Operation", description="Operation id (connector and listener modes).")
    interval_seconds: float | None = Field(None, title="Polling Interval (seconds)",
                                           description="Listener: how often to look for new data.")
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
    text: str = Field(..., title="Message", description="The new document data; {1}, {2}... are the parameters.")
    parameters: SourceList = Field(default_factory=list, title="Parameters",
                                   description="The values of {1}, {2}... in order.")
    combine: bool = Field(False, title="Combine documents into a single message",
                          description="Combine all documents into one before building the message.")
    next: str | None = None


class PropertyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Property to Set")
    property: str = Field(..., title="Property",
                          description="mail.to_address, dynamic.NAME, process.NAME or dynamic_process.NAME")
    value: SourceList = Field(default_factory=list, title="Property Value",
                              description="The value, joined from these parts in order.")
    persist: bool = Field(False, title="Persist",
                          description="Keep a dynamic process property for the next execution.")

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
    properties: list[PropertyEntry] = Field(default_factory=list, title="Properties to Set")
    next: str | None = None


class SplitStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Split Documents")
    type: Literal["split"]
    profile_type: Literal["flat_file", "json", "xml"] = _choice("flat_file", ("Flat File", "JSON", "XML"),
                                                               title="Profile Type")
    by: Literal["line", "profile"] = _choice("line", ("Split by Line", "Split by Profile"), title="Split Options")
    batch_count: int = Field(0, ge=0, title="Batch Count", description="Records per document; 0: one each.")
    headers: Literal["none", "remove", "retain"] = _choice(
        "none", ("No column headers", "Remove first line as column headers",
                 "Retain first line as column headers"), title="Headers Option")
    profile: str | None = Field(None, title="Profile", description="Profile id (flat file: quote character, columns).")
    link_element: str | None = Field(None, title="Link Element",
                                     description="Split by Profile: the column whose value groups records.")
    element: str | None = Field(None, title="Element", description="JSON or XML: the path of the repeating element.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.profile_type in ("json", "xml") and not self.element:
            raise ValueError(f"a {self.profile_type} split needs element: the path of the repeating element")
        if self.by == "profile" and not self.link_element:
            raise ValueError("a split by profile needs link_element: the column whose value groups records")
        return self


class CombineStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Combine Documents")
    type: Literal["combine"]
    profile_type: Literal["flat_file", "json", "xml", "none"] = _choice(
        "none", ("Flat File", "JSON", "XML", "None"), title="Profile Type")
    element: str | None = Field(None, title="Element",
                                description="XML: the root element wrapping the combined documents.")


class SearchReplaceStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Search/Replace")
    type: Literal["search_replace"]
    pattern: str = Field(..., title="Text to Find", description="A regular expression.")
    replacement: str = Field("", title="Replace With")

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise PydanticCustomError(
                "setting", f"pattern is not a valid regular expression: {exc}",
                {"fix": "write a Python regular expression; a backslash makes a character literal, "
                        "as in \\( or \\."}) from None
        return value


class Base64EncodeStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Base64 Encode")
    type: Literal["base64_encode"]


class Base64DecodeStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Base64 Decode")
    type: Literal["base64_decode"]


class CharacterEncodeStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Character Encode/Decode")
    type: Literal["character_encode", "character_decode"] = _choice(
        ..., ("Character Encode", "Character Decode"), title="Direction")
    encoding: str = Field("utf-8", title="Character Set", description="Such as utf-8, iso-8859-1, windows-1252.")

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
    model_config = ConfigDict(extra="forbid", title="Zip/Unzip")
    type: Literal["zip", "unzip"] = _choice(..., ("Zip", "Unzip"), title="Direction")


class ScriptStep(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Custom Scripting")
    type: Literal["script"]
    language: Literal["python"] = _choice("python", ("Python",), title="Language")
    code: str = Field(..., title="Script")

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
    steps: list[Step] = Field(default_factory=list, title="Processing Steps", json_schema_extra=_step_items("Step"))
    profile: str | None = Field(None, title="Profile",
                                description="Profile id a flat-file split reads when its step names none.")
    next: str | None = None


class DecisionShape(ShapeBase):
    type: Literal["decision"]
    first: Source = Field(title="First Value", description="The value to compare.")
    comparison: Comparison = _choice("equals", COMPARISON_TITLES, title="Comparison")
    second: Source = Field(default_factory=lambda: {"static": ""}, title="Second Value",  # type: ignore[assignment]
                           description="The value to compare it with.")
    profile: str | None = Field(None, title="Profile", description="Profile id the Profile Element values read.")
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
    model_config = ConfigDict(extra="forbid", title="Route")
    comparison: Comparison = _choice("equals", COMPARISON_TITLES, title="Operator")
    value: str = Field("", title="Value")
    next: str | None = None


class RouteShape(ShapeBase):
    type: Literal["route"]
    by: Source = Field(title="Route By", description="The value the routes compare.")
    cases: list[RouteCase] = Field(default_factory=list, title="Routes", json_schema_extra=_step_items("Route"))
    default: str | None = None
    profile: str | None = Field(None, title="Profile", description="Profile id the Profile Element values read.")

    def outlets(self) -> list[tuple[str, str | None]]:
        return [(f"case {i + 1}", case.next) for i, case in enumerate(self.cases)] + [("default", self.default)]


class ConnectorShape(ShapeBase):
    type: Literal["connector"]
    connection: str = Field(title="Connection", description="Id of the connection component.")
    operation: str = Field(title="Operation", description="Id of the operation component.")
    next: str | None = None


class NotifyShape(_TextShape):
    type: Literal["notify"]
    level: Literal["info", "warning", "error"] = _choice("info", ("INFO", "WARNING", "ERROR"), title="Message Level")
    message: str = Field("", title="Message", description="Written to the process log; {1}, {2}... are the parameters.")
    parameters: SourceList = Field(default_factory=list, title="Parameters",
                                   description="The values of {1}, {2}... in order.")
    next: str | None = None


class ExceptionShape(_TextShape):
    type: Literal["exception"]
    message: str = Field("Exception shape reached", title="Message",
                         description="The error of each document; {1}, {2}... are the parameters.")
    parameters: SourceList = Field(default_factory=list, title="Parameters",
                                   description="The values of {1}, {2}... in order.")
    stop_process: bool = Field(False, title="Stop the whole process",
                               description="The first document to arrive ends the execution; "
                                           "else each document fails on its own.")

    def outlets(self) -> list[tuple[str, str | None]]:
        return []


class TryCatchShape(ShapeBase):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, title="Try/Catch")
    type: Literal["try_catch"]
    retry_count: int = Field(0, ge=0, le=5, title="Retry Count", description="Tries again up to 5 times.")
    failure_trigger: Literal["document_errors", "all_errors"] = _choice(
        "document_errors", ("Document Errors", "All Errors"), title="Failure Trigger")
    try_: str | None = Field(None, alias="try")
    catch: str | None = None

    def outlets(self) -> list[tuple[str, str | None]]:
        return [("try", self.try_), ("catch", self.catch)]


class MapShape(ShapeBase):
    """Each document becomes the map's target profile's form; properties carry over."""

    type: Literal["map"]
    map: str = Field(..., min_length=1, title="Map", description="Id of the map component.")
    next: str | None = None


class StopShape(ShapeBase):
    type: Literal["stop"]
    continue_: bool = Field(True, alias="continue", title="Continue processing other paths",
                            description="Off: the whole execution stops here.")

    def outlets(self) -> list[tuple[str, str | None]]:
        return []


class ProcessCallShape(ShapeBase):
    """Process Call: runs another process on the documents; what reaches its Return Documents goes on."""

    type: Literal["process_call"]
    process: str = Field(..., title="Process", description="Id of the process to call; its start shape is Data Passthrough (data_passthrough).")
    wait: bool = Field(True, title="Wait for process to complete?", description="Wait for the called process and go on with what it returns; "
                                         "off: start it and pass the input documents on at once.")
    abort_on_error: bool = Field(True, title="Abort if process fails?", description="A failure in the called process fails this shape's documents "
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
    unit: Literal["document", "batch"] = _choice(
        "document", ("Run each document individually", "Run documents in batches"), title="Document Batching",
        description="Run the rest of the path for each document, or for each batch.")
    batch_size: int = Field(100, ge=1, le=1_000_000, title="Batch Count",
                            description="Documents per batch (with Run documents in batches).")
    parallel: int = Field(1, ge=1, le=64, title="Number of Units", description="Units run at once, each in its own thread.")
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
