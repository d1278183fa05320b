"""Production settings (the nightly CI build): pelicanconf.py plus the public URL.

`REVIEW_FEED_SYNC=true` in the environment makes the build pull the night's
feed files first; secrets (REVIEW_FEED_PASSWORD, ...) come only from the
environment too.
"""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: F403

SITEURL = os.environ.get("SITEURL", "https://reviews.maison-lumiere.example")
RELATIVE_URLS = False
# Pelican's own files are rebuilt from scratch; the review pages and widgets are kept
# where the night did not change them (the plugin keeps its folders out of the cleaning
# and removes its stale files itself: docs/site.md, "The incremental build").
DELETE_OUTPUT_DIRECTORY = True
REVIEW_FEED_SYNC = os.environ.get("REVIEW_FEED_SYNC", "false")
# GitHub Pages: a build whose output it would refuse fails (REVIEW_FEED_HOST=none for a bucket)
REVIEW_FEED_HOST = "github-pages"
