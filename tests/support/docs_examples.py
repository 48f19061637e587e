"""Read the runnable examples out of the Markdown pages (helper of test_docs_examples.py).

The rules a page author follows:

* Every block fenced as ```yaml is an example: one or more complete components
  (``---``-separated). Fragments that are not whole components are fenced ```text.
* The yaml blocks of one page form one import set, unless a block is preceded by
  ``<!-- example: NAME -->``: blocks naming the same NAME form the set NAME.
  ``<!-- example: NAME import-only: REASON -->`` imports the set without running it
  (for processes that need an outside server); the reason is required.
* Each set is imported into a fresh ``POSTROOM_HOME`` from a working folder laid out like
  the repository (``examples/data`` inside it); then every process of the set runs,
  in the order the blocks define them, and must exit 0.
* Directives for the processes of the next yaml block:
  ``<!-- expect-exit: N -->`` (the exit code instead of 0) and
  ``<!-- run-args: ARGS -->`` (more ``postroom run`` arguments, shell-quoted) and
  ``<!-- run-times: N -->`` (each process runs N times, one after another, each run exiting
  as ``expect-exit`` says; an ``expect-log`` sees the last run).
* ``<!-- expect-log -->`` before a ```text block: its lines are the log messages of the
  last process defined so far in the set of the latest yaml block (``<!-- expect-log:
  PROCESS_ID -->`` names another one), exactly and in order; a line ``...`` stands for
  any number of messages.
* ``<!-- expect-file: PATH -->`` before a ```text block: after the runs, the file PATH
  (relative to the working folder) holds exactly that text (trailing line breaks aside).

Several directives may stand one after another before a block; a line of other text
between a directive and its block cancels the directive. Any other HTML comment is left
alone, but one that starts with ``example``, ``expect`` or ``run-args`` and does not
parse is an error, so a typo cannot silently switch a check off.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Block", "Expectation", "ExampleSet", "DirectiveError", "parse_page", "match_lines"]

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)\s*$")
_COMMENT = re.compile(r"^<!--\s*(?P<body>.*?)\s*-->\s*$")
_KEYWORDS = ("example", "expect", "run-args", "run-times")


class DirectiveError(ValueError):
    """A directive comment that does not parse, or that has nothing to apply to."""


@dataclass
class Block:
    text: str
    line: int
    set_name: str
    expect_exit: int = 0
    run_args: list[str] = field(default_factory=list)
    runs: int = 1
    import_only: str | None = None


@dataclass
class Expectation:
    kind: str  # log | file
    target: str | None  # process id (log) or path (file)
    text: str
    line: int


@dataclass
class ExampleSet:
    page: str
    name: str
    blocks: list[Block] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)

    @property
    def import_only(self) -> str | None:
        for block in self.blocks:
            if block.import_only:
                return block.import_only
        return None

    @property
    def test_id(self) -> str:
        return f"{self.page}::{self.name or 'page'}"


def _parse_directive(body: str, line: int) -> tuple[str, dict] | None:
    """``(kind, values)`` for a directive; None for an ordinary comment."""
    word = re.split(r"[\s:]", body, maxsplit=1)[0]
    if not word.startswith(_KEYWORDS):
        return None
    m = re.fullmatch(r"example:\s*(?P<name>[\w.-]+)(?:\s+import-only:\s*(?P<reason>.*))?", body)
    if m:
        reason = m.group("reason")
        if reason is not None and not reason.strip():
            raise DirectiveError(f"line {line}: import-only needs a reason")
        return "example", {"name": m.group("name"), "reason": reason.strip() if reason else None}
    m = re.fullmatch(r"expect-exit:\s*(?P<code>[0-3])", body)
    if m:
        return "expect-exit", {"code": int(m.group("code"))}
    m = re.fullmatch(r"run-args:\s*(?P<args>.+)", body)
    if m:
        return "run-args", {"args": shlex.split(m.group("args"))}
    m = re.fullmatch(r"run-times:\s*(?P<runs>[1-5])", body)
    if m:
        return "run-times", {"runs": int(m.group("runs"))}
    m = re.fullmatch(r"expect-log(?::\s*(?P<process>[\w.-]+))?", body)
    if m:
        return "expect-log", {"process": m.group("process")}
    m = re.fullmatch(r"expect-file:\s*(?P<path>\S+)", body)
    if m:
        return "expect-file", {"path": m.group("path")}
    raise DirectiveError(f"line {line}: cannot read the directive <!-- {body} -->")


def parse_page(text: str, page: str) -> list[ExampleSet]:
    """The example sets of one page, in the order they first appear."""
    lines = text.splitlines()
    sets: dict[str, ExampleSet] = {}
    pending: list[tuple[str, dict, int]] = []
    last_set: ExampleSet | None = None
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        comment = _COMMENT.match(stripped)
        if comment:
            directive = _parse_directive(comment.group("body"), i + 1)
            if directive:
                pending.append((*directive, i + 1))
            i += 1
            continue
        fence = _FENCE.match(stripped)
        if fence:
            marker, lang = fence.group("fence"), fence.group("lang")
            start = i + 1
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence
            content = "\n".join(body) + "\n"
            directives, pending = pending, []
            if lang == "yaml":
                last_set = _add_block(sets, page, content, start, directives)
            elif lang == "text" and any(kind in ("expect-log", "expect-file") for kind, _, _ in directives):
                if last_set is None:
                    raise DirectiveError(f"{page}:{start}: an expectation before any yaml block")
                for kind, values, line in directives:
                    if kind == "expect-log":
                        last_set.expectations.append(Expectation("log", values["process"], content, line))
                    elif kind == "expect-file":
                        last_set.expectations.append(Expectation("file", values["path"], content, line))
                    else:
                        raise DirectiveError(f"{page}:{line}: {kind} belongs before a yaml block")
            elif directives:
                raise DirectiveError(f"{page}:{directives[0][2]}: a directive before a {lang or 'plain'} block")
            continue
        if stripped and pending:
            # text between a directive and a block: the directive applied to nothing
            raise DirectiveError(f"{page}:{pending[0][2]}: a directive not followed by its block")
        i += 1
    if pending:
        raise DirectiveError(f"{page}:{pending[0][2]}: a directive at the end of the page")
    return list(sets.values())


def _add_block(sets: dict[str, ExampleSet], page: str, content: str, line: int,
               directives: list[tuple[str, dict, int]]) -> ExampleSet:
    block = Block(content, line, "")
    for kind, values, where in directives:
        if kind == "example":
            block.set_name = values["name"]
            block.import_only = values["reason"]
        elif kind == "expect-exit":
            block.expect_exit = values["code"]
        elif kind == "run-args":
            block.run_args = values["args"]
        elif kind == "run-times":
            block.runs = values["runs"]
        else:
            raise DirectiveError(f"{page}:{where}: {kind} belongs before a text block")
    example_set = sets.setdefault(block.set_name, ExampleSet(page, block.set_name))
    example_set.blocks.append(block)
    return example_set


def match_lines(expected: list[str], actual: list[str]) -> bool:
    """Exact, in order; an expected ``...`` matches any number (0 or more) of lines."""
    # reachable[j]: the expected lines so far can match the first j actual lines
    reachable = [True] + [False] * len(actual)
    for want in expected:
        if want == "...":
            for j in range(1, len(actual) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [reachable[j] and actual[j] == want for j in range(len(actual))]
    return reachable[len(actual)]


def pages(root: Path) -> list[Path]:
    return sorted((root / "docs").rglob("*.md")) + sorted((root / "examples").rglob("README.md"))
