"""The Pelican generator: snapshot -> brand, product and products-index pages.

Pelican makes a new generator for every build (and every `--autoreload`
rebuild), so everything lives on the instance: settings are loaded and
validated in `__init__`, the snapshot is read once in `generate_context`, and
pages are written in `generate_output`. No network unless REVIEW_FEED_SYNC.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pelican.generators import Generator
from pelican.utils import get_relative_path, path_to_url

from ..errors import ReviewFeedError
from . import jsonld
from .assets import write_asset
from .context import build_view, read_review_data
from .incremental import (
    announce_kept,
    code_key,
    digest,
    field_values,
    layout_chrome,
    retained_names,
    rows,
    settings_key,
    templates_key,
)
from .inputs import fail, site_settings, sync_failure
from .insert import insert_blocks
from .legacy import old_path_refs, write_old_product_paths
from .noindex import exclude_from_sitemap
from .pages import review_page
from .products_index import index_pages
from .templating import missing_blocks, page_layout, stylesheet, template_reads
from .units import IncrementalBuild, archive_name, index_name
from .view import Listing, ListingPage, ReviewFeed
from .widgets import check_widget_dir, widget_templates, write_widget, write_widget_assets

log = logging.getLogger("review_feed.site.generator")


class ReviewFeedGenerator(Generator):
    """Writes `reviews/`, `reviews/products/` and one page per product."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rf_settings, self.rf_lang = site_settings(self.settings)
        exclude_from_sitemap(self.settings, self.rf_settings)
        self.view: ReviewFeed | None = None
        self.brand_fingerprint = ""  # the site reviews' `lines_digest`
        self._pages: list[tuple[str, str]] = []  # the current unit's pages (save_as, url)

    # --- context
    def generate_context(self) -> None:
        s = self.rf_settings
        base = Path.cwd()
        if s.sync:
            from ..sync import run_sync  # network only when asked

            try:
                report = run_sync(s, base=base)
            except ReviewFeedError as exc:
                raise fail(exc) from None
            for level, line in report.lines():
                log.log(level, "[review-feed] %s", line)
            log.info("[review-feed] %s", report.summary())
            if report.exit_code:
                # Never publish a half-updated site silently: the build fails like the CLI.
                raise fail(sync_failure(report))
        data = read_review_data(s, base)
        self.brand_fingerprint = data.brand_fingerprint
        self.view = build_view(
            data,
            s,
            self.rf_lang,
            self.context,
            self.env,
            sitename=str(self.settings.get("SITENAME") or ""),
            site_url=str(self.settings.get("SITEURL") or ""),
        )
        self.context["review_feed"] = self.view
        insert_blocks(self.view, self.context, self.settings, self.env)

    # --- output
    def generate_output(self, writer: Any) -> None:
        """Write the output a unit at a time: the brand and each product (its main page
        and widget, a product's old paths, then each archive page), the products
        index, the shared files; a unit whose inputs did not change keeps its files."""
        try:
            self._write_units(writer)
        except ReviewFeedError as exc:  # e.g. a snapshot line read for a page, broken
            raise fail(exc) from None

    def _write_units(self, writer: Any) -> None:
        view = self.view
        assert view is not None, "generate_context runs first"
        check_widget_dir(view.settings)
        layout = page_layout(self.env)
        self._check_theme(view, layout)
        templates = widget_templates(self.env)
        delete = bool(self.settings.get("DELETE_OUTPUT_DIRECTORY"))
        clear = retained_names(view.settings) if delete else []
        key = self._build_key(layout)
        build, why = IncrementalBuild.start(writer.output_path, key, clear=clear)
        unit = partial(self._unit, build)
        lists = partial(self._list_units, build, writer, layout)
        brand = view.brand

        def write_brand(listing: Listing) -> list[str]:
            written = self._write_page(writer, listing, listing.main_page(), layout)
            return written + write_widget(writer, view, templates, self.context, listing)

        # (a list's aggregate is computed from its reviews: their lines are its fingerprint)
        lists("brand", "", self.brand_fingerprint, lambda: brand, (), write_brand)
        old_paths = old_path_refs(view)
        for ref, p in view.products.items():
            old = ref in old_paths
            write = partial(self._write_product, writer, templates, layout, old_paths=old)
            data = (ref, p.slug, p.name, view.content_urls.get(ref), old)
            whole = digest(*data, p.fingerprint)
            lists(f"product:{ref}", f":{ref}", whole, partial(view.listing, p), data, write)
            p.release()  # its Reviews, if this build rendered it
        self._index_units(build, writer, layout)
        unit("shared", "", partial(self._write_shared, writer, view, templates))
        removed = build.finish()
        log.info(
            "[review-feed] units: %d rendered (%d products) in %.1f s, %d kept (%d products), "
            "%d files removed; archive pages: %d rendered, %d kept%s",
            build.rendered,
            build.rendered_products,
            build.render_seconds,
            build.kept,
            build.kept_products,
            removed,
            build.rendered_archive,
            build.kept_archive,
            f" (full build: {why})" if why else "",
        )

    def _write_product(
        self, writer: Any, templates: Any, layout: str, listing: Listing, *, old_paths: bool
    ) -> list[str]:
        """One product's unit: its main page, its widget files, its old paths."""
        view = self.view
        assert view is not None and listing.product is not None
        ref = listing.product.ref
        written = self._write_page(writer, listing, listing.main_page(), layout)
        written += write_widget(writer, view, templates, self.context, listing)
        if old_paths:
            written += write_old_product_paths(writer, view, self.context, ref)
        return written

    def _index_units(self, build: IncrementalBuild, writer: Any, layout: str) -> None:
        """One unit per page of the products index, fingerprinted from its rows and its
        place. A theme's products.html that does not read `rf_index` (written before
        the index had pages) lists every product: it gets one page."""
        view = self.view
        assert view is not None
        paged = template_reads(self.env, "review_feed/products.html", "rf_index")
        if not paged and len(view.products) > view.settings.products_page_size:
            log.warning(
                "[review-feed] the theme's review_feed/products.html does not use rf_index "
                "(the index's page): the products index stays one page of %d products",
                len(view.products),
            )
        for page in index_pages(view.products.values(), view.settings, paged=paged):
            shown = [(p.ref, p.slug, p.name, field_values(p.aggregate)) for p in page.products]
            key = digest(page.number, page.page_count, shown)
            write = partial(
                self._write,
                writer,
                page.save_as,
                page.url,
                "review_feed/products",
                layout,
                title=page.title(view.t),
                summary=view.t.text("products_intro"),
                rf_index=page,
            )
            self._unit(build, index_name(page.number), key, write)

    def _main_key(self, listing: Listing) -> str:
        """What a list's main page and widget show: the aggregate, the newest reviews
        (the main page's, or the widget's when it shows more) and how many archive
        pages there are (the main page links to them)."""
        view = self.view
        assert view is not None
        main = listing.main_page()
        shown = listing.reviews[: max(len(main.reviews), view.settings.widget_count)]
        return digest(field_values(listing.aggregate), rows(shown), main.archive)

    def _list_units(
        self,
        build: IncrementalBuild,
        writer: Any,
        layout: str,
        name: str,
        suffix: str,
        whole: str,
        listing: Callable[[], Listing],
        data: tuple[Any, ...],
        write_main: Callable[[Listing], list[str]],
    ) -> None:
        """A list's units: its main unit (main page and widget, fingerprinted from
        `data` and what they show) heading the group of its archive pages. `whole` is
        everything the list is rendered from: as recorded (and every file there), the
        group is kept without building a page of it."""
        kept = build.keep_group(name, whole, partial(archive_name, suffix))
        if kept is not None:
            for unit in kept:
                announce_kept(unit.pages, self.output_path, self.context, self.rf_lang)
            return
        shown = listing()
        main = digest(*data, self._main_key(shown))
        group = (whole, shown.archive_count)
        self._unit(build, name, main, partial(write_main, shown), group=group)
        self._archive_units(build, writer, shown, suffix, layout)

    def _archive_units(
        self, build: IncrementalBuild, writer: Any, listing: Listing, suffix: str, layout: str
    ) -> None:
        """One unit per archive page, fingerprinted from what it shows (its reviews, its
        links, the list's name and place): a full archive page is kept when the list
        grows at its newest end."""
        view = self.view
        assert view is not None
        p = listing.product
        whose = (p.slug, p.name, view.content_urls.get(p.ref)) if p is not None else ()
        for number in range(1, listing.archive_count + 1):
            page = listing.archive_page(number)
            newest = number == page.archive  # its newer page is the main page
            key = digest(*whose, number, newest, rows(page.reviews))
            write = partial(self._write_page, writer, listing, page, layout)
            self._unit(build, archive_name(suffix, number), key, write)

    def _build_key(self, layout: str) -> str:
        """What every unit is rendered from: our code and assets, every template, the
        settings, and the theme's layout around a fixed page (its menus, page and
        article lists, dates: whatever the rest of the site makes it draw)."""
        view = self.view
        assert view is not None
        template = self.get_template("review_feed/page")
        return digest(
            code_key(),
            templates_key(self.env),
            settings_key(self.settings, view.settings),
            layout_chrome(template, self.context, layout, view.lang),
            view.lang,
            view.brand_name,
            view.site_url,
        )

    def _unit(
        self,
        build: IncrementalBuild,
        name: str,
        fingerprint: str,
        render: Any,
        group: tuple[str, int] | None = None,
    ) -> None:
        """Render a unit (recording its pages) or keep it (announcing its pages)."""
        self._pages = []
        unit, kept = build.run(name, fingerprint, render, lambda: self._pages, group)
        if kept:
            announce_kept(unit.pages, self.output_path, self.context, self.rf_lang)

    def _write_shared(self, writer: Any, view: ReviewFeed, templates: Any) -> list[str]:
        """The files every page or widget shares: the pages' stylesheet, the widgets'
        loader, stylesheet and iframe page."""
        written = write_widget_assets(writer, view, templates, self.context)
        if view.settings.stylesheet:
            write_asset(writer.output_path, view.settings.stylesheet, stylesheet())
            written.append(view.settings.stylesheet)
        return written

    def _check_theme(self, view: ReviewFeed, layout: str) -> None:
        """Once per build: say what a theme without a block we fill makes us lose."""
        missing = missing_blocks(self.env, layout)
        if missing:
            log.warning(
                "[review-feed] the theme %s has no %s in %s (or what it extends): %s",
                self.settings.get("THEME"),
                " or ".join(f"{{% block {b} %}}" for b, _ in missing),
                layout,
                "; ".join(what for _, what in missing),
            )

    def _write_page(
        self, writer: Any, listing: Listing, page: ListingPage, layout: str
    ) -> list[str]:
        """Write one page of a list (its main page or an archive page); [save_as]."""
        view = self.view
        assert view is not None
        return self._write(
            writer,
            page.save_as,
            page.url,
            f"review_feed/{listing.kind}",
            layout,
            title=view.page_title(listing, page),
            # an archive page's summary says what it holds, not the list's rating
            summary=view.rating_text(listing.aggregate) if page.main else view.date_range(page),
            rf_listing=listing,
            rf_page=page,
            rf_jsonld=self._jsonld(listing, page) if page.main else jsonld.script_block(None),
        )

    def _jsonld(self, listing: Listing, page: ListingPage) -> Any:
        """The list's structured data, on its main page only (what it rates is there)."""
        view = self.view
        assert view is not None
        url = view.absolute(listing.url)
        if listing.product is not None:
            p = listing.product
            obj = jsonld.product(
                name=p.name, sku=p.ref, agg=p.aggregate, shown=page.reviews, url=url
            )
        elif view.settings.brand_aggregate_markup:
            obj = jsonld.organization(
                name=view.brand_name, agg=listing.aggregate, shown=page.reviews, url=url
            )
        else:
            obj = None
        return jsonld.script_block(obj)

    def _write(
        self,
        writer: Any,
        save_as: str,
        url: str,
        template: str,
        layout: str,
        *,
        title: str,
        summary: str,
        **kw: Any,
    ) -> list[str]:
        """Render our page body, write it as a Page through the theme's layout; [save_as]."""
        view = self.view
        assert view is not None
        relative = self.settings.get("RELATIVE_URLS", False)
        # The SITEURL the writer gives this file's templates (relative or not).
        siteurl = self.context.get("SITEURL", "")
        if relative:
            siteurl = path_to_url(get_relative_path(save_as))
        body = self.get_template(template).render(
            self.context,
            SITEURL=siteurl,
            output_file=save_as,
            url=url,
            rf_url=url,
            rf_heading=layout == "base.html",
            **kw,
        )
        page = review_page(
            body,
            title=title,
            summary=summary,
            lang=view.lang,
            url=url,
            save_as=save_as,
            settings=self.settings,
            context=self.context,
        )
        self._pages.append((save_as, url))
        writer.write_file(
            save_as,
            self.get_template("review_feed/page"),
            self.context,
            relative_urls=relative,
            url=url,
            page=page,
            rf_layout=layout,
        )
        return [save_as]
