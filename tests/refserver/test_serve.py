"""serve(): argument errors surface before anything is bound or printed."""

from __future__ import annotations

import pytest

from conformance.refserver.serve import serve


def test_an_unknown_fault_is_a_value_error_before_printing():
    lines: list[str] = []
    with pytest.raises(ValueError, match="known faults"):
        serve(port=0, faults=["nope"], out=lines.append)
    assert lines == []


def test_a_bad_rate_limit_is_a_value_error():
    with pytest.raises(ValueError, match="rate_limit"):
        serve(port=0, rate_limit=-1, out=lambda line: None)
