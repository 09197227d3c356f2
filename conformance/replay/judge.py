"""Judging a replay with the failing rule's own check, as the run judged it.

The replayed steps are fed, in order, to a fresh :class:`~conformance.model.Model` (built
on the replay's own fixtures) the way the state machine feeds it: a create's expectation
before it is sent and its SMS recorded after, an update applied, a delete forgotten, a
list judged against the model's list expectation, a 429 judged as throttling. Each step
is a :class:`~conformance.checks.Step` run through every registered check
(:func:`conformance.judging.findings_of`); what counts is what the checks found of the
failing rule: a violation of it on some step (the violation shows), findings of it that
all hold (it does not), or none at all (the checks never judged it on these steps: the
replay falls back on the symptom, :mod:`.symptom`).

This is what a timing violation, a header, a type or a filter needs: a symptom reads only
the last answer's body, the checks read the answers as the run did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.checks import Finding, Step
from conformance.fixtures import Fixtures, Foreign
from conformance.judging import findings_of, is_noise
from conformance.model import Expectation, Model, SmsRecord, TimeWindow, Timing
from conformance.records import Exchange
from conformance.replay.plan import CONTACT_NAME, SMS, TEMPLATE_TEXT

__all__ = ["RuleJudgement", "judge_by_rule", "replay_fixtures", "step_operation"]

RENDERED_TEMPLATE = TEMPLATE_TEXT.replace("{{ contact.first_name }}", CONTACT_NAME.split()[0])


@dataclass(frozen=True, slots=True)
class RuleJudgement:
    """What the failing rule's check made of the replayed steps: ``shows`` True (it found
    the violation: ``finding``), False (it judged the rule and the rule held) or None (it
    never judged the rule on these steps)."""

    shows: bool | None
    finding: Finding | None = None
    step: int | None = None  # 1-based index of the replayed request that showed it

    def describe(self) -> str:
        if self.finding is None:
            return "the rule's check did not judge these steps"
        finding = self.finding
        where = f" (request {self.step} of the replay)" if self.step else ""
        if self.shows:
            got = f"expected {finding.expected}; got {finding.actual}"
            return f"the rule's check found it{where}: {got}"
        return f"the rule's check judged it and it held{where}"


def replay_fixtures(
    leads: Sequence[tuple[str, str]],
    templates: Sequence[str],
    internal_phones: Sequence[str],
    external_phones: Sequence[str] = (),
    foreign: Foreign | None = None,
) -> Fixtures:
    """The fixtures a replay made, as the model knows a run's: its leads and their contact
    (named :data:`~conformance.replay.plan.CONTACT_NAME`), its first template (whose text
    renders to :data:`RENDERED_TEMPLATE`), the target's numbers and what it made as another
    organisation's (``foreign``)."""
    return Fixtures(
        organization_id=None,
        user_id=None,
        internal_phones=tuple(internal_phones) or ("+10000000000",),
        external_phones=tuple(external_phones),
        leads=tuple(leads) or (("lead_replay_none", "cont_replay_none"),),
        contact_first_name=CONTACT_NAME.split()[0],
        template_id=templates[0] if templates else None,
        template_text=TEMPLATE_TEXT if templates else None,
        rendered_template=RENDERED_TEMPLATE if templates else None,
        foreign=foreign,
    )


def step_operation(exchange: Exchange) -> str:
    """The machine's operation a replayed request stands for (``create``, ``list``,
    ``isolation-get``, ``throttled`` ...)."""
    request, response = exchange.request, exchange.response
    method = request.method.upper()
    path = urlsplit(request.path).path.strip("/")
    listing = path == SMS.strip("/")
    if response is not None and response.status_code == 429:
        return "throttled"
    if request.auth == "none":
        return "auth-none"
    if request.auth == "wrong":
        return "auth-wrong"
    if request.auth == "second-org":
        if method == "GET":
            return "isolation-list" if listing else "isolation-get"
        return "isolation-modify"
    if listing and method == "POST":
        json_body = not isinstance(request.body, str) or any(
            k.lower() == "content-type" and "json" in v.lower() for k, v in request.headers.items()
        )
        return "create" if json_body else "format"
    if listing and method == "GET":
        return "list"
    if not listing and method in ("GET", "PUT", "DELETE"):
        return {"GET": "get", "PUT": "update", "DELETE": "delete"}[method]
    return "method"


def _item_id(exchange: Exchange) -> str:
    return urlsplit(exchange.request.path).path.strip("/").rsplit("/", 1)[-1]


def judge_by_rule(
    rule: str,
    sent: Sequence[tuple[Exchange, TimeWindow]],
    fixtures: Fixtures,
    timing: Timing | None = None,
) -> RuleJudgement:
    """Feed the replayed steps ``sent`` (each with the window it was answered in) to a fresh
    model on ``fixtures`` and run every check on each; the verdict on ``rule``."""
    model = Model(fixtures, timing or Timing())
    judged: list[Finding] = []
    walk: list[tuple[Exchange, TimeWindow]] = []

    def verdict(step: Step, number: int) -> RuleJudgement | None:
        for finding in findings_of(step):
            if finding.rule == rule and not finding.ok:
                return RuleJudgement(True, finding, number)
            if finding.rule == rule:
                judged.append(finding)
        return None

    for number, (exchange, window) in enumerate(sent, start=1):
        page = _walk_page(exchange)
        if walk and not _continues(walk, page):
            # The pages before were one walk (as the machine walks a list): judged whole.
            found = verdict(_walk_step(model, walk), number - 1) if _ended(walk) else None
            if found is not None:
                return found
            walk = []
        if page is not None and (walk or page[1] == 0):
            walk.append((exchange, window))
        step = _step(model, exchange, window)
        if step.operation != "throttled" and is_noise(exchange):
            continue
        found = verdict(step, number)
        if found is not None:
            return found
        _adopt(model, step)
    if walk and _ended(walk):
        found = verdict(_walk_step(model, walk), len(sent))
        if found is not None:
            return found
    return RuleJudgement(None if not judged else False, judged[-1] if judged else None)


def _walk_page(exchange: Exchange) -> tuple[tuple[tuple[str, str], ...], int, int] | None:
    """A list page's ``(query without _skip and _limit, _skip, _limit)``, or None when the
    request is no paged list of the first organisation's."""
    request = exchange.request
    if step_operation(exchange) != "list" or exchange.response is None:
        return None
    params = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
    skip, limit = params.pop("_skip", None), params.pop("_limit", None)
    if skip is None or limit is None or not skip.isdigit() or not limit.isdigit():
        return None
    return tuple(sorted(params.items())), int(skip), int(limit)


def _continues(walk: list[tuple[Exchange, TimeWindow]], page: Any) -> bool:
    """True when ``page`` is the next page of ``walk``: the same query, ``_skip`` one
    ``_limit`` further, after a page that said ``has_more``."""
    first, last = _walk_page(walk[0][0]), walk[-1][0]
    if page is None or first is None or last.response is None:
        return False
    body = last.response.body
    more = isinstance(body, dict) and body.get("has_more") is True
    query, _, limit = first
    return more and page[0] == query and page[2] == limit and page[1] == len(walk) * limit


def _ended(walk: list[tuple[Exchange, TimeWindow]]) -> bool:
    """True when the walk's last page says no more follow (else the replay, which sends
    only the recorded pages, stopped it short: it is not judged whole)."""
    response = walk[-1][0].response
    body = response.body if response is not None else None
    return not (isinstance(body, dict) and body.get("has_more") is True)


def _walk_step(model: Model, walk: list[tuple[Exchange, TimeWindow]]) -> Step:
    """The pages of a walk as the machine's ``list-walk`` step, judged against the model's
    expectation of the whole list."""
    first = _walk_page(walk[0][0])
    assert first is not None
    params = dict(first[0])
    window = TimeWindow(walk[0][1].start, walk[-1][1].end)
    expected = replace(model.expect_list(params, window=window), skip=0, limit=first[2])
    return Step(
        "list-walk",
        [exchange for exchange, _ in walk],
        window,
        model,
        params=params,
        list_expectation=expected,
    )


def _step(model: Model, exchange: Exchange, window: TimeWindow) -> Step:
    operation = step_operation(exchange)
    request = exchange.request
    query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
    common: dict[str, Any] = {"auth": request.auth}
    if operation != "list":
        common["params"] = query
    if operation == "create":
        return Step(
            operation,
            [exchange],
            window,
            model,
            expectation=model.expect_create(request.body, window),
            **common,
        )
    if operation == "list":
        params = query
        tz = next((v for k, v in request.headers.items() if k.lower() == "x-tz-offset"), None)
        return Step(
            operation,
            [exchange],
            window,
            model,
            params=params,
            tz_offset=tz,
            list_expectation=model.expect_list(params, tz, window),
            **common,
        )
    if operation in ("get", "update", "delete"):
        sms_id = _item_id(exchange)
        record = model.records.get(sms_id)
        expectation: Expectation
        if operation == "update":
            body = request.body if isinstance(request.body, dict) else {}
            expectation = model.expect_update(sms_id, body, window)
        elif operation == "delete":
            expectation = (
                Expectation("sms/delete/unknown-id-404", False)
                if model.was_deleted(sms_id)
                else model.expect_delete(sms_id)
            )
        elif record is not None:
            expectation = Expectation("sms/get/returns-object", True)
        elif model.was_deleted(sms_id):
            expectation = Expectation("sms/delete/then-get-404", False)
        else:
            expectation = Expectation("sms/get/unknown-id-404", False)
        return Step(
            operation, [exchange], window, model, expectation=expectation, record=record, **common
        )
    return Step(operation, [exchange], window, model, **common)


def _adopt(model: Model, step: Step) -> None:
    """What the model takes from a judged step, as the state machine's operations do."""
    expectation, body = step.expectation, step.body
    if step.operation == "create":
        if not step.succeeded or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return
        if expectation is None or expectation.record is None or expectation.accept is False:
            model.uncertain.add(body["id"])
            return
        record = model.add(expectation.record, body, step.window)
        model.apply(record.observe_status(body.get("status", record.status)))
    elif step.operation == "update" and step.record is not None:
        if not step.succeeded or expectation is None:
            return
        if expectation.record is None:
            model.lose(step.record.id)
            return
        if expectation.accept is not False:
            updated = expectation.record.settled(body)
            if updated.status == "outbox":
                updated = replace(updated, due=step.window.start)
            model.apply(updated)
    elif step.operation == "delete" and step.record is not None and step.status_code != 429:
        model.forget(step.record.id)
    if step.operation in ("list", "get", "update"):
        _observe(model, step)


def _observe(model: Model, step: Step) -> None:
    body = step.body
    items = body.get("data") if isinstance(body, dict) and "data" in body else [body]
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("id") in model.records:
            record: SmsRecord = model.records[item["id"]]
            model.apply(record.observe(item, step.window, model.timing))
