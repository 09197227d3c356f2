"""Plain records of what happened in a run: exchanges, failures, per-rule results.

The engine produces them; report writers and the CLI consume them. They hold no httpx
objects and never a credential: headers are redacted when an exchange is recorded, and the
engine scrubs every string of the report it returns by value (``conformance.redaction``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from conformance import __version__

__all__ = [
    "ENOUGH_JUDGINGS",
    "Coverage",
    "Exchange",
    "Failure",
    "OpenPointResult",
    "RecordedRequest",
    "RecordedResponse",
    "RuleResult",
    "RuleStatus",
    "RunReport",
    "RunStats",
    "Verdict",
]

RuleStatus = Literal["pass", "fail", "warning", "informational", "not-run"]
Verdict = Literal["pass", "fail", "inconclusive"]

REDACTED = "[redacted]"
# A documented (MUST or SHOULD) rule judged fewer times than this is thinly covered (issue 13:
# "every MUST and SHOULD rule judged at least 20 times").
ENOUGH_JUDGINGS = 20


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as sent. ``path`` is relative to the target's base URL (``/activity/sms/``)
    and includes the query string; ``auth`` names the credential used (``"basic"``,
    ``"bearer"``, ``"second-org"``, ``"none"``, ``"wrong"``) without its value."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None  # decoded JSON body, or None
    auth: str = "basic"


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    status_code: int
    headers: dict[str, str]
    body: Any = None  # decoded JSON, else the text (truncated)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the response to it; ``elapsed`` in seconds. ``sent_at`` is when
    the request was sent (ISO 8601, on the run's clock: virtual time in-process), so a
    replay keeps the waits between steps."""

    request: RecordedRequest
    response: RecordedResponse | None
    elapsed: float = 0.0
    error: str | None = None  # transport error, when no response arrived
    sent_at: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """A rule violated: what the docs allow, what the server did, and how to replay it.

    ``steps`` is the shortest request sequence found that reproduces the violation, its
    last exchange being the one that broke the rule.
    """

    rule: str
    message: str
    expected: str
    actual: str
    steps: tuple[Exchange, ...] = ()
    length: int = 0  # state-machine steps in the shrunk counterexample


@dataclass(slots=True)
class RuleResult:
    """The verdict for one catalogue rule.

    ``status`` is ``fail`` for a broken MUST (or, in strict mode, SHOULD) rule and
    ``warning`` for a broken SHOULD rule; ``checked`` counts the observations of the rule;
    ``boundaries`` holds every boundary case the catalogue lists for it, in its order, with
    how many observations reached it (0: never: see :attr:`unreached`);
    ``observations`` holds notes for
    ``informational`` rules (what the server did where the docs are silent);
    ``reason`` says why a rule was ``not-run``.
    """

    id: str
    status: RuleStatus
    level: str
    statement: str
    quote: str
    source: str
    checked: int = 0
    observations: list[str] = field(default_factory=list)
    reason: str | None = None
    boundaries: dict[str, int] = field(default_factory=dict)

    @property
    def unreached(self) -> list[str]:
        """The listed boundaries no observation reached, in catalogue order."""
        return [name for name, times in self.boundaries.items() if not times]


@dataclass(slots=True)
class OpenPointResult:
    """The behaviour profile of one open point of the docs: which of its documented-
    compatible readings the target was seen to take (``readings``: alternative -> times
    seen; empty when the run never met the point), beside the reference server's default."""

    id: str
    question: str
    quote: str
    source: str
    default: str
    alternatives: dict[str, str]
    readings: dict[str, int] = field(default_factory=dict)

    @property
    def seen(self) -> str:
        """The readings seen, most frequent first (``"not met"`` when none)."""
        ranked = sorted(self.readings.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(name for name, _ in ranked) or "not met"


@dataclass(slots=True)
class RunStats:
    requests: int = 0
    duration: float = 0.0
    steps: int = 0
    examples: int = 0
    transient_errors: int = 0
    rate_limited: int = 0


@dataclass(slots=True)
class RunReport:
    """Everything a report writer needs; ``target`` is the base URL, never a credential."""

    verdict: Verdict
    seed: int
    target: str
    profile: str
    rules: list[RuleResult]
    failures: list[Failure]
    stats: RunStats
    reason: str | None = None  # one line: why the verdict is what it is
    started_at: str = ""
    run_id: str = ""  # the tag on everything the run created (``cleanup --run-id``)
    leftovers: list[str] = field(default_factory=list)  # paths clean-up could not delete
    cleanup_command: str | None = None  # the command that removes the leftovers, if any
    strict: bool = False  # SHOULD rules broken fail the run (else they are warnings)
    open_points: list[OpenPointResult] = field(default_factory=list)  # behaviour profile
    tool_version: str = __version__  # the sms-conformance version that ran
    # The command that repeats the run (same seed, target, options), credentials never in
    # it: they are read from the environment (``--api-key "$CLOSE_API_KEY"``). Set by the
    # CLI or the pytest plugin; empty for a run started some other way.
    command: str = ""
    # The run's sending numbers by kind ("internal", "external"), as the target listed
    # them: a replay keeps each recorded local_phone's kind (an external one stays so).
    numbers: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Coverage:
    """How well a run exercised the catalogue: the documented (MUST/SHOULD) rules judged
    fewer than :data:`ENOUGH_JUDGINGS` times, and the listed boundaries no observation
    reached (``(rule, boundary)``), out of ``listed``. Every writer tells it from here."""

    thin: tuple[str, ...]
    unreached: tuple[tuple[str, str], ...]
    listed: int
    documented: int

    @classmethod
    def of(cls, rules: list[RuleResult]) -> Coverage:
        documented = [rule for rule in rules if rule.level in ("MUST", "SHOULD")]
        return cls(
            thin=tuple(rule.id for rule in documented if rule.checked < ENOUGH_JUDGINGS),
            unreached=tuple((rule.id, name) for rule in rules for name in rule.unreached),
            listed=sum(len(rule.boundaries) for rule in rules),
            documented=len(documented),
        )

    def line(self) -> str:
        """One line: ``coverage: 3 of 80 MUST/SHOULD rules judged fewer than 20 times; 2 of
        25 listed boundaries not reached``."""
        return (
            f"coverage: {len(self.thin)} of {self.documented} MUST/SHOULD rules judged fewer "
            f"than {ENOUGH_JUDGINGS} times; {len(self.unreached)} of {self.listed} listed "
            "boundaries not reached"
        )
