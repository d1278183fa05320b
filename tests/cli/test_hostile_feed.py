"""Hostile feed files, each through the real `review-feed sync` in a child process: one line
naming the file, the right exit code, the valid rest applied or nothing, and a bounded
peak memory where a file's size was the threat (measured from outside with os.wait4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clitools import command, no_traceback, product_row, tree, write_csv
from review_feed.errors import FeedFileError
from review_feed.store import read_reviews

MB = 1 << 20


# Linux counts in a child's peak RSS the memory of the process it was forked from (before
# its exec): a small launcher starts the command, so the peak is the command's own.
LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_pid, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def sync_measured(src: Path, snap: Path, **env: str) -> tuple[int, str, float]:
    """`review-feed sync` as a child: exit code, its output, its peak RSS in MB."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    base.update(env)
    out, status = snap.parent / "sync-output.txt", snap.parent / "sync-status.txt"
    cmd = [*command(), "sync", "--source", str(src), "--snapshot", str(snap)]
    with out.open("wb") as fh:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(status), *cmd],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=base,
            cwd=snap.parent,
            check=True,
            timeout=300,
        )
    text = out.read_text("utf-8", errors="replace")
    assert "Traceback" not in text, text
    code, peak_kib = status.read_text().split()
    return int(code), text, int(peak_kib) / 1024


def baseline_peak(tmp_path: Path) -> float:
    """The peak of a sync of one small valid file: what the process costs by itself."""
    src = tmp_path / "small-src"
    write_csv(src / "reviews_product_acme_2026-11-20.csv", [product_row("NEW", "P0")])
    code, text, peak = sync_measured(src, tmp_path / "small-snap")
    assert code == 0, text
    return peak


def lines_naming(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if name in line]


def test_xml_bulk_outside_reviews_is_streamed(tmp_path):
    # 40 MB of sibling elements around one review: every element is dropped once read
    src = tmp_path / "src"
    src.mkdir()
    name = "reviews_product_acme_2026-11-20.xml"
    junk = "<note><a>x</a><b>y</b></note>\n" * (40 * MB // 31)
    review = (
        "<review><action>NEW</action><product_review_id>P1</product_review_id>"
        "<product_ref>SKU-1</product_ref><review_date>2026-11-20 10:00:00</review_date>"
        "<rate>5</rate><review>Bon.</review></review>"
    )
    (src / name).write_text(
        f"<export><notes>{junk}</notes><reviews>{review}</reviews>{junk}</export>", "utf-8"
    )
    floor = baseline_peak(tmp_path)
    snap = tmp_path / "snap"
    code, text, peak = sync_measured(src, snap)
    assert code == 0, text
    assert [r.id for r in read_reviews(snap)] == ["P1"]
    # held whole, the tree of 80 MB of elements costs several hundred MB
    assert peak < floor + 60, (peak, floor)


def test_a_very_long_line_is_read_with_a_bounded_buffer(tmp_path):
    # 96 MB without a line break after the header: refused by its line, not held whole
    src = tmp_path / "src"
    path = write_csv(src / "reviews_product_acme_2026-11-20.csv", [])
    with path.open("a", encoding="utf-8") as fh:
        chunk = "x" * MB
        for _ in range(96):
            fh.write(chunk)
    floor = baseline_peak(tmp_path)
    snap = tmp_path / "snap"
    code, text, peak = sync_measured(src, snap)
    assert peak < floor + 40, (peak, floor)  # held whole, the line costs twice its size
    assert code == FeedFileError.exit_code
    [line] = lines_naming(text, path.name)
    assert "line 2" in line and "longer than" in line
    assert not list(read_reviews(snap))


def _xml_review(prid: str, exchanges: int) -> str:
    ex = "".join(
        f'<exchange date="2026-11-21 10:00:00" author="2"><comment>{"m" * 100}</comment></exchange>'
        for _ in range(exchanges)
    )
    return (
        f"<review><action>NEW</action><product_review_id>{prid}</product_review_id>"
        "<product_ref>SKU-1</product_ref><review_date>2026-11-20 10:00:00</review_date>"
        f"<rate>5</rate><review>Bon.</review><moderation>{ex}</moderation></review>"
    )


def _legacy_row(prid: str, triplets: int) -> str:
    cells = ["NEW", "x", prid, "x", "SKU-1", "2026-11-20 10:00:00", "Bon.", "5", "Eva", "G"]
    cells += ["x", str(triplets)]
    cells += ["2026-11-21 10:00:00", "2", "m" * 100] * triplets
    return "\t".join(cells) + "\n"


def test_one_cap_on_a_whole_review_in_every_layout(tmp_path):
    # With a 20,000-byte cap: 300 replies of 100 bytes are over it in every layout, while
    # each cell stays under it; the row is rejected with one line, the other applied
    src = tmp_path / "src"
    src.mkdir()
    (src / "reviews_product_acme_2026-11-20.xml").write_text(
        f"<export>{_xml_review('X1', 300)}{_xml_review('X2', 3)}</export>", "utf-8"
    )
    (src / "reviews_product_acme_2026-11-21.csv").write_text(
        _legacy_row("L1", 300) + _legacy_row("L2", 3), "utf-8"
    )
    header = product_row("NEW", "H1", text="t" * 15_000)
    header[-1] = '[{"date": "2026-11-21 10:00:00", "origin": "2", "comment": "%s"}]' % (
        "m" * 15_000
    )
    write_csv(src / "reviews_product_acme_2026-11-22.csv", [header, product_row("NEW", "H2")])
    snap = tmp_path / "snap"
    code, text, _peak = sync_measured(src, snap, REVIEW_FEED_MAX_FIELD_SIZE="20000")
    assert code == 0, text
    assert sorted(r.id for r in read_reviews(snap)) == ["H2", "L2", "X2"]
    for name, where in (
        ("reviews_product_acme_2026-11-20.xml", "review #1"),
        ("reviews_product_acme_2026-11-21.csv", "line 1"),
        ("reviews_product_acme_2026-11-22.csv", "line 2"),
    ):
        [line] = [x for x in lines_naming(text, name) if "REVIEW_FEED_MAX_FIELD_SIZE" in x]
        assert where in line and "bytes" in line, line


def test_a_refused_file_leaves_the_snapshot_as_it_was(tmp_path):
    src = tmp_path / "src"
    write_csv(src / "reviews_product_acme_2026-11-20.csv", [product_row("NEW", "P1")])
    snap = tmp_path / "snap"
    assert sync_measured(src, snap)[0] == 0
    before = tree(snap)
    bad = src / "reviews_product_acme_2026-11-21.csv"
    write_csv(bad, [product_row("NEW", "P2")])
    with bad.open("a", encoding="utf-8") as fh:
        fh.write('NEW\t"unterminated')
    code, text, _ = sync_measured(src, snap)
    assert code == FeedFileError.exit_code
    assert len(lines_naming(text, bad.name)) == 1
    assert tree(snap) == before
    no_traceback(subprocess.CompletedProcess([], code, text, ""))
