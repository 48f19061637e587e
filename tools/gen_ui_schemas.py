#!/usr/bin/env python3
"""Write ui/src/test/realSchemas.json: what ``GET /api/connectors`` and ``GET /api/shapes``
answer (``postroom.services.connector_catalog`` and ``shape_catalog``), for the browser app's
vitest form tests, so they render the schemas the server really sends.

    python tools/gen_ui_schemas.py          # write the file (make ui-schemas)
    python tools/gen_ui_schemas.py --check  # exit 1 when the committed file differs

The file is never edited by hand; tests/web/test_ui_schema_snapshot.py runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "ui" / "src" / "test" / "realSchemas.json"

try:
    from postroom.services import connector_catalog, shape_catalog
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(ROOT / "src"))
    from postroom.services import connector_catalog, shape_catalog


def snapshot() -> dict[str, Any]:
    """The answers of the two schema routes, as the app receives them."""
    return {"connectors": connector_catalog(), "shapes": shape_catalog()}


def render() -> str:
    return json.dumps(snapshot(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None, out: Path = OUT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file differs")
    args = parser.parse_args(argv)
    text = render()
    current = out.read_text(encoding="utf-8") if out.exists() else None
    if args.check:
        if current != text:
            print(f"out of date: {out.relative_to(ROOT) if ROOT in out.parents else out}\n"
                  "run: python tools/gen_ui_schemas.py (or make ui-schemas)", file=sys.stderr)
            return 1
        return 0
    if current != text:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
