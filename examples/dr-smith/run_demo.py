#!/usr/bin/env python3
"""The demo: start the built-in mail server, import the Dr. Smith tutorial, send the
letters, and show what arrived and the patient records process 2 stored. Run it with
`make demo` (or this script, from anywhere).

Everything goes in .demo/ at the repository root (POSTROOM_HOME, devmail's certificates),
so the demo never touches ~/.postroom. Options: --keep-running keeps devmail and its web
inbox up after the letters are shown, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import secrets
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def postroom(*args: str, env: dict[str, str], input: str | None = None, check: bool = True) -> int:
    print(f"$ postroom {' '.join(args)}", flush=True)
    proc = subprocess.run([sys.executable, "-m", "postroom", *args], env=env, cwd=ROOT, input=input, text=True)
    if check and proc.returncode not in (0,):
        sys.exit(f"demo: `postroom {' '.join(args)}` exited with {proc.returncode}")
    return proc.returncode


def where_to_look(home: Path) -> str:
    """The demo's last lines: where its executions are and the command that lists them."""
    try:
        shown = str(home.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(home.resolve())
    command = "postroom" if shutil.which("postroom") else os.path.relpath(Path(sys.executable).parent / "postroom")
    return (f"The demo's components, secrets and executions are in {shown} (POSTROOM_HOME). To look at them:\n"
            f"  POSTROOM_HOME={shlex.quote(shown)} {shlex.quote(command)} executions list")


def stored_records(home: Path, sent: int) -> str:
    """What process 2 did with its database: the rows of patient_records (the example's default
    SQLite file in POSTROOM_HOME) and whether each patient's letter is noted on the record."""
    path = home / "dr-smith.db"
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT patient_id, stored_at, full_name, email, email_consent, letter_sent_at "
                          "FROM patient_records ORDER BY patient_id").fetchall()
    lines = [f"Process 2 sent {sent} letters and holds {len(rows)} patient records "
             f"(table patient_records in {path}):"]
    for patient, stored_at, name, address, consent, sent_at in rows:
        if sent_at:
            what = f"letter sent {sent_at}"
        elif consent != "yes":
            what = "no letter: no consent"
        else:
            what = "no letter: no usable address"
        name = " ".join(name.split())  # a name written over two lines in the list, on one
        lines.append(f"  {patient}  stored {stored_at}  {name:<22} {address or '(no address)':<30} {what}")
    if not sent and rows:
        lines.append("Every patient with consent and a usable address already had their letter (it is noted on "
                     f"their record), so none went out twice. Delete {path} to send them again.")
    return "\n".join(lines)


def first_login(home: Path, env: dict[str, str]) -> str:
    """The browser app's first user (an admin named clinic), made once per POSTROOM_HOME. Its
    password goes to a file readable by this user only, never to this output."""
    login_file = home / "first-login.txt"
    listed = subprocess.run([sys.executable, "-m", "postroom", "users", "list", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    if not json.loads(listed.stdout):
        password = secrets.token_urlsafe(12)
        postroom("users", "add", "clinic", "--role", "admin", "--password-stdin", env=env, input=password + "\n")
        login_file.touch(mode=0o600)
        login_file.write_text(f"user name: clinic\npassword: {password}\n", encoding="utf-8")
    if login_file.exists():
        login = f"log in as clinic with the password in {login_file} (kept out of this output)"
    else:
        login = "log in with a user of this POSTROOM_HOME (postroom users list)"
    return (f"The browser app (Build, Process Reporting, Dev Inbox): start it with\n"
            f"  POSTROOM_HOME={shlex.quote(str(home))} {sys.executable} -m postroom serve\n"
            f"then open http://127.0.0.1:8080 and {login}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-running", action="store_true", help="keep devmail and its web inbox running")
    parser.add_argument("--smtps-port", type=int, default=2465, help="devmail's SMTPS port (the example uses 2465)")
    args = parser.parse_args()

    from postroom.devmail import SERVE_DEFAULT_USERS, DevMail

    demo = ROOT / ".demo"
    home = Path(os.environ.get("POSTROOM_HOME") or demo / "home")
    env = dict(os.environ, POSTROOM_HOME=str(home))
    env.pop("POSTROOM_DATABASE_URL", None)
    user, password = next(iter(SERVE_DEFAULT_USERS.items()))
    try:
        server = DevMail(host="127.0.0.1", smtp_port=0, smtps_port=args.smtps_port, pop3_port=0, pop3s_port=0,
                         web_port=0, users={user: password}, tls=True, cert_dir=demo / "devmail-tls")
        server.start()
    except OSError as exc:
        sys.exit(f"demo: cannot start devmail on port {args.smtps_port} ({exc}); is another devmail running? "
                 "Stop it, or pass --smtps-port and change port in examples/dr-smith/connections.yaml")
    try:
        env["POSTROOM_DEVMAIL_CA"] = str(server.ca_file)
        print(f"devmail is running: SMTPS on localhost:{server.smtps_port}, web inbox {server.web_url}")
        print(f"its CA file: {server.ca_file}\n")
        postroom("secrets", "set", "devmail-password", env=env, input=password + "\n")
        postroom("import", "examples/dr-smith", env=env)
        postroom("connections", "test", "local-mail-connection", env=env)
        postroom("run", "dr-smith-announcement", env=env)
        announced = len(server.messages())
        code = postroom("run", "dr-smith-personal-letters", env=env, check=False)
        if code not in (0, 1):
            sys.exit(f"demo: the personal letters run exited with {code}")
        messages = server.messages()
        print(f"\n{len(messages)} letters arrived at devmail:\n")
        for stored in messages:
            parsed = email.message_from_bytes(stored.raw, policy=email.policy.default)
            body = parsed.get_body(("plain",))
            first_line = body.get_content().splitlines()[0] if body else ""
            print(f"  to {', '.join(stored.rcpt_tos):<36} {parsed['Subject']}  | {first_line}")
        print("\n" + stored_records(home, len(messages) - announced))
        print(f"\nEach patient got exactly one letter, addressed to them alone. Open {server.web_url} to read them"
              + (" (Ctrl-C to stop)." if args.keep_running else " (run with --keep-running to keep it up)."))
        print(first_login(home, env))
        print(where_to_look(home))
        if args.keep_running:
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
