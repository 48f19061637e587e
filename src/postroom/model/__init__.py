"""Pure data: components, the process graph, value sources; YAML load and dump."""

from ._components import (
    COMPONENT_TYPES,
    FOLDER_PART_MAX,
    Component,
    Connection,
    Operation,
    Process,
    ProcessPropertySet,
    Profile,
    check_process_graph,
    parse_component,
    slugify,
)
from ._messageformat import (
    MessageFormatError,
    QuotedPlaceholder,
    compile_message,
    quoted_placeholders,
    render,
)
from ._shapes import SHAPE_MODELS, PropertyEntry, StartShape, outlets_of, primary_outlet
from ._values import SOURCE_KINDS, ValueSource, parse_source
from ._yaml import Loaded, dump, load_file, load_text

__all__ = [
    "COMPONENT_TYPES",
    "FOLDER_PART_MAX",
    "Component",
    "Connection",
    "Loaded",
    "MessageFormatError",
    "QuotedPlaceholder",
    "Operation",
    "Process",
    "ProcessPropertySet",
    "PropertyEntry",
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
