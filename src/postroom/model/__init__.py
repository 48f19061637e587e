"""Pure data: components, the process graph, value sources; YAML load and dump.

``dump``, ``load_file`` and ``load_text`` import PyYAML on first use (``__getattr__``): a run
reads its components from the repository as JSON.
"""

from typing import TYPE_CHECKING, Any

from ._components import (
    COMPONENT_TYPES,
    FOLDER_PART_MAX,
    Component,
    Connection,
    CrossReference,
    MapComponent,
    Operation,
    Process,
    ProcessPropertySet,
    Profile,
    check_process_graph,
    parse_component,
    slugify,
)
from ._datepatterns import READ_LETTERS, WRITE_LETTERS
from ._environments import Environment, Extensions
from ._loaded import Loaded
from ._messageformat import (
    MessageFormatError,
    QuotedPlaceholder,
    compile_message,
    quoted_placeholders,
    render,
)
from ._schedules import CATCH_UP, Schedule, check_cron, check_timezone
from ._shapes import (
    SHAPE_MODELS,
    CombineStep,
    ExceptionShape,
    FlowControlShape,
    MapShape,
    MessageShape,
    NotifyShape,
    ProcessCallShape,
    PropertyEntry,
    ReturnDocumentsShape,
    ScriptStep,
    SetPropertiesShape,
    Shape,
    ShapeBase,
    SplitStep,
    StartShape,
    TryCatchShape,
    outlets_of,
    primary_outlet,
)
from ._values import SOURCE_KINDS, ValueSource, parse_source

if TYPE_CHECKING:
    from ._yaml import dump, load_file, load_text

__all__ = [
    "READ_LETTERS",
    "WRITE_LETTERS",
    "CATCH_UP",
    "COMPONENT_TYPES",
    "Schedule",
    "check_cron",
    "check_timezone",
    "FOLDER_PART_MAX",
    "Component",
    "Connection",
    "Environment",
    "Extensions",
    "CrossReference",
    "MapComponent",
    "Loaded",
    "MessageFormatError",
    "QuotedPlaceholder",
    "Operation",
    "Process",
    "ProcessPropertySet",
    "PropertyEntry",
    "Shape",
    "ShapeBase",
    "StartShape",
    "MapShape",
    "MessageShape",
    "NotifyShape",
    "ExceptionShape",
    "SetPropertiesShape",
    "TryCatchShape",
    "ProcessCallShape",
    "ReturnDocumentsShape",
    "FlowControlShape",
    "SplitStep",
    "CombineStep",
    "ScriptStep",
    "Profile",
    "SHAPE_MODELS",
    "SOURCE_KINDS",
    "StartShape",
    "ValueSource",
    "check_process_graph",
    "compile_message",
    "dump",
    "load_file",
    "load_text",
    "outlets_of",
    "parse_component",
    "parse_source",
    "primary_outlet",
    "quoted_placeholders",
    "render",
    "slugify",
]


def __getattr__(name: str) -> Any:
    if name in ("dump", "load_file", "load_text"):
        from . import _yaml

        return getattr(_yaml, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
