"""Hypothesis's local constants are the suite's literals, frozen: a seed's run does not move
with unrelated edits of the package."""

from __future__ import annotations

import importlib

from conformance.constant_pool import POOL_FILE, frozen_pool, literals_of_the_suite
from conformance.engine import _one_run_per_seed


def test_the_frozen_pool_holds_the_spec_words_the_strategies_need():
    pool = frozen_pool()
    assert {"draft", "outbox", "scheduled", "inbound", "send_in"} <= set(pool.strings)
    assert {429, 86400} <= set(pool.integers)  # small numbers Hypothesis draws anyway


def test_runs_draw_from_the_frozen_pool_and_nothing_else():
    providers = importlib.import_module("hypothesis.internal.conjecture.providers")
    with _one_run_per_seed():
        assert providers._get_local_constants() is frozen_pool()


def test_the_file_is_what_a_rescan_writes_in_form():
    # Same keys and kinds: regenerating (python -m conformance.constant_pool) keeps the format.
    scanned = literals_of_the_suite()
    frozen = frozen_pool()
    assert set(scanned) == {"integers", "floats", "bytes", "strings"}
    assert all(isinstance(value, str) for value in scanned["strings"])
    assert POOL_FILE.suffix == ".json" and len(frozen.strings) > 1000
