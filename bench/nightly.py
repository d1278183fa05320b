"""Section 6 of the benchmark: the nightly publish build, cold and warm (bench/README.md).

The site's real `pelican content -s publishconf.py` (DELETE_OUTPUT_DIRECTORY,
warnings only, as in CI; `ci_build.py` adds the plugin's INFO lines), three
times into one output folder, each a fresh process:

- cold: an empty folder and no read cache, the snapshot as it was before the night;
- warm: yesterday's output and manifest and read cache, the snapshot after the night;
- again: the same snapshot once more (nothing changed).

Every file of the output is stat'ed before and after each build: a file is
rewritten when it is new or its (mtime_ns, size, inode) changed.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from review_feed.site.readcache import CACHE_FILE

PY = sys.executable
GB = 1000**3  # the hosts' "1 GB"
UNITS = re.compile(
    r"units: (\d+) rendered \((\d+) products\) in ([\d.]+) s, (\d+) kept \((\d+) products\)"
)
ARCHIVE = re.compile(r"archive pages: (\d+) rendered, (\d+) kept")
MANIFEST = ".review-feed-manifest.json"


def keep_snapshot(snap: Path, copy: Path) -> None:
    """A hard-link copy of the snapshot before the night (sync replaces files, never
    writes into one, so the copy keeps yesterday's bytes)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(snap, copy, copy_function=os.link)


def file_state(root: Path) -> dict[str, tuple[int, int, int]]:
    """relative path -> (mtime_ns, size, inode) of every file under root."""
    out: dict[str, tuple[int, int, int]] = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            rel = os.path.relpath(os.path.join(folder, name), root)
            out[rel] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def state_diff(before: dict, after: dict) -> dict:
    rewritten = [k for k, v in after.items() if before.get(k) != v]
    return {
        "files": len(after),
        "bytes": sum(v[1] for v in after.values()),
        "files_rewritten": len(rewritten),
        "files_removed": sum(1 for k in before if k not in after),
        "share_rewritten": round(len(rewritten) / len(after), 4) if after else None,
        "rewritten_sample": sorted(rewritten)[:20],
    }


def units_line(logs: Path, name: str) -> dict | None:
    """The build's own count of units rendered and kept (its log line)."""
    for suffix in (".out", ".err"):
        p = logs / f"{name}{suffix}"
        if p.exists():
            text = p.read_text("utf-8", errors="replace")
            m = UNITS.search(text)
            if m:
                rendered, products, seconds, kept, kept_products = m.groups()
                units = {
                    "units_rendered": int(rendered),
                    "products_rendered": int(products),
                    "render_seconds": float(seconds),
                    "units_kept": int(kept),
                    "products_kept": int(kept_products),
                }
                a = ARCHIVE.search(text)
                if a:
                    units["archive_rendered"], units["archive_kept"] = map(int, a.groups())
                return units
    return None


def nightly_build(
    work: Path, logs: Path, repo: Path, measure: Callable[..., dict], env: Callable[..., dict]
) -> dict:
    before, after = work / "snap-before-night", work / "snap-csv"
    if not (before.is_dir() and after.is_dir()):
        return {"skipped": "no snapshot from before the night (run the full and nights sections)"}
    out = work / "site-nightly"
    shutil.rmtree(out, ignore_errors=True)
    # what the builds read of the snapshot (REVIEW_FEED_CACHE): none before the cold one
    read_cache = work / "build-cache"
    shutil.rmtree(read_cache, ignore_errors=True)
    # the build as CI runs it, with the plugin's INFO lines (its units and render time)
    build = Path(__file__).with_name("ci_build.py")
    cmd = [PY, str(build), "content", "-s", "publishconf.py", "-o", str(out)]
    res: dict = {}
    prev: dict = {}
    for name, snap in (("cold", before), ("warm", after), ("again", after)):
        print(f"- nightly publish build: {name}")
        # a wide console: rich does not wrap the log lines; no host check (publishconf's
        # github-pages would fail an output over 1 GB after the build: the size is a budget
        # reported below, not a reason to lose the timings)
        run_env = {
            **env(snap),
            "COLUMNS": "400",
            "REVIEW_FEED_HOST": "none",
            "REVIEW_FEED_CACHE": str(read_cache),
        }
        m = measure(f"build-{name}", cmd, logs, cwd=repo, env=run_env)
        now = file_state(out)
        m.update(state_diff(prev, now))
        m["units"] = units_line(logs, f"build-{name}")
        manifest = out / MANIFEST
        m["manifest_bytes"] = manifest.stat().st_size if manifest.is_file() else None
        cache = read_cache / CACHE_FILE
        m["read_cache_bytes"] = cache.stat().st_size if cache.is_file() else None
        res[name] = m
        prev = now
    cold, warm = res["cold"], res["warm"]
    for key in ("seconds", "cpu_seconds"):
        if cold.get(key) and warm.get(key) is not None:
            res[f"warm_vs_cold_{key}"] = round(warm[key] / cold[key], 4)
    # the warm build split in two, each against the whole cold build: rendering and
    # writing what the night changed (the build's own count), and everything else
    render = (warm.get("units") or {}).get("render_seconds")
    if cold.get("seconds") and render is not None:
        res["warm_render_vs_cold"] = round(render / cold["seconds"], 4)
        res["warm_rest_vs_cold"] = round((warm["seconds"] - render) / cold["seconds"], 4)
    return res


def add_targets(r: dict, add: Callable[..., None]) -> None:
    n = r.get("nightly_build") or {}
    if "cold" not in n:
        return
    v = n.get("warm_vs_cold_seconds")
    cpu = n.get("warm_vs_cold_cpu_seconds")
    add("warm nightly build / cold full build, time", v, v is not None and v <= 0.1, "<= 0.10", cpu)
    # what the warm build's time is made of (reported, not budgeted)
    render, rest = n.get("warm_render_vs_cold"), n.get("warm_rest_vs_cold")
    add("... of which rendering what the night changed / cold", render, None, "-")
    add("... of which everything else / cold", rest, None, "-")
    v = n["warm"].get("share_rewritten")
    ok = v is not None and v <= 0.1
    add("files rewritten by the warm build / output files", v, ok, "<= 0.10")
    size = round(n["warm"]["bytes"] / 1e6, 1)
    add("output size (MB, 10^6 bytes)", size, size * 1e6 < GB, "< 1,000 MB (1 GB)")
    files = n["warm"]["files"]
    add("output files", files, files < 200_000, "< 200,000")
    for name in ("cold", "warm"):
        v = n[name].get("peak_rss_mb")
        add(f"peak memory, {name} nightly build (MB)", v, v is not None and v < 2048, "< 2 GB")


def rows(r: dict, sec: Callable[[dict], str], f: Callable[..., str]) -> list[str]:
    n = r.get("nightly_build")
    if not n:
        return []
    if "cold" not in n:
        return [f"6. Nightly publish build: skipped ({n.get('skipped')})", ""]
    L = [
        "| 6. Nightly publish build | seconds | CPU s | rendering s | products rendered / kept "
        "| archive pages rendered / kept | files rewritten | output files | output MB "
        "| peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "cold": "cold: empty output, snapshot before the night",
        "warm": "warm: yesterday's output, the night applied",
        "again": "again: nothing changed",
    }
    for name, label in labels.items():
        m = n[name]
        u = m.get("units") or {}
        units = f"{f(u.get('products_rendered'))} / {f(u.get('products_kept'))}"
        archive = f"{f(u.get('archive_rendered'))} / {f(u.get('archive_kept'))}"
        L.append(
            f"| {label} | {sec(m)} | {f(m['cpu_seconds'])} | {f(u.get('render_seconds'))} "
            f"| {units} | {archive} "
            f"| {f(m['files_rewritten'])} | {f(m['files'])} | {f(round(m['bytes'] / 1e6, 1))} "
            f"| {f(m['peak_rss_mb'])} |"
        )
    return [*L, ""]
