"""postroom users add / list / delete and postroom tokens create / list / revoke (issue 9,
item 2): clear errors with exit 2, a password typed twice at a hidden prompt or read from
stdin, and neither a password nor a token in any listing or database row."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from postroom.repository import open_repository
from postroom.services import Logins, verify_password

PASSWORD = "Corr3ct-horse-battery"


def _rows(home: Path, sql: str) -> list:
    engine = create_engine(f"sqlite:///{home / 'postroom.db'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def test_users_add_list_delete_and_their_errors(cli, home: Path) -> None:  # noqa: ANN001
    added = cli("users", "add", "anna", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    assert added.code == 0 and added.stdout.strip() == "added user anna (admin)", added
    (row,) = _rows(home, "SELECT name, role, password_hash FROM users")
    assert row.role == "admin" and verify_password(row.password_hash, PASSWORD)
    assert PASSWORD not in row.password_hash

    duplicate = cli("users", "add", "anna", "--role", "viewer", "--password-stdin", input="other\n")
    assert duplicate.code == 2 and "a user named 'anna' already exists" in duplicate.stderr, duplicate
    role = cli("users", "add", "bert", "--role", "boss", "--password-stdin", input="x\n")
    assert role.code == 2 and "unknown role 'boss'" in role.stderr and "viewer, builder, admin" in role.stderr
    empty = cli("users", "add", "bert", "--role", "viewer", "--password-stdin", input="\n")
    assert empty.code == 2 and "the password is empty" in empty.stderr, empty
    name = cli("users", "add", "bad name", "--role", "viewer", "--password-stdin", input="x\n")
    assert name.code == 2 and "the user name 'bad name' is not allowed" in name.stderr

    assert cli("users", "add", "vera", "--role", "viewer", "--password-stdin", input="v\n").code == 0
    listed = cli("users", "list", "--json")
    assert [(u["name"], u["role"]) for u in listed.json()] == [("anna", "admin"), ("vera", "viewer")]
    assert set(listed.json()[0]) == {"name", "role", "created_at"}
    table = cli("users", "list")
    assert "anna" in table.stdout and "admin" in table.stdout and "argon2" not in table.stdout
    assert cli("users", "delete", "vera").code == 0
    missing = cli("users", "delete", "vera")
    assert missing.code == 2 and "no user named 'vera'" in missing.stderr
    assert [u["name"] for u in cli("users", "list", "--json").json()] == ["anna"]


def _prompted(home: Path, *answers: str) -> tuple[int, str]:
    """``postroom users add bert --role builder`` on a terminal, typing ``answers`` at the prompts."""
    master, slave = pty.openpty()
    env = {**os.environ, "POSTROOM_HOME": str(home)}
    env.pop("POSTROOM_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "users", "add", "bert", "--role", "builder"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    seen, pending = b"", list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([master], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(master, 1024)
        except OSError:  # the child closed the terminal
            break
        seen += chunk
        if pending and seen.rstrip().endswith(b":"):
            # type only once the prompt has turned the echo off, as a person would after seeing it
            while termios.tcgetattr(master)[3] & termios.ECHO and time.monotonic() < deadline:
                select.select([], [], [], 0.01)
            os.write(master, pending.pop(0).encode() + b"\n")
    os.close(master)
    return proc.wait(60), seen.decode(errors="replace")


def test_users_add_prompts_twice_without_password_stdin(home: Path) -> None:
    code, output = _prompted(home, PASSWORD, PASSWORD + "-typo")
    assert code == 2 and "the two passwords differ" in output, output
    code, output = _prompted(home, PASSWORD, PASSWORD)
    assert code == 0 and "added user bert (builder)" in output, output
    assert PASSWORD not in output  # the prompt does not echo
    (row,) = _rows(home, "SELECT password_hash FROM users WHERE name = 'bert'")
    assert verify_password(row.password_hash, PASSWORD)


def test_tokens_create_list_revoke(cli, home: Path) -> None:  # noqa: ANN001
    created = cli("tokens", "create", "nightly-export", "--role", "builder")
    assert created.code == 0, created
    token = created.stdout.strip()
    assert token.startswith("prt_") and len(token) > 40
    assert "shown only now" in created.stderr and token not in created.stderr
    repo = open_repository(home=home)
    try:
        info = Logins(repo).token(token)
        assert info is not None and (info.name, info.role, info.via) == ("nightly-export", "builder", "token")
    finally:
        repo.close()
    (row,) = _rows(home, "SELECT * FROM api_tokens")
    assert token not in str(tuple(row)) and len(row.token_hash) == 64
    listed = cli("tokens", "list", "--json")
    assert [(t["name"], t["role"]) for t in listed.json()] == [("nightly-export", "builder")]
    assert listed.json()[0]["last_used_at"] is not None  # used just above
    assert token not in listed.stdout and token not in cli("tokens", "list").stdout
    assert cli("tokens", "create", "nightly-export").code == 2
    assert cli("tokens", "create", "x", "--role", "root").code == 2
    assert cli("tokens", "revoke", "nightly-export").code == 0
    gone = cli("tokens", "revoke", "nightly-export")
    assert gone.code == 2 and "no API token named 'nightly-export'" in gone.stderr
    repo = open_repository(home=home)
    try:
        assert Logins(repo).token(token) is None
    finally:
        repo.close()
