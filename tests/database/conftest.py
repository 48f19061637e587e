"""A real database for the database connector's tests: SQLite in a temporary folder and
PostgreSQL from the session's server (tests/_pg_server.py; under CI=true it never skips).

``database`` is parametrised over both; ``Db.sql`` runs plain SQL outside Postroom and
``Db.rows`` reads rows back the way a user would check them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text

PATIENTS = {
    "sqlite": "CREATE TABLE patients (id INTEGER PRIMARY KEY, patient_id VARCHAR(10) NOT NULL UNIQUE, "
              "name TEXT NOT NULL, email TEXT, born DATE, balance NUMERIC(10,2))",
    "postgresql": "CREATE TABLE patients (id SERIAL PRIMARY KEY, patient_id VARCHAR(10) NOT NULL UNIQUE, "
                  "name TEXT NOT NULL, email TEXT, born DATE, balance NUMERIC(10,2))",
}


@dataclass
class Db:
    kind: str
    url: str  # as the user writes it in the connection (no password)

    def sql(self, statement: str, **params: Any) -> None:
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(text(statement), params)
        engine.dispose()

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            found = [tuple(row) for row in conn.execute(text(statement))]
        engine.dispose()
        return found

    def create_patients(self) -> None:
        self.sql(PATIENTS[self.kind])


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path) -> Db:  # noqa: ANN001
    if request.param == "sqlite":
        return Db("sqlite", f"sqlite:///{tmp_path / 'clinic.db'}")
    url: str = request.getfixturevalue("postgres_database")
    return Db("postgresql", url.replace("postgresql+psycopg://", "postgresql://"))


@pytest.fixture
def write_files(workdir) -> Callable[[str, dict[str, str]], list[str]]:  # noqa: ANN001
    """Write ``{name: text}`` into workdir/FOLDER; the paths for ``--input``."""

    def write(folder: str, files: dict[str, str]) -> list[str]:
        (workdir / folder).mkdir(exist_ok=True)
        args = []
        for name, content in files.items():
            (workdir / folder / name).write_text(content, encoding="utf-8")
            args += ["--input", f"{folder}/{name}"]
        return args

    return write
