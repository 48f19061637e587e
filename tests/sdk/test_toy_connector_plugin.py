"""A third-party connector found through the ``postroom.connectors`` entry point only.

The toy connector (the example of docs/connectors.md, taken from the page) is a distribution built in a temporary folder (its package and a
``.dist-info`` with ``entry_points.txt``) and put on ``PYTHONPATH`` of subprocesses: no
core file names it. It passes the connector contract under pytest, and ``postroom import``
and ``postroom run`` use it. An unknown connector is refused naming the installed ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from postroom.connectors import available_connectors, get_connector
from postroom.errors import ConfigError
from postroom.sdk import Document, Failed, OperationSession
from postroom.sdk.testing import ContractCase, MemoryContext, check_send

ROOT = Path(__file__).resolve().parents[2]


def _examples() -> dict[str, str]:
    """The code blocks of docs/connectors.md marked ``<!-- connector-example: PATH -->``."""
    text = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    found = re.findall(r"<!-- connector-example: (\S+) -->\n```python\n(.*?)```", text, re.S)
    return dict(found)


COMPONENTS = '''
type: connection
connector: toy
name: Toy folder
id: toy-folder
settings: {{folder: {folder}}}
---
type: operation
connector: toy
name: Shout
id: shout
settings: {{action: send}}
---
type: process
name: Shout letters
id: shout-letters
shapes:
  start: {{type: start, next: data}}
  data: {{type: message, text: "hello\\nworld", next: split}}
  split: {{type: data_process, steps: [{{type: split}}], next: toy}}
  toy: {{type: connector, connection: toy-folder, operation: shout}}
'''


@pytest.fixture
def toy_site(tmp_path: Path) -> Path:
    """The toy distribution, installed into a folder of its own (what pip would write)."""
    site = tmp_path / "site"
    (site / "toyconn").mkdir(parents=True)
    (site / "toyconn" / "__init__.py").write_text(_examples()["toyconn/__init__.py"])
    info = site / "toyconn-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyconn\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[postroom.connectors]\ntoy = toyconn:connector\n")
    return site


def _run(args: list[str], site: Path, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(site), POSTROOM_HOME=str(home))
    env.pop("POSTROOM_DATABASE_URL", None)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_toy_connector_passes_the_contract(toy_site: Path, tmp_path: Path) -> None:
    (tmp_path / "test_toy.py").write_text(_examples()["test_toy.py"])
    done = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                 str(tmp_path / "test_toy.py")], toy_site, tmp_path, tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 2 skipped" in done.stdout  # settings, send, dry run; no get in this case


def test_postroom_imports_and_runs_a_process_with_the_toy_connector(toy_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "toy.yaml").write_text(COMPONENTS.format(folder=out))
    postroom = [sys.executable, "-m", "postroom"]
    imported = _run([*postroom, "import", "toy.yaml"], toy_site, tmp_path, tmp_path / "home")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    ran = _run([*postroom, "run", "shout-letters"], toy_site, tmp_path, tmp_path / "home")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert sorted(p.read_text() for p in out.iterdir()) == ["HELLO", "WORLD"]


def test_without_the_distribution_the_connector_is_unknown(toy_site: Path, tmp_path: Path) -> None:
    (tmp_path / "toy.yaml").write_text(COMPONENTS.format(folder=tmp_path))
    done = _run([sys.executable, "-m", "postroom", "import", "toy.yaml"], tmp_path / "nothing", tmp_path,
                tmp_path / "home")
    assert done.returncode == 2, done.stdout + done.stderr
    installed = ", ".join(_builtin())
    assert f"unknown connector 'toy' (installed: {installed})" in done.stdout + done.stderr


def test_an_unknown_connector_names_the_installed_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        get_connector("telepathy")
    assert f"unknown connector 'telepathy' (installed: {', '.join(_builtin())})" in str(caught.value)
    assert available_connectors() == _builtin()  # found through their entry points
    assert {"database", "disk", "http", "mail"} <= set(_builtin())


def _builtin() -> list[str]:
    """The connectors Postroom's own pyproject.toml registers."""
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split('[project.entry-points."postroom.connectors"]', 1)[1].split("\n[", 1)[0]
    return sorted(line.split("=", 1)[0].strip() for line in section.splitlines() if "=" in line)


class _Twice(OperationSession):
    side_effects = True

    def execute(self, documents: list[Document], shape_id: str):  # noqa: ANN201
        for doc in documents:
            yield doc
            yield Failed(doc, "and failed too")


def test_a_connector_breaking_the_contract_fails_it() -> None:
    class Broken(type(get_connector("disk"))):  # type: ignore[misc]
        def open(self, connection, operation, context):  # noqa: ANN001, ANN201
            return _Twice()

    case = ContractCase(connector=Broken(), connection={"directory": "."}, send={"action": "send"},
                        documents=lambda: [Document("a"), Document("b")], make_context=MemoryContext)
    with pytest.raises(AssertionError, match="2 documents in, 4 results out"):
        check_send(case)


def test_a_connector_that_cannot_be_loaded_is_refused_naming_it(toy_site: Path, tmp_path: Path) -> None:
    (toy_site / "toyconn" / "__init__.py").write_text("import not_installed_anywhere\n")
    (tmp_path / "toy.yaml").write_text(COMPONENTS.format(folder=tmp_path))
    done = _run([sys.executable, "-m", "postroom", "import", "toy.yaml"], toy_site, tmp_path, tmp_path / "home")
    assert done.returncode == 2, done.stdout + done.stderr
    assert ("the connector 'toy' (toyconn:connector) cannot be loaded: ModuleNotFoundError: "
            "No module named 'not_installed_anywhere'") in done.stdout + done.stderr
