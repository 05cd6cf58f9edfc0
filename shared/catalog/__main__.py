"""`python -m shared.catalog`: load the demo catalog, or import products/offers from a file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.catalog.demo import DEMO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.catalog",
        description="Import catalog items into Cosmos (settings from the environment, else "
        "local.settings.json). Rows are validated first; invalid rows are listed, valid ones "
        "written (an existing id is replaced).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="load the demo catalog (shared/demo/catalog.json)")
    demo.add_argument("--file", type=Path, default=DEMO, help="a catalog JSON document")
    load = sub.add_parser("import", help="import a JSON lines (.jsonl) or CSV (.csv) file")
    load.add_argument("kind", choices=("product", "offer"), help="what the file holds")
    load.add_argument("file", type=Path, help="the file to import")
    parser.add_argument("--settings", default="local.settings.json", help="settings file to read")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    from devhost.settings_loader import load_local_settings
    from shared import wiring
    from shared.catalog import importer

    load_local_settings(args.settings)
    wiring.reset()
    store = wiring.current().catalog
    if args.command == "demo":
        document = json.loads(args.file.read_text())
        reports = []
        for kind, key in (("product", "products"), ("offer", "offers")):
            rows = list(enumerate(document.get(key, []), 1))
            with tqdm(total=len(rows), desc=f"{kind}s", unit="item") as bar:
                reports.append(importer.import_items(store, kind, rows, bar.update))
    else:
        text = args.file.read_text()
        rows = list(importer.rows_from(args.file.name, text))
        with tqdm(total=len(rows), desc=f"{args.kind}s", unit="item") as bar:
            reports = [importer.import_items(store, args.kind, rows, bar.update)]
    failed = False
    for report in reports:
        summary = report.to_json()
        print(f"{summary['kind']}s: {summary['imported']} imported, {summary['rejected']} rejected")
        for error in summary["errors"]:
            print(f"  row {error['row']} {error['id']!r}: {error['error']}", file=sys.stderr)
        failed = failed or bool(report.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
