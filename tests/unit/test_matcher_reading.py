"""``read_batch`` + ``plan_reading`` (the agent's read-ahead) plan exactly what ``plan_batch`` plans.

The reading crosses a process boundary in the agent, so it is compared
after a pickle round trip. Inputs: generated mail (threads with signatures
and quotes, newsletters, notifications, invitations) and the shipped sample
archive, each planned batch after batch against a directory that absorbs
every plan, so creation decisions depend on earlier batches as in storage.
"""

from __future__ import annotations

import pickle

import pytest

from bench.plan_speed import Workload, generated, sample_archive
from matcher import InMemoryDirectory, plan_batch, plan_reading, read_batch
from matcher.plan import Plan


def plans_both_ways(work: Workload) -> tuple[list[Plan], list[Plan]]:
    whole, ahead = InMemoryDirectory(), InMemoryDirectory()
    direct: list[Plan] = []
    split: list[Plan] = []
    for records, errors in work.batches:
        direct.append(plan_batch(records, work.policy, whole, errors))
        whole.absorb(direct[-1])
        reading = pickle.loads(pickle.dumps(read_batch(records, work.policy)))
        split.append(plan_reading(reading, work.policy, ahead, errors))
        ahead.absorb(split[-1])
    return direct, split


@pytest.mark.parametrize("batch_size", [40, 500])
def test_generated_mail_plans_the_same(batch_size: int) -> None:
    direct, split = plans_both_ways(generated(600, seed=3, batch_size=batch_size))
    assert split == direct
    # The comparison covers signature fields and quoted people, not just headers.
    fields = [
        o.field
        for plan in direct
        for i in plan.interactions
        for p in i.participants
        for o in p.observations
    ]
    assert {"title", "phone:mobile"} <= set(fields)


def test_sample_archive_plans_the_same() -> None:
    for work in sample_archive(batch_size=25):
        direct, split = plans_both_ways(work)
        assert split == direct
        assert sum(len(p.interactions) for p in direct) > 0


def test_early_readings_cover_only_what_may_be_read() -> None:
    """Automated mail without a person sender is never split ahead (its zones are never used)."""
    work = generated(300, seed=5, batch_size=300)
    records, _ = work.batches[0]
    reading = read_batch(records, work.policy)
    automated = {
        i
        for i, f in enumerate(reading.found)
        if f.sender is not None
        and any(p.klass == "automated" and p.email == f.sender.email for p in f.participants)
    }
    assert len(automated) > 30, "the generator makes newsletters and notifications"
    assert not automated & set(reading.bodies)
    assert len(reading.bodies) > 100
