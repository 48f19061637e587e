"""A chunk's documents travel as data (JSON): bytes, properties, dynamic properties, the
document number and which properties an inbound connector recorded; units are grouped into
chunks without being split; a bad POSTROOM_CHUNK_DOCUMENTS names the setting and the fix."""

from __future__ import annotations

import json

import pytest

from postroom.errors import ConfigError
from postroom.sdk import Document
from postroom.services._chunks import CHUNK_ENV, _group, chunk_documents, pack_units, unpack_units


@pytest.mark.fast
def test_documents_round_trip_through_json_with_their_inbound_marks() -> None:
    fetched = Document(b"\x00\xffbinary\r\n" * 10_000, {"mail.subject": "Hello", "mail.to_address": "a@x.org"},
                       {"ward": "3"})
    fetched.mark_inbound(["mail.subject"])
    fetched.seq = 41
    fetched.set_property("mail.to_address", "b@x.org")
    [[back]] = unpack_units(json.loads(json.dumps(pack_units([[fetched]]))))
    assert back.data == fetched.data and back.seq == 41 and back.dynamic == {"ward": "3"}
    assert back.properties == {"mail.subject": "Hello", "mail.to_address": "b@x.org"}
    assert back.outbound("mail.subject") is None  # still only what the inbound connector recorded
    assert back.outbound("mail.to_address") == "b@x.org"


@pytest.mark.fast
def test_units_are_grouped_into_chunks_whole() -> None:
    units = [[Document(str(n))] * size for n, size in enumerate([2, 2, 5, 1, 1, 1])]
    assert [[len(u) for u in chunk] for chunk in _group(iter(units), 4)] == [[2, 2], [5], [1, 1, 1]]
    assert list(_group(iter([]), 4)) == []


@pytest.mark.fast
@pytest.mark.parametrize("raw", ["0", "-3", "many"])
def test_a_bad_chunk_size_names_the_setting(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHUNK_ENV, raw)
    with pytest.raises(ConfigError) as caught:
        chunk_documents()
    assert CHUNK_ENV in str(caught.value) and caught.value.fix and "e.g. 100" in caught.value.fix
    monkeypatch.setenv(CHUNK_ENV, "25")
    assert chunk_documents() == 25


@pytest.mark.fast
def test_an_execution_cut_into_chunks_is_not_resumed_in_one_process(home) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from postroom.repository import ChunkRecord, ExecutionRecord, open_repository
    from postroom.services import resume_execution

    repo = open_repository()
    try:
        repo.create_execution(ExecutionRecord(id="e1", process_id="letters", process_version=1, status="failed",
                                              started_at=datetime.now(UTC), request={"process_id": "letters"}))
        repo.add_chunk(ChunkRecord("e1", "flow", 1, documents=3), {})
        with pytest.raises(ConfigError) as caught:
            resume_execution(repo, "e1")
    finally:
        repo.close()
    assert "cut into chunks on the workers" in str(caught.value) and "postroom worker" in (caught.value.fix or "")
