"""Shared fixtures. Servers are real binaries; under CI=true a missing one fails the test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_binary(name: str, *candidates: str) -> str:
    """Path of a server binary; skip when missing locally, fail under CI=true."""
    for path in (shutil.which(name), *candidates):
        if path and os.path.exists(path):
            return path
    message = f"{name} is not installed (apt-get install the package that provides it; .ci/run does)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh POSTROOM_HOME with its own SQLite database and key file."""
    data = tmp_path / "home"
    data.mkdir()
    monkeypatch.setenv("POSTROOM_HOME", str(data))
    monkeypatch.delenv("POSTROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("POSTROOM_SECRET_KEY", raising=False)
    return data


@pytest.fixture
def patients_csv() -> Path:
    path = FIXTURES / "patients.csv"
    if not path.exists():
        pytest.fail(f"missing fixture {path}: the shared/ folder must sit beside the checkout")
    return path
