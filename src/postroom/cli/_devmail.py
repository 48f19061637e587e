"""postroom devmail: the built-in mail server for development."""

from __future__ import annotations

from pathlib import Path

import typer

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.


def devmail_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    smtp_port: int = typer.Option(2525, "--smtp-port", help="SMTP (plain, STARTTLS offered); 0: any free port."),
    smtps_port: int = typer.Option(2465, "--smtps-port", help="SMTP with implicit TLS; 0: any free port."),
    pop3_port: int = typer.Option(2110, "--pop3-port", help="POP3 (STLS offered); 0: any free port."),
    pop3s_port: int = typer.Option(2995, "--pop3s-port", help="POP3 with implicit TLS; 0: any free port."),
    web_port: int = typer.Option(8025, "--web-port", help="Web inbox; 0: any free port."),
    no_tls: bool = typer.Option(False, "--no-tls", help="Plain listeners only: no SMTPS, POP3S, STARTTLS or STLS."),
    data: Path | None = typer.Option(None, "--data", help="Keep mail and certificates in this folder."),
    user: list[str] = typer.Option([], "--user", help="USER:PASSWORD allowed to log in (repeatable); "
                                   "default: clinic@example.com:app-password-123."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Take mail from anyone: offer no AUTH and require none "
                                 "(POP3 then has no mailboxes)."),
    client_ca: Path | None = typer.Option(None, "--client-ca", help="Require a client certificate signed by a CA "
                                          "in this PEM file for every login (mutual TLS)."),
    oauth2_introspection_url: str | None = typer.Option(None, "--oauth2-introspection-url", help="Offer AUTH "
                                                        "XOAUTH2, checking bearer tokens at this RFC 7662 URL."),
) -> None:
    """Run the built-in development mail server: SMTP, POP3 and a web inbox.

    Like Gmail, every SMTP port (plain with STARTTLS, and SMTPS) requires a login (SMTP AUTH
    with a --user) before it takes mail: MAIL FROM before AUTH gets 530 5.7.0
    Authentication required. --no-auth turns logins off."""
    from ..devmail import serve
    from ._common import err

    users: dict[str, str] | None = None
    if no_auth:
        users = {}
    elif user:
        users = {}
        for item in user:
            name, sep, password = item.partition(":")
            if not sep:
                raise typer.BadParameter("use USER:PASSWORD", param_hint="--user")
            users[name] = password
    if client_ca is not None and (no_tls or not client_ca.is_file()):
        err(f"error: --client-ca {client_ca}: " + ("client certificates need TLS (drop --no-tls)" if no_tls
                                                   else "no such file (give a PEM file of CA certificates)"))
        raise typer.Exit(2)
    try:
        serve(host=host, smtp_port=smtp_port, smtps_port=smtps_port, pop3_port=pop3_port, pop3s_port=pop3s_port,
              web_port=web_port, data_dir=str(data) if data else None, users=users, tls=not no_tls,
              client_ca_file=client_ca, oauth2_introspection_url=oauth2_introspection_url)
    except OSError as exc:
        err(f"error: devmail cannot listen on {host}: {exc.strerror or exc} "
            "(is another devmail running? choose other ports with --smtp-port, --smtps-port, --pop3-port, "
            "--pop3s-port, --web-port)")
        raise typer.Exit(2) from None
