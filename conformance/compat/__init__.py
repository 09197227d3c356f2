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
- Hypothesis's record of every state machine class that ran
  (``RuleBasedStateMachine._setup_state_per_class``): :func:`forget_machine_class`, which
  the engine calls after each round so that a run's state is freed with it.
- schemathesis's constants extracted from an in-process app
  (``schemathesis.python._constants``: ``orchestrator.extract_all``, ``pool.ConstantsPool``,
  ``ConstantEntry`` and ``Origin``): :func:`pinned_app_constants`, :func:`app_constants_pool`
  and :func:`app_constants_of`, for the schema phase's "one seed, one run".
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
- asyncio's setting of a thread's running loop (``asyncio.events._get_running_loop`` and
  ``_set_running_loop``): :func:`running_loop`, which the in-process transport
  (:mod:`conformance.transport`) uses while it steps an app's coroutine by hand.
- CPython 3.11's ``ast.parse``, not safe in two threads at once: :func:`serialised_ast_parse`,
  which the engine holds while parallel workers run.
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

The package, by library, still one place: :mod:`.hypothesis`, :mod:`.schemathesis` and
:mod:`.httpx` (and :mod:`.asyncio`, of the standard library); this module holds what they
share (:class:`UpstreamChanged`, the versions the suite was written against) and re-exports
every function.
"""

from __future__ import annotations

from conformance.compat._upstream import WRITTEN_AGAINST as WRITTEN_AGAINST
from conformance.compat._upstream import UpstreamChanged as UpstreamChanged
from conformance.compat.ast import serialised_ast_parse as serialised_ast_parse
from conformance.compat.asyncio import running_loop as running_loop
from conformance.compat.httpx import basic_authorization as basic_authorization
from conformance.compat.httpx import transport_of as transport_of
from conformance.compat.hypothesis import constants_of_lists as constants_of_lists
from conformance.compat.hypothesis import constants_of_modules as constants_of_modules
from conformance.compat.hypothesis import forget_machine_class as forget_machine_class
from conformance.compat.hypothesis import pinned_local_constants as pinned_local_constants
from conformance.compat.schemathesis import SEED_POOL_FROM_BASIC_AUTH as SEED_POOL_FROM_BASIC_AUTH
from conformance.compat.schemathesis import AppConstants as AppConstants
from conformance.compat.schemathesis import app_constants_of as app_constants_of
from conformance.compat.schemathesis import app_constants_pool as app_constants_pool
from conformance.compat.schemathesis import builtin_check as builtin_check
from conformance.compat.schemathesis import no_basic_auth_seeding as no_basic_auth_seeding
from conformance.compat.schemathesis import pinned_app_constants as pinned_app_constants
from conformance.compat.schemathesis import (
    responses_to_requests_made_for as responses_to_requests_made_for,
)

__all__ = [
    "SEED_POOL_FROM_BASIC_AUTH",
    "UpstreamChanged",
    "app_constants_of",
    "app_constants_pool",
    "basic_authorization",
    "builtin_check",
    "constants_of_lists",
    "constants_of_modules",
    "forget_machine_class",
    "no_basic_auth_seeding",
    "pinned_app_constants",
    "pinned_local_constants",
    "responses_to_requests_made_for",
    "running_loop",
    "serialised_ast_parse",
    "transport_of",
]
