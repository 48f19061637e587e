"""The curl example of docs/web.md ("API tokens for scripts") runs as written against a
running ``postroom serve`` (its port swapped in) and prints the executions as JSON."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.listenerkit import Serve
from support.testsupport import ROOT


def _example() -> str:
    text = (ROOT / "docs" / "web.md").read_text()
    found = re.search(r"<!-- run by tests/logins/test_web_docs\.py[^>]*-->\n```sh\n(.*?)```", text, re.S)
    assert found, "the runnable example of docs/web.md is gone"
    return found.group(1)


def test_the_token_curl_example_runs(workdir: Path, home: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is missing: apt-get install curl")
    server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--no-listeners").wait_ready()  # with a first user
    try:
        script = _example().replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
        env = {**os.environ, "POSTROOM_HOME": str(home), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        env.pop("POSTROOM_DATABASE_URL", None)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, env=env,
                              cwd=workdir, timeout=120)
        assert done.returncode == 0, done
        assert json.loads(done.stdout) == []
        assert "prt_" not in done.stdout
    finally:
        server.close()
