"""postroom import / export / components / schema."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import command, emit_json, err, out, repo
from ._lists import components_list

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.

components_app = typer.Typer(help="Browse the repository: list, show and delete components.", no_args_is_help=True)


@command
def import_cmd(
    paths: list[Path] = typer.Argument(..., help="Component files (.yaml) or folders holding them."),
    as_json: bool = typer.Option(False, "--json", help="Print what was stored as JSON."),
) -> None:
    """Validate and store component files; all or nothing."""
    from ..services import import_paths

    result = import_paths(repo(), [str(p) for p in paths])
    for warning in result.warnings:
        err(f"warning: {warning}")
    if as_json:
        emit_json({"imported": [{"id": r.id, "type": r.type, "name": r.name, "version": r.version}
                                for r in result.saved], "warnings": result.warnings})
        return
    for r in result.saved:
        out(f"imported {r.type} {r.id} (version {r.version}): {r.name}")


@command
def export_cmd(
    out_dir: Path = typer.Option(Path("postroom-export"), "--out", help="Folder to write the YAML files into."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write every component back as YAML (secrets as references, never clear)."""
    from ..services import export_components

    written = export_components(repo(), out_dir)
    if as_json:
        emit_json({"written": [str(p) for p in written]})
        return
    out(f"wrote {len(written)} component file(s) under {out_dir}")


@components_app.command("list")
def list_cmd(
    type_: str | None = typer.Option(None, "--type", help="connection, operation, process, profile..."),
    folder: str | None = typer.Option(None, "--folder"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List components (latest versions)."""
    components_list(type_=type_, folder=folder, as_json=as_json)


@components_app.command("show")
@command
def show_cmd(
    component_id: str = typer.Argument(..., metavar="ID"),
    version: int | None = typer.Option(None, "--version", help="Show this version instead of the latest."),
    versions: bool = typer.Option(False, "--versions", help="List every version."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a component as YAML (secrets appear as references only)."""
    from ..model import dump
    from ..services import get_record

    r = repo()
    record = get_record(r, component_id, version)
    if versions:
        history = r.component_versions(component_id)
        if as_json:
            emit_json([{"version": h.version, "created": h.created_at} for h in history])
        else:
            for h in history:
                out(f"version {h.version}  {h.created_at:%Y-%m-%d %H:%M:%S}")
        return
    if as_json:
        emit_json({"id": record.id, "type": record.type, "name": record.name, "version": record.version,
                   "folder": record.folder, "body": record.body})
        return
    out(f"# {record.type} {record.id}, version {record.version}")
    sys_out = dump(record.body)
    out(sys_out.rstrip())


@components_app.command("delete")
@command
def delete_cmd(component_id: str = typer.Argument(..., metavar="ID"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete a component and its versions; refused while another component uses it."""
    from ..services import delete_component

    delete_component(repo(), component_id)
    if as_json:
        emit_json({"deleted": component_id})
    else:
        out(f"deleted {component_id}")


@command
def schema_cmd(
    out_dir: Path = typer.Option(Path("schema"), "--out", help="Folder for the JSON Schema files."),
) -> None:
    """Write a JSON Schema for every component type and every connector's settings."""
    from ..services._schema import write_schemas

    written = write_schemas(out_dir)
    out(f"wrote {len(written)} schema file(s) under {out_dir}")
