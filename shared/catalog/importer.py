"""Bulk import of catalog items from JSON lines, CSV, or a catalog JSON document.

Every row is validated first; valid rows are written, invalid ones reported with their row number
and the reason, so one bad line never hides the rest (or half-imports silently).
CSV: one column per field; lists (`productIds`, `tags`, `segments`) separated by `;`,
`attributes` as a JSON object; empty cells are left out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.catalog.models import Offer, Product, parse
from shared.catalog.store import CatalogStore

LIST_FIELDS = ("productIds", "tags", "segments")


@dataclass
class RowError:
    row: int  # 1-based line (JSON lines) or data row (CSV)
    id: str
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.id, "error": self.error}


@dataclass
class ImportReport:
    kind: str
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "imported": self.imported,
            "rejected": len(self.errors),
            "errors": [e.to_json() for e in self.errors[:100]],
        }


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"]) or "item"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def rows_from_jsonl(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON: {exc.msg}"
            continue
        yield number, value if isinstance(value, dict) else "each line must be a JSON object"


def rows_from_csv(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, raw in enumerate(csv.DictReader(io.StringIO(text)), 1):
        row: dict[str, Any] = {}
        try:
            for key, value in raw.items():
                if key is None or value is None or value.strip() == "":
                    continue
                value = value.strip()
                if key in LIST_FIELDS:
                    row[key] = [v.strip() for v in value.split(";") if v.strip()]
                elif key == "attributes":
                    row[key] = json.loads(value)
                elif key in ("active",):
                    row[key] = value.lower() in ("1", "true", "yes")
                else:
                    row[key] = value
        except json.JSONDecodeError as exc:
            yield number, f"attributes: not a JSON object ({exc.msg})"
            continue
        yield number, row


def rows_from(name: str, text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    if name.endswith(".csv"):
        return rows_from_csv(text)
    return rows_from_jsonl(text)


def validate(
    kind: str, rows: Iterable[tuple[int, dict[str, Any] | str]]
) -> tuple[list[Product | Offer], list[RowError]]:
    items: list[Product | Offer] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for number, row in rows:
        if isinstance(row, str):
            errors.append(RowError(number, "", row))
            continue
        item_id = str(row.get("id", ""))
        try:
            item = parse(kind, row)
        except ValidationError as exc:
            errors.append(RowError(number, item_id, describe(exc)))
            continue
        if item.id in seen:
            errors.append(RowError(number, item.id, "duplicate id in this import"))
            continue
        seen.add(item.id)
        items.append(item)
    return items, errors


def import_items(
    store: CatalogStore,
    kind: str,
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    items, errors = validate(kind, rows)
    report = ImportReport(kind, errors=errors)
    for item in items:
        store.put_many(kind, [item])
        report.imported += 1
        if progress:
            progress(1)
    return report
