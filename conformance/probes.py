"""Probes too large for a state-machine example: run once per run, judged by the checks.

``_limit`` defaults to 100 (2.3 Pagination): seeing it needs 101 SMS on one lead, which no
30-step example reaches. The probe creates 101 drafts on a lead of its own, lists them
without ``_limit``, judges the page with the registered list checks, and deletes them.
"""

from __future__ import annotations

from conformance.checks import Step
from conformance.judging import Tally, judge
from conformance.model import Model
from conformance.records import Failure
from conformance.target import Target

__all__ = ["probe_default_limit"]

SMS = "activity/sms/"
DEFAULT_LIMIT = 100
PROBE_NOTE = "bulk probe: 101 drafts on one lead, listed without _limit; first and last shown"


def probe_default_limit(target: Target, tally: Tally, settle: float = 0.0) -> list[Failure]:
    """Return the violations the default-limit probe found (an empty list if none). A list
    that breaks a rule is read again within ``settle`` seconds (reads that lag writes)."""
    fixtures = target.fixtures
    assert fixtures is not None
    lead = target.create_lead("bulk")
    if lead is None:
        status = target.missing.get("POST /lead/", 404)
        target.lacks(
            ("sms/list/limit-default",),
            f"needs POST /lead/ (the target answered {status}): the probe lists 101 SMS on a "
            "lead of its own, which only a target that makes leads gives",
        )
        return []
    model = Model(fixtures, target.timing)
    transcript = []
    try:
        for index in range(DEFAULT_LIMIT + 1):
            body = {
                "status": "draft",
                "lead_id": lead,
                "text": f"bulk {index}",
                "local_phone": fixtures.internal_phones[0],
                "remote_phone": fixtures.remote_phones[0],
            }
            exchange, window = target.api.send("POST", SMS, json_body=body)
            if index in (0, DEFAULT_LIMIT):
                transcript.append(exchange)
            response = exchange.response
            if (
                response is None
                or response.status_code != 200
                or not isinstance(response.body, dict)
                or "id" not in response.body
            ):
                return []  # creation is the state machine's to judge
            expectation = model.expect_create(body, window)
            assert expectation.record is not None
            model.add(expectation.record, response.body, window)
        params = {"lead_id": lead}

        def read() -> Step:
            exchange, window = target.api.send("GET", SMS, params=params)
            return Step(
                "list",
                [exchange],
                window,
                model,
                params=params,
                list_expectation=model.expect_list(params),
            )

        judged = judge(read(), tally, reread=read, wait=target.clock.sleep, settle=settle)
        transcript.append(judged.step.exchange)
        failures: list[Failure] = []
        for finding in judged.violations():
            failures.append(
                Failure(
                    rule=finding.rule,
                    message=f"{finding.message} ({PROBE_NOTE})",
                    expected=finding.expected,
                    actual=finding.actual,
                    steps=tuple(transcript),
                    length=DEFAULT_LIMIT + 2,
                )
            )
        return failures
    finally:
        target.delete_sms(list(model.records))
