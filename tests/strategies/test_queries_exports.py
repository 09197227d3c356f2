"""List queries and the package surface generate and export what they promise."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument

import strategies
from conformance.fixtures import Fixtures
from strategies import DATE_FILTERS, ListQuery, list_queries

FIXTURES = Fixtures(
    organization_id="orga_test",
    user_id="user_test",
    internal_phones=("+16505550001",),
    external_phones=(),
    leads=(("lead_first", "cont_first"), ("lead_second", "cont_second")),
    contact_first_name="Ann",
    template_id="smstmpl_known",
    template_text="Hi {{ contact.first_name }}",
    rendered_template="Hi Ann",
)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REFERENCES = (datetime(2026, 3, 1, 11, 59, 30, 123456, tzinfo=UTC), NOW)
KNOWN_IDS = ("acti_a", "acti_b", "acti_c")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_filter_value(value: str) -> datetime:
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@FAST
@given(list_queries(FIXTURES, known_ids=KNOWN_IDS, reference_dates=REFERENCES))
def test_list_queries_use_only_documented_parameters_with_sensible_values(query):
    assert isinstance(query, ListQuery)
    params = query.params
    allowed = {"lead_id", "contact_id", "user_id", "id__in", "_skip", "_limit", "_fields"}
    assert set(params) <= allowed | set(DATE_FILTERS)
    assert set(params.get("id__in", "acti_a").split(",")) <= set(KNOWN_IDS)
    assert set(params.get("lead_id", "lead_first").split(",")) <= {"lead_first", "lead_second"}
    assert 0 <= params.get("_skip", 0) <= 20
    assert 1 <= params.get("_limit", 1) <= 20
    for name in DATE_FILTERS:
        if name in params:
            value = _parse_filter_value(params[name])
            assert any(abs(value - ref) <= timedelta(days=3) for ref in REFERENCES)
    if query.tz_offset is not None:
        assert -12 <= float(query.tz_offset) <= 14


def test_list_queries_hit_a_reference_date_exactly_with_an_offset():
    query = find(
        list_queries(FIXTURES, reference_dates=REFERENCES),
        lambda q: any(
            name in q.params
            and "+" in q.params[name][10:]
            and _parse_filter_value(q.params[name]) in REFERENCES
            for name in DATE_FILTERS
        ),
    )
    assert query.params


def test_list_queries_without_reference_dates_have_no_date_filters():
    query = find(
        list_queries(FIXTURES),
        lambda q: len(q.params) >= 5,
        settings=settings(database=None),
    )
    assert not set(query.params) & set(DATE_FILTERS)
    assert "id__in" not in query.params


def test_list_queries_shrink_to_no_parameters_and_no_header():
    assert find(list_queries(FIXTURES, reference_dates=REFERENCES), lambda q: True) == ListQuery(
        params={}, tz_offset=None
    )


def test_list_queries_reject_naive_reference_dates():
    with pytest.raises(InvalidArgument):
        list_queries(FIXTURES, reference_dates=[NOW.replace(tzinfo=None)])


def test_the_package_exports_exactly_its_public_names():
    public = {name for name in vars(strategies) if not name.startswith("_")}
    assert set(strategies.__all__) == public
    assert len(strategies.__all__) == len(set(strategies.__all__))


@pytest.mark.parametrize("name", strategies.__all__)
def test_every_public_name_is_documented(name):
    obj = getattr(strategies, name)
    if callable(obj):
        assert inspect.getdoc(obj), f"{name} has no docstring"
    if inspect.isfunction(obj):
        doc = inspect.getdoc(obj)
        assert "generates" in doc and "hrink" in doc, f"{name} must say what and how it shrinks"
        params = list(inspect.signature(obj).parameters.values())
        defaults = [p for p in params if p.default is not inspect.Parameter.empty]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in defaults)


def test_list_queries_filter_by_user_id_only_when_the_user_is_known():
    find(list_queries(FIXTURES), lambda query: "user_id" in query.params)
    unknown = replace(FIXTURES, user_id=None)

    @settings(max_examples=100, deadline=None)
    @given(query=list_queries(unknown))
    def never_by_user(query):
        assert "user_id" not in query.params

    never_by_user()
