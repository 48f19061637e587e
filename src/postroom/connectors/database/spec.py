"""Database connector settings (CONTRACT.md, "Database connector").

Every check that needs only the settings runs at import (``postroom import`` exits 2):
a url that does not parse, names an unknown kind of database or holds a password; an
operation missing the field its action needs; a parameter the sql never uses, or a
``:name`` in the sql with no parameter.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationInfo, field_validator

from ...sdk import Settings, ValueSourceSetting, setting
from ._sql import bind_names, url_problem

__all__ = ["DatabaseConnection", "DatabaseOperation"]

Action = Literal["insert", "upsert", "query", "execute"]


class DatabaseConnection(Settings):
    url: str = setting(
        ..., title="URL",
        help="Any SQLAlchemy URL without the password: postgresql://clinic@127.0.0.1:5432/clinic, "
             "sqlite:////absolute/path/clinic.db (sqlite:///clinic.db: relative to the folder postroom runs "
             "in). Other databases work by URL once their driver is installed (mysql+pymysql://...).",
        examples=["postgresql://clinic@127.0.0.1:5432/clinic"])
    password: str = setting(
        "", title="Password", secret=True,
        help="The database password, kept as a secret (${secret:NAME}); never written into the url.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class DatabaseOperation(Settings):
    action: Action = setting(
        ..., title="Action",
        help="insert: store each document as a row (or an array of rows); upsert: insert, or update the row "
             "whose key_columns match; query: run sql, a document per row; execute: run sql for each "
             "document, which passes on with database.row_count.")
    table: str | None = setting(
        None, title="Table", help="The table rows go into (insert, upsert); schema.table for another schema.",
        group="insert", show_if={"action": ["insert", "upsert"]}, validate_default=True)
    key_columns: list[str] = setting(
        [], title="Key columns",
        help="upsert: the columns that identify a row (a primary key or unique constraint on exactly these).",
        group="insert", show_if={"action": "upsert"}, validate_default=True)
    returning: bool = setting(
        False, title="Return the stored row",
        help="insert, upsert: the document becomes the stored row as a JSON object, generated keys and "
             "defaults included (an array of rows: a JSON array).",
        group="insert", show_if={"action": ["insert", "upsert"]})
    sql: str | None = setting(
        None, title="SQL",
        help="query, execute: the statement, with :name for each value from parameters (bound, never pasted "
             "into the text). Write \\:name for a colon that is not a parameter.",
        group="sql", show_if={"action": ["query", "execute"]}, validate_default=True)
    parameters: dict[str, ValueSourceSetting] = setting(
        {}, title="Parameters",
        help="query, execute: the value of each :name in sql, a value source resolved per document, such as "
             "{profile_element: active} or {document_property: mail.subject}.",
        group="sql", show_if={"action": ["query", "execute"]}, validate_default=True)

    @field_validator("table")
    @classmethod
    def _table_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        action = info.data.get("action")
        if action in ("insert", "upsert") and not (value or "").strip():
            raise ValueError(f"action {action} needs table: name the table the rows go into")
        return value

    @field_validator("key_columns")
    @classmethod
    def _keys_needed(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("action") == "upsert" and not value:
            raise ValueError("action upsert needs key_columns: list the columns that identify a row, "
                             "such as [id] (a primary key or unique constraint on exactly them)")
        return value

    @field_validator("sql")
    @classmethod
    def _sql_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        action = info.data.get("action")
        if action in ("query", "execute") and not (value or "").strip():
            raise ValueError(f"action {action} needs sql: write the statement, with :name for each parameter")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters_match(cls, value: dict[str, str | dict[str, str]], info: ValidationInfo) -> dict:
        sql = info.data.get("sql")
        if info.data.get("action") not in ("query", "execute") or not sql:
            return value
        used = bind_names(sql)
        unused = [name for name in value if name not in used]
        if unused:
            raise ValueError(f"parameter {unused[0]} is not used in sql (sql uses: {', '.join(used) or 'none'}): "
                             f"write :{unused[0]} where its value goes, or remove it")
        missing = [name for name in used if name not in value]
        if missing:
            raise ValueError(f"sql uses :{missing[0]} but parameters has no {missing[0]}: add "
                             f"{missing[0]}: {{profile_element: ...}} (or another value source) to parameters, "
                             f"or write \\:{missing[0]} for a literal colon")
        return value
