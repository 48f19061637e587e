"""Components with their versions, and encrypted secrets, in the SQL repository."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigError
from . import _plain as plain
from ._listing import SUMMARY_COLUMNS, listed
from ._records import (
    ComponentRecord,
    ComponentSummary,
)
from ._schema import (
    components,
    secrets,
    utcnow,
)
from ._sql_core import BATCH_SIZE, IN_CHUNK, SqlCore, canonical, driver_message, in_chunks

# PostgreSQL advisory lock key held while saving components (any constant of our own).
_COMPONENTS_LOCK_KEY = 0x50524F4D5F434F4D  # "PROM_COM"


class ComponentStore(SqlCore):
    """Components (every version kept) and secrets (only ciphertext stored)."""

    # -- components ------------------------------------------------------------------------------
    @staticmethod
    def _component(row: Row[Any]) -> ComponentRecord:
        return ComponentRecord(id=row.id, type=row.type, name=row.name, body=row.body, folder=row.folder,
                               version=row.version, source_file=row.source_file, created_at=row.created_at)

    @staticmethod
    def _latest_rows(conn: Connection, ids: list[str] | None, *, summary: bool = False) -> list[Row[Any]]:
        """The latest version row of the given ids (every component when None); with
        ``summary``, only the columns a listing shows (no body)."""
        columns = [components.c[name] for name in SUMMARY_COLUMNS] if summary else [components]

        def query(chunk: list[str] | None) -> list[Row[Any]]:
            latest = select(components.c.id, func.max(components.c.version).label("version"))
            if chunk is not None:
                latest = latest.where(components.c.id.in_(chunk))
            sub = latest.group_by(components.c.id).subquery()
            stmt = select(*columns).join(
                sub, and_(components.c.id == sub.c.id, components.c.version == sub.c.version))
            return list(conn.execute(stmt))

        if ids is None:
            return query(None)
        return [row for chunk in in_chunks(ids, IN_CHUNK) for row in query(chunk)]

    def save_components(self, records: list[ComponentRecord]) -> list[ComponentRecord]:
        """All or nothing. A record is unchanged (keeps its version) when its type, name,
        folder and body (compared as JSON, key order ignored) equal the latest version's;
        its ``source_file``, when given, is then updated in place. Returns new records;
        the arguments are not modified. Raises ConfigError for an id given twice, a body
        that is not JSON, or a record the database refuses (then nothing is stored)."""
        seen: set[str] = set()
        canon: dict[str, str] = {}
        for record in records:
            if record.id in seen:
                raise ConfigError(f"component id {record.id!r} appears more than once in one import",
                                  component=record.id, fix="give each component its own id")
            seen.add(record.id)
            try:
                canon[record.id] = canonical(record.body)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"the component body cannot be stored as JSON: {exc}", component=record.id,
                                  fix="use only strings, numbers, booleans, null, lists and mappings") from None
        if not records:
            return []

        try:
            return self._save_components_once(records, canon)
        except IntegrityError as exc:
            raise ConfigError(
                f"the components could not be stored, nothing was saved: {driver_message(exc)}",
                fix="check that every component has an id, type and name",
            ) from None

    def _save_components_once(self, records: list[ComponentRecord],
                              canon: dict[str, str]) -> list[ComponentRecord]:
        now = utcnow()
        result: list[ComponentRecord] = []
        with self._write() as conn:
            if self._dialect == "postgresql":
                # Serialise saves (SQLite's BEGIN IMMEDIATE already does): the versions read
                # next are then the committed latest, and two importers never pick one number.
                conn.execute(select(func.pg_advisory_xact_lock(_COMPONENTS_LOCK_KEY)))
            latest = {row.id: row for row in self._latest_rows(conn, [r.id for r in records])}
            inserts: list[dict[str, Any]] = []
            for record in records:
                row = latest.get(record.id)
                if (row is not None and row.type == record.type and row.name == record.name
                        and row.folder == (record.folder or "") and canonical(row.body) == canon[record.id]):
                    stored = self._component(row)
                    if record.source_file is not None and record.source_file != row.source_file:
                        conn.execute(update(components)
                                     .where(components.c.id == row.id, components.c.version == row.version)
                                     .values(source_file=record.source_file))
                        stored.source_file = record.source_file
                    result.append(stored)
                    continue
                version = row.version + 1 if row is not None else 1
                inserts.append({"id": record.id, "version": version, "type": record.type, "name": record.name,
                                "folder": record.folder or "", "body": record.body,
                                "source_file": record.source_file, "created_at": now})
                result.append(replace(record, folder=record.folder or "", version=version, created_at=now))
            for chunk in in_chunks(inserts, BATCH_SIZE):
                conn.execute(components.insert(), chunk)
        return result

    def get_component(self, component_id: str, version: int | None = None) -> ComponentRecord | None:
        with self._read() as conn:
            return plain.component(self._db(conn), component_id, version)

    def list_components(self, type: str | None = None, folder: str | None = None) -> list[ComponentRecord]:
        """Latest versions; ``folder`` matches that folder and its subfolders (``A`` lists
        ``A`` and ``A/B``, not ``AB``); ``""`` lists the top level only. Sorted in Python
        so the order is the same on every database collation."""
        with self._read() as conn:
            rows = self._latest_rows(conn, None)
        return listed([self._component(r) for r in rows], type, folder)

    def list_component_summaries(self, type: str | None = None,
                                 folder: str | None = None) -> list[ComponentSummary]:
        """As :meth:`list_components`, reading only the columns a listing shows."""
        with self._read() as conn:
            rows = self._latest_rows(conn, None, summary=True)
        return listed([ComponentSummary(r.id, r.type, r.name, r.folder, r.version, r.created_at) for r in rows],
                      type, folder)

    def component_versions(self, component_id: str) -> list[ComponentRecord]:
        stmt = select(components).where(components.c.id == component_id).order_by(components.c.version)
        with self._read() as conn:
            return [self._component(r) for r in conn.execute(stmt)]

    def delete_component(self, component_id: str) -> bool:
        with self._write() as conn:
            return conn.execute(delete(components).where(components.c.id == component_id)).rowcount > 0

    # -- secrets ----------------------------------------------------------------------------------
    def set_secret(self, name: str, value: str) -> None:
        """Store ``value`` encrypted; only the ciphertext reaches the database."""
        if not name or not name.strip():
            raise ConfigError("a secret needs a name", fix="postroom secrets set NAME")
        if not isinstance(value, str):
            raise ConfigError(f"secret {name!r}: the value must be text", fix="pass the value as a string")
        token = self._box.encrypt(value)
        with self._write() as conn:
            self._upsert(conn, secrets, ["name"], [{"name": name, "ciphertext": token, "updated_at": utcnow()}])

    def get_secret(self, name: str) -> str | None:
        with self._read() as conn:
            token = plain.secret_ciphertext(self._db(conn), name)
        return None if token is None else self._box.decrypt(name, token)

    def list_secrets(self) -> list[tuple[str, datetime]]:
        with self._read() as conn:
            rows = conn.execute(select(secrets.c.name, secrets.c.updated_at).order_by(secrets.c.name))
            return [(r.name, r.updated_at) for r in rows]

    def delete_secret(self, name: str) -> bool:
        with self._write() as conn:
            return conn.execute(delete(secrets).where(secrets.c.name == name)).rowcount > 0
