"""The real `review-feed` command on real files: sync, status, export, policies, exit codes."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from clitools import mtimes, no_traceback, product_row, run, tree, write_csv
from lxml import etree
from review_feed.store import Snapshot

PRODUCT = "reviews_product_shop1_{}.csv"


@pytest.fixture
def sample_snapshot(tmp_path, sample_feed):
    proc = run("sync", "--source", str(sample_feed), "--snapshot", "snap", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "snap", proc


def _sync(tmp_path, *extra, source="src", snapshot="snap", env=None):
    return run("sync", "--source", source, "--snapshot", snapshot, *extra, cwd=tmp_path, env=env)


def _reviews(snapshot: Path) -> dict[str, dict]:
    out = {}
    for p in snapshot.rglob("reviews/**/*.json"):
        for rec in json.loads(p.read_bytes()):
            out[rec["id"]] = rec
    return out


def _ledger(snapshot: Path) -> dict[str, dict]:
    return {e["name"]: e for e in json.loads((snapshot / "ledger.json").read_bytes())}


# --- the sample feed ---------------------------------------------------------------------


def test_sample_feed_sync_summary_and_layout(sample_snapshot):
    snap, proc = sample_snapshot
    no_traceback(proc)
    assert "applied 8 file(s)" in proc.stdout
    assert "rows:" in proc.stdout and "reviews:" in proc.stdout
    files = sorted(tree(snap))
    assert "ledger.json" in files
    assert all(f.endswith(".json") for f in files)
    for f in files:
        json.loads((snap / f).read_bytes())
    ledger = _ledger(snap)
    assert len(ledger) == 8 and not any(n.endswith(".part") for n in ledger)


def test_sample_feed_privacy(sample_snapshot, sample_feed):
    snap, _ = sample_snapshot
    blob = b"".join(tree(snap).values()).decode("utf-8")
    raw = "".join(p.read_text("utf-8") for p in sample_feed.glob("reviews_*"))
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", raw))
    orders = set(re.findall(r"CMD-\d+", raw))
    assert emails and orders
    assert not [e for e in emails if e in blob]
    assert not [o for o in orders if o in blob]
    last_names = set()
    for p in sample_feed.glob("reviews_*.csv"):
        rows = list(csv.reader(p.open(encoding="utf-8"), delimiter="\t"))
        head = rows[0]
        col = next((head.index(c) for c in ("lastname", "name", "last_name") if c in head), 9)
        last_names |= {r[col] for r in rows[1:] if len(r) > col}
    for p in sample_feed.glob("reviews_*.xml"):
        last_names |= {e.text for e in etree.parse(str(p)).iter("lastname") if e.text}
    last_names -= {"", "Anonymous"}
    assert len(last_names) > 5
    texts = " ".join(r["text"] for r in _reviews(snap).values())
    leaked = [n for n in last_names if n in blob and n not in texts]
    assert not leaked
    authors = {r["author"] for r in _reviews(snap).values()}
    assert all(re.fullmatch(r"Anonymous|\S.*?( \w\.)?", a) for a in authors)


def test_deterministic_and_nothing_new_changes_nothing(tmp_path, sample_feed, sample_snapshot):
    snap, _ = sample_snapshot
    other = run("sync", "--source", str(sample_feed), "--snapshot", "b", cwd=tmp_path)
    assert other.returncode == 0
    assert tree(snap) == tree(tmp_path / "b")
    before = tree(snap), mtimes(snap)
    again = run("sync", "--source", str(sample_feed), "--snapshot", "snap", cwd=tmp_path)
    assert again.returncode == 0 and "no new file" in again.stdout
    assert "snapshot unchanged" in again.stdout
    assert (tree(snap), mtimes(snap)) == before


def test_one_night_per_run_equals_all_at_once(tmp_path, sample_feed, sample_snapshot):
    snap, _ = sample_snapshot
    nights: dict[str, list[Path]] = {}
    for p in sample_feed.glob("reviews_*"):
        day = re.search(r"_(\d{4}-?\d{2}-?\d{2})\.", p.name)
        if day:
            nights.setdefault(day[1].replace("-", ""), []).append(p)
    assert len(nights) >= 4  # the last one only holds a .part upload
    src = tmp_path / "src"
    src.mkdir()
    for night in sorted(nights):
        for p in nights[night]:
            shutil.copy(p, src / p.name)
        proc = _sync(tmp_path, snapshot="inc")
        assert proc.returncode == 0, proc.stderr
    assert tree(tmp_path / "inc") == tree(snap)


def test_export_record_and_order(tmp_path, sample_snapshot):
    proc = run("export", "--snapshot", "snap", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == len(_reviews(sample_snapshot[0]))
    keys = [
        "kind",
        "website_id",
        "id",
        "review_id",
        "product_ref",
        "product_name",
        "rating",
        "text",
        "author",
        "date",
        "order_date",
        "replies",
    ]
    assert all(list(r) == keys for r in recs)
    assert [(r["kind"], r["website_id"], r["id"]) for r in recs] == sorted(
        (r["kind"], r["website_id"], r["id"]) for r in recs
    )
    assert {r["kind"] for r in recs} == {"site", "product"}
    assert all(r["product_ref"] is None for r in recs if r["kind"] == "site")
    assert all(set(x) == {"date", "origin", "text"} for r in recs for x in r["replies"])
    assert any(r["replies"] for r in recs)
    assert "\\u00e9" not in proc.stdout  # UTF-8, not escapes


def test_status(tmp_path, sample_feed, sample_snapshot):
    proc = run("status", "--snapshot", "snap", "--source", str(sample_feed), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "product/acme-7f3a:" in proc.stdout and "site/acme-7f3a:" in proc.stdout
    assert "0 pending" in proc.stdout
    assert "reviews_product_acme-7f3a_20261123.csv" in proc.stdout


def test_settings_from_pelicanconf_env_and_flags(tmp_path, sample_feed):
    (tmp_path / "pelicanconf.py").write_text(
        f"REVIEW_FEED_SOURCE = {str(sample_feed)!r}\nREVIEW_FEED_SNAPSHOT = 'from-conf'\n"
    )
    assert run("sync", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "from-conf/ledger.json").exists()
    env = {"REVIEW_FEED_SNAPSHOT": "from-env", "REVIEW_FEED_WEBSITE_IDS": "nobody,other"}
    proc = run("sync", cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "no new file" in proc.stdout
    proc = run(
        "sync", "--snapshot", "from-flag", "--website-id", "acme-7f3a", cwd=tmp_path, env=env
    )
    assert proc.returncode == 0 and "applied 8 file(s)" in proc.stdout
    assert tree(tmp_path / "from-flag") == tree(tmp_path / "from-conf")


def test_dry_run_writes_nothing(tmp_path, sample_feed):
    proc = run(
        "sync", "--source", str(sample_feed), "--snapshot", "snap", "--dry-run", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "would apply 8 file(s)" in proc.stdout
    assert not (tmp_path / "snap").exists()


# --- policies ----------------------------------------------------------------------------


def _night(src: Path, day: str, rows: list[list[str]]) -> Path:
    return write_csv(src / PRODUCT.format(day), rows)


def test_resent_file_same_content_skipped_new_content_reapplied(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1"), product_row("NEW", "P2")])
    assert _sync(tmp_path).returncode == 0
    # re-sent, different content, nothing newer applied since: applied again on top
    _night(src, "2026-11-20", [product_row("NEW", "P1", rate="2"), product_row("NEW", "P3")])
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0
    assert "re-sent with different content" in proc.stderr
    got = _reviews(tmp_path / "snap")
    assert got["P1"]["rating"] == 2 and {"P1", "P2", "P3"} <= set(got)
    entry = _ledger(tmp_path / "snap")[PRODUCT.format("2026-11-20")]
    assert entry["size"] == (src / PRODUCT.format("2026-11-20")).stat().st_size
    # a newer file applied, then the old one changes again: refused, one line, exit 5
    _night(src, "2026-11-21", [product_row("NEW", "P4")])
    assert _sync(tmp_path).returncode == 0
    before = tree(tmp_path / "snap")
    _night(src, "2026-11-20", [product_row("DELETE", "P1")])
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 5
    assert "full resync" in proc.stderr and PRODUCT.format("2026-11-20") in proc.stderr
    assert tree(tmp_path / "snap") == before


def test_late_file_is_skipped_with_a_warning(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-21", [product_row("NEW", "P1")])
    assert _sync(tmp_path).returncode == 0
    before = tree(tmp_path / "snap")
    _night(src, "2026-11-20", [product_row("DELETE", "P1")])
    proc = _sync(tmp_path)
    assert proc.returncode == 0
    assert "skipped reviews_product_shop1_2026-11-20.csv" in proc.stderr
    assert "full resync" in proc.stderr
    assert tree(tmp_path / "snap") == before


def test_full_resync_in_strict_mode_applies_nothing_of_a_file_with_a_rejected_row(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1")])
    assert _sync(tmp_path).returncode == 0
    before = tree(tmp_path / "snap")
    full = write_csv(
        tmp_path / "vendor" / PRODUCT.format("20261120"),
        [product_row("NEW", "P2"), product_row("NEW", "P3", rate="9")],
    )
    proc = _sync(tmp_path, "--strict", "--full", str(full))
    no_traceback(proc)
    assert proc.returncode == 1
    assert "line 3" in proc.stderr and "rate" in proc.stderr
    assert f"{full.name}: not applied, 1 row(s) rejected in strict mode" in proc.stderr
    assert tree(tmp_path / "snap") == before  # P1 kept, P2 not added


def test_full_resync(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1"), product_row("NEW", "P2")])
    _night(src, "2026-11-21", [product_row("NEW", "P3")])
    site = write_csv(
        src / "reviews_site_shop1_2026-11-20.csv",
        [["NEW", "S1", "2026-11-20 10:00:00", "4", "Bien", "Eva", "Garnier"]],
        ["action", "review_id", "review_date", "rate", "review", "firstname", "lastname"],
    )
    assert _sync(tmp_path).returncode == 0
    full = write_csv(
        tmp_path / "vendor" / PRODUCT.format("20261120"),
        [product_row("NEW", "P2", rate="3"), product_row("NEW", "P9")],
    )
    proc = _sync(tmp_path, "--full", str(full))
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    got = _reviews(tmp_path / "snap")
    # the full file is the truth (P1 gone), then the later night is applied again (P3)
    assert sorted(got) == ["P2", "P3", "P9", "S1"]
    assert got["P2"]["rating"] == 3
    ledger = _ledger(tmp_path / "snap")
    assert ledger[full.name].get("full") is True
    assert ledger[full.name]["size"] == full.stat().st_size
    assert PRODUCT.format("2026-11-20") not in ledger  # replaced by the full file
    assert site.name in ledger and PRODUCT.format("2026-11-21") in ledger
    # next runs: the superseded older source file is quietly left alone
    before = tree(tmp_path / "snap")
    proc = _sync(tmp_path)
    assert proc.returncode == 0 and "skipped" not in proc.stderr, proc.stderr
    assert tree(tmp_path / "snap") == before


def test_rejected_rows_default_and_strict(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1"), product_row("NEW", "P2", rate="9")])
    proc = _sync(tmp_path, "--strict", snapshot="strict")
    no_traceback(proc)
    assert proc.returncode == 1
    assert "line 3" in proc.stderr and "rate" in proc.stderr
    assert (
        f"{PRODUCT.format('2026-11-20')}: not applied, 1 row(s) rejected in strict mode; "
        "fix the file or run without --strict"
    ) in proc.stderr
    assert not (tmp_path / "strict/product").exists()  # nothing of that file applied
    assert PRODUCT.format("2026-11-20") not in _ledger(tmp_path / "strict")
    proc = _sync(tmp_path, snapshot="lenient")
    assert proc.returncode == 0
    assert "rejected row:" in proc.stderr and "line 3" in proc.stderr
    assert sorted(_reviews(tmp_path / "lenient")) == ["P1"]
    assert _ledger(tmp_path / "lenient")[PRODUCT.format("2026-11-20")]["rejected"] == 1


def test_broken_first_file_of_an_empty_collection_applies_nothing(tmp_path):
    # A file for an empty collection is applied while it is read: rows read before the
    # break must not reach the snapshot, and the other collection's file still applies.
    src = tmp_path / "src"
    write_csv(
        src / PRODUCT.format("2026-11-20"), [product_row("NEW", f"P{i}") for i in range(12_000)]
    )
    broken = src / PRODUCT.format("2026-11-20")
    broken.write_bytes(broken.read_bytes() + b'NEW\t"P99\n')
    write_csv(src / "reviews_product_shop2_2026-11-22.csv", [product_row("NEW", "Q1")])
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 3, proc.stderr
    assert sorted(_reviews(tmp_path / "snap")) == ["Q1"]
    assert not (tmp_path / "snap/product/shop1").exists()
    assert broken.name not in _ledger(tmp_path / "snap")


def test_broken_file_not_applied_later_files_wait_others_go_on(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1")])
    broken = src / PRODUCT.format("2026-11-21")
    broken.write_text("\t".join(["action", "product_review_id"]) + '\nNEW\t"P2\n', "utf-8")
    _night(src, "2026-11-22", [product_row("NEW", "P3")])
    write_csv(src / "reviews_product_shop2_2026-11-22.csv", [product_row("NEW", "Q1")])
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 3
    assert broken.name in proc.stderr
    assert len([x for x in proc.stderr.splitlines() if broken.name in x and "error" in x]) <= 1
    assert sorted(_reviews(tmp_path / "snap")) == ["P1", "Q1"]
    assert broken.name not in _ledger(tmp_path / "snap")
    assert "waits for" in proc.stderr
    # the vendor re-sends it fixed: it and the file that waited apply, in order
    _night(src, "2026-11-21", [product_row("NEW", "P2")])
    proc = _sync(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(_reviews(tmp_path / "snap")) == ["P1", "P2", "P3", "Q1"]


def test_second_sync_while_locked(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1")])
    with Snapshot(tmp_path / "snap"):
        proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 6
    assert "another review-feed sync" in proc.stderr
    assert _sync(tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("args", "env", "code", "says"),
    [
        (["sync", "--snapshot", "s"], {}, 2, "no source"),
        (["sync", "--source", "missing-dir", "--snapshot", "s"], {}, 4, "missing-dir"),
        (["sync", "--source", "src"], {"REVIEW_FEED_STRICT": "maybe"}, 2, "REVIEW_FEED_STRICT"),
        (["sync", "--source", "src", "--full", "nope.csv"], {}, 2, "nope.csv"),
        (["sync", "--source", "ftp://", "--snapshot", "s"], {}, 2, ""),
        (["sync", "--bogus"], {}, 2, "unrecognized"),
        (["export", "--snapshot", "absent"], {}, 2, "absent"),
        (["sync", "--settings", "broken.py", "--source", "src"], {}, 2, "broken.py"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(tmp_path, args, env, code, says):
    (tmp_path / "src").mkdir()
    (tmp_path / "broken.py").write_text("REVIEW_FEED_SOURCE = (\n")
    proc = run(*args, cwd=tmp_path, env=env)
    no_traceback(proc)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_damaged_snapshot_is_exit_5(tmp_path):
    src = tmp_path / "src"
    _night(src, "2026-11-20", [product_row("NEW", "P1")])
    assert _sync(tmp_path).returncode == 0
    (tmp_path / "snap/ledger.json").write_text("[{")
    _night(src, "2026-11-21", [product_row("NEW", "P2")])
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 5 and "ledger.json" in proc.stderr and "git" in proc.stderr
