"""The Database connector's document properties (:attr:`postroom.sdk.Connector.document_properties`)."""

from __future__ import annotations

from ...sdk import DocumentProperty

__all__ = ["DATABASE_PROPERTIES", "ROW_COUNT"]

ROW_COUNT = "database.row_count"

DATABASE_PROPERTIES: tuple[DocumentProperty, ...] = (
    DocumentProperty(ROW_COUNT, "execute: how many rows the statement changed (the driver's row count; -1 when "
                     "the database does not say); insert, upsert: how many rows the document stored."),
)
