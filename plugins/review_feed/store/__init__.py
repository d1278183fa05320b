"""The committed JSON snapshot: apply feed actions, keep the ledger, read reviews back.

Layout and guarantees: see `snapshot.py`, `layout.py` and docs/snapshot.md.
"""

from .collection import Changes, Staged, Stager
from .jsonfile import snapshot_bytes
from .layout import DEFAULT_LAYOUT, Layout
from .ledger import LedgerEntry
from .records import StoredReview, checked_line, records_of, split_lines
from .snapshot import (
    Snapshot,
    SnapshotFile,
    read_reviews,
    read_stored,
    snapshot_files,
    write_reviews,
)

__all__ = [
    "DEFAULT_LAYOUT",
    "Changes",
    "Layout",
    "LedgerEntry",
    "Snapshot",
    "SnapshotFile",
    "Staged",
    "Stager",
    "StoredReview",
    "checked_line",
    "read_reviews",
    "read_stored",
    "records_of",
    "snapshot_bytes",
    "snapshot_files",
    "split_lines",
    "write_reviews",
]
