"""Components: versions, all-or-nothing saves, listing, deletion."""

from __future__ import annotations

import threading

import pytest

from postroom.errors import ConfigError
from postroom.repository import ComponentRecord, Repository

pytestmark = pytest.mark.fast_on_sqlite


def comp(id: str, body: dict | None = None, *, type: str = "process", name: str | None = None,
         folder: str = "", source_file: str | None = None) -> ComponentRecord:
    name = name if name is not None else id.upper()
    return ComponentRecord(id=id, type=type, name=name, folder=folder, source_file=source_file,
                           body=body if body is not None else {"type": type, "name": name, "id": id})


def test_versions_count_per_id_and_old_versions_stay_readable(repo: Repository) -> None:
    first = repo.save_components([comp("a", {"n": 1}), comp("b", {"n": 1})])
    assert [(r.id, r.version) for r in first] == [("a", 1), ("b", 1)]
    assert all(r.created_at is not None and r.created_at.tzinfo is not None for r in first)

    second = repo.save_components([comp("a", {"n": 2})])
    assert second[0].version == 2
    third = repo.save_components([comp("a", {"n": 3}), comp("b", {"n": 2})])
    assert [(r.id, r.version) for r in third] == [("a", 3), ("b", 2)]

    assert repo.get_component("a").body == {"n": 3}
    assert repo.get_component("a", version=1).body == {"n": 1}
    assert repo.get_component("a", version=2).body == {"n": 2}
    assert repo.get_component("a", version=4) is None
    assert [(v.version, v.body) for v in repo.component_versions("a")] == [(1, {"n": 1}), (2, {"n": 2}),
                                                                          (3, {"n": 3})]
    assert repo.get_component("b").version == 2


def test_unchanged_body_keeps_its_version_whatever_the_key_order(repo: Repository) -> None:
    [v1] = repo.save_components([comp("a", {"x": 1, "y": {"p": [1, 2], "q": "é"}})])
    [again] = repo.save_components([comp("a", {"y": {"q": "é", "p": [1, 2]}, "x": 1})])
    assert again.version == 1
    assert again.created_at == v1.created_at
    assert len(repo.component_versions("a")) == 1
    # A list's order is content: a reordered list is a new version.
    [v2] = repo.save_components([comp("a", {"x": 1, "y": {"p": [2, 1], "q": "é"}})])
    assert v2.version == 2


def test_body_key_order_and_unicode_are_kept(repo: Repository) -> None:
    body = {"zeta": 1, "alpha": {"ö": "ß", "b": None, "a": [True, 1.5]}, "m": "日本"}
    repo.save_components([comp("order", body)])
    stored = repo.get_component("order").body
    assert stored == body
    assert list(stored) == ["zeta", "alpha", "m"]
    assert list(stored["alpha"]) == ["ö", "b", "a"]


def test_renaming_or_moving_is_a_new_version(repo: Repository) -> None:
    repo.save_components([comp("a", {"k": 1}, name="Old", folder="F")])
    [renamed] = repo.save_components([comp("a", {"k": 1}, name="New", folder="F")])
    [moved] = repo.save_components([comp("a", {"k": 1}, name="New", folder="G")])
    assert (renamed.version, moved.version) == (2, 3)
    assert repo.get_component("a").folder == "G"


def test_unchanged_component_records_its_new_source_file(repo: Repository) -> None:
    repo.save_components([comp("a", {"k": 1}, source_file="one.yaml")])
    [same] = repo.save_components([comp("a", {"k": 1}, source_file="two.yaml")])
    assert same.version == 1 and same.source_file == "two.yaml"
    assert repo.get_component("a").source_file == "two.yaml"


def test_save_returns_copies_and_leaves_arguments_alone(repo: Repository) -> None:
    record = comp("a", {"k": 1})
    [saved] = repo.save_components([record])
    assert record.version == 0 and record.created_at is None
    assert saved is not record and saved.version == 1


def test_a_failing_record_stores_nothing(repo: Repository) -> None:
    repo.save_components([comp("a", {"n": 1})])
    batch = [comp("a", {"n": 2}), comp("new", {"n": 1}),
             ComponentRecord(id="broken", type="process", name=None, body={})]  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="nothing was saved"):
        repo.save_components(batch)
    assert repo.get_component("a").version == 1
    assert repo.get_component("a").body == {"n": 1}
    assert repo.get_component("new") is None
    assert repo.get_component("broken") is None
    # The database is still usable after the rollback.
    assert repo.save_components([comp("a", {"n": 2})])[0].version == 2


def test_a_duplicate_id_in_one_batch_stores_nothing(repo: Repository) -> None:
    with pytest.raises(ConfigError, match="more than once") as info:
        repo.save_components([comp("first"), comp("dup", {"v": 1}), comp("dup", {"v": 2})])
    assert info.value.component == "dup"
    assert repo.list_components() == []


def test_a_body_that_is_not_json_stores_nothing(repo: Repository) -> None:
    with pytest.raises(ConfigError, match="JSON") as info:
        repo.save_components([comp("ok"), comp("bad", {"when": object()})])
    assert info.value.component == "bad"
    assert repo.get_component("ok") is None


def test_list_is_latest_versions_sorted_by_folder_then_name(repo: Repository) -> None:
    repo.save_components([
        comp("p2", {"v": 1}, name="beta", folder="B"),
        comp("p1", {"v": 1}, name="alpha", folder="B"),
        comp("c1", {"v": 1}, type="connection", name="Zed", folder=""),
        comp("o1", {"v": 1}, type="operation", name="op", folder="B/Sub"),
        comp("x1", {"v": 1}, name="other", folder="BB"),
    ])
    repo.save_components([comp("p2", {"v": 2}, name="beta", folder="B")])

    listed = repo.list_components()
    assert [(c.folder, c.name) for c in listed] == [("", "Zed"), ("B", "alpha"), ("B", "beta"),
                                                     ("B/Sub", "op"), ("BB", "other")]
    assert next(c for c in listed if c.id == "p2").version == 2
    assert [c.id for c in repo.list_components(type="process")] == ["p1", "p2", "x1"]
    assert [c.id for c in repo.list_components(folder="B")] == ["p1", "p2", "o1"]
    assert [c.id for c in repo.list_components(folder="B/Sub")] == ["o1"]
    assert [c.id for c in repo.list_components(folder="")] == ["c1"]
    assert [c.id for c in repo.list_components(type="process", folder="B")] == ["p1", "p2"]
    assert repo.list_components(type="profile") == []


def test_delete_removes_every_version(repo: Repository) -> None:
    repo.save_components([comp("a", {"n": 1})])
    repo.save_components([comp("a", {"n": 2})])
    repo.save_components([comp("keep")])
    assert repo.delete_component("a") is True
    assert repo.get_component("a") is None
    assert repo.get_component("a", version=1) is None
    assert repo.component_versions("a") == []
    assert [c.id for c in repo.list_components()] == ["keep"]
    assert repo.delete_component("a") is False
    # A component imported again after deletion starts over.
    assert repo.save_components([comp("a", {"n": 9})])[0].version == 1


def test_concurrent_saves_of_one_id_give_consecutive_versions(repo: Repository) -> None:
    """Threads race to save new bodies of one id: every save gets its own version, none
    fails (saves are serialised: an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    errors: list[BaseException] = []
    results: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            for i in range(5):
                [saved] = repo.save_components([comp("hot", {"writer": n, "i": i})])
                with lock:
                    results.append(saved.version)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == list(range(1, 21))
    assert [v.version for v in repo.component_versions("hot")] == list(range(1, 21))
