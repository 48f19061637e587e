"""Use cases shared by the CLI and the web API."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use (see __getattr__)
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

# Every re-exported name and the module that defines it: importing this package imports
# none of them, so a command pays only for the ones it uses (a test keeps this map equal
# to the imports above).
_EXPORTS = {
    "InputFile": "..runtime",
    "RunHooks": "..runtime",
    "RunLimits": "..runtime",
    "RunRequest": "..runtime",
    "Binder": "._binding",
    "Binding": "._binding",
    "process_binder": "._binding",
    "settings_resolver": "._binding",
    "component_schema": "._catalog",
    "connector_catalog": "._catalog",
    "shape_catalog": "._catalog",
    "component_diff": "._component_edit",
    "component_records": "._component_edit",
    "component_secrets": "._component_edit",
    "component_versions": "._component_edit",
    "create_component": "._component_edit",
    "delete_component": "._component_edit",
    "masked_body": "._component_edit",
    "references_to": "._component_edit",
    "update_component": "._component_edit",
    "ImportResult": "._components",
    "collect_files": "._components",
    "component_from_record": "._components",
    "component_yaml": "._components",
    "export_components": "._components",
    "get_record": "._components",
    "import_paths": "._components",
    "validate_settings": "._components",
    "deploy_process": "._deployments",
    "deployment_json": "._deployments",
    "deployments": "._deployments",
    "rollback_process": "._deployments",
    "DevInbox": "._devmail_inbox",
    "QUEUED_NODE": "._distributed",
    "Submitter": "._distributed",
    "exit_code_of": "._distributed",
    "require_shared_database": "._distributed",
    "DkimRecord": "._dkim",
    "dkim_txt_record": "._dkim",
    "shape_documents": "._documents",
    "load_environment": "._environments",
    "RepositoryListenerServices": "._listeners",
    "listener_runtime": "._listeners",
    "ROLES": "._logins",
    "LoginLimiter": "._logins",
    "LoginRefused": "._logins",
    "Logins": "._logins",
    "SessionInfo": "._logins",
    "add_user": "._logins",
    "check_role": "._logins",
    "create_api_token": "._logins",
    "delete_user": "._logins",
    "hash_password": "._logins",
    "revoke_api_token": "._logins",
    "verify_password": "._logins",
    "Presence": "._presence",
    "known_workers": "._presence",
    "ExecutionEvents": "._progress",
    "live_state": "._progress",
    "recorded_state": "._progress",
    "shape_states": "._progress",
    "Requeuer": "._requeue",
    "RepositoryRecorder": "._run",
    "purge_expired": "._run",
    "resume_execution": "._run",
    "retention_days": "._run",
    "run_process": "._run",
    "RunService": "._run_service",
    "write_inputs": "._run_service",
    "list_schedules": "._schedules",
    "scheduler_runtime": "._schedules",
    "set_schedule_enabled": "._schedules",
    "delete_secret": "._secret_admin",
    "secret_list": "._secret_admin",
    "secret_users": "._secret_admin",
    "set_secret": "._secret_admin",
    "test_connection": "._secret_admin",
    "is_reference": "._secrets",
    "resolve_references": "._secrets",
    "ExecutionView": "._views",
    "execution_list": "._views",
    "execution_summary": "._views",
    "execution_view": "._views",
    "executions_csv": "._views",
    "pick": "._views",
    "describe_watermark": "._watermarks",
    "list_watermarks": "._watermarks",
    "reset_watermarks": "._watermarks",
    "WorkerState": "._worker",
    "register_tasks": "._worker",
    "run_on_worker": "._worker",
    "HealthServer": "._worker_health",
    "health_report": "._worker_health",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
