"""Paths and helpers the tests share. Import from here (``from support.testsupport import ROOT``),
not from ``conftest``: pytest may load another folder's conftest.py under the same module
name, and then ``from conftest import`` finds the wrong one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["ROOT", "FIXTURES", "IN_CI", "require_binary", "write_patients"]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "examples" / "data"  # patients.csv, make_patients.py: the repository's own copies
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


def write_patients(path: Path, count: int, consent_rate: float | None = 1) -> set[str]:
    """``count`` patients written by the repository's generator (examples/data/make_patients.py)
    to ``path``, all consenting unless ``consent_rate`` says otherwise (None: the generator's
    default); their addresses."""
    rate = [] if consent_rate is None else ["--consent-rate", str(consent_rate)]
    with open(path, "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(FIXTURES / "make_patients.py"), str(count), *rate], stdout=handle,
                       check=True)
    with open(path, encoding="utf-8") as handle:
        return {line.split(",")[3] for line in list(handle)[1:]}
