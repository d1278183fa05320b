"""A full load (a file into an empty collection, where the store tracks no changes and
writes while it renders) must give exactly the snapshot and counts of the same rows
applied in several runs, as nights are."""

from __future__ import annotations

from clitools import product_row, tree, write_csv
from review_feed import sync
from review_feed.feed import read_feed
from review_feed.model import Row, RowProblem
from review_feed.settings import load_settings
from review_feed.sources.names import parse_name
from review_feed.store import Layout, Snapshot

NAME = "reviews_product_big_2026-11-20.csv"


def _rows(n: int) -> list[list[str]]:
    out = []
    for i in range(n):
        month = 1 + i % 12
        row = product_row(
            "DELETE" if i % 31 == 0 else "NEW" if i < n - 500 else "UPDATE",
            f"PR{i % (n - 500)}",  # the last 500 update earlier ones
            date=f"2025-{month:02d}-{1 + i % 28:02d} 10:00:00",
            rate="7" if i % 13 == 0 else "4",  # 7: rejected
            text=f"Avis {i}\nsur deux lignes" if i % 9 == 0 else f"Avis {i}",
            ref=f"SKU-{i % 40}",
        )
        if i % 7 == 0:
            row[-1] = '[{"date": "2025-12-01 10:00:00", "origin": "2", "comment": "Merci"}]'
        out.append(row)
    return out


def test_full_load_equals_the_rows_applied_in_runs(tmp_path):
    src = tmp_path / "src"
    write_csv(src / NAME, _rows(6000))
    layout = Layout(max_file_bytes=60_000, index_max=1_000)  # day files and a split index
    flags = {"source": str(src), "snapshot": str(tmp_path / "full"), "cache": str(tmp_path / "c")}
    settings = load_settings({}, {}, flags)
    report = sync.run_sync(settings, layout=layout)
    assert report.exit_code == 0

    items = list(read_feed(src / NAME, parse_name(NAME)))
    rows = [r for r in items if isinstance(r, Row)]
    for part in (rows[:2500], rows[2500:4000], rows[4000:]):  # three runs, as nights
        with Snapshot(tmp_path / "runs", layout) as snap:
            snap.apply(part)
            snap.commit()
    full, runs = tree(tmp_path / "full"), tree(tmp_path / "runs")
    full.pop("ledger.json")
    runs.pop("ledger.json")
    assert full == runs and len(full) > 20
    counts = report.applied[0].counts
    assert counts.rejected == sum(isinstance(r, RowProblem) for r in items) > 0
    assert counts.delete == sum(1 for r in rows if r.review is None) > 0
    assert counts.new + counts.update + counts.delete == len(rows)
