"""The environment the benchmarks give the ``postroom`` commands they time.

Bytecode is written and read, as it is for an installed Postroom (pip compiles every module
at install time): a PYTHONDONTWRITEBYTECODE=1 in the caller's environment (this machine sets
it) would otherwise make every timed command compile Postroom's source again, 100-250 ms of
CPU that no installed Postroom pays. :func:`precompile` compiles the Postroom those commands
import (the checkout's, or a snapshot's named by PYTHONPATH) before the clocks start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_COMPILE = "import compileall, os, postroom; compileall.compile_dir(os.path.dirname(postroom.__file__), quiet=1)"


def command_env(home: Path, *, bytecode: bool = True, **extra: str) -> dict[str, str]:
    """The caller's environment without its POSTROOM_ settings, with POSTROOM_HOME=``home``,
    bytecode written and read unless ``bytecode`` is False (the caller's setting kept), and
    ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_")}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, "POSTROOM_HOME": str(home), **extra}


def precompile(env: dict[str, str]) -> None:
    """Compile every module of the Postroom that ``env``'s commands import (as pip does when
    it installs a package), so that the first timed command does not pay for it."""
    if "PYTHONDONTWRITEBYTECODE" not in env:
        subprocess.run([sys.executable, "-c", _COMPILE], env=env, check=True, capture_output=True)
