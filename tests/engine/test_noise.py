"""Noise is never a violation: 503s before handling, 504s after it, lost answers and 429s
are not judged, and what a write that got no real answer did is unknown until read back."""

from __future__ import annotations

import pytest

from conformance.engine import run_target
from conformance.profiles import PROFILES, Profile
from conformance.target import embedded_target

QUICK = PROFILES["quick"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_clean_server_behind_two_percent_noise_passes(seed):
    report = run_target(embedded_target(transient_share=0.02), profile=QUICK, seed_value=seed)
    assert report.verdict == "pass", (report.reason, [(f.rule, f.actual) for f in report.failures])
    assert report.stats.transient_errors > 0  # the noise was met, not avoided


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 10, item 11): on ci seed 1 an SMS the model does not know shows "
    "up in lists after noise (a lost create whose stray search missed it, suspected); it is "
    "then blamed on the list filters",
)
def test_the_clean_server_behind_two_percent_noise_passes_the_ci_profile():
    report = run_target(embedded_target(transient_share=0.02), profile=PROFILES["ci"], seed_value=1)
    assert report.verdict == "pass", (report.reason, [(f.rule, f.actual) for f in report.failures])


def test_a_broken_server_behind_noise_is_still_caught_by_its_rule():
    profile = Profile("noisy", max_examples=60, steps=15, max_failures=1)
    report = run_target(
        embedded_target(faults=["edit-sent-accepted"], transient_share=0.02),
        profile=profile,
        seed_value=1,
    )
    assert report.verdict == "fail"
    assert report.failures[0].rule == "sms/update/drafts-only"
