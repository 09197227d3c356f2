"""Per-test time limits: two minutes for a fast test, more only for tests marked slow."""

from __future__ import annotations

import pytest

from .conftest import SLOW_TIMEOUT


def limit(request: pytest.FixtureRequest) -> float:
    marker = request.node.get_closest_marker("timeout")
    return marker.args[0] if marker else request.config.getini("timeout")


def test_a_fast_test_gets_two_minutes(request):
    assert float(limit(request)) == 120


@pytest.mark.slow
def test_a_slow_test_gets_the_longer_limit(request):
    assert limit(request) == SLOW_TIMEOUT


@pytest.mark.slow
@pytest.mark.timeout(7)
def test_a_test_naming_its_own_limit_keeps_it(request):
    assert limit(request) == 7
