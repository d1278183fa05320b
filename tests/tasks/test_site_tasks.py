"""The build, serve and sync tasks, each run as `invoke <task>` in a copy of the site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from taskrun import (
    base_env,
    fetch,
    free_port,
    ok,
    require,
    run_invoke,
    serving,
    wait_for,
)

SAMPLE_REVIEW = "notes iodées et herbacées"  # a review of the bundled sample feed


def export(site: Path, snapshot: str = "data/reviews") -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "review_feed.cli", "export", "--snapshot", snapshot],
        cwd=site,
        env=base_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def sample_snapshot(site: Path) -> None:
    ok(run_invoke(site, "sync", "--source", "sample-feed"))


def tree_digest(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def page_texts(out: Path) -> str:
    return "\n".join(p.read_text() for p in out.rglob("*.html"))


def test_list_shows_every_task(site: Path) -> None:
    listed = ok(run_invoke(site, "--list")).stdout
    for name in [
        "sync",
        "build",
        "rebuild",
        "regenerate",
        "serve",
        "reserve",
        "livereload",
        "preview",
        "publish",
        "nightly",
        "demo",
        "test",
        "bench",
        "clean",
    ]:
        assert f"  {name} " in listed, name


def test_sync_applies_the_feed_with_the_cli_flags(site: Path) -> None:
    fresh = site / "fresh"
    dry = ok(
        run_invoke(site, "sync", "--source", "sample-feed", "--snapshot", "fresh", "--dry-run")
    )
    assert "dry run" in dry.stdout
    assert not fresh.exists() or not any(fresh.rglob("*.json"))

    done = ok(
        run_invoke(
            site,
            "sync",
            "--source",
            "sample-feed",
            "--snapshot",
            "fresh",
            "--website-id",
            "acme-7f3a",
        )
    )
    assert "applied reviews_product_acme-7f3a_2026-11-20.csv" in done.stdout
    records = export(site, "fresh")
    assert len(records) > 10
    assert {r["website_id"] for r in records} == {"acme-7f3a"}
    assert any(SAMPLE_REVIEW in r["text"] for r in records)

    # nothing new: nothing applied, not a byte changed
    before = tree_digest(fresh)
    again = ok(run_invoke(site, "sync", "--source", "sample-feed", "--snapshot", "fresh"))
    assert "applied reviews_" not in again.stdout
    assert tree_digest(fresh) == before

    # another website id only: nothing of this feed
    ok(
        run_invoke(
            site, "sync", "--source", "sample-feed", "--snapshot", "other", "--website-id", "x"
        )
    )
    assert export(site, "other") == []


def test_sync_failure_is_one_line_and_an_exit_code(site: Path) -> None:
    done = run_invoke(site, "sync", "--source", str(site / "no-such-folder"))
    assert done.returncode == 4, done.stderr
    assert done.stderr.strip().startswith("[review-feed]")
    assert "Traceback" not in done.stderr


def test_build_rebuild_preview_publish(site: Path) -> None:
    sample_snapshot(site)
    out = site / "output"

    ok(run_invoke(site, "build"))
    assert (out / "reviews" / "index.html").is_file()
    assert SAMPLE_REVIEW in page_texts(out)
    assert 'href="/' not in (out / "reviews" / "index.html").read_text()  # RELATIVE_URLS

    stale = out / "stale.html"
    stale.write_text("left over")
    ok(run_invoke(site, "rebuild"))
    assert not stale.exists() and (out / "reviews" / "index.html").is_file()

    env = base_env(SITEURL="https://shop.example/reviews-site")
    ok(run_invoke(site, "preview", env=env))
    assert "https://shop.example/reviews-site/" in (out / "reviews" / "index.html").read_text()

    stale.write_text("left over")
    ok(run_invoke(site, "publish", env=env))
    assert not stale.exists()
    assert "https://shop.example/reviews-site/" in (out / "reviews" / "index.html").read_text()

    ok(run_invoke(site, "clean"))
    assert out.is_dir() and not any(out.iterdir())


def test_build_never_syncs_by_itself(site: Path, tmp_path: Path) -> None:
    """Local builds read the committed snapshot only (REVIEW_FEED_SYNC is off in pelicanconf)."""
    sample_snapshot(site)
    before = tree_digest(site / "data" / "reviews")
    night = tmp_path / "night"
    night.mkdir()
    (night / "reviews_site_acme-7f3a_2026-12-01.csv").write_text(
        "action\treview_id\treview_date\trate\treview\tfirstname\tlastname\n"
        "NEW\tR9999\t2026-11-30 10:00:00\t5\tShould never show up\tNo\tSync\n"
    )
    ok(run_invoke(site, "build", env=base_env(REVIEW_FEED_SOURCE=str(night))))
    assert tree_digest(site / "data" / "reviews") == before
    assert "Should never show up" not in page_texts(site / "output")


def test_demo_builds_from_the_sample_feed_offline(site: Path) -> None:
    before = tree_digest(site / "data" / "reviews")
    done = ok(run_invoke(site, "demo", "--no-serve"))
    out = site / "output"
    assert (out / "reviews" / "index.html").is_file(), done.stdout
    assert SAMPLE_REVIEW in page_texts(out)
    assert "invoke serve" in done.stdout
    # the demo keeps its snapshot apart: the site's own snapshot is untouched
    assert tree_digest(site / "data" / "reviews") == before


def test_demo_serves_the_site(site: Path) -> None:
    with serving(site, "demo", "--port", "0") as served:
        status, body = fetch(served.url + "reviews/")
        assert status == 200
        assert SAMPLE_REVIEW in body or "Maison Lumière" in body
        status, _ = fetch(served.url)
        assert status == 200


def test_serve_and_reserve(site: Path) -> None:
    sample_snapshot(site)
    with serving(site, "reserve", "--port", "0") as served:
        status, body = fetch(served.url + "reviews/")
        assert status == 200 and "Maison Lumière" in body
    (site / "output" / "only-served.html").write_text("<p>served as is</p>")
    with serving(site, "serve", "--port", "0") as served:
        assert fetch(served.url + "only-served.html") == (200, "<p>served as is</p>")
        busy = served.url.rstrip("/").rsplit(":", 1)[1]
        taken = run_invoke(site, "serve", "--port", busy)  # the port the first one holds
        assert taken.returncode != 0
        assert "pick another port with --port" in taken.stderr and "Traceback" not in taken.stderr


def test_regenerate_rebuilds_on_change_and_never_syncs(site: Path) -> None:
    sample_snapshot(site)
    index = site / "output" / "reviews" / "index.html"
    # Would sync (and fail loudly) if the task let REVIEW_FEED_SYNC through.
    env = base_env(REVIEW_FEED_SYNC="true", REVIEW_FEED_SOURCE=str(site / "no-such-folder"))
    log = site / "regenerate.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "invoke", "regenerate"],
            cwd=site,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Pelican starts watching only once the first build is done.
        wait_for(lambda: "Done:" in log.read_text(), 90, "the first build")
        assert index.is_file()
        page = site / "content" / "pages" / "regenerated.md"
        built = site / "output" / "teas" / "regenerated" / "index.html"
        writes = []

        def rebuilt() -> bool:
            if not built.is_file() and len(writes) % 20 == 0:  # (re)write every 5 s
                page.write_text(f"Title: Regenerated\nSlug: regenerated\n\nFresh {len(writes)}.\n")
            writes.append(1)
            return built.is_file()

        wait_for(rebuilt, 90, "the rebuild after a content change")
        assert "no-such-folder" not in log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # Never leave it behind: once pytest removes the site, Pelican's autoreload
            # loop would spin on the missing folders for as long as the machine runs.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise


def test_livereload_rebuilds_when_the_snapshot_changes(site: Path, tmp_path: Path) -> None:
    try:
        import livereload  # noqa: F401
    except ImportError:
        require(False, "the livereload package is not installed (pip install -e '.[dev]')")
    # Its own snapshot, first with the first night only.
    snapshot = tmp_path / "snapshot"
    first = tmp_path / "first-night"
    first.mkdir()
    for f in (site / "sample-feed").glob("*2026-11-20*"):
        (first / f.name).write_bytes(f.read_bytes())
    ok(run_invoke(site, "sync", "--source", str(first), "--snapshot", str(snapshot)))
    later = "Indispensable pour un matcha bien mousseux."  # a review of the 4th night
    port = free_port()
    # Would sync (and fail loudly) if the task let REVIEW_FEED_SYNC through.
    env = base_env(
        REVIEW_FEED_SYNC="true",
        REVIEW_FEED_SOURCE=str(site / "no-such-folder"),
        REVIEW_FEED_SNAPSHOT=str(snapshot),
    )
    with serving(
        site, "livereload", "--port", str(port), url=f"http://127.0.0.1:{port}/", env=env
    ) as served:
        status, body = fetch(served.url + "reviews/products/")
        assert status == 200 and "Fouet" not in body
        assert later not in page_texts(site / "output")
        # A sync in another terminal: livereload rebuilds from the new snapshot.
        ok(run_invoke(site, "sync", "--source", "sample-feed", "--snapshot", str(snapshot)))
        wait_for(
            lambda: later in page_texts(site / "output"),
            90,
            "the rebuild after the snapshot changed",
        )
        status, body = fetch(served.url + "reviews/products/")
        assert status == 200 and "Fouet" in body
        # and the browser is told to reload: livereload's script is injected into pages
        assert "livereload.js" in body
        assert "no-such-folder" not in served.log.read_text()
