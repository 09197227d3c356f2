"""date_scheduled reads back at the precision a server keeps times at (open point
time-precision; audit O6): to the microsecond or truncated to the millisecond, no coarser."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conformance.rules.objects import what_was_written_reads_back
from tests.rules.helpers import BASE, NOON, created

WRITTEN = NOON + timedelta(hours=1, microseconds=123_456)


@pytest.mark.parametrize(
    ("shown", "ok"),
    [
        (WRITTEN, True),  # microseconds
        (WRITTEN.replace(microsecond=123_000), True),  # milliseconds, as the docs' example
        (WRITTEN.replace(microsecond=0), False),  # seconds: no reading allows it
        (WRITTEN + timedelta(milliseconds=1), False),
    ],
)
def test_date_scheduled_reads_back_to_the_microsecond_or_the_millisecond(shown, ok):
    body = {**BASE, "status": "scheduled", "date_scheduled": WRITTEN.isoformat()}
    step = created(body, {"status": "scheduled", "date_scheduled": shown.isoformat()})
    verdicts = {f.ok for f in what_was_written_reads_back(step) if "date_scheduled" in f.expected}
    assert verdicts == {ok}
