"""Property tests: the snapshot is the fold "last action per id wins", whatever the runs.

Random action sequences over a few ids, months and days, cut into random
runs (one commit each): the snapshot equals a plain-dict reference model, and
its bytes equal those of one run applying everything at once.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_feed.model import Action
from review_feed.store import Layout, Snapshot, read_reviews
from storetools import delete, review, tree, upsert

IDS = [f"PR{i}" for i in range(12)]
DATES = [
    "2026-10-31T23:00:00",
    "2026-11-01T08:00:00",
    "2026-11-01T09:00:00+01:00",
    "2026-11-02T10:00:00",
    "2026-12-24T10:00:00",
    "2025-01-05T10:00:00",
]

action = st.one_of(
    st.tuples(
        st.sampled_from([Action.NEW, Action.UPDATE]),
        st.sampled_from(["site", "product"]),
        st.sampled_from(IDS),
        st.sampled_from(DATES),
        st.integers(1, 5),
    ),
    st.tuples(
        st.just(Action.DELETE),
        st.sampled_from(["site", "product"]),
        st.sampled_from(IDS),
        st.none(),
        st.none(),
    ),
)
layouts = st.builds(
    Layout,
    max_file_bytes=st.sampled_from([300, 900, 10**9]),
    index_max=st.sampled_from([2, 5, 10**6]),
)


def _rows(actions):
    for act, kind, rid, date, rating in actions:
        if act is Action.DELETE:
            yield delete(rid, kind=kind)
        else:
            yield upsert(review(rid, kind=kind, date=date, rating=rating), act)


def _model(actions):
    state = {}
    for row in _rows(actions):
        key = (row.kind, row.website_id, row.id)
        if row.action is Action.DELETE:
            state.pop(key, None)
        else:
            state[key] = row.review
    return [state[k] for k in sorted(state)]


def _run(root: Path, layout: Layout, runs, how: str = "rows") -> None:
    """Apply each run in its own commit. `how`: "rows" (one apply per run) or "one by
    one" (one apply per row: a run's first rows are then folded before its later ones
    are taken in)."""
    for chunk in runs:
        rows = list(_rows(chunk))
        with Snapshot(root, layout) as snap:
            if how == "one by one":
                for row in rows:
                    snap.apply([row])
            else:
                snap.apply(rows)
            snap.commit()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(action, max_size=40), cuts=st.lists(st.integers(0, 40)), layout=layouts)
def test_runs_equal_model_and_all_at_once(actions, cuts, layout):
    bounds = sorted({0, len(actions), *(c for c in cuts if c <= len(actions))})
    runs = [actions[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp, "one"), Path(tmp, "many")
        _run(one, layout, [actions])
        _run(many, layout, runs)
        assert list(read_reviews(many)) == _model(actions)
        assert tree(one) == tree(many)
        # the same rows applied one by one give the very same bytes
        for how in ("one by one",):
            other = Path(tmp, how)
            _run(other, layout, runs, how)
            assert tree(other) == tree(many), how


@settings(max_examples=40, deadline=None)
@given(actions=st.lists(action, min_size=1, max_size=30), layout=layouts)
def test_replaying_a_run_changes_nothing(actions, layout):
    """Idempotent replay, the basis of crash recovery: the same actions again, same bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _run(root, layout, [actions])
        before = tree(root)
        with Snapshot(root, layout) as snap:
            snap.apply(list(_rows(actions)))
            assert snap.changes() == {}
            snap.commit()
        assert tree(root) == before
