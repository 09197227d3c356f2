"""Failures recorded by real runs of the suite against faulty variants of the in-process
reference server (the self-test's way: strict, the first failure only), for the replay tests;
cached per test session (a run takes from a fraction of a second to half a minute)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.records import Failure
from conformance.target import embedded_target


@cache
def first_failure(fault: str, seed: int = 1) -> Failure:
    """The first failure a ``ci`` run (no schema phase) finds on the variant ``fault``."""
    profile = replace(PROFILES["ci"], max_failures=1, schema_examples=0)
    result = run_target(
        embedded_target(faults=[fault]), profile=profile, seed_value=seed, strict=True
    )
    assert result.failures, f"the run did not catch {fault}: {result.reason}"
    return result.failures[0]
