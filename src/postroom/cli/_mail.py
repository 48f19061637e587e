"""postroom mail dkim-record: the DNS TXT record that publishes a connection's DKIM key."""

from __future__ import annotations

import typer

from ._common import command, emit_json, out, repo

mail_app = typer.Typer(help="Mail connector tools: the DKIM record to publish.", no_args_is_help=True)


@mail_app.command("dkim-record")
@command
def dkim_record_cmd(
    connection_id: str | None = typer.Argument(None, metavar="[CONNECTION]",
                                               help="A mail connection with dkim_* settings."),
    key: str | None = typer.Option(None, "--key", metavar="FILE", help="A private key file instead of the "
                                   "connection's dkim_private_key."),
    selector: str | None = typer.Option(None, "--selector", help="The selector (default: the connection's)."),
    domain: str | None = typer.Option(None, "--domain", help="The signing domain (default: the connection's)."),
    algorithm: str | None = typer.Option(None, "--algorithm", help="rsa-sha256 or ed25519-sha256."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the DNS TXT record (name and value) to publish for DKIM. Exit 2 on a bad key."""
    from ..services import dkim_txt_record

    record = dkim_txt_record(repo() if connection_id else None, connection_id, key_file=key,
                             selector=selector, domain=domain, algorithm=algorithm)
    if as_json:
        emit_json({"name": record.name, "type": "TXT", "value": record.value})
        return
    out(f"name:  {record.name}")
    out("type:  TXT")
    out(f"value: {record.value}")
    out(f"zone:  {record.zone}")
