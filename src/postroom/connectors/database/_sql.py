"""What the database connector reads from the text the user wrote: the ``:name`` parameters
of a statement and the kind of database a url names. No SQL is ever built from data here
or anywhere in the connector: values travel as bound parameters only."""

from __future__ import annotations

from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

__all__ = ["UPSERT_DIALECTS", "backend_name", "bind_names", "driver_url", "url_problem"]

#: The databases whose dialect has INSERT ... ON CONFLICT (key) DO UPDATE.
UPSERT_DIALECTS = ("postgresql", "sqlite")

#: A url naming only the database uses the driver Postroom installs for it.
_DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def bind_names(sql: str) -> list[str]:
    """The ``:name`` parameters of ``sql`` in order of first use (as SQLAlchemy binds them:
    ``::int`` casts and ``\\:`` are not parameters)."""
    return list(text(sql).compile().params)


def _parsed(url: str) -> URL:
    parsed = make_url(url.strip())
    driver = _DEFAULT_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a connection's url, or None."""
    if not url.strip():
        return "url is empty: write a SQLAlchemy URL such as postgresql://user@host:5432/db or sqlite:////path/db.sqlite"
    try:
        parsed = _parsed(url)
    except ArgumentError:
        return ("url is not a database URL: write dialect://user@host:port/database, such as "
                "postgresql://clinic@127.0.0.1:5432/clinic or sqlite:////var/lib/clinic.db")
    if parsed.password is not None:
        return "url holds a password: remove it from the url and put it in password (as ${secret:NAME})"
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        return (f"url names the database kind {parsed.drivername!r}, which SQLAlchemy does not know: use "
                "postgresql, sqlite, mysql+pymysql, mssql+pyodbc, oracle+oracledb... (install its driver)")
    except ImportError as exc:
        return (f"url needs the {parsed.drivername} driver, which is not installed (no module {exc.name or exc}): "
                "pip install it next to postroom, or name an installed driver in the url (postgresql+psycopg://)")
    return None


def driver_url(url: str, password: str) -> URL:
    """The url the engine connects with: the default driver filled in, the password set."""
    parsed = _parsed(url)
    return parsed.set(password=password) if password else parsed


def backend_name(url: str) -> str:
    """The kind of database ``url`` names (postgresql, sqlite, mysql...)."""
    return _parsed(url).get_backend_name()
