"""The ledger: which feed files the snapshot holds, in apply order.

Each entry depends only on the file's content (name, size, sha256, rows per
action): never on when or how often sync ran, so the same applied files give
the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..model import FileCounts
from .jsonfile import load, render_list

LEDGER_FILE = "ledger.json"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    name: str
    kind: str
    website_id: str
    date: str  # YYYY-MM-DD from the file name
    size: int
    sha256: str
    counts: FileCounts
    full: bool = False  # applied as a full resync (the complete truth for its collection)

    @property
    def collection(self) -> tuple[str, str]:
        return (self.kind, self.website_id)

    @property
    def key(self) -> tuple[str, str]:
        """Apply order: date, then name."""
        return (self.date, self.name)

    def to_record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "website_id": self.website_id,
            "date": self.date,
            "size": self.size,
            "sha256": self.sha256,
            **self.counts.as_dict(),
        }
        if self.full:
            rec["full"] = True
        return rec

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> LedgerEntry:
        return cls(
            name=rec["name"],
            kind=rec["kind"],
            website_id=rec["website_id"],
            date=rec["date"],
            size=int(rec["size"]),
            sha256=rec["sha256"],
            counts=FileCounts(
                new=rec.get("new", 0),
                update=rec.get("update", 0),
                delete=rec.get("delete", 0),
                rejected=rec.get("rejected", 0),
            ),
            full=bool(rec.get("full", False)),
        )


def read_ledger(root: Path) -> list[LedgerEntry]:
    path = root / LEDGER_FILE
    if not path.exists():
        return []
    data = load(path)
    try:
        return sorted((LedgerEntry.from_record(r) for r in data), key=lambda e: e.key)
    except (TypeError, KeyError, ValueError, AttributeError):
        raise StoreError(
            f"snapshot ledger {path} has an unexpected shape; restore it from git "
            "(git checkout -- <file>) and run sync again"
        ) from None


def render_ledger(entries: list[LedgerEntry]) -> bytes:
    return render_list(e.to_record() for e in sorted(entries, key=lambda e: e.key))
