"""The demo shop's Pelican settings: `pelican content -s pelicanconf.py -o output`.

Local builds never touch the network: REVIEW_FEED_SYNC is off here (the
nightly build turns it on through the environment, see publishconf.py).
"""

AUTHOR = "Maison Lumière"
SITENAME = "Maison Lumière"
SITESUBTITLE = "Fine teas from Paris"
SITEURL = ""
RELATIVE_URLS = True  # the output opens from disk and from any sub-path

PATH = "content"
PAGE_PATHS = ["pages"]
ARTICLE_PATHS = ["articles"]
PAGE_URL = "teas/{slug}/"
PAGE_SAVE_AS = "teas/{slug}/index.html"
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "en"

THEME = "themes/lumiere"
MENUITEMS = (("Our teas", ""),)

# A shop, not a blog: no article lists, archives, tag pages or feeds.
DIRECT_TEMPLATES = []
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
AUTHOR_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""

# --- review-feed (every REVIEW_FEED_* setting: see the README)
PLUGIN_PATHS = ["plugins"]
PLUGINS = ["review_feed"]
REVIEW_FEED_SOURCE = "sample-feed"  # the bundled sample; set your SFTP/FTP URL here
REVIEW_FEED_SNAPSHOT = "data/reviews"  # committed with the site
REVIEW_FEED_SYNC = False
REVIEW_FEED_PAGE_SIZE = 20  # the default; see docs/performance.md ("Output size")
REVIEW_FEED_WIDGET_COUNT = 3
