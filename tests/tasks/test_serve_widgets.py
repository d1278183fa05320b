"""`invoke serve` and `invoke demo` as a shop trying the loader: CORS on widgets/, real 404s."""

from __future__ import annotations

import functools
import os
import re
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from taskrun import require, serving

CHROMIUM = "/usr/bin/chromium"


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Origin": "http://127.0.0.1:1"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_demo_serves_widgets_with_cors_and_missing_files_as_404(site: Path) -> None:
    with serving(site, "demo", "--port", "0") as served:
        widgets = sorted((site / "output" / "widgets").rglob("*.*"))
        assert any(p.suffix == ".js" for p in widgets) and any(p.suffix == ".css" for p in widgets)
        for path in widgets[:6]:
            rel = path.relative_to(site / "output").as_posix()
            status, headers, body = get(served.url + rel)
            assert status == 200 and body == path.read_bytes(), rel
            assert headers.get("Access-Control-Allow-Origin") == "*", rel
        # the site's own pages are not shared with other origins
        status, headers, _ = get(served.url + "reviews/")
        assert status == 200 and "Access-Control-Allow-Origin" not in headers
        # a missing file is a real 404 (with CORS under widgets/, so the loader can see it)
        status, headers, _ = get(served.url + "widgets/products/no-such-product.html")
        assert status == 404 and headers.get("Access-Control-Allow-Origin") == "*"
        status, _, _ = get(served.url + "no/such/page/")
        assert status == 404
        shop_trial(served.url, site / "shop")


def shop_trial(review_site: str, root: Path) -> None:
    """The widgets page's two-minute trial: a shop page on another origin, the loader in its
    head and a bare placeholder, in a real Chromium."""
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    doc = (Path(__file__).resolve().parents[2] / "docs" / "widgets.md").read_text("utf-8")
    page_html = re.search(r"<<'HTML'\n(.*?)\nHTML\n", doc, re.S)
    assert page_html, "the local trial in docs/widgets.md is gone"
    root.mkdir()
    html = page_html[1].replace("http://127.0.0.1:8000/", review_site)
    (root / "index.html").write_text(html, "utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    shop = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    seen: dict[str, object] = {}

    def visit() -> None:
        # its own thread: another test's browser may hold this thread's event loop
        try:
            look()
        except Exception as exc:  # reported by the assertion below, in the test's thread
            seen["failure"] = repr(exc)

    def look() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{shop.server_address[1]}/")
            page.wait_for_selector("[data-review-feed-product] .rf-list > li", timeout=15000)
            seen["text"] = page.locator("[data-review-feed-product] .rf-txt").inner_text()
            seen["errors"] = errors
            browser.close()

    try:
        visit_thread = threading.Thread(target=visit)
        visit_thread.start()
        visit_thread.join(60)
    finally:
        shop.shutdown()
        shop.server_close()
    assert "out of 5" in str(seen.get("text")), seen
    assert seen["errors"] == []


@pytest.mark.parametrize("widget_dir", ["embed/reviews"])
def test_serve_follows_the_widget_dir_setting(site: Path, widget_dir: str) -> None:
    from taskrun import base_env, ok, run_invoke

    env = base_env(REVIEW_FEED_WIDGET_DIR=widget_dir)
    ok(run_invoke(site, "sync", "--source", "sample-feed", env=env))
    ok(run_invoke(site, "build", env=env))
    with serving(site, "serve", "--port", "0", env=env) as served:
        status, headers, _ = get(f"{served.url}{widget_dir}/review-feed.js")
        assert status == 200 and headers.get("Access-Control-Allow-Origin") == "*"
