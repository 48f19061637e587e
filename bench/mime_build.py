#!/usr/bin/env python3
"""MIME build speed: the naive stdlib way against :class:`MessageTemplate`.

    .venv/bin/python bench/mime_build.py [COUNT]      # 3,000 letters (bench/run.py runs this)

The workload is the clinic's (``tests/support/mimekit.py``): From and Subject from the
operation, a different patient in To for every document, a short letter as the inline
text/plain body. Prints messages per second for each way; target: the template at least
5x the naive build (the assertion that was ``tests/mail/test_mail_mime.py``'s
``test_template_is_much_faster_than_the_naive_build``); exit 1 when it is not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from postroom.connectors.mail.mime import MessageTemplate, parse_addresses, parse_content_type  # noqa: E402
from support.mimekit import clinic_letters, naive_build  # noqa: E402

TARGET = 5.0


def measure(count: int = 3000, repeat: int = 3) -> dict[str, float]:
    """Messages per second, best of ``repeat`` runs, for each way of building."""
    plain = parse_content_type("text/plain")
    letters = clinic_letters(count)
    template = MessageTemplate(disposition="inline", attachment_type=plain, body_type=plain)

    def naive() -> None:
        for letter in letters:
            naive_build(letter, disposition="inline", attachment_type=plain, body_type=plain)

    def fast() -> None:
        for letter in letters:
            template.build(letter)

    def fast_with_addresses() -> None:
        # As send.py does per document: parse and validate the To property, then build.
        for n, letter in enumerate(letters):
            letter.to = parse_addresses(f"patient{n}-{time.perf_counter_ns()}@example.com")
            template.build(letter)

    rates = {}
    for name, work in (("naive", naive), ("template", fast), ("template+address validation", fast_with_addresses)):
        best = min(_timed(work) for _ in range(repeat))
        rates[name] = count / best
    return rates


def _timed(work) -> float:  # noqa: ANN001 - a callable
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    results = measure(number)
    for label, rate in results.items():
        print(f"{label:>28}: {rate:10.0f} messages/s")
    speed_up = results["template"] / results["naive"]
    print(f"{'speed-up (template/naive)':>28}: {speed_up:10.1f}x (target {TARGET:.0f}x)")
    sys.exit(0 if speed_up > TARGET else 1)


if __name__ == "__main__":
    main()
