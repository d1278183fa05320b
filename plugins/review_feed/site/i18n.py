"""The site's words and dates in English and French, without system locales.

Pelican's convention is one language per build (`DEFAULT_LANG`); the review
pages follow it unless `REVIEW_FEED_LANG` says otherwise. The catalog is a
small dict rather than gettext files: a dozen phrases, no build step, and no
dependency on the `fr_FR` locale being installed on the CI machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..errors import ConfigError

LANGS = ("en", "fr")

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}

# Keys used by the templates; `{name}` fields are filled with escaped values.
CATALOG: dict[str, dict[str, str]] = {
    "en": {
        "reviews": "Reviews",
        "brand_title": "Customer reviews of {brand}",
        "product_title": "Reviews of {product}",
        "products_title": "Product reviews",
        "products_intro": "Every product our customers have reviewed.",
        "rating_text": "{average} out of 5",
        "review_count_one": "{n} review",
        "review_count_other": "{n} reviews",
        "no_reviews": "No reviews yet.",
        "stars_label": "{rating} out of 5 stars",
        "level_label": "{level} stars",
        "level_label_one": "1 star",
        "distribution": "Rating distribution",
        "all_reviews": "All reviews",
        "show_all": "Show all reviews",
        "archive_title": "{title}, page {page}",
        "archive_range": "From {first} to {last}",
        "archive_day": "On {date}",
        "newest_reviews": "Newest reviews",
        "older_reviews": "Older reviews",
        "newer": "Newer reviews",
        "archive_nav": "Archive of reviews",
        "index_nav": "Pages of the product list",
        "previous_page": "Previous page",
        "next_page": "Next page",
        "order_of": "following an order of {date}",
        "reply_merchant": "Reply from {brand}",
        "reply_moderator": "Moderator",
        "reply_customer": "Customer",
        "anonymous": "Anonymous",
        "about_reviews": "About these reviews",
        "see_product": "See the product",
        "product_reviews": "Product reviews",
        "brand_reviews": "Reviews of the shop",
        "product": "Product",
        "rating": "Rating",
        "count": "Reviews",
        "skip": "Skip to content",
        "breadcrumb": "Breadcrumb",
        "read_reviews": "Read the reviews",
        "percent": "{p}%",
        "widget_heading": "Customer reviews",
        "widget_label": "Customer reviews: {name}",
        "widget_latest": "Latest reviews",
        "widget_all_one": "See the review",
        "widget_all": "See all {n} reviews",
        "widget_all_none": "Go to the reviews page",
        "widget_newest_first": "Newest first",
        "widget_fallback": "Read the customer reviews of {name}",
        "widget_frame_nojs": "The reviews show here with JavaScript on. Read them on our site:",
        "notice": (
            "Reviews are collected by our independent review provider, which invites "
            "customers to give their opinion after an order. Reviews are published "
            "with their original date and rating, favourable or not, once the provider "
            "has checked them against its publication rules; we can reply but cannot "
            "edit or remove them."
        ),
    },
    "fr": {
        "reviews": "Avis",
        "brand_title": "Avis clients sur {brand}",
        "product_title": "Avis sur {product}",
        "products_title": "Avis sur nos produits",
        "products_intro": "Tous les produits évalués par nos clients.",
        "rating_text": "{average} sur 5",
        "review_count_one": "{n} avis",
        "review_count_other": "{n} avis",
        "no_reviews": "Pas encore d’avis.",
        "stars_label": "{rating} étoiles sur 5",
        "level_label": "{level} étoiles",
        "level_label_one": "1 étoile",
        "distribution": "Répartition des notes",
        "all_reviews": "Tous les avis",
        "show_all": "Afficher tous les avis",
        "archive_title": "{title}, page {page}",
        "archive_range": "Du {first} au {last}",
        "archive_day": "Le {date}",
        "newest_reviews": "Avis les plus récents",
        "older_reviews": "Avis plus anciens",
        "newer": "Avis plus récents",
        "archive_nav": "Archives des avis",
        "index_nav": "Pages de la liste des produits",
        "previous_page": "Page précédente",
        "next_page": "Page suivante",
        "order_of": "suite à une commande du {date}",
        "reply_merchant": "Réponse de {brand}",
        "reply_moderator": "Modérateur",
        "reply_customer": "Client",
        "anonymous": "Anonyme",
        "about_reviews": "À propos de ces avis",
        "see_product": "Voir le produit",
        "product_reviews": "Avis produits",
        "brand_reviews": "Avis sur la boutique",
        "product": "Produit",
        "rating": "Note",
        "count": "Avis",
        "skip": "Aller au contenu",
        "breadcrumb": "Fil d’Ariane",
        "read_reviews": "Lire les avis",
        "percent": "{p}\u202f%",
        "widget_heading": "Avis clients",
        "widget_label": "Avis clients : {name}",
        "widget_latest": "Derniers avis",
        "widget_all_one": "Voir l’avis",
        "widget_all": "Voir les {n} avis",
        "widget_all_none": "Aller à la page des avis",
        "widget_newest_first": "Les plus récents d’abord",
        "widget_fallback": "Lire les avis clients sur {name}",
        "widget_frame_nojs": "Les avis s’affichent ici avec JavaScript. Lisez-les sur notre site :",
        "notice": (
            "Les avis sont collectés par notre prestataire d’avis indépendant, qui invite "
            "les clients à donner leur opinion après une commande. Ils sont publiés avec "
            "leur date et leur note d’origine, favorables ou non, après contrôle par le "
            "prestataire au regard de ses règles de publication ; nous pouvons y répondre "
            "mais ni les modifier ni les supprimer."
        ),
    },
}


def resolve_lang(setting: str | None, default_lang: str | None) -> str:
    """`REVIEW_FEED_LANG` if set (must be supported), else Pelican's DEFAULT_LANG, else en.

    `fr_FR`, `fr-CA` count as `fr`. An unsupported DEFAULT_LANG falls back to
    English (the site itself may be in a language we have no catalog for); an
    unsupported REVIEW_FEED_LANG is a configuration error.
    """
    if setting:
        lang = _primary(setting)
        if lang not in LANGS:
            raise ConfigError(
                f"REVIEW_FEED_LANG ({setting!r}) is invalid: expected one of {', '.join(LANGS)}"
            )
        return lang
    lang = _primary(default_lang or "en")
    return lang if lang in LANGS else "en"


def _primary(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-")[0].lower()


def parse_date(value: str | None) -> date | None:
    """The calendar date of an ISO 8601 value, as written (no time-zone shift)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Translator:
    lang: str

    def text(self, key: str, **fields: object) -> str:
        s = CATALOG[self.lang][key]
        return s.format(**fields) if fields else s

    def count(self, n: int) -> str:
        one = n == 1 if self.lang == "en" else n <= 1
        return self.text("review_count_one" if one else "review_count_other", n=self.integer(n))

    def level(self, level: int) -> str:
        return self.text("level_label_one") if level == 1 else self.text("level_label", level=level)

    def decimal(self, x: float, places: int = 1) -> str:
        s = f"{x:.{places}f}"
        return s.replace(".", ",") if self.lang == "fr" else s

    def rating(self, x: float) -> str:
        """4 -> "4", 4.5 -> "4.5" / "4,5"."""
        return str(int(x)) if float(x).is_integer() else self.decimal(x)

    def integer(self, n: int) -> str:
        if self.lang == "fr":
            return f"{n:,}".replace(",", "\u202f")
        return f"{n:,}"

    def percent(self, part: int, whole: int) -> str:
        p = round(100 * part / whole) if whole else 0
        return self.text("percent", p=p)

    def date(self, value: str | None) -> str:
        """`2026-11-21T15:00:00+01:00` -> "November 21, 2026" / "21 novembre 2026"."""
        d = parse_date(value)
        if d is None:
            return value or ""
        month = _MONTHS[self.lang][d.month - 1]
        if self.lang == "fr":
            day = "1er" if d.day == 1 else str(d.day)
            return f"{day} {month} {d.year}"
        return f"{month} {d.day}, {d.year}"
