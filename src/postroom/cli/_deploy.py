"""postroom deploy / deployments list / deployments rollback: process versions pinned to
environments (docs/environments.md)."""

from __future__ import annotations

import typer

from ._common import command, emit_json, out, repo

# The commands import services inside their bodies on purpose: the CLI imports lazily so that
# `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI").

deployments_app = typer.Typer(help="Process versions deployed to environments: list, roll back.",
                              no_args_is_help=True)


def _who() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a container)
        return "cli"


def _line(record) -> str:  # noqa: ANN001
    when = record.deployed_at.strftime("%Y-%m-%d %H:%M:%S") if record.deployed_at else ""
    return (f"{record.environment}  {record.process_id}  version {record.process_version}  "
            f"({record.action} {when} UTC{', ' + record.deployed_by if record.deployed_by else ''})")


@command
def deploy_cmd(
    process: str = typer.Argument(..., metavar="PROCESS", help="Process id."),
    environment: str = typer.Option(..., "--environment", "-e", help="Environment id."),
    version: int | None = typer.Option(None, "--version", min=1,
                                       help="The process version to deploy (default: the latest); an older "
                                            "one rolls back to it."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pin a version of PROCESS to an environment: runs with --environment ENV (and schedules
    and API runs naming it) take that version."""
    from ..services import deploy_process, deployment_json

    record = deploy_process(repo(), process, environment, version, _who())
    if as_json:
        emit_json(deployment_json(record))
    else:
        out(f"deployed {process} version {record.process_version} to environment {environment}")


@deployments_app.command("list")
@command
def list_cmd(
    environment: str | None = typer.Option(None, "--environment", "-e", help="Only this environment."),
    process: str | None = typer.Option(None, "--process", help="Only this process."),
    history: bool = typer.Option(False, "--history", help="Every deploy and rollback, newest first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The version of each process deployed to each environment."""
    from ..services import deployment_json, deployments

    records = deployments(repo(), environment, process, history)
    if as_json:
        emit_json([deployment_json(r) for r in records])
        return
    if not records:
        out("no deployments yet: postroom deploy PROCESS --environment ENV")
        return
    for record in records:
        out(_line(record))


@deployments_app.command("rollback")
@command
def rollback_cmd(
    process: str = typer.Argument(..., metavar="PROCESS", help="Process id."),
    environment: str = typer.Option(..., "--environment", "-e", help="Environment id."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Undo the newest deploy of PROCESS to the environment: the version deployed before it is
    in force again (a second rollback goes one deploy further back)."""
    from ..services import deployment_json, rollback_process

    record = rollback_process(repo(), process, environment, _who())
    if as_json:
        emit_json(deployment_json(record))
    else:
        out(f"rolled back {process} in environment {environment} to version {record.process_version}")
