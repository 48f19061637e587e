"""Helpers for connector authors' tests: an in-memory run context and the contract test.

The engine gives connectors a context backed by the repository; tests of a connector on
its own can use :class:`MemoryContext`, which keeps the journal, watermarks and dry-run
records in dictionaries.

:class:`ConnectorContract` is the contract every connector passes (the guarantees are
listed in :mod:`postroom.sdk._contract`). A connector's test module subclasses it and
gives a ``contract_case`` fixture::

    import pytest
    from postroom.sdk.testing import ConnectorContract, ContractCase

    class TestMyConnector(ConnectorContract):
        operations = {"send"}  # the checks of a get are not generated

        @pytest.fixture
        def contract_case(self, tmp_path):
            return ContractCase(connector=MyConnector(), connection={...}, send={...},
                                documents=lambda: [Document("a"), Document("b")])

Each check is also a plain function (``check_settings``, ``check_send``, ...) for other
test runners.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._contract import ContractCase, check_dry_run, check_get, check_listening, check_send, check_settings
from ._memory import JournalItem, MemoryContext, MemoryJournal, MemorySentMail, MemoryWatermarks

__all__ = [
    "ConnectorContract",
    "ContractCase",
    "JournalItem",
    "MemoryContext",
    "MemoryJournal",
    "MemorySentMail",
    "MemoryWatermarks",
    "check_dry_run",
    "check_get",
    "check_listening",
    "check_send",
    "check_settings",
]


#: The contract's tests that need an operation of the connector, by operation.
_NEEDS = {
    "test_send_one_result_per_document": "send",
    "test_dry_run_changes_nothing": "send",
    "test_get_fetches_what_is_there": "get",
    "test_listening_session_waits_and_stops": "get",
}
OPERATIONS = frozenset({"send", "get"})


class ConnectorContract:
    """pytest mixin: the connector contract as tests. Subclass it in a test class named
    ``Test...``, say which operations the connector has (``operations = {"send"}``,
    ``{"get"}`` or both) and provide a ``contract_case`` fixture returning a
    :class:`ContractCase`. Only the checks that apply are generated: a send-only connector
    gets no get checks, rather than skipped ones; a case that lacks the settings of an
    operation the class names fails, naming what is missing. A class that names no
    ``operations`` (written before they existed) gets every check, and those its case has
    no settings for are skipped, as before."""

    operations: ClassVar[frozenset[str] | set[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.operations is None:
            return
        unknown = set(cls.operations) - OPERATIONS
        if unknown or not cls.operations:
            raise TypeError(f"{cls.__name__}.operations must name send, get or both, not {sorted(unknown)}")
        for name, needs in _NEEDS.items():
            if needs not in cls.operations:
                setattr(cls, name, None)  # not applicable: pytest collects no test of that name

    def test_settings_schemas_and_secrets(self, contract_case: ContractCase) -> None:
        check_settings(contract_case.connector)

    def test_send_one_result_per_document(self, contract_case: ContractCase) -> None:
        _has(self, contract_case, "send", "documents")
        check_send(contract_case)

    def test_dry_run_changes_nothing(self, contract_case: ContractCase) -> None:
        _has(self, contract_case, "send", "documents")
        check_dry_run(contract_case)

    def test_get_fetches_what_is_there(self, contract_case: ContractCase) -> None:
        _has(self, contract_case, "get", "put")
        check_get(contract_case)

    def test_listening_session_waits_and_stops(self, contract_case: ContractCase) -> None:
        _has(self, contract_case, "get")
        check_listening(contract_case)


def _has(contract: ConnectorContract, case: ContractCase, operation: str, *also: str) -> None:
    """A check of an operation the case gives no settings for: a failure when the class
    names the operation, a skip when it names none (the behaviour before ``operations``)."""
    missing = [name for name in (operation, *also) if getattr(case, name) is None]
    if not missing:
        return
    if contract.operations is None:
        import pytest  # only when the contract runs under pytest

        pytest.skip(f"the case has no {operation} operation; name the connector's operations "
                    f"(operations = {{...}}) to generate only the checks that apply")
    raise AssertionError(
        f"{type(contract).__name__} has operations {sorted(contract.operations)}, but its contract_case "
        f"gives no {' and no '.join(missing)}: give them, or leave {operation!r} out of operations")
