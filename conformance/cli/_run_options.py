"""``run``'s options for the races (``--races`` and its bounds) and for parallel workers
(``--workers``, ``--latency``): one decorator, so ``run`` reads in one sitting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["races_and_workers_options"]

_OPTIONS = [
    click.option(
        "--races",
        "races",
        is_flag=True,
        help="After the other phases, run concurrent histories on the same target (same "
        "fixtures and clean-up) and check them for linearizability; a history no order "
        "explains fails the documented rule it breaks. Bounded by --race-histories, "
        "--race-max-requests and --race-max-time; against a live target without --allow-send "
        "every history is drafts only.",
    ),
    click.option(
        "--race-histories",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        help="With --races: histories to run at most.",
    ),
    click.option(
        "--race-max-requests",
        type=click.IntRange(min=1),
        default=500,
        show_default=True,
        help="With --races: requests the races may send (clean-up's DELETEs apart); no "
        "history is begun that might not fit.",
    ),
    click.option(
        "--race-max-time",
        type=click.FloatRange(min=1),
        default=120.0,
        show_default=True,
        help="With --races: seconds of wall time the races may take.",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="State machines run in parallel, each on leads of its own (on the embedded server, "
        "each on a reference server of its own), sharing one rate-limit budget; the profile's "
        "examples are shared out among them and the seed still gives one run. Against a distant "
        "server the wall time falls about 1/N until the rate limit binds.",
    ),
    click.option(
        "--latency",
        type=click.FloatRange(min=0),
        default=0.0,
        help="Embedded target only: seconds added before every answer (as `serve --latency`), to "
        "see how a run fares against a distant server.",
    ),
]


def races_and_workers_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options to ``command``, in the order ``--help`` lists them."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
