"""Use cases shared by the CLI and the web API."""

from ..runtime import InputFile, RunHooks, RunLimits, RunRequest
from ._binding import Binder, Binding, process_binder, settings_resolver
from ._components import (
    ImportResult,
    collect_files,
    component_from_record,
    export_components,
    get_record,
    import_paths,
    validate_settings,
)
from ._listeners import RepositoryListenerServices, listener_runtime
from ._logins import (
    ROLES,
    LoginLimiter,
    LoginRefused,
    Logins,
    SessionInfo,
    add_user,
    check_role,
    create_api_token,
    delete_user,
    hash_password,
    revoke_api_token,
    verify_password,
)
from ._run import (
    RepositoryRecorder,
    purge_expired,
    resume_execution,
    retention_days,
    run_process,
)
from ._secrets import is_reference, resolve_references
from ._views import ExecutionView, execution_list, execution_summary, execution_view, pick
from ._watermarks import describe_watermark, list_watermarks, reset_watermarks

__all__ = [
    "ROLES",
    "LoginLimiter",
    "LoginRefused",
    "Logins",
    "SessionInfo",
    "add_user",
    "check_role",
    "create_api_token",
    "delete_user",
    "hash_password",
    "revoke_api_token",
    "verify_password",
    "ExecutionView",
    "execution_list",
    "execution_summary",
    "execution_view",
    "pick",
    "RepositoryListenerServices",
    "listener_runtime",
    "Binder",
    "Binding",
    "process_binder",
    "describe_watermark",
    "list_watermarks",
    "reset_watermarks",
    "ImportResult",
    "RepositoryRecorder",
    "InputFile",
    "RunHooks",
    "RunLimits",
    "RunRequest",
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
