"""Canaries for :mod:`conformance.compat`: the private names of Hypothesis, schemathesis and
httpx that the suite relies on.

When a ``canary`` test fails, an upgrade has moved or changed one of those names. The
failure says which name and what the suite needs from it. Fix it in
``conformance/compat/``. Every other test in this module shows that a compat function does
what its caller needs, or that it fails loudly (:class:`~conformance.compat.UpstreamChanged`)
instead of degrading quietly.
"""

from __future__ import annotations

import base64
import inspect
import os
import subprocess
import sys
import types
from pathlib import Path

import httpx
import pytest
import requests
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from conformance import compat
from conformance.compat import UpstreamChanged

ROOT = Path(__file__).resolve().parents[1]

# Built at run time: a literal in this file's source would be one of Hypothesis's local
# constants anyway, and the pin would not be what made it drawable.
UNSEEN = "".join(reversed("tnatsnoc-yranac-denniP"))


# -- Hypothesis: the local-constants pool ------------------------------------------------------


def test_canary_hypothesis_keeps_its_local_constants_pool_where_the_engine_pins_it():
    from hypothesis.internal.conjecture import providers

    get = getattr(providers, "_get_local_constants", None)
    assert callable(get), "hypothesis...providers._get_local_constants() is gone"
    assert not inspect.signature(get).parameters, "_get_local_constants now takes arguments"
    pool = get()
    assert all(hasattr(pool, kind) for kind in ("integers", "floats", "bytes", "strings"))
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    assert hasattr(cache, "clear"), "hypothesis...providers.CONSTANTS_CACHE.cache is gone"


def test_within_the_pin_hypothesis_draws_local_constants_from_the_pinned_pool():
    pool = compat.constants_of_modules([])
    pool.strings.add(UNSEEN)
    with compat.pinned_local_constants(pool):
        # A few percent of draws are constants: it turns up within a few hundred texts.
        found = find(
            st.text(),
            lambda text: text == UNSEEN,
            settings=settings(
                max_examples=3000, database=None, suppress_health_check=list(HealthCheck)
            ),
        )
    assert found == UNSEEN


def test_the_pin_is_undone_and_its_cache_cleared_on_leaving_the_block():
    from hypothesis.internal.conjecture import providers

    before = providers._get_local_constants
    pool = compat.constants_of_modules([])
    with compat.pinned_local_constants(pool):
        assert providers._get_local_constants() is pool
        providers.CONSTANTS_CACHE[("string", "canary")] = ((), (UNSEEN,))
    assert providers._get_local_constants is before
    assert ("string", "canary") not in providers.CONSTANTS_CACHE


def test_a_pool_built_from_modules_holds_their_literals_in_sorted_sets():
    module = types.ModuleType("literals")
    module.__file__ = __file__  # this module's source, and so its literals
    pool = compat.constants_of_modules([module])
    assert "Aladdin" in pool.strings
    assert 3000 in pool.integers
    assert list(pool.strings) == sorted(pool.strings)  # not in hash-seed order
    assert list(pool.integers) == sorted(pool.integers)


def test_pinning_fails_loudly_when_hypothesis_moves_its_pool(monkeypatch):
    from hypothesis.internal.conjecture import providers

    monkeypatch.delattr(providers, "_get_local_constants")
    with (
        pytest.raises(UpstreamChanged, match=r"hypothesis .*_get_local_constants"),
        compat.pinned_local_constants(compat.constants_of_modules([])),
    ):
        pass


# -- schemathesis: the Basic-auth username seeded into test data ------------------------------


def test_canary_schemathesis_seeds_the_basic_username_only_where_the_suite_stops_it():
    import schemathesis
    from schemathesis.specs.openapi import analysis, auth_jwt

    assert callable(getattr(auth_jwt, "seed_pool_from_basic_auth", None)), (
        "schemathesis.specs.openapi.auth_jwt.seed_pool_from_basic_auth is gone"
    )
    assert analysis.seed_pool_from_basic_auth is auth_jwt.seed_pool_from_basic_auth
    # The patch is on the name in analysis: a second caller would slip past it.
    package = Path(schemathesis.__file__).parent
    users = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "seed_pool_from_basic_auth" in path.read_text(encoding="utf-8")
    )
    assert users == ["specs/openapi/analysis.py", "specs/openapi/auth_jwt.py"], (
        f"seed_pool_from_basic_auth is now used in {users}; patch every caller"
    )


def _key_in_schemathesis_pool(key: str) -> bool:
    """Whether schemathesis's pool of test data holds ``key``, with ``key`` as Basic username."""
    import schemathesis

    from conformance.openapi import load_openapi

    config = schemathesis.Config()
    config.projects.override.update(basic_auth=(key, ""), base_url="http://close.test")
    source = schemathesis.openapi.from_dict(load_openapi(), config=config)
    repository = source.create_extra_data_source().repository  # type: ignore[union-attr]
    slots = getattr(type(repository), "__slots__", ())
    return key in repr({name: getattr(repository, name, None) for name in slots})


def test_within_the_block_the_api_key_never_reaches_schemathesiss_test_data():
    key = "".join(reversed("yek-ipa-eht"))
    assert _key_in_schemathesis_pool(key), "the seeding the block stops did not happen at all"
    with compat.no_basic_auth_seeding():
        assert not _key_in_schemathesis_pool(key)


def test_stopping_the_seeding_fails_loudly_when_schemathesis_moves_it(monkeypatch):
    from schemathesis.specs.openapi import analysis

    monkeypatch.delattr(analysis, "seed_pool_from_basic_auth")
    with (
        pytest.raises(UpstreamChanged, match=r"schemathesis .*seed_pool_from_basic_auth"),
        compat.no_basic_auth_seeding(),
    ):
        pass


# -- schemathesis: the constants of an in-process app ------------------------------------------


def _schema_of(app: object | None) -> object:
    """A schemathesis schema of the Close SMS API, driving ``app`` in process (if any)."""
    import schemathesis

    from conformance.openapi import load_openapi

    schema = schemathesis.openapi.from_dict(load_openapi())
    if app is not None:
        schema.app = app  # type: ignore[attr-defined]
    return schema


def _an_app() -> object:
    from conformance.schema_phase import _PacedApp
    from conformance.target import embedded_target

    target = embedded_target()
    return _PacedApp(target.server.app, target.clock)  # type: ignore[attr-defined]


def test_canary_schemathesis_builds_an_apps_constants_where_the_schema_phase_pins_them():
    from schemathesis.python._constants import orchestrator

    extract_all = getattr(orchestrator, "extract_all", None)
    assert callable(extract_all), "schemathesis.python._constants...extract_all is gone"
    assert {"registry", "adapters", "extra_sources"} <= set(
        inspect.signature(extract_all).parameters
    ), "extract_all no longer takes registry, adapters and extra_sources"
    # Unpinned, the app's modules (the schema phase's, the oracle's) give the pool.
    data = compat.app_constants_of(_schema_of(_an_app()))
    modules = {origin[1] for _, origins in data["string"] for origin in origins}
    assert "conformance.schema_phase.transport" in modules, (
        f"the app's modules unscanned: {modules}"
    )


def test_within_the_app_pin_schemathesis_takes_the_pinned_pool_for_an_app():
    from schemathesis.python._constants.orchestrator import build_constants_pool

    pool = compat.app_constants_pool(
        {"string": [[UNSEEN, [["application", "canary", None]]]], "float": [["2.5", []]]}
    )
    assert [entry.value for entry in pool.entries_for("string")] == [UNSEEN]
    assert [entry.value for entry in pool.entries_for("float")] == [2.5]
    with compat.pinned_app_constants(pool):
        assert build_constants_pool(_schema_of(_an_app())) is pool
        assert build_constants_pool(_schema_of(None)) is not pool  # a remote target: no app
    unpinned = build_constants_pool(_schema_of(_an_app()))
    assert unpinned is not pool and UNSEEN not in [e.value for e in unpinned.entries_for("string")]


def test_an_apps_constants_read_back_as_the_pool_schemathesis_built():
    from schemathesis.python._constants.orchestrator import build_constants_pool

    schema = _schema_of(_an_app())
    data = compat.app_constants_of(schema)
    assert data["string"], "no string constants extracted from the app"
    built, again = build_constants_pool(schema), compat.app_constants_pool(data)
    for kind in ("string", "integer", "float", "bytes"):
        assert [(e.value, e.origins) for e in again.entries_for(kind)] == [
            (e.value, e.origins) for e in built.entries_for(kind)
        ]


def test_pinning_the_app_constants_fails_loudly_when_schemathesis_moves_them(monkeypatch):
    from schemathesis.python._constants import orchestrator

    monkeypatch.delattr(orchestrator, "extract_all")
    with (
        pytest.raises(UpstreamChanged, match=r"schemathesis .*extract_all"),
        compat.pinned_app_constants(object()),
    ):
        pass


# -- schemathesis: the built-in checks the schema phase wraps ---------------------------------


def test_canary_every_check_the_schema_phase_wraps_is_a_builtin_check_of_schemathesis():
    from conformance.schema_phase import _SKIPS

    for name in _SKIPS:
        check = compat.builtin_check(name)
        assert check.__name__ == name
        assert list(inspect.signature(check).parameters) == ["ctx", "response", "case"]


def test_a_check_schemathesis_does_not_have_raises_naming_it():
    with pytest.raises(UpstreamChanged, match=r"no built-in check named 'no_such_check'"):
        compat.builtin_check("no_such_check")


def test_registering_the_wrapped_checks_raises_on_a_missing_check_and_registers_none(
    monkeypatch,
):
    from schemathesis.checks import CHECKS

    from conformance import schema_phase

    before = CHECKS.get_all_names()
    monkeypatch.setitem(schema_phase._SKIPS, "renamed_upstream", lambda response, case: False)
    with pytest.raises(UpstreamChanged, match="'renamed_upstream'"):
        schema_phase._register_checks()
    assert CHECKS.get_all_names() == before


def test_importing_the_schema_phase_raises_naming_a_check_schemathesis_lost():
    code = (
        "import schemathesis.specs.openapi.checks\n"
        "from schemathesis.checks import CHECKS\n"
        "CHECKS.unregister('use_after_free')\n"
        "import conformance.schema_phase\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode != 0
    assert "UpstreamChanged" in done.stderr
    assert "no built-in check named 'use_after_free'" in done.stderr


# -- schemathesis: what a check's own requests met ---------------------------------------------


def _schemathesis_response(status: int) -> object:
    from schemathesis.core.transport import Response

    request = requests.Request("GET", "http://close.test/api/v1/activity/sms/").prepare()
    return Response(
        status_code=status, headers={}, content=b"", request=request, elapsed=0.0, verify=True
    )


def test_canary_a_check_sees_the_responses_to_the_requests_it_made_for_a_case():
    from schemathesis.checks import CheckContext
    from schemathesis.config import ChecksConfig
    from schemathesis.engine.recorder import ScenarioRecorder

    recorder = ScenarioRecorder(label="GET /sms")
    case, probe, unanswered, other = (
        types.SimpleNamespace(id=name) for name in ("case", "probe", "unanswered", "other")
    )
    recorder.record_case(case=case)
    recorder.record_case(case=probe, parent_id="case")
    recorder.record_case(case=unanswered, parent_id="case")
    recorder.record_case(case=other)
    answer = _schemathesis_response(429)
    recorder.record_response(case_id="probe", response=answer)
    recorder.record_response(case_id="other", response=_schemathesis_response(503))
    ctx = CheckContext(None, None, None, ChecksConfig(), None, recorder, response_checks=None)
    assert compat.responses_to_requests_made_for(ctx, case) == [answer]
    assert compat.responses_to_requests_made_for(ctx, other) == []


def test_a_check_without_a_recorder_made_no_requests():
    ctx = types.SimpleNamespace(internals=types.SimpleNamespace(recorder=None))
    assert compat.responses_to_requests_made_for(ctx, types.SimpleNamespace(id="case")) == []


def test_a_recorder_of_another_shape_fails_loudly():
    ctx = types.SimpleNamespace(internals=types.SimpleNamespace(recorder=object()))
    with pytest.raises(UpstreamChanged, match=r"ctx\.internals\.recorder"):
        compat.responses_to_requests_made_for(ctx, types.SimpleNamespace(id="case"))


# -- httpx: the transport, the Basic header ----------------------------------------------------


def test_canary_an_httpx_client_keeps_the_transport_it_was_given():
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        assert compat.transport_of(client) is transport


def test_something_that_is_not_an_httpx_client_has_no_transport():
    assert compat.transport_of(object()) is None


def test_an_httpx_client_without_its_transport_attribute_fails_loudly():
    client = httpx.Client()
    try:
        del client._transport
        with pytest.raises(UpstreamChanged, match=r"httpx .*_transport"):
            compat.transport_of(client)
    finally:
        client._transport = httpx.HTTPTransport()
        client.close()


def _header_httpx_sends(username: str, password: str) -> str:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=(username, password)) as c:
        c.get("http://close.test/")
    return sent[0]


@settings(max_examples=50, deadline=None)
@given(username=st.text(), password=st.text() | st.just(""))
def test_the_basic_header_is_the_one_httpx_sends(username, password):
    assert compat.basic_authorization(username, password) == _header_httpx_sends(username, password)


def test_the_basic_header_follows_the_examples_of_rfc_7617():
    assert compat.basic_authorization("Aladdin", "open sesame") == (
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="  # section 2
    )
    assert compat.basic_authorization("test", "123\u00a3") == "Basic dGVzdDoxMjPCow=="  # 2.1


def test_an_api_key_is_sent_as_the_basic_username_with_an_empty_password():
    header = compat.basic_authorization("api_key_1")
    assert base64.b64decode(header.removeprefix("Basic ")) == b"api_key_1:"


# -- declared dependencies ---------------------------------------------------------------------


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement)[0]).lower()


def _imported_distributions(*folders: str) -> dict[str, str]:
    """The distributions that provide the third-party modules imported under ``folders``
    (``{distribution: "file: import"}``); the standard library and the suite's own packages
    are left out."""
    import ast
    from importlib.metadata import packages_distributions

    own = {"conformance", "strategies", "tests"}
    providers = packages_distributions()
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for top in {name.split(".")[0] for name in names}:
                    if top in sys.stdlib_module_names or top in own:
                        continue
                    for distribution in providers.get(top, [f"<nothing provides {top}>"]):
                        found.setdefault(_name(distribution), f"{path.relative_to(ROOT)}: {top}")
    return found


def test_every_package_the_suite_imports_is_a_declared_dependency():
    declared = {_name(spec) for spec in _project()["dependencies"]}
    missing = {
        distribution: where
        for distribution, where in _imported_distributions("conformance", "strategies").items()
        if distribution not in declared
    }
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"


def test_every_package_the_tests_import_is_declared_for_them():
    project = _project()
    declared = {
        _name(spec) for spec in project["dependencies"] + project["optional-dependencies"]["test"]
    }
    missing = {
        distribution: where
        for distribution, where in _imported_distributions("tests").items()
        if distribution not in declared
    }
    assert not missing, f"imported by tests but not declared (nor in [test]): {missing}"


def test_every_declared_dependency_has_an_upper_bound():
    project = _project()
    specs = project["dependencies"] + [
        spec for extra in project["optional-dependencies"].values() for spec in extra
    ]
    unbounded = [spec for spec in specs if "<" not in spec.replace("<=", "")]
    assert not unbounded, f"no upper bound on the major version: {unbounded}"


# -- asyncio: a thread's running loop -----------------------------------------------------------


def test_canary_within_running_loop_the_loop_is_the_running_one_and_none_after_it():
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        with compat.running_loop(loop):
            assert asyncio.get_running_loop() is loop
            assert asyncio.get_event_loop() is loop  # futures and Events bind to it
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()
    finally:
        loop.close()


def test_an_asyncio_without_its_running_loop_setter_fails_loudly(monkeypatch):
    import asyncio

    monkeypatch.delattr(asyncio.events, "_set_running_loop")
    loop = asyncio.new_event_loop()
    try:
        with (
            pytest.raises(UpstreamChanged, match=r"asyncio .*_set_running_loop"),
            compat.running_loop(loop),
        ):
            pass
    finally:
        loop.close()


# -- Hypothesis: the per-class setup of a state machine ----------------------------------------


def test_canary_hypothesis_keeps_every_state_machine_class_that_ran_until_it_is_forgotten():
    from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

    class Machine(RuleBasedStateMachine):
        @rule()
        def step(self):
            pass

    run_state_machine_as_test(
        Machine, settings=settings(max_examples=1, stateful_step_count=1, database=None)
    )
    per_class = RuleBasedStateMachine._setup_state_per_class
    assert Machine in per_class, "Hypothesis no longer keeps _setup_state_per_class"
    compat.forget_machine_class(Machine)
    assert Machine not in per_class


def test_a_run_leaves_no_state_machine_class_behind():
    from hypothesis.stateful import RuleBasedStateMachine

    from conformance.engine import run_target
    from conformance.profiles import Profile
    from conformance.target import embedded_target

    before = len(RuleBasedStateMachine._setup_state_per_class)
    run_target(embedded_target(), profile=Profile("tiny", 2, 3, 1), seed_value=1)
    assert len(RuleBasedStateMachine._setup_state_per_class) == before


def test_forgetting_fails_loudly_when_hypothesis_moves_its_record(monkeypatch):
    from hypothesis.stateful import RuleBasedStateMachine

    monkeypatch.delattr(RuleBasedStateMachine, "_setup_state_per_class")
    with pytest.raises(compat.UpstreamChanged, match="_setup_state_per_class"):
        compat.forget_machine_class(RuleBasedStateMachine)


# -- CPython 3.11: ast.parse in two threads at once --------------------------------------------


def test_within_the_block_ast_parse_is_serialised_and_after_it_is_the_plain_one_again():
    import ast

    plain = ast.parse
    with compat.serialised_ast_parse(), compat.serialised_ast_parse():
        assert ast.parse is not plain
        assert isinstance(ast.parse("x = 1"), ast.Module)
    assert ast.parse is plain
