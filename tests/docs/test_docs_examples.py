"""Every ```yaml example in docs/ and examples/*/README.md imports and runs as the page says.

How a page marks its examples is described in docs_examples.py (and in
docs/shapes/README.md for authors). Each example set runs through the real CLI, in a
fresh POSTROOM_HOME, from a working folder with ``examples/data`` inside it.
"""

from __future__ import annotations

import pytest

from postroom.model import SHAPE_MODELS, load_text, slugify
from support.docs_examples import DirectiveError, ExampleSet, match_lines, pages, parse_page
from support.testsupport import ROOT


def _collect() -> tuple[list[ExampleSet], list[str]]:
    sets: list[ExampleSet] = []
    problems: list[str] = []
    for path in pages(ROOT):
        page = str(path.relative_to(ROOT))
        try:
            sets.extend(parse_page(path.read_text(encoding="utf-8"), page))
        except DirectiveError as exc:
            problems.append(f"{page}: {exc}")
    return sets, problems


SETS, PROBLEMS = _collect()


def _processes(block_text: str) -> list[tuple[str, dict]]:
    """(id, body) of every process in a block, in order."""
    found = []
    for loaded in load_text(block_text):
        data = loaded.data
        if isinstance(data, dict) and data.get("type") == "process":
            found.append((str(data.get("id") or slugify(str(data.get("name", "")))), data))
    return found


def test_the_pages_hold_examples_and_every_directive_parses():
    assert not PROBLEMS, "\n".join(PROBLEMS)
    assert len(SETS) >= 20, f"only {len(SETS)} example sets found under docs/: did the parser break?"


@pytest.mark.parametrize("example", SETS, ids=[s.test_id for s in SETS])
def test_example_imports_and_runs_as_the_page_says(example: ExampleSet, cli, workdir):
    folder = workdir / "docs-example"
    folder.mkdir()
    for n, block in enumerate(example.blocks, 1):
        (folder / f"{n:02d}-line-{block.line}.yaml").write_text(block.text, encoding="utf-8")
    imported = cli("import", "docs-example")
    assert imported.code == 0, f"{example.test_id}: import failed\n{imported.stderr}"

    runs: dict[str, str | None] = {}
    order: list[str] = []
    if example.import_only:
        assert not example.expectations, f"{example.test_id}: an import-only example cannot expect a run's log"
        return
    for block in example.blocks:
        processes = _processes(block.text)
        if (block.expect_exit or block.run_args) and not processes:
            pytest.fail(f"{example.test_id}: line {block.line}: expect-exit/run-args on a block without a process")
        for process_id, _ in processes:
            for _ in range(block.runs):
                ran = cli("run", process_id, *block.run_args, "--json")
                assert ran.code == block.expect_exit, (
                    f"{example.test_id}: line {block.line}: postroom run {process_id} exited {ran.code}, "
                    f"the page expects {block.expect_exit}\n{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}")
                try:
                    runs[process_id] = ran.json().get("id")
                except ValueError:
                    runs[process_id] = None
            order.append(process_id)

    for expectation in example.expectations:
        where = f"{example.test_id}: expectation at line {expectation.line}"
        wanted = expectation.text.rstrip("\n").split("\n")
        if expectation.kind == "log":
            process_id = expectation.target or (order[-1] if order else None)
            assert process_id in runs, f"{where}: no run of process {process_id!r} in this example"
            execution = runs[process_id]
            assert execution, f"{where}: the run of {process_id} left no execution record"
            shown = cli("executions", "show", execution, "--json")
            assert shown.code == 0, shown
            messages = [entry["message"] for entry in shown.json()["log"]]
            assert match_lines(wanted, messages), (
                f"{where}: the log of {process_id} differs from the page\n--- page\n" + "\n".join(wanted)
                + "\n--- log\n" + "\n".join(messages))
        else:
            path = workdir / expectation.target
            assert path.is_file(), f"{where}: {expectation.target} was not written"
            got = path.read_text(encoding="utf-8")
            assert got.rstrip("\n") == expectation.text.rstrip("\n"), (
                f"{where}: {expectation.target} differs from the page\n--- page\n{expectation.text}--- file\n{got}")


def test_every_shape_type_has_a_page_listed_in_the_index():
    index = (ROOT / "docs" / "shapes" / "README.md").read_text(encoding="utf-8")
    missing = [kind for kind in SHAPE_MODELS if not (ROOT / "docs" / "shapes" / f"{kind}.md").is_file()]
    assert not missing, f"shapes without a page under docs/shapes/: {', '.join(missing)}"
    unlisted = [kind for kind in SHAPE_MODELS if f"({kind}.md)" not in index]
    assert not unlisted, f"shape pages not linked from docs/shapes/README.md: {', '.join(unlisted)}"


@pytest.mark.parametrize("kind", list(SHAPE_MODELS))
def test_every_shape_page_runs_an_example_that_uses_the_shape(kind):
    page = f"docs/shapes/{kind}.md"
    used = False
    for example in SETS:
        if example.page != page or example.import_only:
            continue
        for block in example.blocks:
            for _, body in _processes(block.text):
                shapes = body.get("shapes") or {}
                if any(isinstance(s, dict) and s.get("type") == kind for s in shapes.values()):
                    used = True
    assert used, f"{page} has no runnable example whose process uses a {kind} shape"


# -- the reader itself: it must see what a page says, and refuse what it cannot read -------------

PAGE = """\
Intro.

```yaml
type: process
name: A
shapes: {start: {type: start}}
```

<!-- example: other -->
<!-- expect-exit: 1 -->
<!-- run-args: --test --input "a file.csv" -->
<!-- run-times: 2 -->
```yaml
type: process
name: B
shapes: {start: {type: start}}
```

<!-- expect-log -->
```text
one
...
three
```

```yaml
type: connection
name: C
connector: disk
settings: {directory: .}
```

<!-- ordinary comment -->
```text
not an expectation
```
"""


def test_reader_groups_blocks_into_sets_and_attaches_directives():
    sets = {s.name: s for s in parse_page(PAGE, "page.md")}
    assert sorted(sets) == ["", "other"]
    assert [b.line for b in sets[""].blocks] == [3, 26]  # the lines of the opening fences
    other = sets["other"].blocks[0]
    assert (other.expect_exit, other.run_args, other.runs) == (1, ["--test", "--input", "a file.csv"], 2)
    assert [(e.kind, e.text) for e in sets["other"].expectations] == [("log", "one\n...\nthree\n")]
    assert sets[""].expectations == []


@pytest.mark.parametrize("bad", [
    "<!-- expect-exit: seven -->\n```yaml\na: 1\n```\n",
    "<!-- example: x import-only: -->\n```yaml\na: 1\n```\n",
    "<!-- expect-log -->\n```text\nx\n```\n",
    "```yaml\na: 1\n```\n<!-- expect-log -->\nsome prose\n```text\nx\n```\n",
    "<!-- examples: x -->\n```yaml\na: 1\n```\n",
    "<!-- expect-exit: 1 -->\n",
    "<!-- run-times: 9 -->\n```yaml\na: 1\n```\n",
])
def test_reader_refuses_what_it_cannot_apply(bad):
    with pytest.raises(DirectiveError):
        parse_page(bad, "bad.md")


@pytest.mark.parametrize(("expected", "actual", "ok"), [
    (["a", "b"], ["a", "b"], True),
    (["a", "b"], ["a", "b", "c"], False),
    (["a", "...", "c"], ["a", "x", "y", "c"], True),
    (["a", "...", "c"], ["a", "c"], True),
    (["...", "c"], ["a", "b"], False),
    (["b", "a"], ["a", "b"], False),
    ([], [], True),
])
def test_log_lines_match_exactly_in_order(expected, actual, ok):
    assert match_lines(expected, actual) is ok
