"""The Mail connector's settings: one connection model, one operation model.

These two models are the single description of every field (DESIGN.md principle 1):
validation, the web form, the docs page and the CLI all read them. Field names follow
CONTRACT.md ("Mail connector").

``show_if`` conditions: a mapping of field name (as written in YAML) to a value or a
list of accepted values; the field shows when every entry holds.

Secret fields (``password``, tokens, client secret) accept any string: a literal, or a
``${secret:NAME}`` / ``${env:VAR}`` reference that the engine resolves before the
connector sees the settings. They are excluded from ``repr`` and validation errors
never echo input values, so a password cannot reach a log through this model.

The models live in ``_connection_spec.py`` and ``_operation_spec.py``; this module is
where the rest of the package and the outside import them from.
"""

from __future__ import annotations

import logging

from ._connection_spec import InboundEndpoint, MailConnection
from ._operation_spec import MailOperation

__all__ = ["MailConnection", "MailOperation", "InboundEndpoint"]

log = logging.getLogger("postroom.connectors.mail")
