"""The Disk connector's document properties (:attr:`postroom.sdk.Connector.document_properties`)."""

from __future__ import annotations

from ...sdk import DocumentProperty

__all__ = ["DISK_PROPERTIES"]

DISK_PROPERTIES: tuple[DocumentProperty, ...] = (
    DocumentProperty("disk.file_name", "Send: the name of the file to write; get: the name of the file read.",
                     boomi="connector.disk.filename"),
    DocumentProperty("disk.directory", "Send: a folder under the connection's directory; get: the folder "
                     "the file was read from.", boomi="connector.disk.directory"),
)
