"""The browser fixtures, shared by every folder of browser tests (imported by their conftest).

Debian's Chromium driven by playwright (no browser download); every request
off the loopback is aborted and recorded; axe-core comes from the
axe-playwright-python wheel.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_harness import CHROMIUM, CHROMIUM_ARGS, CLS_SCRIPT, Watch, is_loopback


def require(condition: bool, why: str) -> None:
    """tests/conftest.py's require, imported on use (that conftest imports this module)."""
    try:
        from tests.conftest import require as shared
    except ModuleNotFoundError:  # bare `pytest`: the repository root is not on sys.path
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.conftest import require as shared
    shared(condition, why)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        require(False, "the playwright Python package is missing")
        raise
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, js=True) -> (page, watch); every context is closed after the test."""
    contexts = []

    def opener(url: str, *, js: bool = True, width: int = 1200, height: int = 900):
        ctx = browser.new_context(
            java_script_enabled=js, viewport={"width": width, "height": height}
        )
        contexts.append(ctx)
        watch = Watch()

        def route(r):
            if is_loopback(r.request.url):
                r.continue_()
            else:  # never leaves the machine; recorded as a failure
                watch.blocked.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        page.add_init_script(CLS_SCRIPT)
        page.on(
            "console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))

        def on_dialog(d):
            watch.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda r: watch.requests.append(r.url))
        page.goto(url, wait_until="load")
        return page, watch

    yield opener
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe-core's axe.min.js, as bundled by the axe-playwright-python wheel."""
    from importlib.util import find_spec

    spec = find_spec("axe_playwright_python")
    require(spec is not None, "axe-playwright-python (bundles axe-core) is not installed")
    path = Path(spec.origin).parent / "axe.min.js"
    require(path.exists(), f"{path} is missing")
    return path
