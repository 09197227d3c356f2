"""Plans of concurrent histories: seeded, well formed, and shrinkable."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings

from conformance.races.plans import SHAPES, Plan, draw_plan, plans, shrink_candidates


def _well_formed(plan: Plan) -> None:
    assert 2 <= len(plan.branches) <= 3 and 1 <= len(plan.prefix) <= 3
    made = {op.ref for op in plan.prefix}
    for branch in plan.branches:
        own = set(made)
        assert branch
        for op in branch:
            if op.kind == "create":
                assert op.ref not in own
                own.add(op.ref)
            elif op.kind != "list":
                assert op.ref in own, f"{op} names an SMS its branch cannot know"


def test_the_same_seed_draws_the_same_plans():
    first = [draw_plan(random.Random(7), 3) for _ in range(5)]
    assert first == [draw_plan(random.Random(7), 3) for _ in range(5)]


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("branches", [2, 3])
def test_every_shape_draws_well_formed_plans(shape, branches):
    for seed in range(20):
        plan = draw_plan(random.Random(seed), branches, shape)
        assert plan.shape == shape and len(plan.branches) == branches
        _well_formed(plan)


def test_a_race_needs_two_or_three_branches():
    with pytest.raises(ValueError, match="2 or 3"):
        draw_plan(random.Random(0), 4)


@settings(max_examples=30, deadline=None)
@given(plans())
def test_the_strategy_draws_well_formed_plans(plan):
    _well_formed(plan)


@settings(max_examples=30, deadline=None)
@given(plans())
def test_every_shrink_candidate_is_smaller_and_well_formed(plan):
    for candidate in shrink_candidates(plan):
        assert candidate.size < plan.size
        _well_formed(candidate)


@pytest.mark.parametrize("branches", [2, 3])
def test_the_double_send_shape_sends_one_draft_from_two_branches_then_lists(branches):
    for seed in range(10):
        plan = draw_plan(random.Random(seed), branches, "double send")
        assert [op.kind for op in plan.prefix] == ["create"] and plan.prefix[0].status == "draft"
        senders = [n for n, branch in enumerate(plan.branches)
                   if any(op.kind == "outbox" and op.ref == "s0" for op in branch)]  # fmt: skip
        assert senders == [0, 1]
        assert any(op.kind == "list" for branch in plan.branches for op in branch)
