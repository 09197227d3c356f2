"""Which readings of the docs' open points each self-test run serves: random combinations
for the clean runs, and the readings a faulty variant is meant to be caught under.
"""

from __future__ import annotations

import zlib


def specificity_readings(combinations: int) -> list[tuple[str, ...]]:
    """The reading sets of the specificity matrix: each non-default alternative of every
    open point alone, then ``combinations`` sets drawn at random (seeds 0, 1, ...) that
    differ from the defaults somewhere."""
    from conformance.catalogue import CATALOGUE
    from conformance.refserver.readings import random_readings

    sets: list[tuple[str, ...]] = [
        (f"{point.id}={name}",)
        for point in CATALOGUE.open_points.values()
        for name in point.alternatives
        if name != point.default
    ]
    draw, wanted = 0, len(sets) + combinations
    while len(sets) < wanted:
        chosen = random_readings(draw).chosen
        draw += 1
        if chosen:
            sets.append(tuple(f"{p}={a}" for p, a in sorted(chosen.items())))
    return sets


def fault_readings(name: str) -> tuple[str, ...]:
    """A random combination of non-default readings to run the faulty variant ``name``
    under: drawn from the variant's name (the same every time), with the open points the
    variant lists in ``masked_by`` (a reading in which its bug is conforming) left at
    their defaults, and at least one point off its default."""
    from conformance.refserver import FAULTS
    from conformance.refserver.readings import random_readings

    masked = set(FAULTS[name].masked_by)
    draw = zlib.crc32(name.encode())
    while True:
        chosen = {
            point: alternative
            for point, alternative in random_readings(draw).chosen.items()
            if point not in masked
        }
        if chosen:
            return tuple(f"{point}={alternative}" for point, alternative in sorted(chosen.items()))
        draw += 1
