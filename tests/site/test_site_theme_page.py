"""Review pages are the theme's own pages: its page.html lays them out (column,
heading from `page.title`, typography), with a title safe in any way a theme prints it."""

from __future__ import annotations

import json
import re

import jinja2
import pytest
from markupsafe import Markup
from pelican.contents import Content
from pelican.settings import DEFAULT_CONFIG
from review_feed.site.pages import review_page, theme_safe
from review_feed.site.slugs import product_slug
from review_feed.site.templating import extend, page_layout
from sitebuild import LD_JSON, product_review, site_review

HOSTILE = """<img src=x onerror=alert(1)>"'&amp;"""
REF = "SKU-9"
PRODUCT = f"reviews/products/{product_slug(REF)}/"
PAGES = ["reviews/", "reviews/products/", PRODUCT, f"{PRODUCT}page/1/"]


def reviews():
    brand = [site_review(i, 5) for i in range(2)]
    return brand + [
        product_review(100 + i, REF, [5, 4][i % 2], product_name=HOSTILE) for i in range(4)
    ]


def build(build_site, theme: str, **settings):
    return build_site(
        reviews(),
        pages={"about.md": "Title: About us\n\nWho we are.\n"},
        THEME=theme,
        DIRECT_TEMPLATES=["index"],
        REVIEW_FEED_PAGE_SIZE=2,  # the product has an archive page
        **settings,
    )


# A theme whose page.html prints page.title every way themes do: raw text, through
# striptags in a quoted and an unquoted attribute, in <title> and in a script string.
ATTR_BASE = """<!doctype html>
<html lang="{% block html_lang %}en{% endblock %}"><head>
<title>{% block title %}{{ SITENAME }}{% endblock %}</title>
{% block head %}{% endblock %}</head>
<body><header id="site">{{ SITENAME }}</header>
<ul id="menu">{% for p in pages %}<li>{{ p.title }}</li>{% endfor %}</ul>
{% block content %}{% endblock %}</body></html>
"""
ATTR_PAGE = """{% extends "base.html" %}
{% block title %}{{ page.title|striptags }}{% endblock %}
{% block head %}<meta name="description" content="{{ page.summary|striptags }}">
<meta property="og:title" content='{{ page.title|striptags }}'>
<script>var t = "{{ page.title|striptags }}";</script>{% endblock %}
{% block content %}<main id="column"><h1 title={{ page.title|striptags }}
 data-t="{{ page.title }}">{{ page.title }}</h1>
<a href="{{ SITEURL }}/{{ page.url }}" id="{{ page.slug }}">{{ page.title|striptags }}</a>
{{ page.content }}</main>{% endblock %}
"""


@pytest.fixture
def attr_theme(tmp_path):
    theme = tmp_path / "attr"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates" / "base.html").write_text(ATTR_BASE, "utf-8")
    (theme / "templates" / "page.html").write_text(ATTR_PAGE, "utf-8")
    for name in ("article", "index"):
        (theme / "templates" / f"{name}.html").write_text(
            '{% extends "base.html" %}{% block content %}x{% endblock %}', "utf-8"
        )
    return str(theme)


def theme_of(name: str, request) -> str:
    return request.getfixturevalue("attr_theme") if name == "attr" else name


def injected(tree) -> list[str]:
    """Elements or attributes a hostile name could have opened."""
    found = [f"<{el.tag}>" for el in tree.iter("img", "svg", "iframe")]
    found += [
        f"{el.tag}@{name}"
        for el in tree.iter()
        if isinstance(el.tag, str)
        for name in el.attrib
        if re.fullmatch(r"on[a-z]+|src", name)
    ]
    return found


@pytest.mark.parametrize("theme", ["notmyidea", "simple", "attr"])
def test_a_hostile_product_name_opens_no_tag_or_attribute_in_any_theme(build_site, theme, request):
    built = build(build_site, theme_of(theme, request))
    for url in PAGES:
        html = built.html(url)
        tree = built.tree(url)
        assert injected(tree) == [], url
        assert "<img" not in html, url  # escaped (&lt;img) or a lookalike (‹img) only
        for block in LD_JSON.findall(html):
            json.loads(block)  # still valid JSON
    (data,) = built.jsonld(PRODUCT)
    assert data["@type"] == "Product" and data["sku"] == REF and data["name"] == HOSTILE
    # the theme's heading shows the name with lookalikes for < > " '
    heading = built.tree(PRODUCT).xpath("string(//*[self::h1 or self::h2][contains(., 'img')])")
    assert heading == "Reviews of ‹img src＝x onerror＝alert(1)›”’&amp;"


def test_the_title_survives_striptags_in_attributes_and_scripts(build_site, attr_theme):
    built = build(build_site, attr_theme)
    tree = built.tree(PRODUCT)
    h1 = tree.xpath("//main[@id='column']/h1")[0]
    assert h1.get("data-t") == "Reviews of ‹img src＝x onerror＝alert(1)›”’&amp;"
    # the unquoted attribute spills words (as any title with spaces would), never a value
    spilled = {k: v for k, v in h1.attrib.items() if k not in ("title", "data-t")}
    assert spilled and set(spilled.values()) == {""}, spilled
    assert tree.xpath("//meta[@property='og:title']/@content") == [
        "Reviews of ‹img src＝x onerror＝alert(1)›”’&"
    ]
    (script,) = tree.xpath("//head/script/text()")
    assert script == 'var t = "Reviews of ‹img src＝x onerror＝alert(1)›”’&amp;";'  # raw text
    assert tree.xpath("string(//title)") == "Reviews of ‹img src＝x onerror＝alert(1)›”’&"
    # page.url, page.slug and page.summary are ours
    assert tree.xpath("//main/a/@href") == [f"../../../{PRODUCT}"]
    assert tree.xpath("//main/a/@id") == [PRODUCT.strip("/").replace("/", "-")]
    assert tree.xpath("//meta[@name='description']/@content") == ["4.5 out of 5, 4 reviews"]


@pytest.mark.parametrize(
    ("theme", "column", "heading"),
    [
        ("notmyidea", "//section[@id='content']", "h1[@class='entry-title']"),
        ("simple", "//article", "header/h2"),
    ],
)
def test_review_pages_sit_in_the_themes_page_layout_with_its_heading_only(
    build_site, theme, column, heading
):
    built = build(build_site, theme)
    own = built.tree("teas/about-us/")
    assert own.xpath(f"{column}/{heading}")  # the theme's own page has this layout
    for url in PAGES:
        tree = built.tree(url)
        (col,) = tree.xpath(column)
        assert col.xpath(".//div[contains(@class,'rfp ')]"), url
        assert len(col.xpath(heading)) == 1, url
        assert tree.xpath("//div[contains(@class,'rfp ')]//h1") == [], url  # no second h1
    titles = {url: built.tree(url).xpath(f"string({column}/{heading})") for url in PAGES}
    assert titles["reviews/"] == "Customer reviews of Test Tea Shop"
    assert titles["reviews/products/"] == "Product reviews"
    assert titles[f"{PRODUCT}page/1/"].endswith(", page 1")


@pytest.mark.parametrize("theme", ["notmyidea", "attr"])
def test_review_pages_stay_out_of_the_themes_page_menu(build_site, theme, request):
    built = build(build_site, theme_of(theme, request), DISPLAY_PAGES_ON_MENU=True)
    menu = "//nav//li" if theme == "notmyidea" else "//ul[@id='menu']/li"
    own = [li.text_content().strip() for li in built.tree("teas/about-us/").xpath(menu)]
    assert "About us" in own
    for url in PAGES:
        assert [li.text_content().strip() for li in built.tree(url).xpath(menu)] == own, url


def test_review_pages_are_not_kept_in_pelicans_content_memo(build_site):
    """Pelican memoizes get_content/get_summary for the life of the process: a large
    build would keep every review page's HTML in memory."""
    built = build(build_site, "notmyidea")
    assert 'class="rfp-reviews"' in built.html(PRODUCT)
    for memo in (Content.get_content.cache, Content.get_summary.cache):
        assert not [k for k in memo if str(getattr(k[0], "save_as", "")).startswith("reviews/")]


def test_theme_safe_leaves_nothing_that_opens_a_tag_or_leaves_an_attribute():
    title = theme_safe(HOSTILE + "\n\t x")
    assert isinstance(title, Markup)
    for shown in (str(title), title.striptags(), Markup(title).unescape()):
        assert not set("<>\"'") & set(shown), shown
    assert title.striptags() == "‹img src＝x onerror＝alert(1)›”’&amp; x"


BASE_ONLY = """<html lang="{% block html_lang %}xx{% endblock %}"><head>
<title>{% block title %}site{% endblock %}</title>{% block head %}{% endblock %}</head>
<body>{% block content %}{% endblock %}</body></html>"""


def test_without_a_page_html_the_page_fills_base_html_blocks():
    env = jinja2.Environment(loader=jinja2.DictLoader({"base.html": BASE_ONLY}))
    extend(env)
    assert page_layout(env) == "base.html"
    page = review_page(
        "<div class='rfp'><h1>Reviews of &lt;b&gt;</h1></div>",
        title="Reviews of <b>",
        summary="s",
        lang="fr",
        url="reviews/",
        save_as="reviews/index.html",
        settings=dict(DEFAULT_CONFIG),
        context={},
    )
    html = env.get_template("review_feed/page.html").render(page=page, rf_layout="base.html")
    assert '<html lang="fr">' in html
    assert "<title>Reviews of ‹b›</title>" in html
    assert "<body><div class='rfp'><h1>Reviews of &lt;b&gt;</h1></div></body>" in html
