"""The sync plan: one pass over the ledger decides each listed file as the rules say.

The rules are written out plainly below (`by_the_rules`, a scan of the ledger per
file, as the sync first did it) and the planner must agree with them on any ledger.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from review_feed.model import FileCounts
from review_feed.plan import Decision, Step, plan
from review_feed.sources.base import RemoteFile
from review_feed.sources.names import parse_name
from review_feed.store import LedgerEntry

COLLECTIONS = [("site", "a"), ("product", "a"), ("site", "b")]
DAYS = [(dt.date(2026, 11, 1) + dt.timedelta(days=i)).isoformat() for i in range(6)]


def name_of(col: tuple[str, str], day: str, ext: str = "csv") -> str:
    return f"reviews_{col[0]}_{col[1]}_{day}.{ext}"


def by_the_rules(ledger: list[LedgerEntry], remote: RemoteFile, known: str | None):
    """(decision, what a VERIFY becomes when the content differs): the documented rules."""
    feed = remote.feed
    key = (feed.date, feed.name)
    mine = sorted((e for e in ledger if e.collection == feed.collection), key=lambda e: e.key)
    fulls = [e for e in mine if e.full]
    if fulls and key <= fulls[-1].key:
        if feed.name == fulls[-1].name and remote.size != fulls[-1].size:
            return Decision.LATE, None
        if feed.name != fulls[-1].name:
            return Decision.SUPERSEDED, None
    newer = [e for e in mine if e.key > key]
    entry = next((e for e in ledger if e.name == feed.name), None)
    if entry is None:
        return (Decision.LATE if newer else Decision.APPLY), None
    changed = Decision.LATE if entry.full else Decision.CONFLICT if newer else Decision.RESEND
    if entry.size != remote.size:
        return changed, None
    if known == entry.sha256:
        return Decision.ALREADY, None
    return Decision.VERIFY, changed


entries = st.lists(
    st.tuples(st.sampled_from(COLLECTIONS), st.sampled_from(DAYS), st.booleans()),
    max_size=12,
    unique_by=lambda t: (t[0], t[1]),
)
listed = st.lists(
    st.tuples(st.sampled_from(COLLECTIONS), st.sampled_from(DAYS), st.sampled_from([10, 11])),
    max_size=10,
    unique_by=lambda t: (t[0], t[1]),
)


@settings(max_examples=300, deadline=None)
@given(entries, listed, st.sets(st.sampled_from(DAYS)))
def test_the_plan_follows_the_rules(ledger_spec, listed_spec, known_days):
    ledger = [
        LedgerEntry(name_of(c, d), c[0], c[1], d, 10, f"sha-{d}", FileCounts(), full=full)
        for c, d, full in ledger_spec
    ]
    remotes = [RemoteFile(parse_name(name_of(c, d)), size, 1.0) for c, d, size in listed_spec]
    known = {r.feed.name: f"sha-{r.feed.date}" for r in remotes if r.feed.date in known_days}
    steps = plan(ledger, remotes, known)
    assert [s.remote for s in steps] == sorted(remotes, key=lambda r: (r.feed.date, r.feed.name))
    for step in steps:
        decision, changed = by_the_rules(ledger, step.remote, known.get(step.remote.feed.name))
        assert step.decision is decision, step
        if decision is Decision.VERIFY:
            assert step.if_changed is not None and step.if_changed.decision is changed
            assert step.applied_sha256 == f"sha-{step.remote.feed.date}"
        assert step.reason or decision in (Decision.APPLY, Decision.ALREADY, Decision.VERIFY)


def test_a_refusal_names_the_newer_file_that_blocks_it():
    a = ("product", "a")
    ledger = [
        LedgerEntry(name_of(a, DAYS[1]), "product", "a", DAYS[1], 10, "x", FileCounts()),
        LedgerEntry(name_of(a, DAYS[3]), "product", "a", DAYS[3], 10, "y", FileCounts()),
    ]
    late, conflict = plan(
        ledger,
        [
            RemoteFile(parse_name(name_of(a, DAYS[0])), 10, None),
            RemoteFile(parse_name(name_of(a, DAYS[1])), 99, None),
        ],
    )
    assert late == Step(late.remote, Decision.LATE, late.reason)
    assert f"dated before {name_of(a, DAYS[3])}" in late.reason
    assert conflict.decision is Decision.CONFLICT and name_of(a, DAYS[3]) in conflict.reason
    assert [d for d in Decision if d.pending] == [
        Decision.APPLY,
        Decision.RESEND,
        Decision.LATE,
        Decision.CONFLICT,
    ]
