"""The snapshot's files: canonical bytes, layout, rewrite only what changes, lock, recovery."""

from __future__ import annotations

import json
import os
import time

import orjson
import pytest
from review_feed.errors import SnapshotLocked, StoreError
from review_feed.model import Action, FileCounts
from review_feed.store import (
    Layout,
    LedgerEntry,
    Snapshot,
    read_reviews,
    read_stored,
    write_reviews,
)
from storetools import delete, mtimes, review, tree, upsert

SMALL = Layout(max_file_bytes=2_000, index_max=8)


def _key(r):
    return (r.kind, r.website_id, r.id)


def test_round_trip_and_order(tmp_path):
    reviews = [
        review(3, date="2026-10-02T09:00:00+01:00"),
        review(1, date="2026-11-19T18:04:11"),
        review("R9", kind="site", date="2026-11-01T00:00:00"),
        review(2, website_id="other", date="2025-01-31T23:59:59"),
    ]
    write_reviews(tmp_path, reviews)
    assert list(read_reviews(tmp_path)) == sorted(reviews, key=_key)
    assert sorted(tree(tmp_path)) == [
        "ledger.json",
        "product/acme/index.json",
        "product/acme/reviews/2026-10.json",
        "product/acme/reviews/2026-11.json",
        "product/other/index.json",
        "product/other/reviews/2025-01.json",
        "site/acme/index.json",
        "site/acme/reviews/2026-11.json",
    ]


def test_canonical_bytes(tmp_path):
    write_reviews(tmp_path, [review(2, text="Thé « vert » 😍\nligne 2"), review(1)])
    data = (tmp_path / "product/acme/reviews/2026-11.json").read_bytes()
    lines = data.split(b"\n")
    assert lines[0] == b"[" and lines[-2] == b"]" and lines[-1] == b""
    body = lines[1:-2]
    assert len(body) == 2  # one review per line
    assert body[0].endswith(b",") and not body[1].endswith(b",")
    recs = [orjson.loads(x.rstrip(b",")) for x in body]
    assert [r["id"] for r in recs] == ["PR00001", "PR00002"]
    for raw, rec in zip(body, recs, strict=True):
        assert raw.rstrip(b",") == orjson.dumps(rec, option=orjson.OPT_SORT_KEYS)
        assert list(rec) == sorted(rec)
    assert "Thé « vert » 😍\\nligne 2".encode() in data  # UTF-8, not \u escapes
    assert json.loads(data) == recs
    for p in tmp_path.rglob("*.json"):
        json.loads(p.read_bytes())  # every file is valid JSON


def test_same_content_same_bytes_whatever_the_order(tmp_path):
    reviews = [
        review(i, date=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00") for i in range(60)
    ]
    write_reviews(tmp_path / "a", reviews)
    write_reviews(tmp_path / "b", reversed(reviews))
    with Snapshot(tmp_path / "c") as snap:  # built through actions, in another order
        for r in reviews[::-1]:
            snap.apply([upsert(review(r.id, date="2020-01-01T00:00:00"))])
        for r in reviews:
            snap.apply([upsert(r, Action.UPDATE)])
        snap.clear_ledger()
        snap.commit()
    assert tree(tmp_path / "a") == tree(tmp_path / "b") == tree(tmp_path / "c")


def test_small_threshold_splits_days_buckets_and_index(tmp_path):
    # 40 reviews the same day, 30 spread over November, 5 in October
    reviews = [review(i, date="2026-11-05T10:00:00") for i in range(40)]
    reviews += [review(100 + i, date=f"2026-11-{10 + i % 20:02d}T10:00:00") for i in range(30)]
    reviews += [review(200 + i, date="2026-10-01T10:00:00") for i in range(5)]
    write_reviews(tmp_path / "a", reviews, SMALL)
    files = sorted(tree(tmp_path / "a"))
    assert "product/acme/reviews/2026-11.json" not in files
    assert any(f.startswith("product/acme/reviews/2026-11/2026-11-05/") for f in files)
    assert "product/acme/reviews/2026-11/2026-11-10.json" in files
    assert "product/acme/reviews/2026-10.json" in files  # a small month stays one file
    assert "product/acme/index.json" not in files
    manifest = json.loads((tmp_path / "a/product/acme/index/months.json").read_bytes())
    month_files = [f for f in files if f.startswith("product/acme/index/") and "months" not in f]
    assert [m["month"] for m in manifest] == ["2026-10", "2026-11"]
    assert sorted("product/acme/index/" + m["file"] for m in manifest) == month_files
    entries = {}
    for m in manifest:
        days = json.loads((tmp_path / "a/product/acme/index" / m["file"]).read_bytes())
        assert sum(map(len, days.values())) == m["count"]
        assert {d[:7] for d in days} == {m["month"]}
        for d, ids in days.items():
            assert ids == sorted(ids)
            entries.update(dict.fromkeys(ids, d))
    assert entries == {r.id: r.date[:10] for r in reviews}
    for name, data in tree(tmp_path / "a").items():
        assert len(data) <= SMALL.max_file_bytes or name.count("/") == 5, name
    assert list(read_reviews(tmp_path / "a")) == sorted(reviews, key=_key)
    # deterministic, and a pure function of the content (no hysteresis): shrink, grow back
    write_reviews(tmp_path / "b", reversed(reviews), SMALL)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    write_reviews(tmp_path / "b", reviews[:3], SMALL)
    assert sorted(tree(tmp_path / "b")) == [
        "ledger.json",
        "product/acme/index.json",
        "product/acme/reviews/2026-11.json",
    ]
    write_reviews(tmp_path / "b", reviews, SMALL)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_a_new_id_rewrites_one_index_month(tmp_path):
    layout = Layout(index_max=100)
    months = [f"20{24 + i // 12}-{1 + i % 12:02d}" for i in range(30)]
    write_reviews(
        tmp_path, [review(i, date=f"{months[i % 30]}-05T10:00:00") for i in range(3000)], layout
    )
    before = tree(tmp_path)
    assert len([f for f in before if "/index/" in f]) == 31
    with Snapshot(tmp_path, layout) as snap:
        snap.apply([upsert(review(5000)), delete("PR01234")])
        snap.commit()
    after = tree(tmp_path)
    changed = sorted(set(before) ^ set(after)) + [
        k for k in before if after.get(k, before[k]) != before[k]
    ]
    index_changes = {f for f in changed if "/index/" in f}
    # the month gaining PR05000 and the one losing PR01234 (old and new names), the manifest
    assert len(index_changes) <= 5, index_changes
    with Snapshot(tmp_path / "fresh", layout) as snap:
        for r in [review(i, date=f"{months[i % 30]}-05T10:00:00") for i in range(3000)]:
            if r.id != "PR01234":
                snap.upsert(r)
        for r in [review(5000)]:
            snap.upsert(r)
        snap.commit()
    assert {
        k: v for k, v in tree(tmp_path).items() if k != "ledger.json" and not k.startswith("fresh")
    } == {k: v for k, v in tree(tmp_path / "fresh").items() if k != "ledger.json"}


def test_update_moving_a_review_to_another_month(tmp_path):
    write_reviews(tmp_path, [review(1, date="2026-10-01T10:00:00"), review(2)])
    with Snapshot(tmp_path) as snap:
        snap.apply([upsert(review(1, date="2026-11-21T10:00:00", rating=2), Action.UPDATE)])
        changes = snap.changes()
        snap.commit()
    assert changes[("product", "acme")].updated == 1
    assert not (tmp_path / "product/acme/reviews/2026-10.json").exists()
    got = {r.id: r for r in read_reviews(tmp_path)}
    assert got["PR00001"].rating == 2 and got["PR00001"].date.startswith("2026-11")
    assert orjson.loads((tmp_path / "product/acme/index.json").read_bytes()) == {
        "PR00001": "2026-11-21",
        "PR00002": "2026-11-20",
    }


def test_delete_last_review_removes_files_and_folders(tmp_path):
    write_reviews(tmp_path, [review(1), review(2, kind="site")])
    with Snapshot(tmp_path) as snap:
        snap.apply([delete("PR00001"), delete("unknown")])
        ch = snap.changes()
        snap.commit()
    assert ch[("product", "acme")].removed == 1
    assert not (tmp_path / "product").exists()
    assert sorted(tree(tmp_path)) == [
        "ledger.json",
        "site/acme/index.json",
        "site/acme/reviews/2026-11.json",
    ]


def test_nothing_changed_rewrites_nothing(tmp_path):
    reviews = [review(i, date=f"2026-{1 + i % 3:02d}-10T08:00:00") for i in range(20)]
    write_reviews(tmp_path, reviews)
    before = tree(tmp_path), mtimes(tmp_path)
    time.sleep(0.01)
    with Snapshot(tmp_path) as snap:
        # re-applying identical states touches months in memory but no byte changes
        snap.apply([upsert(r, Action.UPDATE) for r in reviews[:5]])
        assert snap.changes() == {}
        assert snap.commit() == 0
    assert (tree(tmp_path), mtimes(tmp_path)) == before
    # a real change rewrites its month only (plus nothing else: the index is unchanged)
    with Snapshot(tmp_path) as snap:
        snap.apply([upsert(review(0, date="2026-01-10T08:00:00", rating=1), Action.UPDATE)])
        assert snap.commit() == 1
    after = mtimes(tmp_path)
    changed = [k for k in after if after[k] != before[1][k]]
    assert changed == ["product/acme/reviews/2026-01.json"]


def test_order_ref_only_when_kept(tmp_path):
    r = review(1, order_ref="CMD-88120")
    with Snapshot(tmp_path / "a") as snap:
        snap.apply([upsert(r)])
        snap.commit()
    assert b"CMD-88120" not in b"".join(tree(tmp_path / "a").values())
    with Snapshot(tmp_path / "b", keep_order_ref=True) as snap:
        snap.apply([upsert(r)])
        snap.commit()
    assert next(read_reviews(tmp_path / "b")).order_ref == "CMD-88120"


def test_lock_refuses_a_second_writer(tmp_path):
    with Snapshot(tmp_path), pytest.raises(SnapshotLocked, match="another review-feed sync"):
        Snapshot(tmp_path).lock()
    with Snapshot(tmp_path):  # released on exit
        pass


def test_ledger_is_sorted_canonical_and_content_only(tmp_path):
    def entry(name, date):
        return LedgerEntry(name, "site", "acme", date, 10, "ab" * 32, FileCounts(new=2, rejected=1))

    with Snapshot(tmp_path) as snap:
        snap.record(entry("reviews_site_acme_20261121.csv", "2026-11-21"))
        snap.record(entry("reviews_site_acme_2026-11-20.xml", "2026-11-20"))
        snap.commit()
    lines = (tmp_path / "ledger.json").read_text("utf-8").splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 4
    first = json.loads(lines[1].rstrip(","))
    assert first == {
        "name": "reviews_site_acme_2026-11-20.xml",
        "kind": "site",
        "website_id": "acme",
        "date": "2026-11-20",
        "size": 10,
        "sha256": "ab" * 32,
        "new": 2,
        "update": 0,
        "delete": 0,
        "rejected": 1,
    }
    assert [e.name for e in Snapshot(tmp_path, read_only=True).ledger] == [
        "reviews_site_acme_2026-11-20.xml",
        "reviews_site_acme_20261121.csv",
    ]


def test_tolerates_states_a_crash_can_leave(tmp_path):
    write_reviews(tmp_path, [review(1, date="2026-10-01T00:00:00"), review(2), review(4)])
    col = tmp_path / "product/acme"
    # The review files were written, the index not yet: PR00001 and PR00004 are gone
    # from their months but still indexed; PR00003 is in a month the index lacks it for.
    (col / "reviews/2026-10.json").unlink()
    month = [review(2).to_record(), review(3).to_record()]
    (col / "reviews/2026-11.json").write_bytes(orjson.dumps(month))
    (col / "reviews/.2026-11.json.tmp").write_bytes(b"half a file")
    with Snapshot(tmp_path) as snap:
        assert not (col / "reviews/.2026-11.json.tmp").exists()  # leftover removed
        snap.apply(
            [
                upsert(review(1, date="2026-11-02T00:00:00"), Action.UPDATE),
                delete("PR00004"),
                upsert(review(3, rating=1), Action.UPDATE),
            ]
        )
        snap.commit()
    got = {r.id: r for r in read_reviews(tmp_path)}
    assert sorted(got) == ["PR00001", "PR00002", "PR00003"]
    assert got["PR00003"].rating == 1
    assert orjson.loads((col / "index.json").read_bytes()) == {
        "PR00001": "2026-11-02",
        "PR00002": "2026-11-20",
        "PR00003": "2026-11-20",
    }


def test_a_review_in_two_files_is_read_once_from_the_later(tmp_path):
    # A crash between writing a moved review's new month and rewriting its old one
    # leaves it in both: every reader takes the later file's, as the next sync will.
    write_reviews(tmp_path, [review(1, date="2026-10-01T00:00:00"), review(2)])
    col = tmp_path / "product/acme/reviews"
    moved = review(1, date="2026-11-03T00:00:00", rating=1).to_record()
    month = [*orjson.loads((col / "2026-11.json").read_bytes()), moved]
    (col / "2026-11.json").write_bytes(orjson.dumps(month))
    assert [(r.id, r.rating) for r in read_reviews(tmp_path)] == [("PR00001", 1), ("PR00002", 4)]
    stored = sorted((rec["id"], s.review().rating) for rec, s in read_stored(tmp_path))
    assert stored == [("PR00001", 1), ("PR00002", 4)]


def test_damaged_file_is_one_clear_error(tmp_path):
    write_reviews(tmp_path, [review(1)])
    (tmp_path / "product/acme/index.json").write_bytes(b"{not json")
    with Snapshot(tmp_path) as snap, pytest.raises(StoreError, match=r"index\.json.*git"):
        snap.apply([delete("PR00001")])


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (lambda recs: json.dumps(recs, indent=2), r"2026-11\.json, record #2: field rating"),
        (lambda recs: json.dumps(recs)[:-1], r"2026-11\.json, as a whole: not valid JSON"),
        (
            lambda recs: "[\n" + ",\n".join(map(json.dumps, recs)) + "\n]\n",
            r"2026-11\.json, line 3: field rating",
        ),
    ],
)
def test_a_bad_record_is_named_by_its_line_or_its_place(tmp_path, body, where):
    """A file in our one-record-a-line layout names the line; any other JSON array
    (reformatted by hand, say) the record's place; a file that is no JSON, the file."""
    write_reviews(tmp_path, [review(1), review(2)])
    path = tmp_path / "product/acme/reviews/2026-11.json"
    recs = [review(1).to_record(), review(2).to_record()]
    recs[1]["rating"] = "five"
    path.write_text(body(recs), "utf-8")
    with pytest.raises(StoreError, match=where):
        list(read_reviews(tmp_path))


def test_write_is_atomic_rename(tmp_path, monkeypatch):
    write_reviews(tmp_path, [review(1)])
    path = tmp_path / "product/acme/reviews/2026-11.json"
    ino = os.stat(path).st_ino
    write_reviews(tmp_path, [review(1, rating=5)])
    assert os.stat(path).st_ino != ino  # replaced by rename, never rewritten in place
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_failed_write_is_one_store_error_and_records_nothing(tmp_path, monkeypatch):
    from review_feed.store import jsonfile

    write_reviews(tmp_path, [review(1)])
    before = tree(tmp_path)
    real_open = os.open

    def full_disk(path, flags, *a):
        if flags & os.O_CREAT:
            raise OSError(28, "No space left on device", str(path))
        return real_open(path, flags, *a)

    monkeypatch.setattr(jsonfile.os, "open", full_disk)
    with Snapshot(tmp_path) as snap:
        snap.apply([upsert(review(2))])
        snap.record(
            LedgerEntry("f.csv", "product", "acme", "2026-11-20", 1, "0" * 64, FileCounts(), False)
        )
        with pytest.raises(StoreError) as err:
            snap.commit()
    msg = str(err.value)
    assert "No space left on device" in msg and "\n" not in msg and "run sync again" in msg
    monkeypatch.undo()
    assert tree(tmp_path) == before  # the ledger and every file as they were


class _Broken(Exception):
    pass


def _rows_then_break(rows):
    yield from rows
    raise _Broken


@pytest.mark.parametrize("held_before", [False, True])
def test_apply_is_all_or_nothing(tmp_path, held_before):
    # rows that break off half-way (a feed file found broken) leave nothing applied,
    # whether the collection was empty (folded as the rows come) or not (staged)
    if held_before:
        write_reviews(tmp_path, [review(1)])
    before = tree(tmp_path)
    with Snapshot(tmp_path) as snap:
        with pytest.raises(_Broken):
            snap.apply(_rows_then_break([upsert(review(2)), upsert(review(3)), delete("PR00001")]))
        assert snap.changes() == {}
        snap.apply([upsert(review(4))])
        snap.commit()
    after = tree(tmp_path)
    want = sorted([1, 4] if held_before else [4])
    assert [r.id for r in read_reviews(tmp_path)] == [f"PR{i:05d}" for i in want]
    assert after != before
