"""Publish every event type's JSON Schema into ``libs/contracts/schemas``.

``python -m contracts.export`` (``make schemas``) writes new and compatibly changed
schemas and refuses a breaking change, naming it: a breaking change needs a new
event version. ``--check`` writes nothing and fails if anything is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from contracts import load_catalog
from contracts.compat import breaking_changes
from kernel.asyncapi import event_schema

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_path(event_type: str) -> Path:
    return SCHEMA_DIR / f"{event_type}.json"


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def published(event_type: str) -> dict[str, Any] | None:
    path = schema_path(event_type)
    return json.loads(path.read_text()) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a schema is out of date")
    args = parser.parse_args(argv)
    failed = False
    for event_type, model in sorted(load_catalog().items()):
        current = event_schema(model)
        before = published(event_type)
        if before == current:
            continue
        if before is not None and (broken := breaking_changes(before, current)):
            print(f"BREAKING {event_type}: " + "; ".join(broken) + " — publish a new version instead", file=sys.stderr)
            failed = True
            continue
        if args.check:
            print(f"out of date: {event_type} (run `make schemas`)", file=sys.stderr)
            failed = True
            continue
        SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
        schema_path(event_type).write_text(render(current))
        print(f"{'updated' if before else 'published'} {schema_path(event_type)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
