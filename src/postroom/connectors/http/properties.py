"""The HTTP Client connector's document properties."""

from __future__ import annotations

from ...sdk import DocumentProperty

__all__ = ["HTTP_PROPERTIES", "HEADER_PREFIX", "STATUS"]

STATUS = "http.status"
HEADER_PREFIX = "http.headers."

HTTP_PROPERTIES: tuple[DocumentProperty, ...] = (
    DocumentProperty(STATUS, "After a request: the response's status code (200, 404...)."),
    DocumentProperty("http.headers.<Name>", "Before a request: a header to send (set with Set Properties); after "
                     "it: each header of the response, by name (http.headers.Content-Type)."),
)
