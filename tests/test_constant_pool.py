"""Hypothesis's local constants are the suite's literals, frozen: a seed's run does not move
with unrelated edits of the package."""

from __future__ import annotations

import importlib
import json

from conformance.constant_pool import (
    APP_POOL_FILE,
    POOL_FILE,
    app_literals_of_the_suite,
    app_pool_text,
    frozen_app_pool,
    frozen_pool,
    literals_of_the_suite,
)
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


def test_the_frozen_app_pool_is_what_a_rescan_writes_in_form():
    # schemathesis's pool of the schema phase's app: same kinds, at most 256 of each, and the
    # file as the writer writes it (python -m conformance.constant_pool).
    scanned = app_literals_of_the_suite()
    text = APP_POOL_FILE.read_text(encoding="utf-8")
    frozen = json.loads(text)
    assert set(scanned) == set(frozen) == {"string", "integer", "float", "bytes"}
    assert app_pool_text(frozen) == text
    assert 200 < len(frozen["string"]) <= 256
    assert len(frozen_app_pool().entries_for("string")) == len(frozen["string"])


def test_the_schema_phase_draws_from_the_frozen_app_pool(monkeypatch):
    from conformance import schema_phase
    from conformance.target import embedded_target

    pinned = []
    real = schema_phase.pinned_app_constants

    def spy(pool):
        pinned.append(pool)
        return real(pool)

    monkeypatch.setattr(schema_phase, "pinned_app_constants", spy)
    target = embedded_target()
    target.discover()
    try:
        schema_phase.run_schema_phase(target, seed=1, max_examples=1, phases=("examples",))
    finally:
        target.close()
    assert pinned == [frozen_app_pool()]
