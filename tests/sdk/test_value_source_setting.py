"""The SDK's value-source setting: the same kinds as the process model, checked at import."""

import pytest
from pydantic import ValidationError

from postroom.model import SOURCE_KINDS
from postroom.sdk import VALUE_SOURCE_KINDS, Document, Settings, ValueSourceSetting, setting
from postroom.sdk.testing import MemoryContext

pytestmark = pytest.mark.fast


class _Op(Settings):
    parameters: list[ValueSourceSetting] = setting([], title="Parameters", help="Value sources.")


def test_kinds_are_the_models():
    assert VALUE_SOURCE_KINDS == SOURCE_KINDS


def test_texts_and_mappings_are_kept_and_numbers_become_text():
    op = _Op(parameters=["a", 7, True, {"process_property": "sheet_id"}, {"profile_element": "id", "profile": "p"}])
    assert op.parameters == ["a", "7", "true", {"process_property": "sheet_id"},
                             {"profile_element": "id", "profile": "p"}]


def test_unknown_kind_is_refused_with_the_list():
    with pytest.raises(ValidationError) as caught:
        _Op(parameters=[{"process_propety": "x"}])
    assert "process_property" in str(caught.value) and "process_propety" in str(caught.value)


def test_memory_context_resolves_properties():
    ctx = MemoryContext(process_properties={"sheet_id": "S1"})
    doc = Document("x", {"a.b": "P"})
    assert [ctx.value(s, doc) for s in ("t", {"process_property": "sheet_id"}, {"document_property": "a.b"})] \
        == ["t", "S1", "P"]
