"""schemathesis's insides the suite relies on: the constants of an in-process app, the
Basic-auth seeding, the built-in checks and their recorder (see :mod:`conformance.compat`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from unittest import mock

from conformance.compat._upstream import _changed

# -- schemathesis ------------------------------------------------------------------------------

_APP_CONSTANTS = "schemathesis.python._constants"

#: An app's constants as plain data, per kind (``string``, ``integer``, ``float``,
#: ``bytes``), oldest first: each entry a value (floats by ``repr``, bytes in hex) and the
#: origins schemathesis gives it, each ``[source, module, adapter]``.
AppConstants = dict[str, list[list[Any]]]

_KINDS = ("string", "integer", "float", "bytes")


def _app_constants_modules() -> tuple[ModuleType, ModuleType]:
    import importlib

    try:
        orchestrator = importlib.import_module(f"{_APP_CONSTANTS}.orchestrator")
        pool = importlib.import_module(f"{_APP_CONSTANTS}.pool")
    except ImportError:
        orchestrator = pool = None  # type: ignore[assignment]
    names = (
        (orchestrator, "extract_all"),
        (orchestrator, "build_constants_pool"),
        (pool, "ConstantsPool"),
        (pool, "ConstantEntry"),
        (pool, "Origin"),
    )
    if (
        orchestrator is None
        or pool is None
        or not all(callable(getattr(m, n, None)) for m, n in names)
    ):
        raise _changed(
            "schemathesis",
            f"{_APP_CONSTANTS} no longer has orchestrator.extract_all, build_constants_pool and "
            "pool.ConstantsPool, ConstantEntry, Origin, so the schema phase's constants can no "
            "longer be pinned to one run",
        )
    return orchestrator, pool


def app_constants_pool(data: AppConstants) -> Any:
    """A schemathesis ``ConstantsPool`` holding ``data`` (:data:`AppConstants`), in its order."""
    _, module = _app_constants_modules()
    pool = module.ConstantsPool()
    for kind in _KINDS:
        for value, origins in data.get(kind, []):
            if kind == "float":
                value = float(value)
            elif kind == "bytes":
                value = bytes.fromhex(value)
            pool.add(
                module.ConstantEntry(
                    value=value,
                    type=kind,
                    origins=tuple(module.Origin(*origin) for origin in origins),
                )
            )
    return pool


def app_constants_of(schema: Any) -> AppConstants:
    """What schemathesis extracts today from the app of ``schema`` (``schema.app``, driven in
    process), as :data:`AppConstants`: the literals of the app's modules and of the modules
    they import (``orchestrator.build_constants_pool``), at most 256 per kind, the oldest
    dropped."""
    orchestrator, _ = _app_constants_modules()
    pool = orchestrator.build_constants_pool(schema)
    out: AppConstants = {}
    for kind in _KINDS:
        out[kind] = [
            [
                repr(entry.value)
                if kind == "float"
                else entry.value.hex()
                if kind == "bytes"
                else entry.value,
                [[origin.source, origin.module, origin.adapter] for origin in entry.origins],
            ]
            for entry in pool.entries_for(kind)
        ]
    return out


@contextlib.contextmanager
def pinned_app_constants(pool: Any) -> Iterator[None]:
    """Within the block, the constants schemathesis extracts from an in-process app are
    ``pool``.

    schemathesis 4.32 mixes into the values it generates the literals of the modules of an
    app it drives in process (``schema.app``) and of the modules they import:
    ``orchestrator.build_constants_pool`` calls ``orchestrator.extract_all`` with the app as
    an extra source, and keeps at most 256 strings, the oldest dropped. For the embedded
    server that app is the schema phase's, so any literal added to, or moved between, the
    modules it imports (the oracle's among them) would change what a seed draws. A call with
    no app (a remote target: only registered sources) is left alone.

    Raises :class:`UpstreamChanged` if those names are gone."""
    orchestrator, _ = _app_constants_modules()
    extract_all = orchestrator.extract_all

    def pinned(*, registry: Any, adapters: Any, extra_sources: Any = ()) -> Any:
        if list(extra_sources):
            return pool
        return extract_all(registry=registry, adapters=adapters)

    with mock.patch.object(orchestrator, "extract_all", pinned):
        yield


#: The name :func:`no_basic_auth_seeding` patches (tests that stub it patch the same one).
SEED_POOL_FROM_BASIC_AUTH = "schemathesis.specs.openapi.analysis.seed_pool_from_basic_auth"


@contextlib.contextmanager
def no_basic_auth_seeding() -> Iterator[None]:
    """Within the block, schemathesis does not seed the Basic-auth username into its pool of
    ids and values.

    For Close, that username is the API key, which would otherwise travel in paths and
    bodies and end up in the target's logs and data. schemathesis 4.32 defines
    ``seed_pool_from_basic_auth`` in ``specs/openapi/auth_jwt.py``. Its only caller is
    ``specs/openapi/analysis.py``, which imports it by name, so the name is patched there.

    Raises :class:`UpstreamChanged` if that name is gone."""
    import importlib

    module_name, _, name = SEED_POOL_FROM_BASIC_AUTH.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        module = None
    if not callable(getattr(module, name, None)):
        raise _changed(
            "schemathesis",
            f"{SEED_POOL_FROM_BASIC_AUTH} is gone, so the API key (the Basic username) "
            "could be sent as test data",
        )
    with mock.patch.object(module, name, _seed_nothing):
        yield


def _seed_nothing(*args: Any, **kwargs: Any) -> None:
    """Stands in for schemathesis's seeding of the Basic username into test data."""


def builtin_check(name: str) -> Callable[[Any, Any, Any], bool | None]:
    """schemathesis's built-in check ``name``: a function ``(ctx, response, case)``.

    It is looked up in ``schemathesis.checks.CHECKS``, the registry that schemathesis's
    ``included_check_names`` resolves against, once the OpenAPI checks are registered.
    Raises :class:`UpstreamChanged` naming the check if there is no such check, or if it is
    no longer a plain function: a renamed check would otherwise quietly drop a rule's
    coverage."""
    import inspect

    import schemathesis.specs.openapi.checks  # noqa: F401 - registers the OpenAPI checks
    from schemathesis.checks import CHECKS

    try:
        check = CHECKS.get_one(name)
    except KeyError:
        raise _changed(
            "schemathesis",
            f"there is no built-in check named {name!r} any more (known: "
            f"{', '.join(sorted(CHECKS.get_all_names()))})",
        ) from None
    if not inspect.isfunction(check) or len(inspect.signature(check).parameters) != 3:
        raise _changed(
            "schemathesis",
            f"the built-in check {name!r} is no longer a function (ctx, response, case)",
        )
    return check


def responses_to_requests_made_for(ctx: Any, case: Any) -> list[Any]:
    """The responses to the requests that a check made itself for ``case``, such as
    ``ignored_auth``'s requests without credentials, oldest first. A request that got no
    answer is left out.

    Reads ``ctx.internals.recorder`` (a ``ScenarioRecorder``): ``cases`` (nodes with a
    ``parent_id``) and ``interactions`` (with a ``response``). schemathesis documents this as
    "built-in checks only, may change without notice". A context without a recorder gives
    ``[]``. Raises :class:`UpstreamChanged` if the recorder no longer has that shape."""
    internals = getattr(ctx, "internals", None)
    recorder = getattr(internals, "recorder", None)
    if recorder is None:
        return []
    try:
        children = [
            case_id for case_id, node in list(recorder.cases.items()) if node.parent_id == case.id
        ]
        interactions = [recorder.interactions.get(case_id) for case_id in children]
        return [i.response for i in interactions if i is not None and i.response is not None]
    except AttributeError as error:
        raise _changed(
            "schemathesis",
            f"a check's recorder (ctx.internals.recorder) changed shape ({error})",
        ) from None
