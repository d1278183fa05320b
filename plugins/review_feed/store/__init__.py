"""The committed JSON snapshot: apply feed actions, keep the ledger, read reviews back.

Layout and guarantees: see `snapshot.py`, `layout.py` and docs/snapshot.md.
"""

from .collection import Changes, Staged, Stager
from .layout import DEFAULT_LAYOUT, Layout
from .ledger import LedgerEntry
from .records import StoredReview
from .snapshot import Snapshot, read_reviews, read_stored, write_reviews

__all__ = [
    "DEFAULT_LAYOUT",
    "Changes",
    "Layout",
    "LedgerEntry",
    "Snapshot",
    "Staged",
    "Stager",
    "StoredReview",
    "read_reviews",
    "read_stored",
    "write_reviews",
]
