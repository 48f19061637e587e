"""The SQL repository: SQLAlchemy Core on SQLite (default) or PostgreSQL (psycopg 3).

Core rather than the ORM: the repository speaks in plain records (``_records.py``), the
hot paths are bulk inserts of thousands of rows, and every statement is visible.

One module per concern, one class each, joined here behind the :class:`Repository`
interface: ``_sql_core.py`` (engine, transactions, bulk inserts), ``_sql_components.py``
(components, secrets), ``_sql_executions.py`` (executions and their records, persisted
properties), ``_sql_journal.py`` (the send journal), ``_sql_reports.py`` (bounces and
complaints about sent letters), ``_sql_state.py`` (watermarks,
leases, listener health), ``_sql_users.py`` (users, sessions, API tokens), ``_sql_schedules.py`` (schedule
firings), ``_sql_deployments.py`` (process versions deployed to environments).
"""

from __future__ import annotations

from ._sql_components import ComponentStore
from ._sql_core import BATCH_SIZE
from ._sql_deployments import DeploymentStore
from ._sql_executions import ExecutionStore
from ._sql_journal import JournalStore
from ._sql_reports import ReportStore
from ._sql_schedules import ScheduleStore
from ._sql_state import StateStore
from ._sql_users import UserStore

__all__ = ["SqlRepository", "BATCH_SIZE"]


class SqlRepository(ComponentStore, ExecutionStore, JournalStore, StateStore, UserStore, ScheduleStore,
                    DeploymentStore, ReportStore):
    """The repository on one database. Thread-safe: each call takes a pooled connection.

    After ``os.fork()`` the child drops the inherited pool by itself; still, prefer opening
    the repository in each process (``multiprocessing`` with spawn does that naturally)."""
