"""Which documented rule a history that is not linearizable breaks (issue 14).

Linearizability itself is written nowhere in Close's docs. What the races judge is each
request's documented effect, under the one assumption that a request takes effect at some
instant between when it was sent and when its answer came back: an edit answered 200 is
stored (``sms/update/draft-edit``), a cancel answered ``draft`` is never sent
(``sms/send/cancelled-never-sent``), a deleted SMS reads 404 (``sms/delete/then-get-404``).
When no order of the requests explains the answers, the checker names the operations that
could go next but whose answers the spec cannot explain there (``blocked``), and the states
the spec may be in. :func:`candidates` reads every such answer, at every deepest dead end
of the search, against those states, and lists the documented rules the answers contradict;
:func:`attribute` names the first by :data:`PRECEDENCE`, so one history names one rule
whatever order the search tried things in. A contradiction it cannot name is not reported
as a violation (``None``), since the race findings keep to the suite's standard: no failure
without a documented sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.races.checker import NOT_LINEARIZABLE, CheckResult
from conformance.races.history import Operation
from conformance.races.sms_spec import Gone, Sms, SmsSpec, Store, _changes_nothing
from conformance.vocabulary import DELIVERED, SENDING

__all__ = ["PRECEDENCE", "Attribution", "attribute", "candidates"]


@dataclass(frozen=True, slots=True)
class Attribution:
    """The rule a race breaks, the operation whose answer shows it, and what the spec
    expected there instead."""

    rule: str
    operation: Operation
    expected: str
    actual: str


# The order in which a history's candidate rules are named (the first that applies wins),
# so that one history always names one rule, whichever dead end the search met first: a
# cancel answered done and sent anyway, then a deleted SMS back, then what a PUT must
# store, must refuse and must leave alone, then a send too early (a reading of the same
# answers that blames the sender's timing rather than the PUTs'), then the lists'
# contracts, then the answers of one read.
PRECEDENCE = (
    "sms/send/cancelled-never-sent",
    "sms/delete/then-get-404",
    "sms/delete/then-not-listed",
    "sms/update/draft-edit",
    "sms/update/drafts-only",
    "sms/update/partial",
    "sms/send/scheduled-not-early",
    "sms/update/draft-to-scheduled",
    "sms/update/draft-to-outbox",
    "sms/list/filter-lead-id",
    "sms/list/pagination",
    "sms/update/unknown-id-404",
    "sms/get/unknown-id-404",
    "sms/delete/unknown-id-404",
    "sms/get/returns-object",
    "sms/delete/answers-200-empty",
)


def attribute(
    result: CheckResult,
    spec: SmsSpec,
    operations: tuple[Operation, ...] = (),
    *,
    listed_by: str = "",
) -> Attribution | None:
    """The documented rule the not-linearizable ``result`` shows broken, or None: the
    first of :func:`candidates` (by :data:`PRECEDENCE`). ``operations`` is the whole
    history (to tell a cancelled SMS from one never sent); ``listed_by`` names the list's
    filter (``lead_id``, or empty: one unfiltered page)."""
    found = candidates(result, spec, operations, listed_by=listed_by)
    return found[0] if found else None


def candidates(
    result: CheckResult,
    spec: SmsSpec,
    operations: tuple[Operation, ...] = (),
    *,
    listed_by: str = "",
) -> tuple[Attribution, ...]:
    """Every documented rule the not-linearizable ``result`` may be read as breaking, one
    :class:`Attribution` per rule, in :data:`PRECEDENCE` order: read from each answer the
    search is stuck on, at each of its deepest dead ends (every one, not the first it met,
    so the rules named depend on the history, not on the search's order), against each
    state the spec may be in there."""
    if result.verdict != NOT_LINEARIZABLE:
        return ()
    ends = [(end.blocked, end.pending, end.states) for end in result.dead_ends]
    ends = ends or [(result.blocked, (), result.states)]
    found = _named([(blocked, states) for blocked, _, states in ends], spec, operations, listed_by)
    if not found:
        # The answers the search is stuck on name no rule (a cancel refused 400, once the
        # SMS a concurrent cancel answered draft was sent anyway): read the answers still
        # to come against the same states (the read-back's "sent" then names the rule).
        pending = [(left, states) for _, left, states in ends]
        found = _named(pending, spec, operations, listed_by)
    rank = {rule: n for n, rule in enumerate(PRECEDENCE)}
    return tuple(sorted(found.values(), key=lambda at: (rank.get(at.rule, len(rank)), at.rule)))


def _named(
    ends: list[tuple[tuple[Operation, ...], frozenset]],
    spec: SmsSpec,
    operations: tuple[Operation, ...],
    listed_by: str,
) -> dict[str, Attribution]:
    """Each rule the operations of ``ends`` contradict, read against their states: one
    attribution per rule, by the earliest operation that shows it."""
    found: dict[str, Attribution] = {}
    for ops, states in ends:
        for op in ops:
            for state in sorted(states, key=str):
                named = _rule(op, state, spec, operations, listed_by)
                if named is None:
                    continue
                rule, expected = named
                best = found.get(rule)
                key = (op.invoke, str(op))
                if best is None or key < (best.operation.invoke, str(best.operation)):
                    found[rule] = Attribution(rule, op, expected, str(op.answer))
    return found


def _rule(
    op: Operation, state: Store, spec: SmsSpec, operations: tuple[Operation, ...], listed_by: str
) -> tuple[str, str] | None:
    request, answer = op.request, op.answer
    if answer is None:
        return None
    if request.name == "list":
        return _list_rule(op, state, spec, listed_by)
    current = state.get(request.id)
    name = request.name
    if not isinstance(current, Sms):
        if answer.code == 200:
            if name == "get":
                return ("sms/delete/then-get-404" if isinstance(current, Gone) else
                        "sms/get/unknown-id-404"), "404"  # fmt: skip
            if name == "put":
                return "sms/update/unknown-id-404", "404"
            if name == "delete":
                return "sms/delete/unknown-id-404", "404"
        return None
    if answer.code == 404:
        if name == "get":
            return "sms/get/returns-object", f"200 {current}"
        if name == "delete":
            return "sms/delete/answers-200-empty", "200"
        if name == "put" and current.status == "draft":
            return "sms/update/draft-edit", f"200 (the SMS is {current})"
        return None
    if answer.code != 200 or answer.status is None:
        if name == "put" and current.status == "draft" and request.field("status") is None:
            return "sms/update/draft-edit", f"200 (the SMS is {current})"
        return None
    if (
        name == "put"
        and request.field("status") == "draft"
        and answer.status == "draft"
        and current.status in DELIVERED
    ):
        # A cancel answered done on an SMS that is (or, in every order, ends up) sent.
        return "sms/send/cancelled-never-sent", (
            f"400 (the SMS is {current.status}: cancel-refused-after-send), or never sent "
            "after the cancel"
        )
    if (
        name == "put"
        and current.status != "draft"
        and request.field("status") != "draft"
        and not _changes_nothing(current, dict(request.fields))
    ):
        # Answered 200: in this order the SMS was no draft any more, and the PUT changed it.
        return "sms/update/drafts-only", f"400 (the SMS is {current.status})"
    if answer.status in DELIVERED and current.status not in DELIVERED:
        cancelled = any(
            o.request.name == "put"
            and o.request.id == request.id
            and o.request.field("status") == "draft"
            and o.answer is not None
            and o.answer.status == "draft"
            for o in operations
        )
        if current.status == "draft" and cancelled:
            return "sms/send/cancelled-never-sent", f"{current.status} (it was cancelled)"
        if current.status == "scheduled":
            return "sms/send/scheduled-not-early", f"scheduled (due {current.due})"
        return None
    sent_fields = {field for field, _ in request.fields} if name == "put" else set()
    if answer.status == "draft" and current.status in SENDING:
        if name == "put" and "status" not in sent_fields:
            # A PUT that sent no status turned the SMS back into a draft (or, if it came
            # after, it had to be refused: drafts-only): a change it did not ask for.
            return "sms/update/partial", f"status {current.status} kept (or 400: drafts-only)"
        rule = f"sms/update/draft-to-{current.status}"
        return rule, f"{current.status} (a PUT answered {current.status})"
    if current.text != answer.text:
        if name == "put" and "text" not in sent_fields:
            return "sms/update/partial", f"text {current.text!r} kept"
        if current.status == "draft" or _edited_to(current.text, request.id, operations):
            # The text an edit answered 200 set (the SMS a draft then) is not read back.
            return "sms/update/draft-edit", f"text {current.text!r} (an edit answered 200)"
    return None


def _edited_to(text: str | None, sms_id: str | None, operations: tuple[Operation, ...]) -> bool:
    """True when an edit of ``sms_id`` answered 200 as a draft with ``text``."""
    return any(
        o.request.name == "put"
        and o.request.id == sms_id
        and o.request.field("text") == text
        and o.answer is not None
        and o.answer.code == 200
        and o.answer.status == "draft"
        and o.answer.text == text
        for o in operations
    )


def _list_rule(
    op: Operation, state: Store, spec: SmsSpec, listed_by: str
) -> tuple[str, str] | None:
    shown = op.answer.ids if op.answer.code == 200 else None
    if shown is None:
        return None
    if op.answer.extra:
        # An SMS no request made (a send that went out twice, logged as a second activity),
        # or one listed twice: no documented sentence forbids the first as such; the list's
        # contract is what it breaks (exactly the lead's SMS; one page is the whole result,
        # without duplicates).
        expected = "only the SMS the requests made, each once: [" + ", ".join(sorted(shown))
        rule = "sms/list/filter-lead-id" if listed_by == "lead_id" else "sms/list/pagination"
        return rule, expected + "]"
    allowed = list(spec._listings(state, op.request.ids, op.invoke))
    if not allowed:
        return None
    gone = {i for i in shown if isinstance(state.get(i), Gone)}
    if gone and not any(gone <= listing for listing in allowed):
        return "sms/delete/then-not-listed", "without " + ", ".join(sorted(gone))
    expected = "[" + ", ".join(sorted(allowed[-1])) + "]"
    if listed_by == "lead_id":
        return "sms/list/filter-lead-id", expected
    return "sms/list/pagination", expected + " (one page, has_more false: the whole result)"
