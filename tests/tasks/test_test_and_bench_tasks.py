"""`invoke test` runs the test command of the README and CI; `invoke bench` the benchmark."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from taskrun import REPO, ok, run_invoke

TESTS = """
def test_passes():
    assert True


def test_fails():
    assert False, "this one fails on purpose"
"""


def test_test_task_runs_pytest_and_passes_its_exit_code_on(tmp_path: Path) -> None:
    shutil.copy(REPO / "tasks.py", tmp_path / "tasks.py")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(TESTS)

    failed = run_invoke(tmp_path, "test")
    assert failed.returncode != 0
    assert "1 failed, 1 passed" in failed.stdout

    passed = ok(run_invoke(tmp_path, "test", "--", "-k", "passes"))
    assert "1 passed, 1 deselected" in passed.stdout


def test_test_task_is_the_ci_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "-m pytest" in ci
    assert '-m pytest {_remainder()}"' in (REPO / "tasks.py").read_text()


def test_bench_task_runs_the_benchmark_with_its_sizes(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = ok(
        run_invoke(
            site,
            "bench",
            "--reviews",
            "2000",
            "--delta",
            "100",
            "--out",
            str(out),
            "--",
            "--sections",
            "full,nights",
        )
    )
    assert f"wrote {out}" in done.stdout
    result = json.loads(out.read_text())
    assert result["args"]["reviews"] == 2000 and result["args"]["delta"] == 100
    assert result["noop"]  # the sections after `--` reached the script
