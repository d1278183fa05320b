"""The incremental build: yesterday's output + tonight's snapshot == a build from scratch.

Each test builds snapshot S1 then S2 into one output folder (the publish
settings: DELETE_OUTPUT_DIRECTORY) and S2 alone into an empty one, with real
Pelican runs, and compares the two folders file by file (names and bytes).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from review_feed.model import Review
from review_feed.site.incremental import MANIFEST_NAME
from review_feed.site.units import canonical
from review_feed.store import write_reviews
from sitebuild import QUIET_BUILD, REPO, product_review, site_review

PRODUCTS = ("TEA-A", "TEA-B", "TEA-C", "TEA-D")


class Site:
    """One site folder (content, theme copy, snapshot) built into `output`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.output = root / "output"
        (root / "content" / "pages").mkdir(parents=True)
        shutil.copytree(REPO / "themes" / "lumiere", root / "theme")

    def page(self, name: str, text: str) -> None:
        (self.root / "content" / "pages" / name).write_text(text, "utf-8")

    def theme_file(self, name: str, text: str) -> None:
        path = self.root / "theme" / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")

    def build(self, reviews: Iterable[Review], **settings: Any) -> None:
        from pelican import Pelican
        from pelican.settings import read_settings

        snapshot = self.root / "snapshot"
        shutil.rmtree(snapshot, ignore_errors=True)
        write_reviews(snapshot, list(reviews))
        override = {
            "PATH": str(self.root / "content"),
            "OUTPUT_PATH": str(self.output),
            "PAGE_PATHS": ["pages"],
            "ARTICLE_PATHS": ["articles"],
            "PAGE_URL": "teas/{slug}/",
            "PAGE_SAVE_AS": "teas/{slug}/index.html",
            "THEME": str(self.root / "theme"),
            "PLUGIN_PATHS": [str(REPO / "plugins")],
            "PLUGINS": ["review_feed"],
            "SITENAME": "Test Tea Shop",
            "SITEURL": "https://shop.example",
            "RELATIVE_URLS": False,
            "DELETE_OUTPUT_DIRECTORY": True,
            "TIMEZONE": "UTC",
            **QUIET_BUILD,
            "REVIEW_FEED_SNAPSHOT": str(snapshot),
            "REVIEW_FEED_CACHE": str(self.root / "cache"),  # each site its own read cache
            "REVIEW_FEED_PAGE_SIZE": 4,
        }
        override.update(settings)
        Pelican(read_settings(None, override=override)).run()

    def files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.output).as_posix(): p.read_bytes()
            for p in sorted(self.output.rglob("*"))
            if p.is_file()
        }

    def stats(self) -> dict[str, tuple[int, int]]:
        return {
            p.relative_to(self.output).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in self.output.rglob("*")
            if p.is_file()
        }


@pytest.fixture
def sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Site, Site]:
    """(incremental, scratch): two site folders alike."""
    for name in list(os.environ):
        if name.startswith("REVIEW_FEED_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return Site(tmp_path / "incremental"), Site(tmp_path / "scratch")


def night1() -> list[Review]:
    reviews = [site_review(i, 5 - i % 4) for i in range(6)]
    n = 100
    for k, ref in enumerate(PRODUCTS):
        for _ in range(3 + 3 * k):  # TEA-C and TEA-D run over several pages
            reviews.append(product_review(n, ref, 1 + n % 5, product_name=f"Tea {ref}"))
            n += 1
    return reviews


def night2() -> list[Review]:
    """New, updated and deleted reviews across several products; a new product."""
    reviews = [r for r in night1() if r.id not in ("P112", "P113")]  # deleted (TEA-C)
    reviews = [r._replace(text="Updated") if r.id == "P104" else r for r in reviews]  # TEA-B
    reviews.append(product_review(200, "TEA-A", 2, product_name="Tea TEA-A"))
    reviews.append(product_review(201, "TEA-E", 4, product_name="Tea TEA-E"))
    return reviews


def assert_same(incremental: Site, scratch: Site) -> None:
    got, want = incremental.files(), scratch.files()
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


def product_files(site: Site, ref: str) -> list[str]:
    """The files of a product's unit (its main page and widget) and of its archive pages."""
    doc = json.loads((site.output / MANIFEST_NAME).read_text("utf-8"))
    units = doc["body"]["units"]
    names = [
        f"product:{ref}",
        *(n for n in units if n.startswith("archive:") and n.endswith(f":{ref}")),
    ]
    return sorted(f for n in names for f in units[n]["files"])


def test_a_night_of_changes_matches_a_full_build_and_keeps_the_rest(
    sites: tuple[Site, Site], caplog: pytest.LogCaptureFixture
) -> None:
    inc, scratch = sites
    inc.build(night1())
    before = inc.stats()
    kept = product_files(inc, "TEA-D")
    with caplog.at_level(logging.INFO, logger="review_feed"):
        inc.build(night2())  # the brand's file as it was: only the products' parsed
    assert "(1 of its 2 files changed since the last build)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="review_feed"):
        scratch.build(night2())  # no read cache: every file
    assert "(2 of its 2 files changed since the last build)" in caplog.text
    assert_same(inc, scratch)
    after = inc.stats()
    assert kept and all(after[name] == before[name] for name in kept)  # not rewritten
    assert any(after[name] != before[name] for name in product_files(inc, "TEA-A"))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="review_feed"):
        inc.build(night2())  # no change
    assert "(0 of its 2 files changed since the last build)" in caplog.text
    # nothing rendered: no time spent rendering
    assert "units: 0 rendered (0 products) in 0.0 s, 10 kept (5 products)" in caplog.text
    assert "archive pages: 0 rendered, 2 kept" in caplog.text  # TEA-D's two
    ours = [n for n in after if n.startswith(("reviews/", "widgets/"))]
    again = inc.stats()
    assert ours and all(again[n] == after[n] for n in ours)
    assert_same(inc, scratch)


def test_a_product_whose_last_review_is_deleted_loses_its_files(
    sites: tuple[Site, Site],
) -> None:
    inc, scratch = sites
    inc.build(night1())
    gone = product_files(inc, "TEA-C")
    s2 = [r for r in night1() if r.product_ref != "TEA-C"]
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    assert gone and not any((inc.output / name).exists() for name in gone)


@pytest.mark.parametrize("edit", ["theme layout", "our template through the theme"])
def test_a_template_edit_renders_everything_again(sites: tuple[Site, Site], edit: str) -> None:
    inc, scratch = sites
    inc.build(night1())
    for site in sites:
        if edit == "theme layout":
            base = (site.root / "theme" / "templates" / "base.html").read_text("utf-8")
            site.theme_file("base.html", base.replace("</body>", "<p>New footer</p></body>"))
        else:
            ours = REPO / "plugins/review_feed/site/templates/review_feed/widget.html"
            site.theme_file("review_feed/widget.html", ours.read_text("utf-8") + "<!-- v2 -->\n")
    inc.build(night1())
    scratch.build(night1())
    assert_same(inc, scratch)


@pytest.mark.parametrize(
    "settings",
    [{"REVIEW_FEED_PAGE_SIZE": 2}, {"SITEURL": "https://other.example"}, {"DEFAULT_LANG": "fr"}],
)
def test_a_settings_change_renders_everything_again(
    sites: tuple[Site, Site], settings: dict[str, Any]
) -> None:
    inc, scratch = sites
    inc.build(night1())
    inc.build(night1(), **settings)
    scratch.build(night1(), **settings)
    assert_same(inc, scratch)


def test_a_content_page_declaring_a_product(sites: tuple[Site, Site]) -> None:
    """A hidden page names TEA-B as the feed does: only the link to it is new."""
    inc, scratch = sites
    inc.build(night1())
    for site in sites:
        site.page("b.md", "Title: Tea TEA-B\nStatus: hidden\nproduct_ref: TEA-B\n\nTea.\n")
    inc.build(night1())
    scratch.build(night1())
    assert_same(inc, scratch)


def test_a_new_page_in_the_themes_menu(sites: tuple[Site, Site]) -> None:
    """Pelican's simple theme lists the pages in its menu, on every page."""
    inc, scratch = sites
    inc.build(night1(), THEME="simple")
    for site in sites:
        site.page("about.md", "Title: About us\n\nWho we are.\n")
    inc.build(night1(), THEME="simple")
    scratch.build(night1(), THEME="simple")
    assert_same(inc, scratch)


def test_a_brand_review_the_theme_shows_on_every_page(sites: tuple[Site, Site]) -> None:
    """The demo theme's footer shows the brand's rating: it changes every page."""
    inc, scratch = sites
    inc.build(night1())
    s2 = [*night1(), site_review(50, 1)]
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)


def test_the_demo_themes_footer_keeps_product_pages_when_a_brand_review_arrives(
    sites: tuple[Site, Site],
) -> None:
    """The demo theme's footer shows the brand's average to a tenth and no count: a brand
    review that leaves that figure alone re-renders the brand pages, not the products'."""
    inc, scratch = sites
    inc.build(night1())  # brand ratings 5, 4, 3, 2, 5, 4: 3.8
    before = inc.stats()
    s2 = [*night1(), site_review(50, 3.5)]  # 26.5 / 7 = 3.79: still 3.8
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    after = inc.stats()
    kept = [n for p in PRODUCTS for n in product_files(inc, p)]
    assert kept and all(after[n] == before[n] for n in kept)
    assert after["reviews/index.html"] != before["reviews/index.html"]


def rewrite_manifest(site: Site, change: Any) -> None:
    path = site.output / MANIFEST_NAME
    doc = json.loads(path.read_text("utf-8"))
    change(doc["body"])
    doc["checksum"] = __import__("hashlib").sha256(canonical(doc["body"])).hexdigest()
    path.write_text(json.dumps(doc), "utf-8")


def spoil_units(body: dict[str, Any]) -> None:
    """A manifest claiming every product is up to date, one naming a file outside."""
    body["units"]["product:TEA-A"]["files"]["../outside.txt"] = 4


def alter(site: Site) -> None:
    """Drop TEA-C's archive page from the units without updating the checksum: trusted,
    the page the night makes vanish would stay."""
    path = site.output / MANIFEST_NAME
    doc = json.loads(path.read_text("utf-8"))
    del doc["body"]["units"]["archive:1:TEA-C"]
    path.write_text(json.dumps(doc), "utf-8")


MANIFESTS = {
    "missing": lambda site: (site.output / MANIFEST_NAME).unlink(),
    "corrupt": lambda site: (site.output / MANIFEST_NAME).write_text("{not json", "utf-8"),
    "altered": lambda site: alter(site),
    "foreign": lambda site: rewrite_manifest(site, lambda b: b.update(key="0" * 32)),
    "escaping": lambda site: rewrite_manifest(site, spoil_units),
}


@pytest.mark.parametrize("case", sorted(MANIFESTS))
def test_an_unusable_manifest_means_a_full_build(sites: tuple[Site, Site], case: str) -> None:
    inc, scratch = sites
    outside = inc.root / "outside.txt"
    outside.write_text("mine", "utf-8")
    inc.build(night1())
    # a file of a product the night leaves alone, changed at the same size: only a
    # full build writes it again
    damaged = inc.output / product_files(inc, "TEA-D")[0]
    damaged.write_bytes(damaged.read_bytes().replace(b"<!", b"<?", 1))
    MANIFESTS[case](inc)
    inc.build(night2())
    scratch.build(night2())
    assert_same(inc, scratch)
    assert outside.read_text("utf-8") == "mine"


def test_a_damaged_or_missing_file_is_written_again(sites: tuple[Site, Site]) -> None:
    inc, scratch = sites
    inc.build(night1())
    files = product_files(inc, "TEA-D")
    (inc.output / files[0]).write_text("", "utf-8")
    (inc.output / files[-1]).unlink()
    (inc.output / tea_d(2)).unlink()  # an archive page: its list is no longer kept whole
    inc.build(night1())
    scratch.build(night1())
    assert_same(inc, scratch)


def test_nothing_is_removed_through_a_symlink(sites: tuple[Site, Site]) -> None:
    """TEA-C's page folder replaced by a link to a folder elsewhere; TEA-C goes away."""
    inc, _ = sites
    inc.build(night1(), DELETE_OUTPUT_DIRECTORY=False)
    victim = inc.root / "elsewhere"
    victim.mkdir()
    files = product_files(inc, "TEA-C")
    folder = inc.output / Path(files[0]).parent
    others = [n for n in files if not (inc.output / n).is_relative_to(folder)]
    shutil.copytree(folder, victim, dirs_exist_ok=True)
    shutil.rmtree(folder)
    folder.symlink_to(victim, target_is_directory=True)
    kept = sorted(p for p in victim.rglob("*") if p.is_file())
    inc.build([r for r in night1() if r.product_ref != "TEA-C"], DELETE_OUTPUT_DIRECTORY=False)
    assert kept and all(p.is_file() for p in kept)
    assert others and not any((inc.output / n).exists() for n in others)  # removed


def test_the_build_counts_the_time_spent_rendering(tmp_path: Path) -> None:
    """What the log's "rendered ... in N s" adds up: the render calls, not the keeps."""
    from review_feed.site.units import IncrementalBuild

    build, _why = IncrementalBuild.start(tmp_path, "key")

    def render(name: str) -> list[str]:
        time.sleep(0.05)
        (tmp_path / name).write_text(name, "utf-8")
        return [name]

    build.run("a", "1", lambda: render("a.html"), list)
    build.run("b", "1", lambda: render("b.html"), list)
    assert 0.1 <= build.render_seconds < 1
    build.finish()
    again, _why = IncrementalBuild.start(tmp_path, "key")
    assert again.run("a", "1", lambda: render("a.html"), list)[1]  # kept
    assert again.render_seconds == 0


def test_a_build_that_stops_half_way_leaves_no_manifest(
    sites: tuple[Site, Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    from review_feed.site import units

    inc, scratch = sites
    inc.build(night1())
    calls = iter(range(100))

    def crash(self: Any, *args: Any) -> Any:
        if next(calls) == 1:  # the lists left alone are kept whole: TEA-B's is the first run
            raise RuntimeError("killed")
        return real(self, *args)

    real = units.IncrementalBuild.run
    monkeypatch.setattr(units.IncrementalBuild, "run", crash)
    # TEA-B rendered (a text of the same size: its files keep their sizes), then a crash
    same_size = [r._replace(text=r.text.upper()) if r.id == "P104" else r for r in night1()]
    with pytest.raises(RuntimeError):
        inc.build(same_size)
    assert not (inc.output / MANIFEST_NAME).exists()
    monkeypatch.setattr(units.IncrementalBuild, "run", real)
    inc.build(night1())
    scratch.build(night1())
    assert_same(inc, scratch)


def test_kept_pages_stay_in_pelican_sitemap(sites: tuple[Site, Site]) -> None:
    """Kept pages are announced as written ones are (`content_written`).

    Last in this file: pelican-sitemap stays connected to Pelican's signals for the
    rest of the process once a build has loaded it (a build stopped by an exception
    would leave it waiting for that build to finish)."""
    pytest.importorskip("pelican.plugins.sitemap")
    inc, scratch = sites
    plugins = ["sitemap", "review_feed"]
    inc.build(night1(), PLUGINS=plugins)
    inc.build(night2(), PLUGINS=plugins)
    scratch.build(night2(), PLUGINS=plugins)

    def urls(site: Site) -> list[str]:
        xml = (site.output / "sitemap.xml").read_text("utf-8")
        return sorted(re.findall(r"<loc>(.*?)</loc>", xml))

    assert any("/tea-d-" in url for url in urls(scratch))
    assert urls(inc) == urls(scratch)


def test_the_names_pelican_keeps_and_the_names_a_manifest_may_hold() -> None:
    from review_feed.settings import load_settings
    from review_feed.site.incremental import retained_names, safe_name

    defaults = load_settings({}, {})
    assert retained_names(defaults) == [MANIFEST_NAME, "reviews", "widgets"]
    custom = load_settings(
        {
            "REVIEW_FEED_PRODUCT_SAVE_AS": "{slug}/index.html",  # one folder a product: not kept
            "REVIEW_FEED_STYLESHEET": "reviews.css",
            "REVIEW_FEED_WIDGET_DIR": "embed/v1",
        },
        {},
    )
    assert retained_names(custom) == [MANIFEST_NAME, "reviews", "embed", "reviews.css"]
    assert all(map(safe_name, ["a", "a/b.html", ".well-known/x", "a..b/c"]))
    bad = ["", ".", "..", "../x", "a/../b", "a/./b", "a//b", "a/", "/a", "a\\b", "a\x00", None]
    assert not any(map(safe_name, bad))


# --- stable pagination: a night touches only the pages whose reviews changed. With a
# page size of 4, TEA-D's 12 reviews are a main page of 4 and archive pages 1 and 2
# (the oldest 4, then the next 4).


def tea_d(n: int) -> str:
    """The file of TEA-D's archive page n (the main page for n == 0)."""
    from review_feed.site.slugs import product_slug

    folder = f"reviews/products/{product_slug('TEA-D')}/"
    return folder + (f"page/{n}/index.html" if n else "index.html")


def new_d(k: int) -> list[Review]:
    """k reviews of TEA-D newer than every other."""
    return [
        product_review(
            300 + i,
            "TEA-D",
            1 + i % 5,
            product_name="Tea TEA-D",
            date=f"2026-11-{1 + i:02d}T00:00:00",
        )
        for i in range(k)
    ]


def shown(site: Site, name: str) -> list[str]:
    html = (site.output / name).read_text("utf-8")
    return re.findall(r"<p>Product review number (\d+)</p>", html)


def test_a_new_review_rewrites_only_the_main_page_and_the_widget(sites: tuple[Site, Site]) -> None:
    inc, scratch = sites
    inc.build(night1())
    before = inc.stats()
    unit = product_files(inc, "TEA-D")
    s2 = [*night1(), *new_d(1)]
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    after = inc.stats()
    archive = [tea_d(1), tea_d(2)]
    assert all(after[n] == before[n] for n in archive)  # neither rendered nor written
    rewritten = sorted(n for n in unit if after[n] != before[n])
    assert rewritten == sorted(n for n in unit if n not in archive)
    assert [n for n in rewritten if n.startswith("widgets/")] and tea_d(0) in rewritten
    assert shown(inc, tea_d(0)) == ["300", "129", "128", "127", "126"]
    assert shown(inc, tea_d(1)) == ["121", "120", "119", "118"]


def test_a_new_archive_page_when_the_main_page_would_reach_two_pages(
    sites: tuple[Site, Site],
) -> None:
    inc, scratch = sites
    s1 = [*night1(), *new_d(3)]  # 15 reviews: a main page of 7
    inc.build(s1)
    assert shown(inc, tea_d(0)) == ["302", "301", "300", "129", "128", "127", "126"]
    assert not (inc.output / tea_d(3)).exists()
    before = inc.stats()
    s2 = [*night1(), *new_d(4)]  # 16: the main page's oldest 4 become archive page 3
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    after = inc.stats()
    assert shown(inc, tea_d(3)) == ["129", "128", "127", "126"]
    assert shown(inc, tea_d(0)) == ["303", "302", "301", "300"]
    assert after[tea_d(1)] == before[tea_d(1)]
    assert after[tea_d(2)] != before[tea_d(2)]  # page 2 now links to page 3: rewritten


def test_an_update_of_an_old_review_rewrites_only_its_archive_page(
    sites: tuple[Site, Site],
) -> None:
    inc, scratch = sites
    inc.build(night1())
    before = inc.stats()
    s2 = [r._replace(text="Steeped too long") if r.id == "P118" else r for r in night1()]
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    after = inc.stats()
    changed = [n for n in product_files(inc, "TEA-D") if after[n] != before[n]]
    assert changed == [tea_d(1)]
    assert "Steeped too long" in (inc.output / tea_d(1)).read_text("utf-8")


def test_a_delete_in_the_middle_matches_a_full_build(sites: tuple[Site, Site]) -> None:
    """P123 is on archive page 2 of 13 reviews: the newer ones move down one place,
    page 1 (the oldest four) stays as it was."""
    inc, scratch = sites
    s1 = [*night1(), *new_d(1)]
    inc.build(s1)
    before = inc.stats()
    s2 = [r for r in s1 if r.id != "P123"]
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    after = inc.stats()
    assert after[tea_d(1)] == before[tea_d(1)]
    assert shown(inc, tea_d(2)) == ["126", "125", "124", "122"]
    assert shown(inc, tea_d(0)) == ["300", "129", "128", "127"]


def test_a_delete_that_shortens_the_archive_matches_a_full_build(
    sites: tuple[Site, Site],
) -> None:
    """12 reviews to 11: archive page 2 goes, its reviews back on the main page."""
    inc, scratch = sites
    inc.build(night1())
    s2 = [r for r in night1() if r.id != "P123"]
    inc.build(s2)
    scratch.build(s2)
    assert_same(inc, scratch)
    assert not (inc.output / tea_d(2)).exists()
    assert shown(inc, tea_d(0)) == ["129", "128", "127", "126", "125", "124", "122"]


def test_each_page_of_the_products_index_is_rewritten_only_when_its_rows_change(
    sites: tuple[Site, Site],
) -> None:
    """Two products a page: TEA-A and TEA-B on the first, TEA-C and TEA-D on the second.
    A count on one page rewrites that page alone; a catalogue that shrinks loses its
    last page."""
    inc, scratch = sites
    small = {"REVIEW_FEED_PRODUCTS_PAGE_SIZE": 2}
    first, second = "reviews/products/index.html", "reviews/products/page/2/index.html"
    inc.build(night1(), **small)
    before = inc.stats()
    s2 = [*night1(), *new_d(1)]  # TEA-D's count changes
    inc.build(s2, **small)
    scratch.build(s2, **small)
    assert_same(inc, scratch)
    after = inc.stats()
    assert after[first] == before[first] and after[second] != before[second]
    s3 = [r for r in s2 if r.product_ref not in ("TEA-C", "TEA-D")]
    inc.build(s3, **small)
    scratch.build(s3, **small)
    assert_same(inc, scratch)
    assert not (inc.output / second).exists()
    units = json.loads((inc.output / MANIFEST_NAME).read_text("utf-8"))["body"]["units"]
    assert "index" in units and "index:2" not in units
    inc.build(s2, **small)  # and back to two pages
    scratch.build(s2, **small)
    assert_same(inc, scratch)
