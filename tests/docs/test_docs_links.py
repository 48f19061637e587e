"""Every relative link in the docs leads to a file that exists, and to a heading that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.docs_examples import pages
from support.testsupport import ROOT

pytestmark = pytest.mark.fast

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def anchors_of(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = "".join(ch for ch in title if ch.isalnum() or ch in " -_").replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def links_of(path: Path) -> list[tuple[int, str]]:
    found = []
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            found.append((number, match.group(1)))
    return found


PAGES = pages(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path):
    broken = []
    for line, target in links_of(page):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"line {line}: {target} (no such file)")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors_of(dest):
            broken.append(f"line {line}: {target} (no heading #{anchor} in {dest.name})")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_anchor_rules_match_github():
    sample = ROOT / "docs" / "processes.md"
    assert {"order", "batches", "loops"} <= anchors_of(sample)
    assert "test-mode-postroom-run-process---test" in anchors_of(sample)
