"""Hypothesis's insides the suite relies on: the local-constants pool and the per-class setup
of a state machine (see :mod:`conformance.compat`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any
from unittest import mock

from conformance.compat._upstream import _changed

# -- Hypothesis: the local-constants pool ------------------------------------------------------

_PROVIDERS = "hypothesis.internal.conjecture.providers"


@contextlib.contextmanager
def pinned_local_constants(pool: Any) -> Iterator[None]:
    """Within the block, Hypothesis draws its "local constants" from ``pool`` only.

    Hypothesis mixes literals from every local module imported so far into what it generates
    (``providers._get_local_constants()``, cached per choice type in
    ``providers.CONSTANTS_CACHE``). Pinning the pool makes a seed give the same run, whatever
    else is imported. The cache is cleared on entry and on exit, so no draw inside the block
    sees another pool, and no draw after it sees this one.

    Raises :class:`UpstreamChanged` if either name is gone."""
    import importlib

    providers = importlib.import_module(_PROVIDERS)
    cache: Any = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if not callable(getattr(providers, "_get_local_constants", None)) or not hasattr(
        cache, "clear"
    ):
        raise _changed(
            "hypothesis",
            f"{_PROVIDERS} no longer has _get_local_constants() and CONSTANTS_CACHE.cache, "
            "so a seed can no longer be pinned to one run",
        )
    cache.clear()
    try:
        with mock.patch.object(providers, "_get_local_constants", lambda: pool):
            yield
    finally:
        cache.clear()


def constants_of_lists(
    *,
    integers: Iterable[int],
    floats: Iterable[float],
    bytes_: Iterable[bytes],
    strings: Iterable[str],
) -> Any:
    """A Hypothesis ``Constants`` pool holding these literals, in sorted sets as
    :func:`constants_of_modules` makes them."""
    pool = constants_of_modules(())
    pool.integers.update(integers)
    pool.floats.update(floats)
    pool.bytes.update(bytes_)
    pool.strings.update(strings)
    return pool


def constants_of_modules(modules: Iterable[ModuleType]) -> Any:
    """The literals in the source of ``modules``, as a Hypothesis ``Constants`` pool.

    The pool is made of sorted sets, as Hypothesis makes its own (``SortedSet``; floats keyed
    by ``float_to_int``). A plain set of strings would iterate in hash-seed order. Uses
    ``hypothesis.internal.constants_ast.constants_from_module``, ``providers.Constants`` and
    ``internal.conjecture.floats.float_to_int``."""
    try:
        from hypothesis.internal.conjecture.floats import float_to_int
        from hypothesis.internal.conjecture.providers import Constants
        from hypothesis.internal.constants_ast import constants_from_module
        from sortedcontainers import SortedSet
    except ImportError as error:
        raise _changed(
            "hypothesis", f"cannot build a pool of local constants any more ({error})"
        ) from None

    pool = Constants(
        integers=SortedSet(),
        floats=SortedSet(key=float_to_int),
        bytes=SortedSet(),
        strings=SortedSet(),
    )
    for module in modules:
        pool = pool | constants_from_module(module)
    return pool


# -- Hypothesis: the per-class setup of a state machine ----------------------------------------


def forget_machine_class(machine_class: type) -> None:
    """Drop what Hypothesis keeps of ``machine_class`` once its run is over.

    ``RuleBasedStateMachine._setup_state_per_class`` (a class-level dict, never emptied)
    maps every state machine class that ever ran to its rules. The engine builds a class per
    run (:func:`conformance.machine.build_machine`) that holds the run's state, every
    exchange of the run included: without this, each run stays in memory for the life of
    the process (a self-test worker grew to 5 GB).

    Raises :class:`UpstreamChanged` if the dict is gone."""
    from hypothesis.stateful import RuleBasedStateMachine

    per_class = getattr(RuleBasedStateMachine, "_setup_state_per_class", None)
    if not isinstance(per_class, dict):
        raise _changed(
            "hypothesis",
            "RuleBasedStateMachine._setup_state_per_class is gone, so each run's state "
            "machine class (and the run it holds) may be kept for the life of the process",
        )
    per_class.pop(machine_class, None)
