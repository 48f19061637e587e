"""The one storage interface. The SQL implementation lives in ``_sql.py``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ._records import (
    ApiTokenRecord,
    ComponentRecord,
    DeploymentRecord,
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    JournalEntry,
    ListenerHealth,
    LogEntry,
    MailReport,
    ScheduleFiring,
    SessionRecord,
    ShapeDocumentRecord,
    UserRecord,
    WatermarkRecord,
)

__all__ = ["Repository"]


class Repository(ABC):
    # -- components ----------------------------------------------------------------------
    @abstractmethod
    def save_components(self, records: list[ComponentRecord]) -> list[ComponentRecord]:
        """Store a new version of each component, all or nothing (one transaction).
        A component whose body is unchanged from its latest version keeps that version.
        Returns the records with ``version`` and ``created_at`` filled."""

    @abstractmethod
    def get_component(self, component_id: str, version: int | None = None) -> ComponentRecord | None:
        """The latest version, or the given one; None when absent (deleted ones are absent)."""

    @abstractmethod
    def list_components(self, type: str | None = None, folder: str | None = None) -> list[ComponentRecord]:
        """Latest version of each component, sorted by folder, then name."""

    @abstractmethod
    def component_versions(self, component_id: str) -> list[ComponentRecord]:
        """Every version, oldest first."""

    @abstractmethod
    def delete_component(self, component_id: str) -> bool:
        """Remove the component (all versions). False when it did not exist."""

    # -- secrets (values are encrypted at rest; the clear value never leaves except via get_secret)
    @abstractmethod
    def set_secret(self, name: str, value: str) -> None: ...

    @abstractmethod
    def get_secret(self, name: str) -> str | None: ...

    @abstractmethod
    def list_secrets(self) -> list[tuple[str, datetime]]:
        """Names and last update times; never values."""

    @abstractmethod
    def delete_secret(self, name: str) -> bool: ...

    # -- executions ----------------------------------------------------------------------
    @abstractmethod
    def create_execution(self, record: ExecutionRecord) -> None: ...

    @abstractmethod
    def update_execution(self, execution_id: str, **fields: Any) -> None:
        """Set some fields of the execution (status, ended_at, counts, error...)."""

    @abstractmethod
    def claim_execution(self, execution_id: str, host: str, pid: int,
                        held_by: tuple[str | None, int | None, datetime | None]) -> bool:
        """Take the lease of an execution (and mark it running) if its lease host, pid and
        heartbeat are still ``held_by``, as read before; False when another took it first."""

    @abstractmethod
    def heartbeat_execution(self, execution_id: str, host: str, pid: int) -> bool:
        """Renew the heartbeat of a lease ``host``/``pid`` hold; False when they do not."""

    @abstractmethod
    def get_execution(self, execution_id: str) -> ExecutionRecord | None: ...

    @abstractmethod
    def list_executions(self, process_id: str | None = None, status: str | None = None,
                        limit: int = 50, since: datetime | None = None,
                        until: datetime | None = None) -> list[ExecutionRecord]:
        """Newest first; ``since``/``until`` bound the start time (inclusive)."""

    @abstractmethod
    def add_logs(self, execution_id: str, entries: Iterable[LogEntry]) -> None: ...

    @abstractmethod
    def get_logs(self, execution_id: str) -> list[LogEntry]: ...

    @abstractmethod
    def add_document_errors(self, execution_id: str, errors: Iterable[DocumentErrorRecord]) -> None: ...

    @abstractmethod
    def get_document_errors(self, execution_id: str) -> list[DocumentErrorRecord]: ...

    @abstractmethod
    def add_shape_documents(self, execution_id: str, docs: Iterable[ShapeDocumentRecord]) -> None: ...

    @abstractmethod
    def get_shape_documents(self, execution_id: str, shape: str | None = None) -> list[ShapeDocumentRecord]: ...

    @abstractmethod
    def add_dry_runs(self, execution_id: str, records: Iterable[DryRunRecord]) -> None: ...

    @abstractmethod
    def get_dry_runs(self, execution_id: str) -> list[DryRunRecord]: ...

    @abstractmethod
    def purge_executions(self, older_than: datetime) -> int:
        """Delete executions (and everything recorded with them) that ended before the date."""

    # -- persisted dynamic process properties ----------------------------------------------
    @abstractmethod
    def get_persisted_properties(self, process_id: str) -> dict[str, str]: ...

    @abstractmethod
    def set_persisted_properties(self, process_id: str, values: dict[str, str]) -> None:
        """Upsert these names (others are kept)."""

    # -- send journal (DESIGN principle 9) ---------------------------------------------------
    @abstractmethod
    def journal_begin(self, execution_id: str, key: str, message_id: str) -> JournalEntry:
        """Record that a side effect is about to happen; returns the existing entry unchanged
        when the key is already journaled (so a resumed run reuses its Message-ID)."""

    @abstractmethod
    def journal_finish(self, execution_id: str, key: str, status: str, reply: str = "") -> None: ...

    def journal_begin_many(self, execution_id: str, items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        """``journal_begin`` for many ``(key, message_id)`` at once, by key. Storage that can
        should do it in one transaction: a sender journals a whole batch before sending it."""
        return {key: self.journal_begin(execution_id, key, message_id) for key, message_id in items}

    def journal_finish_many(self, execution_id: str, items: list[tuple[str, str, str]]) -> None:
        """``journal_finish`` for many ``(key, status, reply)`` at once (one transaction where
        the storage can)."""
        for key, status, reply in items:
            self.journal_finish(execution_id, key, status, reply)

    @abstractmethod
    def journal_entries(self, execution_id: str) -> dict[str, JournalEntry]: ...

    @abstractmethod
    def journal_find(self, message_id: str) -> JournalEntry | None:
        """The entry that sent ``message_id`` (with its angle brackets), in any execution; the
        newest when several did (a letter sent again by a new run); None when none did."""

    # -- delivery reports and complaints about sent letters (revision 0008_bounce) -------------
    @abstractmethod
    def add_mail_report(self, report: MailReport) -> None:
        """Store a report; one already stored (same report_id and recipient) is replaced."""

    @abstractmethod
    def mail_reports(self, execution_id: str) -> list[MailReport]:
        """The reports about letters ``execution_id`` sent, oldest recorded first."""

    # -- mailbox watermarks (DESIGN principle 8) ---------------------------------------------
    @abstractmethod
    def get_watermark(self, mailbox: str, operation: str = "") -> dict[str, Any] | None: ...

    @abstractmethod
    def set_watermark(self, mailbox: str, value: dict[str, Any], operation: str = "") -> None: ...

    @abstractmethod
    def list_watermarks(self) -> list[WatermarkRecord]:
        """Every watermark, sorted by operation, then mailbox."""

    @abstractmethod
    def delete_watermarks(self, operation: str) -> int:
        """Forget what ``operation`` has taken (every mailbox); the number of rows removed."""

    # -- leases (one leader per mailbox / schedule) -----------------------------------------
    @abstractmethod
    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the named lease for ``owner``; False while another owner holds it."""

    @abstractmethod
    def release_lease(self, name: str, owner: str) -> None: ...

    # -- listener health (runtime/_listener.py) ------------------------------------------------
    @abstractmethod
    def save_listener_health(self, health: ListenerHealth) -> None:
        """Insert or replace the row of (``listener``, ``instance``); ``updated_at`` is
        set to now when it is None."""

    @abstractmethod
    def list_listener_health(self, listener: str | None = None) -> list[ListenerHealth]:
        """Every row (or those of one listener), sorted by listener, then instance."""

    @abstractmethod
    def delete_listener_health(self, listener: str | None = None, instance: str | None = None,
                               updated_before: datetime | None = None) -> int:
        """Delete the rows matching every given filter (all rows when none is given);
        returns how many went."""

    # -- schedule firings (runtime/_scheduler.py) ----------------------------------------------
    @abstractmethod
    def claim_schedule_firing(self, firing: ScheduleFiring) -> bool:
        """Record the due time (``schedule_id``, ``due_at``) as claimed by ``firing.instance``;
        False when it was claimed already (by this or another serve process)."""

    @abstractmethod
    def finish_schedule_firing(self, schedule_id: str, due_at: datetime, *, status: str,
                               execution_id: str | None = None, error: str | None = None) -> None:
        """Record what a claimed due time became."""

    @abstractmethod
    def release_schedule_firing(self, schedule_id: str, due_at: datetime) -> bool:
        """Forget a claim still ``claimed`` (its run could not start yet): the due time is
        due again. False when there was no such claim."""

    @abstractmethod
    def last_schedule_firings(self) -> dict[str, ScheduleFiring]:
        """The latest claimed due time of each schedule, by schedule id."""

    @abstractmethod
    def list_schedule_firings(self, schedule_id: str, limit: int = 50) -> list[ScheduleFiring]:
        """One schedule's claimed due times, newest first."""

    @abstractmethod
    def prune_schedule_firings(self, fired_before: datetime) -> int:
        """Delete rows claimed before the date, keeping each schedule's latest."""

    # -- logins (users, sessions, API tokens; only hashes are stored) ---------------------------
    @abstractmethod
    def add_user(self, user: UserRecord) -> UserRecord:
        """Store a new user (``created_at`` filled); ConfigError when the name is taken."""

    @abstractmethod
    def get_user(self, name: str) -> UserRecord | None: ...

    @abstractmethod
    def list_users(self) -> list[UserRecord]:
        """Every user, sorted by name."""

    @abstractmethod
    def delete_user(self, name: str) -> bool:
        """Remove the user and end their sessions. False when there was no such user."""

    @abstractmethod
    def has_users(self) -> bool: ...

    @abstractmethod
    def create_session(self, session: SessionRecord) -> None: ...

    @abstractmethod
    def get_session(self, token_hash: str) -> SessionRecord | None: ...

    @abstractmethod
    def touch_session(self, token_hash: str, seen_at: datetime) -> None: ...

    @abstractmethod
    def delete_sessions(self, token_hash: str | None = None, idle_before: datetime | None = None) -> int:
        """Delete one session (by its hash) or those idle since before ``idle_before``."""

    @abstractmethod
    def add_api_token(self, token: ApiTokenRecord) -> ApiTokenRecord:
        """Store a new token (``created_at`` filled); ConfigError when the name is taken."""

    @abstractmethod
    def find_api_token(self, token_hash: str) -> ApiTokenRecord | None: ...

    @abstractmethod
    def list_api_tokens(self) -> list[ApiTokenRecord]:
        """Every token (hashes included, for the repository's callers only), sorted by name."""

    @abstractmethod
    def delete_api_token(self, name: str) -> bool: ...

    @abstractmethod
    def touch_api_token(self, name: str, used_at: datetime) -> None: ...

    # -- deployments (a process version pinned to an environment) ----------------------------------
    @abstractmethod
    def add_deployment(self, record: DeploymentRecord) -> DeploymentRecord:
        """Record a deploy (``deployed_at`` and ``seq`` filled); it is the one in force from now."""

    @abstractmethod
    def get_deployment(self, environment: str, process_id: str) -> DeploymentRecord | None:
        """The deployment in force (the newest) of the process in the environment; None when none."""

    @abstractmethod
    def list_deployments(self, environment: str | None = None, process_id: str | None = None,
                         history: bool = False) -> list[DeploymentRecord]:
        """The deployments in force (with ``history``, every deploy), sorted by environment,
        then process, newest first."""

    def close(self) -> None:  # noqa: B027
        """Dispose of connections."""
