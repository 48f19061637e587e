"""An unknown user name costs the same argon2 verification as a wrong password, so the time
of a refusal does not tell whether the name exists (counted, not timed: timing flakes)."""

from __future__ import annotations

from pathlib import Path

import pytest

import postroom.services._logins as logins_module
from postroom.repository import open_repository
from postroom.services import LoginRefused, Logins, add_user

pytestmark = pytest.mark.fast


def test_unknown_user_and_wrong_password_both_verify_one_argon2_hash(home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    repo = open_repository(home=home)
    try:
        add_user(repo, "anna", "admin", "right-password")
        logins = Logins(repo)
        verified: list[str] = []
        real = logins_module.verify_password

        def counting(password_hash: str, password: str) -> bool:
            verified.append(password_hash.split("$")[1])
            return real(password_hash, password)

        monkeypatch.setattr(logins_module, "verify_password", counting)
        messages = []
        for name in ("anna", "nobody"):
            with pytest.raises(LoginRefused) as refused:
                logins.login(name, "wrong-password", "127.0.0.1")
            messages.append(refused.value.message)
        assert verified == ["argon2id", "argon2id"] and messages[0] == messages[1]
        info, token = logins.login("anna", "right-password", "127.0.0.1")
        assert info.name == "anna" and logins.session(token) == info
    finally:
        repo.close()
