"""A deleted secret.key is never silently replaced while secrets exist (issue 7, item 17)."""

import stat


def test_missing_key_file_with_stored_secrets_is_refused_with_the_way_out(cli, home):
    assert cli("secrets", "set", "smtp-password", input="hunter2\n").code == 0
    key = home / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    saved = key.read_bytes()
    key.unlink()

    result = cli("secrets", "set", "other", input="x\n")
    assert result.code == 2, result
    assert f"the secret key file {key} is missing" in result.stderr, result.stderr
    assert "1 secret(s)" in result.stderr and "smtp-password" in result.stderr
    assert "put the original secret.key back" in result.stderr
    assert "postroom secrets delete NAME" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert not key.exists()  # no new key was made over the old secrets

    key.write_bytes(saved)  # restoring the key is all it takes
    key.chmod(0o600)
    assert cli("secrets", "set", "other", input="y\n").code == 0


def test_after_deleting_the_secrets_a_new_key_is_made(cli, home):
    assert cli("secrets", "set", "a", input="1\n").code == 0
    (home / "secret.key").unlink()
    assert cli("secrets", "delete", "a").code == 0  # deleting needs no key
    assert cli("secrets", "set", "a", input="2\n").code == 0
    assert (home / "secret.key").exists()
