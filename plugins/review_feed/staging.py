"""A feed file's items as the store folds them, and the tally of what the file held."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .model import Action, FileCounts, Row, RowProblem, VendorAverage
from .store import Staged, Stager


@dataclass(slots=True)
class Tally:
    """What a file held besides its valid rows: rows by outcome, the rejected rows'
    messages (one line each), the vendor's own averages (legacy AVG rows, not applied)."""

    counts: FileCounts = field(default_factory=FileCounts)
    problems: list[str] = field(default_factory=list)
    averages: int = 0

    def add(self, other: Tally) -> None:
        self.counts.new += other.counts.new
        self.counts.update += other.counts.update
        self.counts.delete += other.counts.delete
        self.counts.rejected += other.counts.rejected
        self.problems += other.problems
        self.averages += other.averages


def stage(
    items: Iterable[Row | RowProblem | VendorAverage], stager: Stager, tally: Tally
) -> Iterator[Staged]:
    """The valid rows as the store folds them, in file order; the rest goes to `tally`."""
    counts = tally.counts
    for item in items:
        if isinstance(item, Row):
            if item.action is Action.NEW:
                counts.new += 1
            elif item.action is Action.UPDATE:
                counts.update += 1
            else:
                counts.delete += 1
            yield stager(item)
        elif isinstance(item, RowProblem):
            tally.problems.append(str(item))
            counts.rejected += 1
        else:
            tally.averages += 1
