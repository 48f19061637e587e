"""Alembic environment: always run online, on the connection Postroom hands over.

``postroom.repository._migrate`` opens the connection, begins the transaction (and on
PostgreSQL takes an advisory lock, so two processes opening a fresh database at once do
not both create the tables), puts the connection in ``config.attributes["connection"]``
and calls ``alembic.command.upgrade``. The whole upgrade is one transaction.
"""

from __future__ import annotations

from alembic import context

from postroom.repository._schema import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "Postroom migrations run through postroom.repository.open_repository(), "
        "not from the alembic command line"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
