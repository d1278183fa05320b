"""Write planning: which review files a collection's changed days make, and which go.

A month of a size to fit one file (`Layout.max_file_bytes`) is written as one
file; a bigger one as day files, and a month already split on disk is sized from
the files of its clean days, so a night renders only the days it touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .collection import Collection
from .layout import day_files, joined_len, month_files, month_of_day, render_day

Plan = tuple[dict[Path, bytes], list[Path]]  # files to write, files to remove


def plan_months(col: Collection) -> Iterator[Plan]:
    """Per changed month, the review files to write and the ones to remove (after every
    write is durable). A month's records are dropped once rendered (read again from disk
    if needed): a full load never holds every rendered file at once."""
    by_month: dict[str, set[str]] = {}
    for d in col.dirty:
        by_month.setdefault(month_of_day(d), set()).add(d)
    col.dirty.clear()
    for m in sorted(by_month):
        if m not in col.whole and col.files.is_split(m):
            plan = _split_days(col, m, by_month[m])
            if plan is not None:
                yield plan
                continue
            col.load_month(m)  # it shrank back to one file
        yield _whole_month(col, m)


def _split_days(col: Collection, month: str, dirty: set[str]) -> Plan | None:
    """A month split on disk that stays split: its dirty days rendered, the clean ones
    sized from disk. None when the month now fits one file."""
    rendered = {d: render_day(col.days[d]) for d in dirty}
    clean = col.files.days_on_disk(month) - rendered.keys()
    lengths = [len(x) for x in rendered.values()]
    lengths += [col.files.disk_len(month, d) for d in clean]
    if joined_len(lengths) <= col.layout.max_file_bytes:
        return None
    writes: dict[Path, bytes] = {}
    removes: list[Path] = []
    for d in sorted(rendered):
        targets = day_files(month, d, col.days[d], rendered[d], col.layout)
        writes.update({col.dir / rel: data for rel, data in targets.items()})
        removes += [
            p
            for p in col.files.day_paths(month, d)
            if p.relative_to(col.dir).as_posix() not in targets
        ]
        del col.days[d]
    return writes, removes


def _whole_month(col: Collection, month: str) -> Plan:
    by_day = {d: r for d, r in col.days.items() if month_of_day(d) == month}
    targets = month_files(month, by_day, col.layout)
    writes = {col.dir / rel: data for rel, data in targets.items()}
    removes = [
        p for p in col.files.month_paths(month) if p.relative_to(col.dir).as_posix() not in targets
    ]
    for d in by_day:
        del col.days[d]
    col.whole.discard(month)
    return writes, removes
