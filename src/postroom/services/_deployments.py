"""Deployments: a process version pinned to an environment. ``postroom deploy PROCESS
--environment E [--version N]`` records one (the latest version by default); a run with that
environment then takes the deployed version. ``postroom deployments rollback`` undoes the
newest deploy, going back one deploy each time; deploying an older version by number does
the same by hand."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..repository import DeploymentRecord, Repository
from ._components import get_record
from ._environments import load_environment

__all__ = ["deploy_process", "deployment_json", "deployments", "rollback_process"]


def deploy_process(repo: Repository, process_id: str, environment_id: str, version: int | None = None,
                   by: str = "", action: str = "deploy") -> DeploymentRecord:
    """Pin ``version`` (default: the latest) of the process to the environment."""
    load_environment(repo, environment_id)
    record = get_record(repo, process_id, version)
    if record.type != "process":
        raise ConfigError(f"{process_id!r} is a {record.type}, not a process", field="PROCESS",
                          fix="name a process id (postroom components list --type process)")
    return repo.add_deployment(DeploymentRecord(environment_id, process_id, record.version, action, by))


def _stack(history: list[DeploymentRecord]) -> list[int]:
    """The versions deployed, oldest first, with every rolled-back deploy taken off."""
    stack: list[int] = []
    for item in sorted(history, key=lambda d: d.seq or 0):
        if item.action == "rollback" and len(stack) > 1:
            stack.pop()
        elif item.action != "rollback":
            stack.append(item.process_version)
    return stack


def rollback_process(repo: Repository, process_id: str, environment_id: str, by: str = "") -> DeploymentRecord:
    """Put back the version deployed before the one in force (undoing the newest deploy)."""
    load_environment(repo, environment_id)
    stack = _stack(repo.list_deployments(environment_id, process_id, history=True))
    if not stack:
        raise ConfigError(f"process {process_id!r} is not deployed to environment {environment_id!r}",
                          field="PROCESS", fix=f"deploy it first: postroom deploy {process_id} --environment "
                                               f"{environment_id}")
    if len(stack) < 2:
        raise ConfigError(f"process {process_id!r} has had one deploy to environment {environment_id!r} "
                          f"(version {stack[0]}); there is nothing earlier to roll back to",
                          fix=f"deploy a version by number: postroom deploy {process_id} --environment "
                              f"{environment_id} --version N")
    return deploy_process(repo, process_id, environment_id, stack[-2], by, action="rollback")


def deployments(repo: Repository, environment: str | None = None, process: str | None = None,
                history: bool = False) -> list[DeploymentRecord]:
    """The deployments in force (or every deploy, with ``history``)."""
    return repo.list_deployments(environment, process, history)


def deployment_json(record: DeploymentRecord) -> dict[str, Any]:
    return {"environment": record.environment, "process_id": record.process_id,
            "process_version": record.process_version, "action": record.action,
            "deployed_by": record.deployed_by, "deployed_at": record.deployed_at}
