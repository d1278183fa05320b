"""Helpers shared by the browser tests (imported as `browser_harness`)."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from review_feed.model import Reply, Review

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# the filled stars' width: the ::after of the one stars element
FILLED = "e => parseFloat(getComputedStyle(e, '::after').width)"

WEBSITE_ID = "acme-7f3a"
# A hostile review must never run: each payload would set window.__pwned or open a dialog.
PWN = "window.__pwned=1"
HOSTILE_TEXT = (
    f'<script>{PWN}</script> <img src=x onerror="{PWN}"> "><svg onload=alert(1)> '
    "{{ 7*7 }} {% if 1 %}jinja{% endif %} </section></style><style>*{display:none}</style>"
    "</script><script>alert(2)</script> javascript:alert(3)"
)
HOSTILE_REF = 'EVIL"<b>/ref'
HOSTILE_NAME = f"<img src=x onerror={PWN}>Evil lamp"


def hostile_reviews() -> list[Review]:
    """Newest reviews (so widgets show them) on the brand and on a product of their own."""
    reply = (Reply("2026-11-29T09:00:00", "merchant", f"<img src=x onerror={PWN}>thanks"),)
    product = Review(
        kind="product",
        website_id=WEBSITE_ID,
        id="EVIL-1",
        review_id="EVIL-1",
        product_ref=HOSTILE_REF,
        product_name=HOSTILE_NAME,
        rating=1,
        text=HOSTILE_TEXT,
        author=f"<b onmouseover={PWN}>Mallory</b>",
        date="2026-11-28T12:00:00",
        order_date=None,
        replies=reply,
    )
    brand = Review(
        kind="site",
        website_id=WEBSITE_ID,
        id="EVIL-SITE-1",
        review_id="EVIL-SITE-1",
        product_ref=None,
        product_name=None,
        rating=2,
        text=HOSTILE_TEXT,
        author="<script>alert(4)</script>",
        date="2026-11-28T12:00:00",
        order_date=None,
        replies=reply,
    )
    return [product, brand]


# --- static servers -------------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Static files; widgets get `Access-Control-Allow-Origin: *` (shops fetch them)."""

    cors_prefix = "/widgets/"

    def end_headers(self) -> None:
        if self.path.startswith(self.cors_prefix):
            self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@dataclass
class Served:
    root: Path
    url: str  # "http://127.0.0.1:PORT/"
    server: ThreadingHTTPServer = field(repr=False)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(root: Path, cors_prefix: str = "/widgets/") -> Served:
    handler = functools.partial(
        type("H", (_Handler,), {"cors_prefix": cors_prefix}), directory=str(root)
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Served(root, f"http://127.0.0.1:{server.server_address[1]}/", server)


# Counts layout shifts from the very first paint (buffered), as Core Web Vitals do.
CLS_SCRIPT = """
window.__cls = 0; window.__shifts = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!e.hadRecentInput) { window.__cls += e.value; window.__shifts.push(e.value); }
    }
  }).observe({type: "layout-shift", buffered: true});
} catch (e) { window.__cls = -1; }
"""


@dataclass
class Watch:
    """What a page did: console errors, page errors, dialogs, off-loopback requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.dialogs == [], self.dialogs
        assert self.blocked == [], f"requests to non-loopback hosts: {self.blocked}"


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in ("127.0.0.1", "localhost", "::1")


def settle(page) -> None:
    """Two animation frames and a short idle: layout-shift entries are delivered async."""
    page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() =>"
        " setTimeout(r, 300))))"
    )


def cls(page) -> float:
    settle(page)
    return float(page.evaluate("window.__cls"))


def axe_violations(page, axe_js: Path) -> list[dict]:
    """Run axe-core in the page (or frame); its violations, summarised."""
    page.add_script_tag(path=str(axe_js))
    return page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));}"
    )


def dump(obj: object) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False)


SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} – Thés & Co</title>
<style>
 body{{margin:0;font:17px/1.6 Georgia,"DejaVu Serif",serif;color:#222;background:#fdfcf9}}
 header,footer{{background:#1f3b2d;color:#fff;padding:14px 32px}}
 main{{max-width:920px;margin:0 auto;padding:24px 32px}}
 .price{{font-size:22px;color:#1f3b2d}}
 /* careless shop CSS that the widget must not inherit */
 div{{padding:3px}} p{{margin:1.4em 0;color:#7a1f1f}} ul,ol{{margin:3em}} h2{{font-size:40px}}
</style></head>
<body><header><strong>Thés &amp; Co</strong> — fine teas since 1998</header>
<main><h1>{title}</h1><p class="price">12.50 €</p>
<p>Hand-picked in spring, steamed within hours. A bright, grassy cup.</p>
{body}
<h2 style="font-size:22px">More teas you may like</h2>
<p>This paragraph sits below the widget: it moves if the widget shifts the layout.</p>
</main><footer>© Thés &amp; Co</footer>
{script}
</body></html>
"""


def shop_html(title: str, body: str, script: str = "") -> str:
    return SHOP_PAGE.format(title=escape(title), body=body, script=script)


SERIOUS = ("serious", "critical")


def axe_serious(page, axe_js: Path) -> list[dict]:
    """axe-core's serious and critical violations, one entry per node: id, target and html.

    The node's html (its opening tag, as axe shows it) identifies the same
    element on two pages of a site, e.g. a theme's header on its index page
    and on a review page. `data` is axe's detail (for color-contrast: fgColor,
    bgColor, contrastRatio, fontSize, fontWeight).
    """
    page.add_script_tag(path=str(axe_js))
    found = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.flatMap(v => v.nodes.map(n => ({id: v.id, impact: v.impact,"
        " help: v.help, target: n.target.join(' '), html: n.html,"
        " data: (n.any[0] || n.all[0] || n.none[0] || {}).data || null})));}"
    )
    return [v for v in found if v["impact"] in SERIOUS]


# Decodes a PNG in the page and counts its colours (no imaging library needed in Python).
_PNG_COLOURS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; const n = {};
  for (let i = 0; i < d.length; i += 4) {
    const k = d[i] + ',' + d[i + 1] + ',' + d[i + 2]; n[k] = (n[k] || 0) + 1;
  }
  return Object.values(n).sort((a, b) => b - a);
}"""


def colour_counts(page, png: bytes) -> list[int]:
    """Pixel counts per colour of a PNG screenshot, most frequent first."""
    import base64

    return page.evaluate(_PNG_COLOURS, base64.b64encode(png).decode())
