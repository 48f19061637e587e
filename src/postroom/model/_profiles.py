"""Profile elements (CONTRACT.md, "Profiles"): flat-file fields, JSON and XML element trees,
database columns. The :class:`~postroom.model.Profile` component holds them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ._datepatterns import date_pattern_problem, number_pattern_problem

__all__ = ["ProfileField", "JsonElement", "XmlElement", "XmlAttribute", "Column", "names_to_models",
           "check_profile_shape"]


def _check_format(value: str, info: ValidationInfo) -> str:
    """A date or number field's format must be a pattern Postroom reads (checked at import)."""
    kind = info.data.get("type")
    problem = date_pattern_problem(value) if kind == "date" else number_pattern_problem(value) \
        if kind == "number" else None
    if problem:
        example = "M/d/yyyy" if kind == "date" else "#,##0.00"
        raise ValueError(f"format {value!r} for a {kind}: {problem}; for example format: {example!r}")
    return value


def or_bare_name(schema: dict[str, Any]) -> None:
    """The JSON Schema of a list whose items may be written as a bare name (see names_to_models)."""
    schema["items"] = {"anyOf": [{"type": "string", "minLength": 1, "description": "a bare name: {name: NAME}"},
                                 schema["items"]]}


def names_to_models(value: Any) -> Any:
    """A bare name in a list of fields stands for ``{name: NAME}``."""
    if isinstance(value, list):
        return [{"name": v} if isinstance(v, str) else v for v in value]
    return value


class ProfileField(BaseModel):
    """A flat-file field (a column)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1)
    type: Literal["text", "number", "date", "boolean"] = "text"
    format: str = Field("", description="Java pattern: M/d/yyyy for dates, #,##0.00 for numbers.")
    required: bool = False
    max_length: int | None = Field(None, ge=1)
    length: int | None = Field(None, ge=1, description="layout: fixed_width: the field's width in characters.")

    _format = field_validator("format")(_check_format)


class JsonElement(BaseModel):
    """A JSON element: an object's key (or, under an array, the shape of each entry)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field("", description="The key; empty for the entries of an array of scalars.")
    type: Literal["object", "array", "string", "number", "boolean"] = "string"
    required: bool = False
    elements: list[JsonElement] = Field(default_factory=list,
                                        description="object: its keys; array: the keys of each entry (an object).")
    items: Literal["object", "string", "number", "boolean"] | None = Field(
        None, description="array: the type of each entry (object when elements are given).")

    @field_validator("elements", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return names_to_models(value)


class XmlAttribute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1)
    required: bool = False


class XmlElement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1)
    type: Literal["string", "number", "boolean", "date"] = "string"
    format: str = Field("", description="number or date: the Java pattern (ISO 8601 dates without one).")
    required: bool = False
    repeating: bool = False
    attributes: list[XmlAttribute] = Field(default_factory=list)
    elements: list[XmlElement] = Field(default_factory=list)

    _format = field_validator("format")(_check_format)

    @field_validator("elements", "attributes", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return names_to_models(value)


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1)
    type: Literal["text", "number", "date", "boolean"] = "text"
    format: str = Field("", description="number or date: the Java pattern (ISO 8601 dates without one).")
    required: bool = False

    _format = field_validator("format")(_check_format)


_OWN_KEYS = {
    "flat_file": ("fields",),
    "json": ("elements",),
    "xml": ("root", "elements"),
    "database": ("table", "columns"),
}
_FOREIGN = {"fields": "flat_file", "elements": "json or xml", "root": "xml", "table": "database",
            "columns": "database"}


def check_profile_shape(profile: Any) -> None:
    """What a profile of its type needs; a ValueError naming the key and the fix."""
    kind = profile.profile_type
    for key, owner in _FOREIGN.items():
        if getattr(profile, key) and key not in _OWN_KEYS[kind]:
            raise ValueError(f"{key} belongs to a {owner} profile, and this one is profile_type: {kind}; "
                             f"remove {key} or change profile_type")
    if kind == "xml" and not profile.root:
        raise ValueError("an xml profile needs root: the name of the root element")
    if kind == "database" and not profile.table:
        raise ValueError("a database profile needs table: the table its columns belong to")
    if kind == "flat_file" and profile.layout == "fixed_width":
        missing = [f.name for f in profile.fields if f.length is None]
        if missing:
            raise ValueError(f"layout: fixed_width needs a length on every field; {', '.join(missing)} has none "
                             "(write {name: ..., length: N})")
