"""The shell inside the CI files, run for real with bash and git (a stand-in `invoke` on PATH).

actionlint checks the workflow's structure; these tests check what its
scripts do: the known_hosts secret becomes a file, a failed night stops the
job with an annotation, the snapshot commit is pushed (after a rebase when
main moved during the run), and nothing is pushed on a night without change.
"""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path

import pytest
from taskrun import REPO, base_env, git

yaml = pytest.importorskip("yaml", reason="pyyaml is in the dev extra")

# A stand-in for `invoke`: logs its arguments and the settings it sees, and does
# what the real task does to the repository (a snapshot commit, an output folder).
FAKE_INVOKE = r"""#!/usr/bin/env bash
set -eu
echo "invoke $*" >> "$FAKE_LOG"
echo "known_hosts=${REVIEW_FEED_KNOWN_HOSTS:-} siteurl=${SITEURL:-}" >> "$FAKE_LOG"
[ -n "${REVIEW_FEED_KNOWN_HOSTS:-}" ] && cp "$REVIEW_FEED_KNOWN_HOSTS" "$FAKE_LOG.known_hosts"
mkdir -p output && echo "<h1>site</h1>" > output/index.html
if [ "$1" = nightly ]; then
  case "$FAKE_NIGHT" in
    fail) echo "[review-feed] host key CHANGED for sftp://x" >&2; exit 4 ;;
    change) mkdir -p data/reviews && date +%s%N > data/reviews/ledger.json
            git add data/reviews && git commit -qm "reviews: 1 file applied" -- data/reviews ;;
  esac
fi
"""


def step(workflow: dict, needle: str) -> dict:
    steps = workflow["jobs"]["build"]["steps"]
    return next(s for s in steps if needle in s.get("run", ""))


@pytest.fixture
def gh() -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / "nightly.yml").read_text())


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, Path, str]:
    """A bare 'origin' with one commit on main, and a clone of it as the runner's checkout."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(bare, "config", "receive.advertisePushOptions", "true")  # GitLab's `-o ci.skip`
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    (seed / "README.md").write_text("site\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "-qm", "site")
    git(seed, "push", "-q", "origin", "HEAD:main")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    return bare, work, git(work, "rev-parse", "HEAD").strip()


def run_script(
    script: str, cwd: Path, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "invoke"
    fake.write_text(FAKE_INVOKE)
    fake.chmod(0o755)
    full_env = base_env(**env)
    # review-feed next to this Python too: `python3 -m pip install` under pyenv adds no shim
    full_env["PATH"] = f"{bin_dir}:{sysconfig.get_path('scripts')}:{full_env['PATH']}"
    full_env["FAKE_LOG"] = str(tmp_path / "invoke.log")
    full_env.setdefault("RUNNER_TEMP", str(tmp_path))
    full_env.setdefault("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    # GitHub runs `run:` blocks as `bash --noprofile --norc -eo pipefail {0}`
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_github_night_with_a_change_is_committed_and_pushed(gh, remote, tmp_path) -> None:
    bare, work, sha = remote
    nightly = step(gh, "invoke nightly")
    done = run_script(
        nightly["run"],
        work,
        tmp_path,
        FAKE_NIGHT="change",
        KNOWN_HOSTS="[sftp.example]:2222 ssh-ed25519 AAAAC3Nza",
        SITEURL="https://o.github.io/r",
    )
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "invoke.log").read_text()
    assert "invoke nightly" in log and f"known_hosts={tmp_path}/known_hosts" in log
    assert (tmp_path / "invoke.log.known_hosts").read_text() == (
        "[sftp.example]:2222 ssh-ed25519 AAAAC3Nza\n"
    )
    assert git(work, "config", "user.name").strip() == "github-actions[bot]"

    # main moved while the night ran: someone pushed a content change
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    (other / "page.md").write_text("new page\n")
    git(other, "add", "page.md")
    git(other, "commit", "-qm", "content")
    git(other, "push", "-q", "origin", "HEAD:main")

    push = step(gh, "git push")
    pushed = run_script(push["run"], work, tmp_path, GITHUB_SHA=sha, GITHUB_REF_NAME="main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    subjects = git(bare, "log", "--format=%s", "main").splitlines()
    assert subjects == ["reviews: 1 file applied", "content", "site"]
    assert "reviews: 1 file applied" in (tmp_path / "summary.md").read_text()


def test_github_night_without_change_pushes_nothing(gh, remote, tmp_path) -> None:
    bare, work, sha = remote
    assert (
        run_script(step(gh, "invoke nightly")["run"], work, tmp_path, FAKE_NIGHT="same").returncode
        == 0
    )
    pushed = run_script(
        step(gh, "git push")["run"], work, tmp_path, GITHUB_SHA=sha, GITHUB_REF_NAME="main"
    )
    assert pushed.returncode == 0
    assert "No snapshot change tonight." in pushed.stdout
    assert "No snapshot change tonight." in (tmp_path / "summary.md").read_text()
    assert git(bare, "rev-parse", "main").strip() == sha


def test_github_failed_night_fails_the_step_with_an_annotation(gh, remote, tmp_path) -> None:
    _bare, work, _sha = remote
    done = run_script(step(gh, "invoke nightly")["run"], work, tmp_path, FAKE_NIGHT="fail")
    assert done.returncode == 1
    assert "host key CHANGED" in done.stderr
    assert "::error title=Nightly sync or build failed::" in done.stdout


def gitlab_script() -> str:
    ci = yaml.safe_load((REPO / "ci-examples" / "gitlab-ci.yml").read_text())
    return "\n".join(ci[".review-feed-site"]["script"])


def gitlab_env(bare: Path, sha: str, source: str, night: str) -> dict[str, str]:
    token_url = "https://oauth2:glpat-secret@gitlab.example/shop/site.git"
    return {
        "CI_PIPELINE_SOURCE": source,
        "CI_COMMIT_SHA": sha,
        "CI_COMMIT_BRANCH": "main",
        "CI_SERVER_HOST": "gitlab.example",
        "CI_PROJECT_PATH": "shop/site",
        "REVIEW_FEED_PUSH_TOKEN": "glpat-secret",
        "FAKE_NIGHT": night,
        # the push URL with the token leads to the local bare repository
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{bare}.insteadOf",
        "GIT_CONFIG_VALUE_0": token_url,
    }


def test_gitlab_scheduled_night_pushes_and_publishes(remote, tmp_path) -> None:
    bare, work, sha = remote
    env = gitlab_env(bare, sha, "schedule", "change")
    done = run_script(gitlab_script(), work, tmp_path, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(bare, "log", "-1", "--format=%s", "main").strip() == "reviews: 1 file applied"
    assert (work / "public" / "index.html").is_file() and not (work / "output").exists()


def test_gitlab_builds_over_yesterdays_output_and_checks_the_host(remote, tmp_path) -> None:
    bare, work, sha = remote
    (work / "public").mkdir()  # yesterday's output, as the cache restores it
    (work / "public" / "kept.html").write_text("<p>from yesterday</p>\n")
    env = gitlab_env(bare, sha, "schedule", "same")
    done = run_script(gitlab_script(), work, tmp_path, REVIEW_FEED_HOST="gitlab-pages", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    # the build wrote into yesterday's folder; the check counted it for GitLab Pages
    assert (work / "public" / "kept.html").is_file() and (work / "public" / "index.html").is_file()
    assert "public: 2 files" in done.stdout and "GitLab Pages" in done.stdout

    with (work / "public" / "big.bin").open("wb") as f:
        f.truncate(1_100_000_000)  # sparse: over 1 GB, no disk used
    over = run_script(gitlab_script(), work, tmp_path, REVIEW_FEED_HOST="gitlab-pages", **env)
    assert over.returncode == 8, over.stdout + over.stderr
    assert "would be refused by GitLab Pages" in over.stderr


def test_gitlab_push_builds_without_sync(remote, tmp_path) -> None:
    bare, work, sha = remote
    done = run_script(gitlab_script(), work, tmp_path, **gitlab_env(bare, sha, "push", "change"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "invoke.log").read_text().startswith("invoke publish")
    assert git(bare, "rev-parse", "main").strip() == sha
    assert (work / "public" / "index.html").is_file()


def test_gitlab_failed_night_fails_the_job_before_publishing(remote, tmp_path) -> None:
    bare, work, sha = remote
    done = run_script(gitlab_script(), work, tmp_path, **gitlab_env(bare, sha, "schedule", "fail"))
    assert done.returncode != 0
    assert not (work / "public").exists()  # no artifact, so GitLab Pages keeps the live site
    assert git(bare, "rev-parse", "main").strip() == sha
