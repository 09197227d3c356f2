"""Every place the suite leans on another library's insides, in one module.

The suite relies on a few names that Hypothesis, schemathesis and httpx do not promise to
keep. Each such touch is a function here, and its docstring names the upstream symbol. Each
has a canary in ``tests/test_compat.py``. The canary asserts that the name still exists with
the shape relied on, and that the function here still does what the suite needs. An upgrade
that moves or changes one of these names then fails that canary, naming the symbol, instead
of silently changing what the suite does. At run time these functions raise
:class:`UpstreamChanged` with the same message instead of degrading quietly.

The touches, and who uses them:

- Hypothesis's local-constants pool (``hypothesis.internal.conjecture.providers``:
  ``_get_local_constants`` and ``CONSTANTS_CACHE``; ``internal.constants_ast`` and
  ``internal.conjecture.floats``): :func:`pinned_local_constants` and
  :func:`constants_of_modules`, for the engine's "one seed, one run".
- schemathesis's seeding of the Basic-auth username into its pool of test data
  (``schemathesis.specs.openapi.analysis.seed_pool_from_basic_auth``):
  :func:`no_basic_auth_seeding`, for the schema phase. For Close, that username is the API
  key.
- schemathesis's built-in checks, looked up by name in its check registry
  (``schemathesis.checks.CHECKS``): :func:`builtin_check`. The schema phase wraps them when
  it is imported. A missing check raises at import, naming the check.
- schemathesis's check internals (``CheckContext.internals.recorder``, documented upstream
  as "built-in checks only, may change without notice"): :func:`responses_to_requests_made_for`,
  which the schema phase uses to see whether ``ignored_auth``'s own probes met noise.
- schemathesis's constants pool of the application under test
  (``schemathesis.engine.context.build_constants_pool``; ``schemathesis.python._constants.pool``:
  ``ConstantsPool``, ``ConstantEntry``, ``Origin``): :func:`pinned_app_constants` and
  :func:`app_constants_of`, for the schema phase's "one seed, one run". For an in-process app,
  schemathesis mixes into what it draws the literals of the module that defines the app object
  and of the modules it imports: for the embedded target that is the suite's own wrapper, so any
  edit to those modules would change the draws a seed gives.
- httpx's client transport (``httpx.Client._transport``): :func:`transport_of`, which the
  client uses to recognise an in-process target.
- There is no private touch for the Basic ``Authorization`` header any more. It was
  ``httpx.BasicAuth(...)._auth_header``; :func:`basic_authorization` now builds the header
  per RFC 7617, the way httpx does. Its canary checks that the result equals what httpx
  sends.

Not here, and why. These use public names, though they rely on how schemathesis uses them:

- :mod:`conformance.bounded_requests` patches two public methods of
  ``requests.adapters.HTTPAdapter``. It relies on schemathesis sending through them, and its
  canaries are in ``tests/test_bounded_requests.py``.
- The schema phase patches ``requests.Session.send`` to guard every request. It sets the
  public ``app`` field of a schema to drive the embedded server in-process. It reads the
  recorder of each scenario event through schemathesis's read-only ``RecordedScenario``
  view, which is there for reporters.
- :mod:`conformance.fake` uses respx's public router API only (``respx.MockRouter``, routes
  with a side effect), and :mod:`conformance.fake_requests` wraps the public
  ``requests.Session.get_adapter``; their tests are ``tests/test_fake.py``.

Nothing here imports Hypothesis, schemathesis or httpx at module level, so importing this
module costs nothing.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any
from unittest import mock

__all__ = [
    "SEED_POOL_FROM_BASIC_AUTH",
    "UpstreamChanged",
    "basic_authorization",
    "builtin_check",
    "constants_of_lists",
    "constants_of_modules",
    "app_constants_of",
    "no_basic_auth_seeding",
    "pinned_app_constants",
    "pinned_local_constants",
    "responses_to_requests_made_for",
    "transport_of",
]

#: What the suite was written against. An error that says an upgrade moved something names it.
WRITTEN_AGAINST = {"hypothesis": "6.170", "schemathesis": "4.32", "httpx": "0.29"}


class UpstreamChanged(RuntimeError):
    """A private name of Hypothesis, schemathesis or httpx that the suite relies on has moved
    or changed shape. The message names the symbol, the installed version and the version
    the suite was written against. To fix it, adapt :mod:`conformance.compat`; its canaries
    are in ``tests/test_compat.py``."""


def _changed(package: str, what: str) -> UpstreamChanged:
    try:
        from importlib.metadata import version

        installed = version(package)
    except Exception:  # noqa: BLE001 - the version is only for the message
        installed = "unknown"
    return UpstreamChanged(
        f"{package} {installed}: {what} (the suite was written against "
        f"{package} {WRITTEN_AGAINST[package]}; adapt conformance/compat.py, whose canaries "
        "are in tests/test_compat.py)"
    )


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


# -- schemathesis ------------------------------------------------------------------------------

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


_ENGINE_CONTEXT = "schemathesis.engine.context"
_CONSTANTS_POOL = "schemathesis.python._constants.pool"


@contextlib.contextmanager
def pinned_app_constants(pool: Any) -> Iterator[None]:
    """Within the block, schemathesis draws the constants of an in-process app from ``pool``
    only (a schema without an app, a remote target, keeps what schemathesis extracts).

    Patches ``schemathesis.engine.context.build_constants_pool``, which the engine calls once
    per run to scan the app's module and its direct local imports for literals. Raises
    :class:`UpstreamChanged` if that name is gone."""
    import importlib

    context = importlib.import_module(_ENGINE_CONTEXT)
    build = getattr(context, "build_constants_pool", None)
    if not callable(build):
        raise _changed(
            "schemathesis",
            f"{_ENGINE_CONTEXT} no longer has build_constants_pool(), so the constants of the "
            "embedded app can no longer be pinned to one run",
        )

    def pinned(schema: Any) -> Any:
        return pool if getattr(schema, "app", None) is not None else build(schema)

    with mock.patch.object(context, "build_constants_pool", pinned):
        yield


def app_constants_of(entries: dict[str, list[tuple[Any, list[str]]]]) -> Any:
    """A schemathesis ``ConstantsPool`` holding ``entries`` (per type, in order: a value and
    the modules it came from), as its extraction of an in-process app makes it (origins from
    the source ``application``). Uses ``schemathesis.python._constants.pool``."""
    try:
        from schemathesis.python._constants.pool import ConstantEntry, ConstantsPool, Origin
    except ImportError as error:
        raise _changed(
            "schemathesis",
            f"{_CONSTANTS_POOL} no longer has ConstantsPool, ConstantEntry and Origin ({error})",
        ) from None
    pool = ConstantsPool()
    for kind, values in entries.items():
        for value, modules in values:
            origins = tuple(Origin(source="application", module=m, adapter=None) for m in modules)
            pool.add(ConstantEntry(value=value, type=kind, origins=origins))  # type: ignore[arg-type]
    return pool


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


# -- httpx -------------------------------------------------------------------------------------


def transport_of(client: Any) -> Any:
    """The transport an ``httpx.Client`` sends through (``client._transport``; httpx has no
    public accessor). Returns None for an object that is not an ``httpx.Client``, such as a
    test's stand-in. Raises :class:`UpstreamChanged` if an ``httpx.Client`` no longer has
    that attribute."""
    try:
        return client._transport
    except AttributeError:
        import httpx

        if isinstance(client, httpx.Client):
            raise _changed(
                "httpx", "an httpx.Client no longer has _transport (the transport it sends with)"
            ) from None
        return None


def basic_authorization(username: str, password: str = "") -> str:
    """The ``Authorization`` header value for HTTP Basic auth: ``"Basic "`` followed by the
    base64 of ``username:password`` in UTF-8 (RFC 7617 section 2, with the UTF-8 charset of
    section 2.1). httpx builds its header the same way, and the canary checks that the two
    agree."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"
