"""Use cases shared by the CLI and the web API."""

from ._components import (
    ImportResult,
    collect_files,
    component_from_record,
    export_components,
    get_record,
    import_paths,
    validate_settings,
)
from ._run import (
    RepositoryRecorder,
    RunOptions,
    purge_expired,
    resume_execution,
    retention_days,
    run_process,
    settings_resolver,
)
from ._secrets import is_reference, resolve_references
from ._watermarks import describe_watermark, list_watermarks, reset_watermarks

__all__ = [
    "describe_watermark",
    "list_watermarks",
    "reset_watermarks",
    "ImportResult",
    "RepositoryRecorder",
    "RunOptions",
    "collect_files",
    "component_from_record",
    "export_components",
    "get_record",
    "import_paths",
    "is_reference",
    "purge_expired",
    "resolve_references",
    "resume_execution",
    "retention_days",
    "run_process",
    "settings_resolver",
    "validate_settings",
]
