"""Use cases shared by the CLI and the web API."""

from ..runtime import InputFile, RunHooks, RunLimits, RunRequest
from ._binding import Binder, Binding, process_binder, settings_resolver
from ._catalog import component_schema, connector_catalog, shape_catalog
from ._component_edit import (
    component_diff,
    component_records,
    component_secrets,
    component_versions,
    create_component,
    delete_component,
    masked_body,
    references_to,
    update_component,
)
from ._components import (
    ImportResult,
    collect_files,
    component_from_record,
    component_yaml,
    export_components,
    get_record,
    import_paths,
    validate_settings,
)
from ._deployments import deploy_process, deployment_json, deployments, rollback_process
from ._devmail_inbox import DevInbox
from ._distributed import QUEUED_NODE, Submitter, exit_code_of, require_shared_database
from ._dkim import DkimRecord, dkim_txt_record
from ._documents import shape_documents
from ._environments import load_environment
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
from ._presence import Presence, known_workers
from ._progress import ExecutionEvents, live_state, recorded_state, shape_states
from ._requeue import Requeuer
from ._run import (
    RepositoryRecorder,
    purge_expired,
    resume_execution,
    retention_days,
    run_process,
)
from ._run_service import RunService, write_inputs
from ._schedules import list_schedules, scheduler_runtime, set_schedule_enabled
from ._secret_admin import delete_secret, secret_list, secret_users, set_secret, test_connection
from ._secrets import is_reference, resolve_references
from ._views import ExecutionView, execution_list, execution_summary, execution_view, executions_csv, pick
from ._watermarks import describe_watermark, list_watermarks, reset_watermarks
from ._worker import WorkerState, register_tasks, run_on_worker
from ._worker_health import HealthServer, health_report

__all__ = [
    "list_schedules",
    "scheduler_runtime",
    "set_schedule_enabled",
    "deploy_process",
    "deployment_json",
    "deployments",
    "load_environment",
    "rollback_process",
    "Requeuer",
    "QUEUED_NODE",
    "Submitter",
    "exit_code_of",
    "require_shared_database",
    "WorkerState",
    "HealthServer",
    "health_report",
    "Presence",
    "known_workers",
    "register_tasks",
    "run_on_worker",
    "DkimRecord",
    "dkim_txt_record",
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
    "DevInbox",
    "shape_documents",
    "ExecutionEvents",
    "live_state",
    "recorded_state",
    "shape_states",
    "RunService",
    "write_inputs",
    "executions_csv",
    "component_schema",
    "connector_catalog",
    "shape_catalog",
    "component_diff",
    "component_records",
    "component_secrets",
    "component_versions",
    "component_yaml",
    "create_component",
    "delete_component",
    "masked_body",
    "references_to",
    "update_component",
    "delete_secret",
    "secret_list",
    "secret_users",
    "set_secret",
    "test_connection",
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
