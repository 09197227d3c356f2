"""The default-limit probe: 101 drafts on a lead of its own, listed without ``_limit``."""

from __future__ import annotations

from conformance.judging import Tally
from conformance.probes import DEFAULT_LIMIT, probe_default_limit
from conformance.target import embedded_target


def probed(*faults: str) -> tuple[list, Tally]:
    target = embedded_target(faults=faults)
    target.discover()
    tally = Tally()
    try:
        return probe_default_limit(target, tally), tally
    finally:
        target.close()


def test_a_server_whose_default_page_holds_100_passes_the_probe_and_it_is_counted():
    failures, tally = probed()
    assert failures == []
    assert tally.passed["sms/list/limit-default"] >= 1


def test_a_server_without_a_default_limit_fails_the_probe_with_a_short_transcript():
    (failure,), tally = probed("default-limit-unbounded")
    assert failure.rule == "sms/list/limit-default"
    assert "bulk probe" in failure.message
    # The first and the last create, then the list: not all 101 creates.
    assert len(failure.steps) == 3 and failure.length == DEFAULT_LIMIT + 2
    assert tally.failed["sms/list/limit-default"] == 1


def test_the_probe_deletes_every_sms_it_made():
    target = embedded_target()
    target.discover()
    probe_default_limit(target, Tally())
    exchange, _ = target.api.send("GET", "activity/sms/", params={"_limit": 100})
    target.close()
    assert exchange.response is not None and exchange.response.body["data"] == []
