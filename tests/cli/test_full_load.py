"""A full load (a file into an empty collection) takes the fast path: rows read by two
processes, folded as LineRows, written while rendered. Its snapshot and counts must be
exactly those of the row-by-row path a night takes."""

from __future__ import annotations

import pytest
from clitools import product_row, tree, write_csv
from review_feed import sync
from review_feed.feed import FeedOptions, csvsplit, read_all
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


@pytest.mark.parametrize("split", [True, False])
def test_full_load_equals_the_row_path(tmp_path, monkeypatch, split):
    src = tmp_path / "src"
    write_csv(src / NAME, _rows(6000))
    layout = Layout(max_file_bytes=60_000, index_max=1_000)  # day files and a split index
    monkeypatch.setattr(csvsplit, "busy", lambda: False)
    options = FeedOptions(parallel_from=1 if split else None)
    monkeypatch.setattr(sync, "feed_options", lambda settings: options)
    spawned = []
    spawn = csvsplit.spawn_worker
    monkeypatch.setattr(csvsplit, "spawn_worker", lambda *a: spawned.append(1) or spawn(*a))

    settings = load_settings({}, {}, {"source": str(src), "snapshot": str(tmp_path / "fast")})
    report = sync.run_sync(settings, layout=layout)
    assert report.exit_code == 0 and bool(spawned) == split

    # the row-by-row path: Rows from read_feed, located and applied as a night is
    parsed = read_all(src / NAME, parse_name(NAME), options)
    with Snapshot(tmp_path / "rows", layout) as snap:
        snap.locate(parsed.rows)
        snap.apply(parsed.rows)
        snap.commit()
    fast, rows = tree(tmp_path / "fast"), tree(tmp_path / "rows")
    fast.pop("ledger.json")
    rows.pop("ledger.json")
    assert fast == rows and len(fast) > 20
    counts = report.applied[0].counts
    assert counts.rejected == len(parsed.problems) > 0
    assert counts.delete == sum(1 for r in parsed.rows if r.review is None) > 0
    assert counts.new + counts.update + counts.delete == len(parsed.rows)
