"""The ``postroom`` Typer app: every noun's commands. One module per noun; heavy imports
happen inside commands."""

from __future__ import annotations

import typer

from ._components import components_app, export_cmd, import_cmd, schema_cmd
from ._deploy import deploy_cmd, deployments_app
from ._devmail import devmail_cmd
from ._mail import mail_app
from ._run import connections_app, executions_app, run_cmd
from ._schedules import schedules_app
from ._secrets import secrets_app
from ._serve import listeners_app, serve_cmd
from ._users import tokens_app, users_app
from ._watermarks import watermarks_app
from ._worker import worker_cmd, workers_app

__all__ = ["app"]

app = typer.Typer(
    name="postroom",
    help="Postroom: build processes of shapes that move documents between systems through connectors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("import")(import_cmd)
app.command("export")(export_cmd)
app.add_typer(components_app, name="components")
app.add_typer(secrets_app, name="secrets")
app.add_typer(connections_app, name="connections")
app.command("run")(run_cmd)
app.add_typer(executions_app, name="executions")
app.command("deploy")(deploy_cmd)
app.add_typer(deployments_app, name="deployments")
app.command("schema")(schema_cmd)
app.command("devmail")(devmail_cmd)
app.command("serve")(serve_cmd)
app.add_typer(listeners_app, name="listeners")
app.add_typer(schedules_app, name="schedules")
app.add_typer(watermarks_app, name="watermarks")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command("worker")(worker_cmd)
app.add_typer(workers_app, name="workers")
app.add_typer(mail_app, name="mail")
