#!/usr/bin/env python3
"""The review-feed benchmark: ours against a merchant's script and the bare floors, in one run.

    python bench/run.py --reviews 1000000 --products 50000 --delta 5000 \\
        --out bench/results/full.json          # or: invoke bench

Sections (see bench/README.md and docs/performance.md):
  1. full load, CSV and XML: `review-feed sync` of one full file into an empty snapshot,
     against the merchant baseline and the bare read floor (bench/cases.py);
  2. a nightly delta on that snapshot: seconds, snapshot bytes rewritten, files touched;
  3. a no-op night: seconds and bytes changed (must be 0);
  4. the Pelican build of every page and widget, against Pelican's writer floor
     (bench/pelican_floor: the same number of trivial pages through Pelican's Writer);
  5. widget weight, raw and gzipped;
  6. the nightly publish build (publishconf.py), cold and warm: time, files rewritten,
     output size and files, peak RSS (bench/nightly.py).

Every measured program runs in a fresh process; wall time, CPU time and peak RSS (os.wait4's
ru_maxrss, or the sampled sum of the process tree when larger) are taken from outside, the
same way for ours, the baselines and the floors.
Prints a table with each target PASS/MISS and writes the JSON file given by --out.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import genfeed  # noqa: E402
import nightly  # noqa: E402

PY = sys.executable
MB = 1024 * 1024


# -- measuring one process ---------------------------------------------------------------------


def measure(name: str, cmd: list[str], logs: Path, *, cwd: Path | None = None, env=None) -> dict:
    """Run `cmd` as a fresh process; wall seconds, CPU seconds and peak RSS of it (and its
    waited-for children). The last stdout line is parsed as JSON when it is JSON."""
    logs.mkdir(parents=True, exist_ok=True)
    out_p, err_p = logs / f"{name}.out", logs / f"{name}.err"
    # Every case starts with no dirty page of an earlier one: the baseline writes 650 MB
    # without fsync, and the kernel flushing them would slow the next case's own fsyncs.
    os.sync()
    load = os.getloadavg()[0]
    with out_p.open("wb") as out, err_p.open("wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
        tree = _TreeRss(p.pid)
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        tree.stop()
    p.returncode = os.waitstatus_to_exitcode(status)
    res: dict = {
        "seconds": round(wall, 3),
        "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 3),
        # ru_maxrss is the largest single process; with a helper process, the sampled sum
        # of the process tree can be larger
        "peak_rss_mb": round(max(ru.ru_maxrss / 1024, tree.peak_mb), 1),  # Linux: KiB
        "peak_rss_tree_mb": round(tree.peak_mb, 1),
        "exit": p.returncode,
        "load_before": round(load, 2),
    }
    lines = out_p.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if lines:
        try:
            res["result"] = json.loads(lines[-1])
        except ValueError:
            res["stdout_tail"] = lines[-3:]
    if p.returncode != 0:
        tail = err_p.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        res["stderr_tail"] = tail
        print(f"  ! {name} exited {p.returncode}: {' / '.join(tail)}", file=sys.stderr)
    return res


class _TreeRss:
    """The peak of the summed RSS of a process and its descendants, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.02):
            self.peak_mb = max(self.peak_mb, sum(map(_rss_mb, _tree(self.pid))))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += map(int, (task / "children").read_text().split())
    return out


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env.update(extra)
    return env


def _fresh_cache(work: Path, name: str) -> str:
    """An empty REVIEW_FEED_CACHE folder for one build: it reads every snapshot line,
    as a first build does, whatever ran before (and writes nothing in the repository)."""
    folder = work / "caches" / name
    shutil.rmtree(folder, ignore_errors=True)
    return str(folder)


def _review_feed_cmd() -> list[str]:
    exe = Path(PY).parent / "review-feed"
    if exe.exists():
        return [str(exe)]
    return [PY, "-c", "import sys; from review_feed.cli import main; sys.exit(main())"]


def warm(path: Path) -> None:
    """Read a file once so every case finds it in the page cache (none pays the disk)."""
    with path.open("rb") as fh:
        while fh.read(8 * MB):
            pass


# -- snapshot bookkeeping ----------------------------------------------------------------------


def tree_state(root: Path) -> dict[str, tuple[int, str, int]]:
    """relative path -> (size, blake2b of the bytes, mtime_ns) of every file under root."""
    out = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h = hashlib.blake2b(digest_size=16)
            with p.open("rb") as fh:
                while chunk := fh.read(8 * MB):
                    h.update(chunk)
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, h.hexdigest(), st.st_mtime_ns)
    return out


def tree_diff(before: dict, after: dict) -> dict:
    changed = [k for k in after if k not in before or before[k][1] != after[k][1]]
    removed = [k for k in before if k not in after]
    same_bytes_rewritten = [
        k
        for k in after
        if k in before and before[k][1] == after[k][1] and before[k][2] != after[k][2]
    ]
    total = sum(v[0] for v in after.values())
    rewritten = sum(after[k][0] for k in changed)
    return {
        "snapshot_bytes": total,
        "snapshot_files": len(after),
        "bytes_rewritten": rewritten,
        "share_rewritten": round(rewritten / total, 4) if total else 0.0,
        "files_touched": len(changed) + len(removed),
        "files_changed": sorted(changed)[:50],
        "files_removed": sorted(removed)[:50],
        "files_rewritten_identical": len(same_bytes_rewritten),
    }


def count_reviews(snapshot: Path) -> int:
    """Reviews in the product collections: one JSON object per line in the review files."""
    n = 0
    for p in snapshot.glob("product/*/reviews/**/*.json"):
        with p.open("rb") as fh:
            n += sum(1 for line in fh if line.startswith(b"{"))
    return n


# -- the sections ------------------------------------------------------------------------------


def gen_data(a, work: Path) -> dict:
    data = work / "feeds"
    want = {"seed": a.seed, "reviews": a.reviews, "products": a.products, "delta": a.delta}
    mf = data / "manifest.json"
    if mf.exists() and not a.regen:
        m = json.loads(mf.read_text(encoding="utf-8"))
        if {k: m.get(k) for k in want} == want and m.get("nights"):
            print(f"- feeds: reusing {data}")
            return m
    shutil.rmtree(data, ignore_errors=True)
    print(f"- feeds: generating {a.reviews:,} reviews over {a.products:,} products ...")
    m = genfeed.generate(data, a.reviews, a.products, a.delta, nights=1, seed=a.seed)
    print(f"  done in {m['seconds']}s")
    return m


def _rate(rows: int, m: dict) -> dict:
    m["rows_per_second"] = round(rows / m["seconds"]) if m["seconds"] else None
    return m


def full_load(a, work: Path, logs: Path, man: dict) -> dict:
    feeds = work / "feeds"
    rows = man["full"]["rows"]
    out: dict = {"rows": rows}
    for fmt in ("csv", "xml"):
        info = man["full"]["files"][fmt]
        feed = feeds / info["path"]
        warm(feed)
        src = work / f"src-full-{fmt}"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        os.link(feed, src / feed.name)
        snap = work / f"snap-{fmt}"
        shutil.rmtree(snap, ignore_errors=True)
        print(f"- full load {fmt.upper()} ({info['bytes'] / MB:.0f} MB): floor, baseline, ours")
        r: dict = {"file_bytes": info["bytes"]}
        r["floor"] = _rate(
            rows,
            measure(f"floor-{fmt}", [PY, str(HERE / "cases.py"), f"floor-{fmt}", str(feed)], logs),
        )
        base_json = work / f"baseline-{fmt}.json"
        r["baseline"] = _rate(
            rows,
            measure(
                f"baseline-{fmt}",
                [PY, str(HERE / "cases.py"), f"baseline-{fmt}", str(feed), str(base_json)],
                logs,
            ),
        )
        r["ours"] = _rate(
            rows,
            measure(
                f"ours-{fmt}",
                [*_review_feed_cmd(), "sync", "--source", str(src), "--snapshot", str(snap)],
                logs,
                cwd=work,
                env=_clean_env(),
            ),
        )
        st = tree_state(snap)
        r["ours"]["snapshot_bytes"] = sum(v[0] for v in st.values())
        r["ours"]["snapshot_files"] = len(st)
        r["ours"]["largest_file_bytes"] = max((v[0] for v in st.values()), default=0)
        r["ours"]["reviews_in_snapshot"] = count_reviews(snap)
        r["baseline"]["json_bytes"] = base_json.stat().st_size if base_json.exists() else None
        r["ours_vs_floor"] = _ratio(r["ours"], r["floor"])
        r["baseline_vs_ours"] = _ratio(r["baseline"], r["ours"])
        r["ours_vs_floor_cpu"] = _ratio(r["ours"], r["floor"], "cpu_seconds")
        r["baseline_vs_ours_cpu"] = _ratio(r["baseline"], r["ours"], "cpu_seconds")
        out[fmt] = r
        if fmt == "xml" and not a.keep:
            shutil.rmtree(snap, ignore_errors=True)  # the XML snapshot is not used again
            base_json.unlink(missing_ok=True)
    return out


def _ratio(x, y, key: str = "seconds") -> float | None:
    """x / y of two seconds (or of two measurements' `key`: None when either failed)."""
    if isinstance(x, dict):
        x = None if x.get("exit") else x.get(key)
    if isinstance(y, dict):
        y = None if y.get("exit") else y.get(key)
    if not x or not y:
        return None
    return round(x / y, 2)


def nights(a, work: Path, logs: Path, man: dict) -> tuple[dict, dict]:
    """Section 2 (one delta night) and 3 (a no-op night) on the CSV snapshot of section 1."""
    feeds = work / "feeds"
    night = man["nights"][0]
    delta = feeds / night["files"]["csv"]["path"]
    snap = work / "snap-csv"
    src = work / "src-full-csv"
    os.link(delta, src / delta.name)  # the drop folder keeps the full file and gains a night
    warm(delta)
    acts = night["actions"]
    # expected reviews after: + new - deleted (updates hit existing reviews)
    expect = man["full"]["rows"] + acts["NEW"] - acts["DELETE"]
    print(f"- nightly delta ({night['rows']:,} rows): ours, baseline")
    nightly.keep_snapshot(snap, work / "snap-before-night")  # yesterday's, for section 6
    before = tree_state(snap)
    cmd = [*_review_feed_cmd(), "sync", "--source", str(src), "--snapshot", str(snap)]
    d: dict = {"rows": night["rows"], "actions": acts}
    d["ours"] = measure("ours-delta", cmd, logs, cwd=work, env=_clean_env())
    mid = tree_state(snap)
    d["ours"].update(tree_diff(before, mid))
    d["ours"]["reviews_in_snapshot"] = count_reviews(snap)
    d["ours"]["reviews_expected"] = expect
    base_json = work / "baseline-csv.json"
    size = base_json.stat().st_size
    d["baseline"] = measure(
        "baseline-delta",
        [PY, str(HERE / "cases.py"), "baseline-delta", str(base_json), str(delta)],
        logs,
    )
    d["baseline"]["bytes_rewritten"] = base_json.stat().st_size
    d["baseline"]["snapshot_bytes_before"] = size
    d["baseline"]["files_touched"] = 1
    d["baseline_vs_ours"] = _ratio(d["baseline"], d["ours"])
    d["baseline_vs_ours_cpu"] = _ratio(d["baseline"], d["ours"], "cpu_seconds")
    print("- no-op night: ours")
    n: dict = {"ours": measure("ours-noop", cmd, logs, cwd=work, env=_clean_env())}
    after = tree_state(snap)
    n["ours"].update(tree_diff(mid, after))
    n["ours"].pop("share_rewritten")
    return d, n


def profile(a, work: Path, logs: Path, man: dict) -> dict:
    """Re-run ours under pyinstrument (after the measured runs, so they are not slowed):
    the full CSV load, the night on top of it, the full XML load, and the build (on the
    snapshot the measured nights left) when the build section is selected."""
    feeds = work / "feeds"
    pyi = [PY, "-m", "pyinstrument", "-r", "text", "-p", "time=percent_of_total"]
    sync = ["-m", "review_feed.cli", "sync", "--source"]
    done: dict = {}

    def run(name: str, args: list[str], cwd: Path, env: dict) -> None:
        out = logs / f"{name}.profile.txt"
        print(f"- profiling {name} -> {out}")
        m = measure(f"profile-{name}", [*pyi, "-o", str(out), *args], logs, cwd=cwd, env=env)
        done[name] = {"profile": str(out), "seconds_under_profiler": m["seconds"]}

    for fmt in ("csv", "xml"):
        snap = work / f"profile-snap-{fmt}"
        src = work / f"profile-src-{fmt}"
        for d in (snap, src):
            shutil.rmtree(d, ignore_errors=True)
        src.mkdir()
        feed = feeds / man["full"]["files"][fmt]["path"]
        os.link(feed, src / feed.name)
        run(f"full-{fmt}", [*sync, str(src), "--snapshot", str(snap)], work, _clean_env())
        if fmt == "csv":
            delta = feeds / man["nights"][0]["files"]["csv"]["path"]
            os.link(delta, src / delta.name)
            run("delta", [*sync, str(src), "--snapshot", str(snap)], work, _clean_env())
        shutil.rmtree(snap, ignore_errors=True)
    settings = _site_settings()
    want_build = "build" in a.sections and not a.no_build_profile
    if settings is not None and want_build and (work / "snap-csv").exists():
        out = work / "profile-site"
        shutil.rmtree(out, ignore_errors=True)
        env = _clean_env(
            REVIEW_FEED_SNAPSHOT=str(work / "snap-csv"),
            REVIEW_FEED_SYNC="false",
            REVIEW_FEED_CACHE=_fresh_cache(work, "profile"),
        )
        content = str(settings.get("PATH") or "content")
        run("build", ["-m", "pelican", content, "-s", "pelicanconf.py", "-o", str(out)], REPO, env)
        shutil.rmtree(out, ignore_errors=True)
    return done


def _site_settings() -> dict | None:
    conf = REPO / "pelicanconf.py"
    if not conf.exists():
        return None
    from pelican.settings import read_settings

    cwd = os.getcwd()
    try:
        os.chdir(REPO)
        return read_settings(str(conf))
    finally:
        os.chdir(cwd)


def build(a, work: Path, logs: Path) -> dict:
    """Section 4: the site's real Pelican build on the delta'd 1M snapshot, and the floor."""
    settings = _site_settings()
    if settings is None:
        return {"skipped": "no pelicanconf.py in the repository yet"}
    snap = work / "snap-csv"
    out = work / "site"
    shutil.rmtree(out, ignore_errors=True)
    content = settings.get("PATH") or "content"
    base = [PY, "-m", "pelican", str(content), "-s", "pelicanconf.py", "-o"]
    print("- Pelican build: ours")
    b: dict = {}
    env = _clean_env(
        REVIEW_FEED_SNAPSHOT=str(snap),
        REVIEW_FEED_SYNC="false",
        REVIEW_FEED_CACHE=_fresh_cache(work, "build"),
    )
    b["ours"] = measure("build-ours", [*base, str(out)], logs, cwd=REPO, env=env)
    from review_feed.settings import load_settings

    fs = load_settings(settings, {})
    reviews_dir = out / fs.brand_save_as.split("/")[0]
    widgets_dir = out / fs.widget_dir
    pages = sum(1 for _ in reviews_dir.rglob("*.html")) if reviews_dir.exists() else 0
    wfiles = sum(1 for p in widgets_dir.rglob("*") if p.is_file()) if widgets_dir.exists() else 0
    b["ours"]["pages"] = pages
    b["ours"]["widget_files"] = wfiles
    b["ours"]["files"] = pages + wfiles
    b["ours"]["pages_per_second"] = round(pages / b["ours"]["seconds"]) if pages else None
    b["ours"]["files_per_second"] = round((pages + wfiles) / b["ours"]["seconds"])
    # The floor: the same settings, our plugin on an empty snapshot, plus N trivial pages
    n = pages + wfiles
    empty = work / "empty-snapshot"
    empty.mkdir(exist_ok=True)
    fout = work / "site-floor"
    shutil.rmtree(fout, ignore_errors=True)
    paths = [str(p) for p in settings.get("PLUGIN_PATHS", [])] + [str(HERE / "pelican_floor")]
    plugins = [p if isinstance(p, str) else p.__name__ for p in settings.get("PLUGINS", [])]
    extra = [
        "-e",
        f"PLUGIN_PATHS={json.dumps(paths)}",
        f"PLUGINS={json.dumps([*plugins, 'bench_floor'])}",
        f"BENCH_FLOOR_PAGES={n}",
    ]
    print(f"- Pelican build: floor ({n:,} trivial pages)")
    fenv = _clean_env(
        REVIEW_FEED_SNAPSHOT=str(empty),
        REVIEW_FEED_SYNC="false",
        REVIEW_FEED_CACHE=_fresh_cache(work, "floor"),
    )
    b["floor"] = measure("build-floor", [*base, str(fout), *extra], logs, cwd=REPO, env=fenv)
    fpages = sum(1 for _ in (fout / "floor").rglob("*.html")) if (fout / "floor").exists() else 0
    b["floor"]["pages"] = fpages
    b["floor"]["pages_per_second"] = round(fpages / b["floor"]["seconds"]) if fpages else None
    b["ours_vs_floor"] = _ratio(b["ours"], b["floor"])
    b["ours_vs_floor_cpu"] = _ratio(b["ours"], b["floor"], "cpu_seconds")
    if not a.keep:
        shutil.rmtree(fout, ignore_errors=True)
    return b


def _weight(p: Path) -> dict | None:
    if not p.is_file():
        return None
    raw = p.read_bytes()
    return {"path": str(p), "bytes": len(raw), "gzip_bytes": len(gzip.compress(raw, 6, mtime=0))}


def widget_weight(a, work: Path) -> dict:
    """Section 5, from the build's output: the most-reviewed product (SKU-00000, >= 5 reviews)."""
    settings = _site_settings()
    out = work / "site"
    if settings is None or not out.exists():
        return {"skipped": "no site build"}
    from review_feed.settings import load_settings
    from review_feed.site.slugs import product_slug

    fs = load_settings(settings, {})
    slug = product_slug(genfeed.product_ref(0))
    wdir = out / fs.widget_dir
    w: dict = {"product_ref": genfeed.product_ref(0), "slug": slug}
    w["fragment"] = _weight(wdir / "products" / f"{slug}.html")
    w["loader"] = _weight(wdir / "review-feed.js")
    w["product_page"] = _weight(out / fs.product_save_as.format(slug=slug))
    w["product_json"] = _weight(wdir / "products" / f"{slug}.json")
    frags = (
        sorted(
            len(gzip.compress(p.read_bytes(), 6, mtime=0))
            for p in (wdir / "products").glob("*.html")
            if not p.name.endswith("-frame.html")
        )
        if (wdir / "products").exists()
        else []
    )
    if frags:
        w["all_fragments_gzip"] = {
            "count": len(frags),
            "median": frags[len(frags) // 2],
            "max": frags[-1],
        }
    return w


# -- targets and the table ---------------------------------------------------------------------

KB = 1000


def targets(r: dict) -> list[dict]:
    t: list[dict] = []

    def add(name: str, value, ok, goal: str, cpu=None) -> None:
        t.append(
            {
                "target": name,
                "goal": goal,
                "value": value,
                "pass": None if ok is None else bool(ok),
                "cpu_value": cpu,
            }
        )

    fl = r.get("full_load", {})
    c, x = fl.get("csv", {}), fl.get("xml", {})
    # the bare floors are reported, not budgeted: they say what reading alone costs
    add(
        "full CSV load vs bare csv.reader",
        c.get("ours_vs_floor"),
        None,
        "-",
        c.get("ours_vs_floor_cpu"),
    )
    v = c.get("baseline_vs_ours")
    add(
        "full CSV load vs baseline script",
        v,
        None if v is None else v >= 1,
        ">= 1x (no slower)",
        c.get("baseline_vs_ours_cpu"),
    )
    add(
        "full XML load vs bare iterparse",
        x.get("ours_vs_floor"),
        None,
        "-",
        x.get("ours_vs_floor_cpu"),
    )
    add(
        "full XML load vs baseline script",
        x.get("baseline_vs_ours"),
        None,
        "-",
        x.get("baseline_vs_ours_cpu"),
    )
    d = r.get("delta", {})
    v = d.get("baseline_vs_ours")
    add(
        "nightly delta vs baseline",
        v,
        None if v is None else v >= 10,
        ">= 10x faster",
        d.get("baseline_vs_ours_cpu"),
    )
    v = d.get("ours", {}).get("share_rewritten")
    add("nightly delta: share of snapshot rewritten", v, None if v is None else v <= 0.2, "<= 0.20")
    v = r.get("noop", {}).get("ours", {}).get("bytes_rewritten")
    add("no-op night: bytes changed", v, None if v is None else v == 0, "0")
    v = c.get("ours", {}).get("peak_rss_mb")
    add("peak memory, full 1M CSV sync (MB)", v, None if v is None else v < 1000, "< 1000 MB")
    v = x.get("ours", {}).get("peak_rss_mb")
    add("peak memory, full 1M XML sync (MB)", v, None, "-")
    b = r.get("build", {})
    v = b.get("ours", {}).get("peak_rss_mb")
    add("peak memory, full build (MB)", v, None if v is None else v < 2000, "< 2000 MB")
    v = b.get("ours_vs_floor")
    add(
        "build vs Pelican writer floor",
        v,
        None if v is None else v <= 3,
        "<= 3x",
        b.get("ours_vs_floor_cpu"),
    )
    w = r.get("widgets", {})
    frag = (w.get("all_fragments_gzip") or {}).get("max")
    if frag is None and w.get("fragment"):
        frag = w["fragment"]["gzip_bytes"]
    add(
        "product fragment, 5 reviews, gzip (max)",
        frag,
        None if frag is None else frag < 6 * KB,
        "< 6 KB",
    )
    v = (w.get("loader") or {}).get("gzip_bytes")
    add("loader script, gzip", v, None if v is None else v < 2 * KB, "< 2 KB")
    nightly.add_targets(r, add)
    return t


def checks(r: dict, man: dict) -> list[dict]:
    """Did every program run, and hold the reviews it should? (Not targets: correctness.)"""
    out: list[dict] = []

    def add(name: str, got, want) -> None:
        out.append({"check": name, "got": got, "want": want, "ok": got == want})

    def walk(prefix: str, node) -> None:
        if isinstance(node, dict):
            if "exit" in node and "seconds" in node:
                add(f"{prefix} ran", node["exit"], 0)
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)

    for sec in ("full_load", "delta", "noop", "build", "nightly_build"):
        walk(sec, r.get(sec, {}))
    _review_checks(r, man, add)
    return out


def _review_checks(r: dict, man: dict, add) -> None:
    n = man["full"]["rows"]
    for fmt in ("csv", "xml"):
        s = r.get("full_load", {}).get(fmt)
        if s:
            add(f"full {fmt}: reviews in our snapshot", s["ours"].get("reviews_in_snapshot"), n)
            add(f"full {fmt}: rows read by the floor", s["floor"].get("result", {}).get("rows"), n)
            got = s["baseline"].get("result", {}).get("reviews")
            add(f"full {fmt}: reviews in the baseline", got, n)
    d = r.get("delta")
    if d:
        want = d["ours"]["reviews_expected"]
        add("delta: reviews in our snapshot", d["ours"]["reviews_in_snapshot"], want)
        add("delta: reviews in the baseline", d["baseline"].get("result", {}).get("reviews"), want)
    b = r.get("build")
    if b and "ours" in b:
        add(
            "build: one page per product at least",
            b["ours"]["pages"] >= r["args"]["products"],
            True,
        )
        add("build floor: pages written", b["floor"].get("pages"), b["ours"]["files"])
    w = r.get("widgets")
    if w and "skipped" not in w:
        for k in ("fragment", "loader", "product_page"):
            add(f"widgets: {k} found", w.get(k) is not None, True)


def _sec(m: dict) -> str:
    return f"FAILED (exit {m['exit']})" if m.get("exit") else _f(m.get("seconds"))


def _f(x, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.2f}{unit}"
    if isinstance(x, int):
        return f"{x:,}{unit}"
    return f"{x}{unit}"


def table(r: dict) -> str:
    """The results as Markdown tables (printed, and pasted into docs/performance.md)."""
    a = r["args"]
    L: list[str] = [
        f"Sizes: {a['reviews']:,} reviews, {a['products']:,} products, delta {a['delta']:,} rows.",
        "",
    ]
    for part in (_full_rows, _night_rows, _build_rows, _weight_rows, _nightly_rows, _target_rows):
        L += part(r)
    return "\n".join(L)


def _full_rows(r: dict) -> list[str]:
    fl = r.get("full_load", {})
    if not fl:
        return []
    L = ["| 1. Full load | seconds | CPU s | rows/s | peak RSS MB | time vs ours |"]
    L.append("|---|---:|---:|---:|---:|---:|")
    for fmt in ("csv", "xml"):
        s = fl.get(fmt)
        if not s:
            continue
        F = fmt.upper()
        o = s["ours"]
        for key, label in (
            ("floor", f"{F} floor (bare {'csv.reader' if fmt == 'csv' else 'iterparse'})"),
            ("ours", f"{F} review-feed sync"),
            ("baseline", f"{F} baseline script"),
        ):
            m = s[key]
            L.append(
                f"| {label} | {_sec(m)} | {_f(m.get('cpu_seconds'))} "
                f"| {_f(m.get('rows_per_second'))} | "
                f"{_f(m['peak_rss_mb'])} | {_f(_ratio(m, o))}x |"
            )
    return [*L, ""]


def _night_rows(r: dict) -> list[str]:
    d = r.get("delta")
    if not d:
        return []
    n = r.get("noop", {})
    L = [
        "| 2-3. Nights | seconds | CPU s | bytes rewritten | share | files touched | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    o = d["ours"]
    L.append(
        f"| delta {d['rows']:,} rows, review-feed sync | {_sec(o)} | {_f(o['cpu_seconds'])} | "
        f"{_f(o['bytes_rewritten'])} | {_f(o['share_rewritten'])} | {_f(o['files_touched'])} "
        f"(of {_f(o['snapshot_files'])}) | {_f(o['peak_rss_mb'])} |"
    )
    bl = d["baseline"]
    L.append(
        f"| delta, baseline script | {_sec(bl)} | {_f(bl['cpu_seconds'])} "
        f"| {_f(bl['bytes_rewritten'])} "
        f"| 1.00 | 1 (of 1) | {_f(bl['peak_rss_mb'])} |"
    )
    if n:
        o = n["ours"]
        L.append(
            f"| no-op night, review-feed sync | {_sec(o)} | {_f(o['cpu_seconds'])} "
            f"| {_f(o['bytes_rewritten'])} | 0 | {_f(o['files_touched'])} "
            f"| {_f(o['peak_rss_mb'])} |"
        )
    return [*L, ""]


def _build_rows(r: dict) -> list[str]:
    b = r.get("build")
    if not b:
        return []
    if "ours" not in b:
        return [f"4. Pelican build: skipped ({b.get('skipped')})", ""]
    L = ["| 4. Pelican build | seconds | CPU s | pages | files | pages/s | peak RSS MB |"]
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    o, f = b["ours"], b.get("floor", {})
    L.append(
        f"| review-feed pages + widgets | {_sec(o)} | {_f(o['cpu_seconds'])} "
        f"| {_f(o['pages'])} | "
        f"{_f(o['files'])} | {_f(o['pages_per_second'])} | {_f(o['peak_rss_mb'])} |"
    )
    if f:
        L.append(
            f"| floor: trivial pages via Pelican's Writer | {_sec(f)} | {_f(f['cpu_seconds'])} "
            f"| {_f(f['pages'])} | {_f(f['pages'])} | {_f(f['pages_per_second'])} "
            f"| {_f(f['peak_rss_mb'])} |"
        )
    return [*L, ""]


def _weight_rows(r: dict) -> list[str]:
    w = r.get("widgets")
    if not w or "skipped" in w:
        return []
    L = ["| 5. Weight | bytes | gzip bytes |", "|---|---:|---:|"]
    for key, label in (
        ("fragment", f"product fragment ({w['product_ref']}, 5 reviews)"),
        ("loader", "loader script"),
        ("product_page", "product page (first page)"),
        ("product_json", "product JSON document"),
    ):
        m = w.get(key)
        if m:
            L.append(f"| {label} | {_f(m['bytes'])} | {_f(m['gzip_bytes'])} |")
    af = w.get("all_fragments_gzip")
    if af:
        L.append(
            f"| all {af['count']:,} product fragments, gzip median / max | | "
            f"{_f(af['median'])} / {_f(af['max'])} |"
        )
    return [*L, ""]


def _nightly_rows(r: dict) -> list[str]:
    return nightly.rows(r, _sec, _f)


def _target_rows(r: dict) -> list[str]:
    L = ["| Target | goal | measured | (same ratio in CPU time) | |", "|---|---|---:|---:|---|"]
    for t in r.get("targets", []):
        mark = "-" if t["pass"] is None else ("PASS" if t["pass"] else "MISS")
        cpu = _f(t.get("cpu_value")) if t.get("cpu_value") is not None else ""
        L.append(f"| {t['target']} | {t['goal']} | {_f(t['value'])} | {cpu} | {mark} |")
    return L


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(OSError):
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    git = {}
    with contextlib.suppress(OSError):
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO
        )
        st = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        git = {"head": head.stdout.strip(), "uncommitted": st.stdout.split("\n")[:-1]}
    return {
        "git": git,
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free_h": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="review-feed benchmark (bench/README.md)")
    ap.add_argument("--reviews", "--rows", type=int, default=1_000_000)
    ap.add_argument("--products", type=int, default=None, help="default: reviews / 20")
    ap.add_argument("--delta", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=genfeed.SEED)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench.json")
    ap.add_argument("--work", type=Path, default=None, help="scratch (default: next to --out)")
    ap.add_argument("--regen", action="store_true", help="regenerate feeds even if cached")
    ap.add_argument("--keep", action="store_true", help="keep the XML snapshot and floor site")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="then re-run ours under pyinstrument (profiles in the logs folder)",
    )
    ap.add_argument(
        "--no-build-profile", action="store_true", help="with --profile: skip the build's"
    )
    ap.add_argument(
        "--profile-only",
        action="store_true",
        help="only the pyinstrument runs (the build one needs a previous run's snapshot)",
    )
    ap.add_argument(
        "--sections",
        default="full,nights,build,widgets,nightly",
        help="subset to run (comma-separated)",
    )
    a = ap.parse_args(argv)
    a.products = a.products or max(1, a.reviews // 20)
    out = a.out.resolve()
    work = (a.work or out.parent / f"work-{a.reviews}-{a.products}-{a.delta}").resolve()
    logs = out.with_suffix("").parent / (out.stem + "-logs")
    work.mkdir(parents=True, exist_ok=True)
    sections = a.sections = set(a.sections.split(","))
    started = dt.datetime.now(dt.UTC)
    r: dict = {
        "args": {"reviews": a.reviews, "products": a.products, "delta": a.delta, "seed": a.seed},
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
    }
    t0 = time.perf_counter()
    man = gen_data(a, work)
    if a.profile_only:
        r["profiles"] = profile(a, work, logs, man)
        print(json.dumps(r["profiles"], indent=2))
        return 0
    r["feeds"] = {
        "full": man["full"],
        "night": man["nights"][0],
        "generate_seconds": man["seconds"],
    }
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every section: a long run can be read while it goes on
        r["targets"] = targets(r)
        r["checks"] = checks(r, man)
        out.write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    if "full" in sections:
        r["full_load"] = full_load(a, work, logs, man)
        save()
    if "nights" in sections and "full" in sections:
        r["delta"], r["noop"] = nights(a, work, logs, man)
        save()
    if "build" in sections:
        r["build"] = build(a, work, logs)
        save()
    if "widgets" in sections:
        r["widgets"] = widget_weight(a, work)
        save()
    if "nightly" in sections:

        def env(snap: Path) -> dict[str, str]:
            return _clean_env(REVIEW_FEED_SNAPSHOT=str(snap), REVIEW_FEED_SYNC="false")

        r["nightly_build"] = nightly.nightly_build(work, logs, REPO, measure, env)
    save()
    print()
    print(table(r))
    if a.profile:
        r["profiles"] = profile(a, work, logs, man)
    r["machine"]["loadavg_end"] = os.getloadavg()
    r["seconds"] = round(time.perf_counter() - t0, 1)
    save()
    text = table(r)
    out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    if a.profile:
        print()
        print(text)
    bad = [c for c in r["checks"] if not c["ok"]]
    for c in bad:
        print(f"CHECK FAILED: {c['check']}: got {c['got']!r}, want {c['want']!r}")
    print(f"\nwrote {out} and {out.with_suffix('.md')} ({r['seconds']}s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
