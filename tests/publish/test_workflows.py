"""The workflows restore yesterday's output before the build, check the output against the
host before any upload, save it for the next night, and publish to Pages or to a bucket."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest
from review_feed.settings import load_settings
from review_feed.site.readcache import CACHE_FILE

REPO = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml", reason="pyyaml is in the dev extra")

WORKFLOWS = {
    "site": REPO / ".github" / "workflows" / "nightly.yml",
    "example": REPO / "ci-examples" / "review-feed-nightly.yml",
}
NO_BUCKET = "vars.REVIEW_FEED_BUCKET == ''"
# where a build with the default REVIEW_FEED_CACHE keeps what it read of the snapshot
READ_CACHE = f"{load_settings({}, {}).cache}/{CACHE_FILE}"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def index(steps: list[dict], needle: str) -> int:
    (found,) = [
        i for i, s in enumerate(steps) if needle in s.get("run", "") or needle in s.get("uses", "")
    ]
    return found


@pytest.mark.parametrize("name", WORKFLOWS)
def test_output_restored_before_the_build_checked_saved_then_uploaded(name: str) -> None:
    wf = load(WORKFLOWS[name])
    steps = wf["jobs"]["build"]["steps"]
    restore = index(steps, "actions/cache/restore")
    save = index(steps, "actions/cache/save")
    check = index(steps, "review-feed check-output")
    pages = index(steps, "actions/upload-pages-artifact")
    bucket = index(steps, "rclone sync")
    builds = [i for i, s in enumerate(steps) if "nightly" in s.get("run", "")]
    builds += [i for i, s in enumerate(steps) if s.get("if") == "github.event_name == 'push'"]
    assert builds and restore < min(builds) and max(builds) < check < save < pages < bucket
    # every run saves under a new key; restore-keys finds the newest saved output
    got, kept = steps[restore]["with"], steps[save]["with"]
    assert got["key"] == kept["key"] and "github.run_id" in got["key"]
    assert got["key"].startswith(got["restore-keys"])
    # the output and the build's read cache come back together; the output is uploaded
    assert got["path"] == kept["path"]
    assert got["path"].splitlines() == [steps[pages]["with"]["path"], READ_CACHE]
    # Pages or the bucket, never both
    assert steps[pages]["if"] == NO_BUCKET == wf["jobs"]["deploy"]["if"]
    assert steps[bucket]["if"] == "vars.REVIEW_FEED_BUCKET != ''"
    assert (
        "'none'" in wf["env"]["REVIEW_FEED_HOST"]
        and "github-pages" in wf["env"]["REVIEW_FEED_HOST"]
    )


@pytest.mark.parametrize("name", WORKFLOWS)
def test_bucket_sync_sends_changed_files_only_with_keys_from_secrets(name: str) -> None:
    steps = load(WORKFLOWS[name])["jobs"]["build"]["steps"]
    sync = steps[index(steps, "rclone sync")]
    assert "rclone sync --checksum" in sync["run"]
    assert '"bucket:${BUCKET}"' in sync["run"]
    env = sync["env"]
    assert env["RCLONE_CONFIG_BUCKET_TYPE"] == "s3"
    for key in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
        assert env[f"RCLONE_CONFIG_BUCKET_{key}"] == f"${{{{ secrets.REVIEW_FEED_BUCKET_{key} }}}}"
    for step in steps:
        assert "secrets." not in step.get("run", ""), step


def test_gitlab_restores_checks_and_switches_to_the_bucket() -> None:
    ci = yaml.safe_load((REPO / "ci-examples" / "gitlab-ci.yml").read_text())
    template = ci[".review-feed-site"]
    output_cache = [c for c in template["cache"] if c["paths"] == ["public", READ_CACHE]]
    assert output_cache and "CI_COMMIT_REF_SLUG" in output_cache[0]["key"]
    script = template["script"]
    assert "mv public output" in script[0]  # yesterday's output where the build writes
    assert script.index("review-feed check-output public") > script.index(
        "rm -rf public && mv output public"
    )
    assert "rclone sync --checksum" in script[-1]
    assert template["variables"]["REVIEW_FEED_HOST"] == "gitlab-pages"
    assert ci["pages"]["rules"][0] == {"if": "$REVIEW_FEED_BUCKET", "when": "never"}
    bucket = ci["review-feed-bucket"]
    assert bucket["variables"]["REVIEW_FEED_HOST"] == "none" and "artifacts" not in bucket


def run_step(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    full["PATH"] = f"{sysconfig.get_path('scripts')}:{full['PATH']}"
    full["GITHUB_STEP_SUMMARY"] = str(cwd / "summary.md")
    full.update(env)
    return subprocess.run(
        ["bash", "-e", "-c", script],  # a run: block without `shell:` (no pipefail)
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_check_step_stops_the_job_before_the_upload(tmp_path: Path) -> None:
    steps = load(WORKFLOWS["site"])["jobs"]["build"]["steps"]
    check = steps[index(steps, "review-feed check-output")]["run"]
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "index.html").write_text("<h1>shop</h1>\n")
    ok = run_step(check, tmp_path, REVIEW_FEED_HOST="github-pages")
    assert ok.returncode == 0 and "GitHub Pages: size limit 1 GB" in ok.stdout
    assert "headroom" in (tmp_path / "summary.md").read_text()  # on the run's page
    with (tmp_path / "output" / "big.bin").open("wb") as f:
        f.truncate(1_100_000_000)  # sparse: 1.1 GB apparent, no disk used
    over = run_step(check, tmp_path, REVIEW_FEED_HOST="github-pages")
    assert over.returncode == 8 and "over its site size limit of 1 GB" in over.stderr
    assert run_step(check, tmp_path, REVIEW_FEED_HOST="none").returncode == 0  # a bucket
