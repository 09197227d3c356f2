"""Readings: how the reference server reads each point the docs leave open.

The catalogue lists every open point with the documented-compatible alternatives
(``[[open_point]]`` in ``conformance/catalogue.toml``). The server takes its point's
``default`` unless told otherwise (``serve --reading POINT=ALTERNATIVE``,
``--readings random[:SEED]``, ``ReferenceServer(readings=...)``). Code asks for a reading at
the exact place the choice lives, e.g. ``if ctx.readings["empty-send"] == "reject":``.

:data:`SERVED` names, per open point, the alternatives the code serves; a test holds it
equal to the catalogue, so an open point cannot be listed without every one of its readings
being served (and the suite shown to pass under each).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping

from conformance.catalogue import CATALOGUE

__all__ = [
    "SERVED",
    "Readings",
    "check_readings",
    "parse_readings",
    "random_readings",
]

# Per open point, the alternatives this package serves (the default included).
SERVED: dict[str, frozenset[str]] = {
    "empty-send": frozenset({"accept", "reject", "accept-then-error"}),
    "visibility": frozenset({"immediate", "eventual"}),
    "time-precision": frozenset({"microseconds", "milliseconds"}),
    "activity-at-on-send": frozenset({"kept", "send-time"}),
    "bare-date-filter": frozenset({"midnight", "whole-day"}),
    "direction-override": frozenset({"kept", "status-decides", "reject"}),
    "attachment-url": frozenset({"as-given", "rehosted"}),
    "text-normalisation": frozenset({"as-given", "nfc"}),
    "send-in-negative": frozenset({"reject", "as-zero"}),
    "send-in-numeric-string": frozenset({"reject", "as-seconds"}),
    "not-found-body": frozenset({"json-error", "html"}),
    "error-body-shape": frozenset({"field-errors", "error-message"}),
    "limit-over-maximum": frozenset({"reject", "clamp"}),
    "local-phone-on-sends": frozenset({"required", "auto"}),
    "list-order": frozenset({"newest-first", "oldest-first"}),
    "past-date-scheduled": frozenset({"accept", "reject"}),
    "send-in-fraction": frozenset({"as-given", "truncated", "reject"}),
    "template-and-text": frozenset({"template-wins", "text-wins", "reject"}),
    "cancel-and-edit": frozenset({"both", "cancel-only", "reject"}),
}


class Readings(Mapping[str, str]):
    """The reading of every open point: the chosen ones, the catalogue's default for the
    rest. ``readings[point]`` raises ``KeyError`` for a point the catalogue lacks."""

    __slots__ = ("_chosen",)

    def __init__(self, chosen: Mapping[str, str] | None = None) -> None:
        self._chosen = dict(chosen or {})

    def __getitem__(self, point: str) -> str:
        if point in self._chosen:
            return self._chosen[point]
        return CATALOGUE.open_points[point].default

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOGUE.open_points)

    def __len__(self) -> int:
        return len(CATALOGUE.open_points)

    @property
    def chosen(self) -> dict[str, str]:
        """The readings that differ from the defaults, point -> alternative."""
        return {p: a for p, a in self._chosen.items() if a != CATALOGUE.open_points[p].default}

    def __repr__(self) -> str:
        shown = ", ".join(f"{p}={a}" for p, a in sorted(self.chosen.items()))
        return f"Readings({shown or 'defaults'})"


def check_readings(chosen: Mapping[str, str] | Readings | None) -> Readings:
    """Return ``chosen`` as :class:`Readings`; raises ``ValueError`` naming the known points
    or alternatives when a point or an alternative is unknown."""
    if isinstance(chosen, Readings):
        return chosen
    chosen = dict(chosen or {})
    for point, alternative in chosen.items():
        if point not in CATALOGUE.open_points:
            raise ValueError(
                f"unknown open point {point!r}; known: {', '.join(sorted(CATALOGUE.open_points))}"
            )
        alternatives = CATALOGUE.open_points[point].alternatives
        if alternative not in alternatives:
            raise ValueError(
                f"open point {point!r} has no reading {alternative!r}; "
                f"its readings: {', '.join(alternatives)}"
            )
    return Readings(chosen)


def parse_readings(options: Iterable[str]) -> Readings:
    """Read ``POINT=ALTERNATIVE`` options (and ``random`` / ``random:SEED``, which draws a
    reading for every point not named); raises ``ValueError`` with the fix."""
    chosen: dict[str, str] = {}
    drawn: dict[str, str] = {}
    for option in options:
        if option == "random" or option.startswith("random:"):
            seed_text = option.partition(":")[2]
            try:
                seed = int(seed_text) if seed_text else None
            except ValueError:
                raise ValueError(f"random:SEED needs an integer seed, got {seed_text!r}") from None
            drawn = dict(random_readings(seed).items())
            continue
        point, equals, alternative = option.partition("=")
        if not equals:
            raise ValueError(f"a reading is POINT=ALTERNATIVE or random[:SEED], got {option!r}")
        chosen[point.strip()] = alternative.strip()
    return check_readings({**drawn, **chosen})


def random_readings(seed: int | None = None) -> Readings:
    """Return a reading drawn at random for every open point (reproducible with ``seed``)."""
    rng = random.Random(seed)
    return Readings(
        {
            point.id: rng.choice(sorted(point.alternatives))
            for point in CATALOGUE.open_points.values()
        }
    )
