"""`invoke serve` and `invoke demo` as a shop trying the loader: CORS on widgets/, real 404s."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from taskrun import serving


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


@pytest.mark.parametrize("widget_dir", ["embed/reviews"])
def test_serve_follows_the_widget_dir_setting(site: Path, widget_dir: str) -> None:
    from taskrun import base_env, ok, run_invoke

    env = base_env(REVIEW_FEED_WIDGET_DIR=widget_dir)
    ok(run_invoke(site, "sync", "--source", "sample-feed", env=env))
    ok(run_invoke(site, "build", env=env))
    with serving(site, "serve", "--port", "0", env=env) as served:
        status, headers, _ = get(f"{served.url}{widget_dir}/review-feed.js")
        assert status == 200 and headers.get("Access-Control-Allow-Origin") == "*"
