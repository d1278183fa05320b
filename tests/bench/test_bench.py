"""The benchmark keeps working: the generator is deterministic and realistic, and
bench/run.py at a tiny size runs every section and writes sane numbers.

Performance itself is measured by the script at full size (figures in docs/performance.md),
never asserted here: these tests check shape and correctness, not speed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import genfeed  # noqa: E402


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_generator_is_deterministic(tmp_path):
    a = genfeed.generate(tmp_path / "a", 3000, 150, 200, nights=2)
    b = genfeed.generate(tmp_path / "b", 3000, 150, 200, nights=2)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert a["nights"] == b["nights"]
    genfeed.generate(tmp_path / "c", 3000, 150, 200, nights=2, seed=1)
    assert _digests(tmp_path / "c") != _digests(tmp_path / "a")


def test_generated_feeds_are_realistic(tmp_path):
    m = genfeed.generate(tmp_path, 4000, 200, 1000, nights=2)
    full = tmp_path / m["full"]["files"]["csv"]["path"]
    assert full.name == "reviews_product_acme-7f3a_2026-10-31.csv"
    with full.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 4000
    assert list(rows[0]) == genfeed.HEADER
    assert {r["action"] for r in rows} == {"NEW"}
    ids = [r["product_review_id"] for r in rows]
    assert len(set(ids)) == len(ids)
    # every product has a review; a few best-sellers have many
    per_product: dict[str, int] = {}
    for r in rows:
        per_product[r["product_ref"]] = per_product.get(r["product_ref"], 0) + 1
    assert len(per_product) == 200
    assert max(per_product.values()) > 10 * (4000 / 200)
    # skewed text lengths, French and other non-ASCII, quoting, replies
    lengths = sorted(len(r["review"]) for r in rows)
    assert lengths[len(lengths) // 2] < 150 < lengths[-1]
    assert any(not r["review"].isascii() for r in rows)
    assert any("\n" in r["review"] for r in rows)
    assert any(r["moderation"] for r in rows)
    replies = [json.loads(r["moderation"]) for r in rows if r["moderation"]]
    assert all({"date", "origin", "comment"} <= set(x) for rs in replies for x in rs)
    # about 3 years of dates; the vendor's ids grow with them
    dates = sorted(r["review_date"] for r in rows)
    assert dates[0].startswith("2023-") and dates[-1].startswith("2026-10")
    by_id = sorted(rows, key=lambda r: int(r["product_review_id"]))
    assert [r["review_date"] for r in by_id] == dates
    # the XML holds the same reviews and is well-formed
    xml = tmp_path / m["full"]["files"]["xml"]["path"]
    reviews = [el for el in etree.parse(str(xml)).getroot() if el.tag == "review"]
    assert [el.findtext("product_review_id") for el in reviews] == ids
    assert {el.get("action") or el.findtext("action") for el in reviews} == {"NEW"}
    # nights: mostly new, some updates and deletions of existing reviews
    known = set(ids)
    for night in m["nights"]:
        acts = night["actions"]
        assert acts["NEW"] > acts["UPDATE"] > acts["DELETE"] > 0
        assert acts["anonymised"] >= 1
        path = tmp_path / night["files"]["csv"]["path"]
        with path.open(encoding="utf-8", newline="") as fh:
            nrows = list(csv.DictReader(fh, delimiter="\t"))
        assert len(nrows) == night["rows"] == 1000
        for r in nrows:
            if r["action"] == "NEW":
                assert r["product_review_id"] not in known
            else:
                assert r["product_review_id"] in known
        assert any(r["firstname"] == "Anonymous" for r in nrows if r["action"] == "UPDATE")
        # updates are mostly of recent reviews, about one in twenty of any age
        updates = [r["review_date"] for r in nrows if r["action"] == "UPDATE"]
        old = [d for d in updates if d < "2026-09-01"]  # recent: after 2026-10-01
        assert 0 < len(old) <= len(updates) / 10
        known |= {r["product_review_id"] for r in nrows if r["action"] == "NEW"}
        known -= {r["product_review_id"] for r in nrows if r["action"] == "DELETE"}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--reviews",
            "2000",
            "--products",
            "100",
            "--delta",
            "100",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, out


@pytest.mark.slow
def test_small_run_has_every_section(small_run):
    proc, out = small_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text(encoding="utf-8"))
    for key in ("machine", "full_load", "delta", "noop", "build", "widgets", "targets", "checks"):
        assert key in r, key
    assert "skipped" not in r["build"] and "skipped" not in r["widgets"]
    bad = [c for c in r["checks"] if not c["ok"]]
    assert not bad, bad
    for fmt in ("csv", "xml"):
        s = r["full_load"][fmt]
        for case in ("floor", "baseline", "ours"):
            m = s[case]
            assert m["exit"] == 0 and m["seconds"] > 0 and m["rows_per_second"] > 0
            assert 5 < m["peak_rss_mb"] < 2000
        assert s["ours_vs_floor"] > 0 and s["baseline_vs_ours"] > 0
        assert s["ours"]["reviews_in_snapshot"] == 2000
    d = r["delta"]["ours"]
    assert 0 < d["bytes_rewritten"] < d["snapshot_bytes"]
    assert 0 < d["share_rewritten"] < 1 and 0 < d["files_touched"] <= d["snapshot_files"]
    assert r["delta"]["baseline"]["bytes_rewritten"] > 0
    noop = r["noop"]["ours"]
    assert noop["bytes_rewritten"] == 0 and noop["files_touched"] == 0
    b = r["build"]
    assert b["ours"]["pages"] >= 100 and b["ours"]["widget_files"] >= 100
    assert b["floor"]["pages"] == b["ours"]["files"]
    w = r["widgets"]
    for k in ("fragment", "loader", "product_page"):
        assert 0 < w[k]["gzip_bytes"] < w[k]["bytes"]
    n = r["nightly_build"]
    assert all(n[k]["exit"] == 0 for k in ("cold", "warm", "again"))
    assert n["cold"]["units"]["products_rendered"] >= 100
    assert 0 < n["warm"]["units"]["products_rendered"] < n["cold"]["units"]["products_rendered"]
    assert 0 < n["warm"]["files_rewritten"] < n["warm"]["files"]
    assert n["again"]["units"]["products_rendered"] == 0  # nothing changed, nothing rendered
    assert n["again"]["units"]["archive_rendered"] == 0 and n["again"]["manifest_bytes"] > 0
    # the builds' own time spent rendering: the warm build split in two against the cold
    assert 0 < n["cold"]["units"]["render_seconds"] < n["cold"]["seconds"]
    assert n["again"]["units"]["render_seconds"] == 0
    # built as CI builds: the plugin's lines, not Pelican's line per file written
    log = (out.parent / f"{out.stem}-logs" / "build-warm.out").read_text("utf-8")
    assert "units:" in log and 'Writing "' not in log
    split = n["warm_render_vs_cold"] + n["warm_rest_vs_cold"]
    assert n["warm_render_vs_cold"] > 0
    assert split == pytest.approx(n["warm_vs_cold_seconds"], abs=2e-4)
    assert len(r["targets"]) == 21
    assert all(t["pass"] is not None for t in r["targets"] if t["goal"] != "-")


@pytest.mark.slow
def test_small_run_prints_the_table(small_run):
    proc, out = small_run
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert table in proc.stdout
    r = json.loads(out.read_text(encoding="utf-8"))
    for t in r["targets"]:
        assert t["target"] in table
    budgeted = [t for t in r["targets"] if t["pass"] is not None]
    assert table.count("PASS") + table.count("MISS") == len(budgeted)
    for section in (
        "1. Full load",
        "2-3. Nights",
        "4. Pelican build",
        "5. Weight",
        "6. Nightly publish build",
    ):
        assert section in table
