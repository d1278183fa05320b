#!/usr/bin/env python3
"""The reference programs the benchmark measures ours against, one per process.

    python bench/cases.py <case> <args...>

Each case does its work and prints one JSON object (what it counted) on stdout;
bench/run.py starts it as a fresh process and measures its wall time and peak
memory from outside (os.wait4), exactly as it measures `review-feed sync`.

Floors (the bare cost of reading the file, nothing kept):
  floor-csv FILE            one csv.reader pass (tab-delimited, UTF-8)
  floor-xml FILE            one lxml iterparse pass over <review> elements, clearing them

Baselines (the straightforward script a merchant would write):
  baseline-csv FEED... OUT  csv.DictReader rows into a dict keyed by product review id,
                            NEW/UPDATE set, DELETE pop; one json.dumps of it to OUT
  baseline-xml FEED... OUT  the same with xml.etree.ElementTree.iterparse
  baseline-delta JSON FEED  load the one big JSON, apply FEED as above, dump it back
"""

from __future__ import annotations

import csv
import json
import sys
import xml.etree.ElementTree as ET


def floor_csv(path: str) -> dict:
    n = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for _row in csv.reader(fh, delimiter="\t"):
            n += 1
    return {"rows": n - 1}  # the header


def floor_xml(path: str) -> dict:
    from lxml import etree

    n = 0
    ctx = etree.iterparse(
        path,
        events=("end",),
        tag="review",
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
    )
    for _ev, el in ctx:
        if len(el) == 0:
            continue  # <review> is also the text's element name, inside a review
        n += 1
        el.clear(keep_tail=True)
        parent = el.getparent()
        while el.getprevious() is not None:
            del parent[0]
    return {"rows": n}


def _apply_csv(snapshot: dict, path: str) -> int:
    n = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            n += 1
            key = row["product_review_id"]
            if row["action"].upper() == "DELETE":
                snapshot.pop(key, None)
            else:
                snapshot[key] = row
    return n


def _apply_xml(snapshot: dict, path: str) -> int:
    n = 0
    for _ev, el in ET.iterparse(path):
        if el.tag != "review" or len(el) == 0:
            continue  # the inner <review> holds the text
        n += 1
        row = {c.tag: (c.text or "") for c in el if c.tag != "moderation"}
        mod = el.find("moderation")
        if mod is not None:
            row["moderation"] = [{c.tag: c.text for c in ex} for ex in mod]
        action = (el.get("action") or row.get("action", "")).upper()
        if action == "DELETE":
            snapshot.pop(row["product_review_id"], None)
        else:
            snapshot[row["product_review_id"]] = row
        el.clear()
    return n


def baseline(fmt: str, feeds: list[str], out: str) -> dict:
    snapshot: dict = {}
    apply = _apply_csv if fmt == "csv" else _apply_xml
    rows = sum(apply(snapshot, f) for f in feeds)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(snapshot))
    return {"rows": rows, "reviews": len(snapshot)}


def baseline_delta(snapshot_path: str, feed: str) -> dict:
    with open(snapshot_path, encoding="utf-8") as fh:
        snapshot = json.loads(fh.read())
    rows = _apply_csv(snapshot, feed)
    with open(snapshot_path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(snapshot))
    return {"rows": rows, "reviews": len(snapshot)}


def main(argv: list[str]) -> int:
    case, args = argv[0], argv[1:]
    if case == "floor-csv":
        out = floor_csv(args[0])
    elif case == "floor-xml":
        out = floor_xml(args[0])
    elif case == "baseline-csv":
        out = baseline("csv", args[:-1], args[-1])
    elif case == "baseline-xml":
        out = baseline("xml", args[:-1], args[-1])
    elif case == "baseline-delta":
        out = baseline_delta(args[0], args[1])
    else:
        print(f"unknown case {case!r}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
