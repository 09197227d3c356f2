"""The reasons a run stops: :class:`RunAborted` and its family (see the package docstring).

They derive from ``BaseException`` so that Hypothesis lets them through at once instead of
shrinking them as if they were bugs."""

from __future__ import annotations


class RunAborted(BaseException):  # noqa: N818 - a family of reasons to stop, not an error
    """The run cannot go on; the engine ends it as inconclusive and cleans up."""


class TargetUnreachable(RunAborted):
    """The target did not answer at all (connection refused, timeouts), repeatedly."""


class TargetRedirected(RunAborted):
    """The target answered with a redirect; the base URL is probably not the API's."""


class BudgetExhausted(RunAborted):
    """The request budget (``--max-requests``) is spent."""


class TimeBudgetExhausted(RunAborted):
    """The run's time bound (``max_seconds``) is spent."""


class RateLimitedTooLong(RunAborted):
    """The run waited ``max_rate_limit_wait_total`` seconds for the rate limit in all."""


class TargetTooSlow(RunAborted):
    """:data:`MAX_MISSED_DEADLINES` tries missed their deadline this run: the target answers
    too slowly (or drips its answers) for a run to end in reasonable time."""


class TooManyTransientErrors(RunAborted):
    """So many 429s, 502/503/504s, timeouts, resets or missed deadlines that the verdict
    would mean little."""


class Refused(RunAborted):
    """The suite refused to send a request that could modify or delete what the run did not
    create, or address a number the user did not name (:class:`conformance.safety.Guard`)."""


class MalformedAnswer(RunAborted):
    """The target answered something the run cannot work with (a fixture answer without an
    id, an id that would leave its resource in a path, ...); the message names the request."""


class AnswerTooLarge(RunAborted):
    """An answer's decoded body went on past ``max_body_bytes``: only that much was read,
    and a cut body cannot be judged; the message names the request."""


class Interrupted(RunAborted):
    """The user stopped the run (Ctrl-C, SIGTERM); only the clean-up DELETEs still go out."""

    def __init__(self) -> None:
        super().__init__("interrupted")
