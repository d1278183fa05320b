"""The theme sites in headless Chromium: visible stars, nothing over the theme's header, axe.

Full-page screenshots of every page checked go to the artifacts folder
(`$TEST_ARTIFACTS_DIR`, else `output/test-artifacts/`), as
`themes/<theme>-<page>.png`.
"""

from __future__ import annotations

import pytest
from browser_harness import axe_serious, colour_counts, dump, settle
from review_feed.settings import load_settings
from review_feed.site.slugs import product_slug
from themesites import PRODUCTS, ThemeSite

SETTINGS = load_settings({}, {})
FIRST_REF, (FIRST_SLUG, _) = next(iter(PRODUCTS.items()))
PAGES = {
    "brand": SETTINGS.brand_url,
    "product": SETTINGS.product_url.format(slug=product_slug(FIRST_REF)),
    "content": f"pages/{FIRST_SLUG}.html",
    "products": f"{SETTINGS.products_url}page/2/",  # the index's last page, its way back
}
# Our stars, whatever their class: an image whose label reads the rating.
STARS = '[role="img"][aria-label*="out of 5"]'


def shoot(page, artifacts, theme: str, which: str) -> None:
    settle(page)
    page.screenshot(path=str(artifacts / f"{theme}-{which}.png"), full_page=True)


@pytest.mark.parametrize("which", sorted(PAGES))
def test_stars_are_visible(which, theme_site: ThemeSite, served, open_page, artifacts) -> None:
    page, _ = open_page(served + PAGES[which])
    shoot(page, artifacts, theme_site.theme.name, which)
    stars = page.locator(STARS)
    assert stars.count() >= 1, "no star rating on the page"
    for i in range(min(stars.count(), 4)):
        star = stars.nth(i)
        star.scroll_into_view_if_needed()
        box = star.bounding_box()
        label = star.get_attribute("aria-label")
        assert box and box["width"] >= 40 and box["height"] >= 8, (label, box)
        # Drawn, not just laid out: the box holds the stars' colour beside the background.
        counts = colour_counts(page, star.screenshot())
        total = sum(counts)
        assert len(counts) >= 2 and counts[0] <= 0.95 * total, (label, counts[:5])


@pytest.mark.parametrize("which", ["brand", "product"])
def test_review_pages_sit_in_the_themes_content_column(
    which, theme_site: ThemeSite, served, open_page
) -> None:
    """Our page lies within the column the theme gives its own pages' content."""
    theme = theme_site.theme
    page, _ = open_page(served + "pages/contact.html")
    column = page.locator(theme.column).first.bounding_box()
    assert column, theme.column
    page, _ = open_page(served + PAGES[which])
    ours = page.locator(".rfp").first.bounding_box()
    assert ours, "no .rfp root on the review page"
    left, right = column["x"], column["x"] + column["width"]
    assert left - 1 <= ours["x"] and ours["x"] + ours["width"] <= right + 1, (
        f"the theme's column spans x {left:.0f}-{right:.0f}, the review page "
        f"{ours['x']:.0f}-{ours['x'] + ours['width']:.0f}"
    )


# The hit element must be the theme's own (the element itself or inside it).
HIT = """([selector, x, y]) => {
  const el = document.querySelector(selector);
  const hit = document.elementFromPoint(x, y);
  return {inside: !!hit && el.contains(hit),
          hit: hit ? hit.outerHTML.slice(0, 160) : null};
}"""


@pytest.mark.parametrize("which", sorted(PAGES))
def test_nothing_covers_the_themes_header(which, theme_site: ThemeSite, served, open_page):
    theme = theme_site.theme
    page, _ = open_page(served + PAGES[which])
    settle(page)
    name = page.locator(theme.site_name).first
    box = name.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, theme.site_name
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    got = page.evaluate(HIT, [theme.site_name, *centre])
    assert got["inside"], f"the site name is covered by {got['hit']}"
    # A grid over the header (or sidebar), within the viewport.
    header = page.locator(theme.header).first.bounding_box()
    assert header, theme.header
    view = page.viewport_size
    for fx in (0.1, 0.5, 0.9):
        for fy in (0.1, 0.5, 0.9):
            x = header["x"] + fx * header["width"]
            y = header["y"] + fy * min(header["height"], view["height"] - header["y"])
            got = page.evaluate(HIT, [theme.header, x, y])
            assert got["inside"], f"({x:.0f}, {y:.0f}) in {theme.header} hits {got['hit']}"


def new_findings(found: list[dict], index: list[dict]) -> list[dict]:
    """The findings of a page that the theme's index page does not already have.

    The same rule on the same element (same markup) is the theme's. So is a
    color-contrast failure of text in a colour the theme's own page already
    fails with, at a contrast no more than 10% worse than the theme's worst
    (our pages use the theme's link colour, as they should, and may sit on
    a faint tint).
    """
    same = {(v["id"], v["html"]) for v in index}
    worst: dict[str, float] = {}
    for v in index:
        if v["id"] == "color-contrast" and v["data"]:
            fg = v["data"]["fgColor"]
            worst[fg] = min(worst.get(fg, 99.0), float(v["data"]["contrastRatio"]))
    new = []
    for v in found:
        if (v["id"], v["html"]) in same:
            continue
        data = v["data"] or {}
        fg = data.get("fgColor")
        if (
            v["id"] == "color-contrast"
            and fg in worst
            and float(data["contrastRatio"]) >= 0.9 * worst[fg]
        ):
            continue
        new.append(v)
    return new


def test_no_new_serious_axe_violation(
    theme_site: ThemeSite, served, open_page, axe_js, artifacts
) -> None:
    """Serious/critical axe-core findings of our pages, less what the theme's index already has."""
    page, _ = open_page(served)
    shoot(page, artifacts, theme_site.theme.name, "index")  # the theme's own look, to compare
    index = axe_serious(page, axe_js)
    new = {}
    for which, url in PAGES.items():
        page, _ = open_page(served + url)
        found = new_findings(axe_serious(page, axe_js), index)
        if found:
            new[which] = found
    assert new == {}, dump(new)
