"""The DKIM warning of ``postroom import``: a send shape whose From domain is not within its
connection's ``dkim_domain`` (DMARC alignment, which Gmail and Yahoo check)."""

from __future__ import annotations

import re
from typing import Any

from ..repository import Repository

__all__ = ["dkim_alignment_warnings"]


def dkim_alignment_warnings(repo: Repository, processes: list[tuple[str, dict[str, Any]]],
                            components: dict[str, dict[str, Any]]) -> list[str]:
    """A warning for each send shape whose From domain is not within its connection's
    dkim_domain (Gmail and Yahoo check DMARC alignment). ``processes``: (file, body) of the
    imported processes; ``components``: bodies of this import's components by id (the
    stored ones are looked up)."""
    def body(component_id: object) -> dict[str, Any]:
        if not isinstance(component_id, str):
            return {}
        found = components.get(component_id)
        if found is None:
            record = repo.get_component(component_id)
            found = record.body if record is not None else {}
        return found if isinstance(found, dict) else {}

    warnings: list[str] = []
    for file, process in processes:
        shapes = process.get("shapes")
        for shape_id, shape in (shapes.items() if isinstance(shapes, dict) else ()):
            if not isinstance(shape, dict):
                continue
            connection, operation = body(shape.get("connection")), body(shape.get("operation"))
            signing = (connection.get("settings") or {}).get("dkim_domain") if connection.get("connector") == "mail" else None
            sender = str((operation.get("settings") or {}).get("from") or "")
            domain = _domain(sender)
            if not isinstance(signing, str) or not signing or not domain or "${" in signing:
                continue
            signing = signing.lower().rstrip(".")
            if domain != signing and not domain.endswith("." + signing):
                warnings.append(f"{file}: shape {shape_id}: the From domain {domain} is not within dkim_domain "
                                f"{signing} of connection {shape.get('connection')}: Gmail and Yahoo treat the "
                                "signature as not aligned (DMARC); sign with the From address's domain")
    return warnings


def _domain(address: str) -> str:
    """The domain of a written From address (``Name <a@b>`` or ``a@b``), lower case; '' when none."""
    match = re.search(r"@([A-Za-z0-9.-]+)\s*>?\s*\Z", address.strip())
    return match.group(1).lower().rstrip(".") if match else ""
