"""The connector contract (postroom.sdk.testing.ConnectorContract) run for the disk and
mail connectors: disk on temporary folders, a mail send against devmail (SMTP with
STARTTLS and login), a mail get against Dovecot over IMAPS (a listening session) and
POP3 (a polling one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postroom.connectors.disk import connector as disk
from postroom.connectors.mail import connector as mail
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from postroom.sdk import Document
from postroom.sdk.testing import ConnectorContract, ContractCase


class TestDiskContract(ConnectorContract):
    @pytest.fixture
    def contract_case(self, tmp_path: Path) -> ContractCase:
        folder = tmp_path / "files"
        folder.mkdir()

        def put(count: int) -> None:
            for n in range(count):
                (folder / f"in-{n}.txt").write_text(f"file {n}")

        return ContractCase(
            connector=disk,
            connection={"directory": str(folder)},
            send={"action": "send", "sync_to_disk": False},
            documents=lambda: [Document(f"letter {n}", {"disk.file_name": f"out-{n}.txt"}) for n in range(3)],
            # a name with a folder in it: that document fails, the others are written
            bad_document=lambda: Document("escape", {"disk.file_name": "../escape.txt"}),
            delivered=lambda: len(list(folder.glob("out-*.txt"))),
            get={"action": "get", "file_filter": "in-*.txt"},
            put=put,
        )

    def test_the_files_are_on_disk(self, contract_case: ContractCase, tmp_path: Path) -> None:
        from postroom.sdk.testing import check_send

        check_send(contract_case)
        assert sorted(p.name for p in (tmp_path / "files").iterdir()) == ["out-0.txt", "out-1.txt", "out-2.txt"]
        assert (tmp_path / "files" / "out-1.txt").read_text() == "letter 1"
        assert not (tmp_path / "escape.txt").exists()


class TestMailSendContract(ConnectorContract):
    operations = {"send"}

    @pytest.fixture
    def contract_case(self, devmail_factory) -> ContractCase:  # noqa: ANN001
        dm = devmail_factory(auth_required=True)
        return ContractCase(
            connector=mail,
            connection=dm.connection_settings("smtp") | {"retry_delay_seconds": 0.01, "timeout_seconds": 5},
            send={"action": "send", "from": DEVMAIL_USER, "subject": "Contract", "body_content_type": "text/plain"},
            documents=lambda: [Document(f"letter {n}", {"mail.to_address": f"patient{n}@example.org"})
                               for n in range(3)],
            # an address that is no address: that document fails, the others are sent
            bad_document=lambda: Document("nobody", {"mail.to_address": "not an address"}),
            delivered=lambda: len(dm.messages()),
            secrets=[DEVMAIL_PASSWORD],
        )

    def test_the_emails_arrived(self, contract_case: ContractCase, devmail_factory) -> None:  # noqa: ANN001
        from postroom.sdk.testing import check_send

        check_send(contract_case)
        assert contract_case.delivered is not None and contract_case.delivered() == 3


def _simple(n: int) -> bytes:
    return (f"From: patient@example.org\r\nTo: clinic@example.com\r\nSubject: Message {n}\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <contract-{n}@example.org>\r\n\r\n"
            f"Body {n}.\r\n").encode()


class TestMailGetContract(ConnectorContract):
    operations = {"get"}

    @pytest.fixture(params=["imaps", "pop3s"])
    def contract_case(self, request, mailbox) -> ContractCase:  # noqa: ANN001
        return ContractCase(
            connector=mail,
            connection=mailbox.connection(request.param),
            get={"action": "get", "start_from": "all"},
            put=lambda count: [mailbox.deliver(_simple(n)) for n in range(count)] and None,
            secrets=[mailbox.password],
        )
