"""Replaying a failure and deciding the outcome (reproduced, fixed, flaky, cannot tell);
the failures of a report, and the embedded server a replay may run against.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from conformance.model import Timing
from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse
from conformance.replay.judge import judge_by_rule, replay_fixtures
from conformance.replay.steps import replay_steps
from conformance.replay.symptom import Symptom, shows, symptom_of


def failures_from_report(report: Mapping[str, Any]) -> list[Failure]:
    """The failures of a ``report.json`` document, as records."""
    failures = []
    for item in report.get("failures") or []:
        steps = tuple(_exchange(step) for step in item.get("steps") or [])
        failures.append(
            Failure(
                rule=item.get("rule", ""),
                message=item.get("message", ""),
                expected=item.get("expected", ""),
                actual=item.get("actual", ""),
                steps=steps,
                length=item.get("length", 0),
            )
        )
    return failures


def _exchange(step: Mapping[str, Any]) -> Exchange:
    request = step.get("request") or {}
    response = step.get("response")
    return Exchange(
        RecordedRequest(
            method=request.get("method", "GET"),
            path=request.get("path", ""),
            headers=dict(request.get("headers") or {}),
            body=request.get("body"),
            auth=request.get("auth", "basic"),
        ),
        None
        if response is None
        else RecordedResponse(
            response.get("status_code", 0),
            dict(response.get("headers") or {}),
            response.get("body"),
        ),
        elapsed=step.get("elapsed") or 0.0,
        error=step.get("error"),
        sent_at=step.get("sent_at"),
    )


# -- re-running a saved counterexample -------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """A replay's verdict on one failure: ``reproduced`` (the violation showed on the
    first try: the rule's check found it, or the last answer had the symptom), ``fixed``
    (it showed on none of the tries), ``flaky`` (not on the first try but on a later one),
    ``cannot-tell`` (the rule's check does not judge the replayed steps and the failure has
    no symptom) or ``error`` (the replay could not run: a fixture refused, no answer)."""

    verdict: str
    tries: int
    detail: str
    leftovers: list[str] = field(default_factory=list)


_UNSET: Any = object()  # no symptom given: the rule's check judges, else the derived symptom
_NO_SYMPTOM = (
    "the failing rule's check does not judge the replayed steps, and the last recorded "
    "answer is what the clean reference server answers too; nothing to look for"
)

EXIT_CODES = {"reproduced": 1, "fixed": 0, "flaky": 3, "cannot-tell": 3, "error": 3}


def replay_failure(
    failure: Failure,
    http: httpx.Client,
    *,
    credentials: Mapping[str, str | None],
    sleep: Callable[[float], None],
    local_phones: Sequence[str] = (),
    retries: int = 3,
    symptom: Symptom | None | Any = _UNSET,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    external_phones: Sequence[str] = (),
    timing: Timing | None = None,
    recorded_internal: Sequence[str] | None = None,
) -> Outcome:
    """Replay ``failure`` through ``http``; when the violation does not show, try again up
    to ``retries`` times before calling it fixed.

    The violation shows when the failing rule's own check finds it on the replayed steps
    (:func:`~conformance.replay.judge.judge_by_rule`, with a model rebuilt from them, on
    ``timing``), or when the last answer has the symptom (``symptom``, default
    :func:`symptom_of`; a given symptom alone decides). When neither the check judges the
    steps nor a symptom exists, the replay cannot tell.

    ``local_phones`` and ``external_phones`` are the target's numbers of each kind: a
    recorded number keeps its kind (an external or unknown ``local_phone`` stays one;
    ``recorded_internal``, the recorded run's internal numbers when its report lists them,
    tells which recorded numbers are to be mapped)."""
    given = symptom is not _UNSET
    found: list[Symptom | None] = [symptom] if given else []

    def the_symptom() -> Symptom | None:
        if not found:
            found.append(symptom_of(failure))
        return found[0]

    if given and symptom is None:
        return Outcome("cannot-tell", 0, _NO_SYMPTOM)
    fixtures_phones = tuple(local_phones)
    leftovers: list[str] = []
    tries = 0
    last = None
    said = ""
    for attempt in range(1 + max(0, retries)):
        tries += 1
        done = replay_steps(
            http,
            failure.steps,
            credentials=credentials,
            sleep=sleep,
            local_phones=local_phones,
            now=now,
            external_phones=external_phones,
            recorded_internal=recorded_internal,
            rule=failure.rule,
        )
        leftovers.extend(done.leftovers)
        if done.setup_error is not None:
            return Outcome("error", tries, f"could not set up: {done.setup_error}", leftovers)
        if done.last is None:
            return Outcome("error", tries, "the last step got no answer", leftovers)
        last = done.last
        judgement = None
        if not given:
            fixtures = replay_fixtures(
                done.leads, done.templates, fixtures_phones, external_phones, done.foreign
            )
            try:
                judgement = judge_by_rule(failure.rule, done.sent, fixtures, timing)
            except Exception:  # noqa: BLE001 - a model that cannot follow: the symptom decides
                judgement = None
        if judgement is not None and judgement.shows:
            shown, said = True, judgement.describe()
        else:
            # The rule's check did not find it (or did not judge these steps): the symptom
            # may still show it (a walk's rule read from one page, say).
            chosen = the_symptom()
            if chosen is None and (judgement is None or judgement.shows is None):
                return Outcome("cannot-tell", tries, _NO_SYMPTOM, leftovers)
            last = done.last
            shown = chosen is not None and shows(chosen, last.status_code, last.body, last.headers)
            said = "; ".join(
                [
                    *([judgement.describe()] if judgement and judgement.shows is not None else []),
                    *([f"the last answer has {chosen.describe()}"] if chosen is not None else []),
                ]
            )
        if shown:
            verdict = "reproduced" if attempt == 0 else "flaky"
            detail = said
            if attempt:
                detail += f" on try {tries}, not on the first"
            return Outcome(verdict, tries, detail, leftovers)
    assert last is not None
    detail = (
        f"none of {tries} tries showed the violation ({said}; last answer: HTTP {last.status_code})"
    )
    differing = [
        f"step {n} answered {now_status}, recorded {step.response.status_code}"
        for n, (step, now_status) in enumerate(
            zip(failure.steps, done.statuses, strict=False), start=1
        )
        if n < len(failure.steps)
        and step.response is not None
        and (now_status or 0) // 100 != step.response.status_code // 100
    ]
    if differing:
        # A fix may well change an earlier answer; so may a target that differs from the
        # recorded one (another sending number, say). Say so: the reader decides.
        detail += "; the replay went another way before the last step: " + ", ".join(differing)
    return Outcome("fixed", tries, detail, leftovers)


def replay_on_embedded(
    failure: Failure,
    *,
    faults: Iterable[str] = (),
    readings: Iterable[str] = (),
    retries: int = 3,
    over_http: bool = False,
    recorded_internal: Sequence[str] | None = None,
) -> Outcome:
    """Replay ``failure`` against a fresh embedded reference server (in-process, on a
    virtual clock; over loopback HTTP with ``over_http``) with ``faults`` switched on and
    ``readings`` (``POINT=ALT``) taken. Raises ``ValueError`` for an unknown fault or
    reading. ``recorded_internal`` are the recorded run's internal numbers (default: the
    fresh server's, as a failure recorded on the embedded server has them), so a recorded
    number of another kind (external, another organisation's) is sent as it was."""
    with embedded_replay_target(faults=faults, readings=readings, over_http=over_http) as target:
        internal = target.local_phones if recorded_internal is None else recorded_internal
        return target.replay(failure, retries=retries, recorded_internal=internal)


@dataclass(frozen=True, slots=True)
class ReplayTarget:
    """Where a replay sends its steps, and what it needs to: the HTTP client (its base URL
    the target's ``/api/v1/``), the credentials by auth kind, the clock's sleep and now,
    the numbers to send from and a name to print."""

    http: httpx.Client
    credentials: Mapping[str, str | None]
    sleep: Callable[[float], None]
    now: Callable[[], datetime]
    local_phones: Sequence[str]
    name: str
    external_phones: Sequence[str] = ()
    timing: Timing | None = None  # due-time tolerance the rule's check judges with

    def replay(
        self,
        failure: Failure,
        *,
        retries: int = 3,
        recorded_internal: Sequence[str] | None = None,
    ) -> Outcome:
        """Replay ``failure`` here (:func:`replay_failure`)."""
        return replay_failure(
            failure,
            self.http,
            credentials=self.credentials,
            sleep=self.sleep,
            local_phones=self.local_phones,
            retries=retries,
            now=self.now,
            external_phones=self.external_phones,
            timing=self.timing,
            recorded_internal=recorded_internal,
        )


@contextlib.contextmanager
def embedded_replay_target(
    *,
    faults: Iterable[str] = (),
    readings: Iterable[str] = (),
    local_phones: Sequence[str] = (),
    over_http: bool = False,
) -> Iterator[ReplayTarget]:
    """A fresh embedded reference server to replay against; closed on exit. With
    ``over_http`` it is served on a loopback port (:class:`~conformance.loopback.Loopback`,
    same virtual clock) and the replay goes over real TCP; the server stops on exit. Raises
    ``ValueError`` for an unknown fault or reading."""
    from conformance.clock import VirtualClock
    from conformance.refserver import ReferenceServer
    from conformance.refserver.readings import parse_readings
    from conformance.target import EMBEDDED_RATE_LIMIT
    from conformance.transport import SyncASGITransport

    faults = tuple(faults)
    clock = VirtualClock()
    # Rate-limited as a run's embedded server is: a throttling failure drives it (.drive).
    server = ReferenceServer(
        clock=clock,
        faults=faults,
        readings=parse_readings(readings),
        rate_limit=EMBEDDED_RATE_LIMIT,
    )
    org, other = server.orgs[0], server.orgs[1]
    loopback = None
    try:
        if over_http:
            from conformance.loopback import Loopback

            loopback = Loopback(server.app)
            http = httpx.Client(base_url=loopback.base_url + "/api/v1/", timeout=30.0)
        else:
            transport = SyncASGITransport(server.app)
            http = httpx.Client(transport=transport, base_url=server.base_url + "/")
    except BaseException:
        server.close()
        raise
    where = " over loopback HTTP" if over_http else ""
    try:
        yield ReplayTarget(
            http=http,
            credentials={
                "basic": org.api_key,
                "bearer": org.oauth_token,
                "second-org": other.api_key,
            },
            sleep=clock.sleep,
            now=clock.now,
            local_phones=local_phones or org.internal_numbers,
            external_phones=org.external_numbers,
            timing=Timing(early=0.0, grace=0.0),
            name=f"the embedded reference server{where}"
            + (f" ({', '.join(faults)})" if faults else ""),
        )
    finally:
        http.close()
        if loopback is not None:
            loopback.close()
        server.close()
