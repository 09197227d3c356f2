"""The check registry: every check names the catalogue rules it can judge.

A check is a plain function ``(step) -> Iterable[Finding]`` registered with
:func:`check`, which fails at import time on a rule id the catalogue does not know or on
a second registration of the same function, naming ``module.function``::

    @check("sms/create/direction-default", on=("create",))
    def direction_defaults_by_status(step):
        ...
        yield Finding("sms/create/direction-default", ok, expected="outbound", actual=shown)

A check yields one :class:`Finding` per observation, passed or not. A finding made at a
named boundary case of its rule (one the rule's catalogue entry lists under ``boundaries``,
such as ``send_in=59``) says so (``boundary=``): the report counts how often each boundary
was reached, and a name the rule does not list fails loudly (:class:`CheckDefinitionError`).
Whether a failed finding is a violation or only an observation is decided in one place, by
the rule's level (see :func:`is_violation`), never by the check.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.catalogue import CATALOGUE, Level

if TYPE_CHECKING:
    from conformance.model import Expectation, ListExpectation, Model, SmsRecord, TimeWindow
    from conformance.records import Exchange

__all__ = [
    "CHECKS",
    "Check",
    "CheckDefinitionError",
    "Finding",
    "Step",
    "check",
    "check_boundary",
    "checks_for",
    "covered_rules",
    "fails_the_run",
    "is_violation",
]

OPERATIONS = frozenset(
    {
        "create",
        "update",
        "get",
        "delete",
        "list",
        "list-walk",
        "method",
        "format",
        "auth-none",
        "auth-wrong",
        "isolation-get",
        "isolation-list",
        "isolation-modify",
        "observe",
        "throttled",
        "settled",
    }
)


class CheckDefinitionError(Exception):
    """A check was registered wrongly: unknown rule id, unknown operation or a duplicate.
    Raised at import time; a user never sees it unless they write checks."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation of one rule: ``ok`` False means the server did something the rule
    does not allow (a violation for MUST/SHOULD rules, an observation for unspecified).
    ``reading`` (``"POINT=ALTERNATIVE"``) says which reading of an open point of the docs
    the observation shows the target took; it feeds the report's behaviour profile.
    ``boundary`` names the boundary case of the rule (one its catalogue entry lists under
    ``boundaries``) the observation reached; it feeds the report's rule coverage."""

    rule: str
    ok: bool
    expected: str = ""
    actual: str = ""
    message: str = ""
    reading: str | None = None
    boundary: str | None = None


@dataclass(slots=True)
class Step:
    """What checks see of one machine step: the operation, its exchanges, and what the
    model expected. ``record`` is the model's SMS before the step (get, update, delete);
    ``exchanges`` holds several entries for a pagination walk."""

    operation: str
    exchanges: list[Exchange]
    window: TimeWindow
    model: Model
    expectation: Expectation | None = None
    list_expectation: ListExpectation | None = None
    record: SmsRecord | None = None
    params: dict[str, str] = field(default_factory=dict)
    tz_offset: str | None = None
    auth: str = "basic"
    findings: list[Finding] = field(default_factory=list)  # made elsewhere (schema phase)

    @property
    def exchange(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def status_code(self) -> int | None:
        response = self.exchange.response
        return response.status_code if response is not None else None

    @property
    def request_body(self) -> Any:
        return self.exchange.request.body

    @property
    def body(self) -> Any:
        response = self.exchange.response
        return response.body if response is not None else None

    @property
    def succeeded(self) -> bool:
        code = self.status_code
        return code is not None and 200 <= code < 300


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: the rules it judges and the operations it looks at."""

    name: str
    rules: tuple[str, ...]
    operations: frozenset[str]
    function: Callable[[Step], Iterable[Finding] | None]

    def run(self, step: Step) -> Iterator[Finding]:
        for finding in self.function(step) or ():
            if finding.rule not in self.rules:
                raise CheckDefinitionError(
                    f"{self.name} reported rule {finding.rule!r}, which it does not declare; "
                    f"add it to @check(...) (declared: {', '.join(self.rules)})"
                )
            if finding.reading is not None:
                _check_reading(self.name, finding)
            if finding.boundary is not None:
                check_boundary(self.name, finding)
            yield finding


def _check_reading(name: str, finding: Finding) -> None:
    """A reading names an open point that lists the finding's rule, and one of its
    alternatives; anything else is a bug in the check, said loudly."""
    point_id, _, alternative = (finding.reading or "").partition("=")
    point = CATALOGUE.open_points.get(point_id)
    if point is None or alternative not in point.alternatives or finding.rule not in point.rules:
        raise CheckDefinitionError(
            f"{name} reported reading {finding.reading!r} on {finding.rule!r}: it must be "
            "POINT=ALTERNATIVE of an open point whose rules list that rule"
        )


def check_boundary(name: str, finding: Finding) -> None:
    """A boundary is one the finding's rule lists in the catalogue; anything else (a typo, a
    boundary of another rule) is a bug in whatever reported it (``name``), said loudly."""
    listed = CATALOGUE[finding.rule].boundaries
    if finding.boundary not in listed:
        raise CheckDefinitionError(
            f"{name} reported boundary {finding.boundary!r} on {finding.rule!r}, which the "
            "catalogue does not list for it (listed: "
            + (", ".join(map(repr, listed)) or "none")
            + "); add it to the rule's boundaries in catalogue.toml"
        )


CHECKS: dict[str, Check] = {}
_BY_OPERATION: dict[str, list[Check]] = {}
_RANKS: dict[str, list[int]] = {}  # each check's place in check_order, beside _BY_OPERATION
RULES_PACKAGE = "conformance.rules."


def _rank(module: str, name: str) -> int:
    """The place of ``module`` in the catalogue's ``check_order``; a check of the rules
    package in a module not listed there fails loudly. Checks defined elsewhere (a test's
    own) run after every listed one."""
    order = CATALOGUE.check_order
    if not module.startswith(RULES_PACKAGE):
        return len(order)
    short = module[len(RULES_PACKAGE) :]
    if short not in order:
        raise CheckDefinitionError(
            f"@check on {name}: module {short!r} is not in the catalogue's check_order "
            f"({', '.join(order)}); add it where its checks run"
        )
    return order.index(short)


def check(
    *rules: str, on: Iterable[str] = OPERATIONS
) -> Callable[[Callable[[Step], Iterable[Finding] | None]], Callable[[Step], Any]]:
    """Register a check for ``rules``, run on steps whose operation is in ``on``."""
    operations = frozenset(on)

    def register(function: Callable[[Step], Iterable[Finding] | None]) -> Callable[[Step], Any]:
        name = f"{function.__module__}.{function.__qualname__}".replace("<locals>.", "")
        if not rules:
            raise CheckDefinitionError(f"@check on {name} names no rule")
        for rule in rules:
            if rule not in CATALOGUE:
                CATALOGUE[rule]  # raises UnknownRule with close matches
        unknown = operations - OPERATIONS
        if unknown:
            raise CheckDefinitionError(
                f"@check on {name} names unknown operations {sorted(unknown)}; "
                f"known: {sorted(OPERATIONS)}"
            )
        if name in CHECKS:
            raise CheckDefinitionError(f"{name} is registered twice")
        registered = Check(name, tuple(rules), operations, function)
        rank = _rank(function.__module__, name)
        CHECKS[name] = registered
        for operation in operations:
            # In the catalogue's check_order by module, in registration order within one.
            checks = _BY_OPERATION.setdefault(operation, [])
            ranked = _RANKS.setdefault(operation, [])
            at = bisect.bisect_right(ranked, rank)
            ranked.insert(at, rank)
            checks.insert(at, registered)
        return function

    return register


def checks_for(operation: str) -> list[Check]:
    """Return the checks that look at ``operation`` steps, in the catalogue's check_order
    (by module; in registration order within one)."""
    return _BY_OPERATION.get(operation, [])


def covered_rules() -> set[str]:
    """Return the ids of every rule some registered check can judge."""
    return {rule for registered in CHECKS.values() for rule in registered.rules}


def is_violation(finding: Finding) -> bool:
    """True when a failed finding breaks a documented rule (MUST or SHOULD): the engine
    shrinks it and reports it with a replay.

    Findings on ``unspecified`` rules are observations: where the docs are silent, the
    suite reports what the server did and never fails it.
    """
    return not finding.ok and CATALOGUE[finding.rule].level is not Level.UNSPECIFIED


def fails_the_run(rule_id: str, *, strict: bool = False) -> bool:
    """True when breaking ``rule_id`` makes the verdict ``fail``: a MUST always, a SHOULD
    only in strict mode (otherwise it is a ``warning``, reported with its replay)."""
    level = CATALOGUE[rule_id].level
    return level is Level.MUST or (strict and level is Level.SHOULD)
