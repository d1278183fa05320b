"""The demo shop builds with the README's command, and its numbers are the snapshot's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from review_feed.site.data import build_data
from review_feed.site.slugs import product_slug
from review_feed.store import read_stored
from sitebuild import LD_JSON, REPO, Built


def test_demo_builds_and_matches_the_committed_snapshot(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env["REVIEW_FEED_CACHE"] = str(tmp_path / "cache")  # not the repository's
    out = tmp_path / "output"
    proc = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = Built(out)
    data = build_data(read_stored(REPO / "data" / "reviews"))
    assert data.brand, "the committed demo snapshot has brand reviews"
    agg = data.brand_aggregate
    summary = built.tree("reviews/").xpath("string(//p[@class='rfp-rating-text'])")
    assert summary == f"{agg.average_text} out of 5, {agg.count} reviews"
    # every content page that declares a product shows it, with its JSON-LD
    declared = 0
    for page in sorted((out / "teas").rglob("index.html")):
        html = page.read_text("utf-8")
        docs = [json.loads(b) for b in LD_JSON.findall(html)]
        if not docs:
            continue
        (doc,) = docs
        p = data.products[doc["sku"]]
        assert doc["aggregateRating"]["reviewCount"] == p.aggregate.count
        assert doc["aggregateRating"]["ratingValue"] == float(p.aggregate.average_text)
        assert 'class="rf-w"' in html
        declared += 1
    assert declared >= 4
    # every product of the snapshot has its page, and every JSON-LD block on the site parses
    for ref in data.products:
        assert built.path(f"reviews/products/{product_slug(ref)}/").exists(), ref
    for path in out.rglob("*.html"):
        for block in LD_JSON.findall(path.read_text("utf-8")):
            json.loads(block)
    # the review pages' stylesheet: linked once on a review page (from its content),
    # in the head of the theme's other pages (their footer and home page show stars)
    for url in ["reviews/", f"reviews/products/{product_slug(next(iter(data.products)))}/"]:
        html = built.html(url)
        assert html.count("review-feed.css") == 1, url
        assert "review-feed.css" not in html[: html.index("</head>")], url
    home = built.html("index.html")
    assert "review-feed.css" in home[: home.index("</head>")]
