"""``${env:POSTROOM_HOME}`` names the data folder whether or not the variable is set, so the
Dr. Smith tutorial's SQLite file lives in the data folder by default."""

from __future__ import annotations

import pytest

from postroom.errors import SecretMissing
from postroom.services import resolve_references


def _resolve(value: str) -> str:
    return resolve_references(value, lambda name: None, component="clinic-db", field="settings.url", file=None)


@pytest.mark.fast
@pytest.mark.parametrize("unset", ["delete", "empty"])
def test_unset_postroom_home_is_the_default_data_folder(tmp_path, monkeypatch, unset):
    monkeypatch.setenv("HOME", str(tmp_path))
    if unset == "delete":
        monkeypatch.delenv("POSTROOM_HOME", raising=False)
    else:
        monkeypatch.setenv("POSTROOM_HOME", "")
    assert _resolve("sqlite:///${env:POSTROOM_HOME}/dr-smith.db") == f"sqlite:///{tmp_path}/.postroom/dr-smith.db"
    assert (tmp_path / ".postroom").is_dir()


@pytest.mark.fast
def test_a_set_postroom_home_is_taken_as_written(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTROOM_HOME", "relative/home")
    assert _resolve("sqlite:///${env:POSTROOM_HOME}/dr-smith.db") == "sqlite:///relative/home/dr-smith.db"


@pytest.mark.fast
def test_other_unset_variables_still_stop_the_run(monkeypatch):
    monkeypatch.delenv("DR_SMITH_NOT_SET", raising=False)
    with pytest.raises(SecretMissing, match="the environment variable DR_SMITH_NOT_SET"):
        _resolve("${env:DR_SMITH_NOT_SET}")
