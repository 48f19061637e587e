"""Secret references in settings: ``${secret:NAME}`` and ``${env:VAR}``.

``${env:POSTROOM_HOME}`` always names the data folder: when the variable is not set, the
folder Postroom uses then (``~/.postroom``), so a connection can keep a file there
(``sqlite:///${env:POSTROOM_HOME}/clinic.db``) whether or not the user set it.

A literal secret in an imported file is moved into the encrypted secret store and
replaced by a reference, so that component bodies, exports and the UI only ever hold
references.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import SecretMissing
from ..repository import data_home

__all__ = ["REFERENCE", "is_reference", "resolve_references", "secret_name_for"]

REFERENCE = re.compile(r"\$\{(secret|env):([^}]+)\}")
_WHOLE = re.compile(r"^\$\{(secret|env):([^}]+)\}$")


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(_WHOLE.match(value.strip()))


def secret_name_for(component_id: str, field: str) -> str:
    return f"{component_id}.{field}"


def resolve_references(value: str, get_secret, *, component: str, field: str, file: str | None) -> str:  # noqa: ANN001
    """Replace every reference in ``value``; a missing one raises SecretMissing (exit 2)."""

    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2).strip()
        if kind == "env":
            found = os.environ.get(name)
            if not found and name == "POSTROOM_HOME":
                found = str(data_home())
            if found is None:
                raise SecretMissing(
                    f"the environment variable {name} named by ${{env:{name}}} is not set",
                    file=file, component=component, field=field,
                    fix=f"export {name}=... before running, or use ${{secret:NAME}}")
            return found
        found = get_secret(name)
        if found is None:
            raise SecretMissing(
                f"the secret {name!r} does not exist",
                file=file, component=component, field=field,
                fix=f"store it with: postroom secrets set {name}")
        return found

    return REFERENCE.sub(replace, value)
