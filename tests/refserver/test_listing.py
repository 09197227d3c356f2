"""GET /activity/sms/: filters at their boundaries, x-tz-offset, pagination, _fields."""

from __future__ import annotations

import pytest


def ids(response):
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


@pytest.fixture
def three_days(make_sms, clock):
    """Three SMS created at 12:00 on Jan 1, 2 and 3 (UTC), newest first."""
    made = []
    for _ in range(3):
        made.append(make_sms())
        clock.advance(86400)
    return made[::-1]


def test_list_is_newest_first(client, three_days):
    assert ids(client.get("activity/sms/")) == [s["id"] for s in three_days]


@pytest.mark.parametrize(
    ("op", "expected"), [("gt", [0]), ("gte", [0, 1]), ("lt", [2]), ("lte", [1, 2])]
)
def test_date_created_filters_at_an_exact_date_created(client, three_days, op, expected):
    at = three_days[1]["date_created"]
    response = client.get("activity/sms/", params={f"date_created__{op}": at})
    assert ids(response) == [three_days[i]["id"] for i in expected]


def test_activity_at_filters_use_activity_at(client, make_sms):
    old = make_sms(activity_at="2020-01-01T00:00:00Z")
    new = make_sms()
    assert ids(client.get("activity/sms/", params={"activity_at__lt": "2021-01-01"})) == [old["id"]]
    assert ids(client.get("activity/sms/", params={"activity_at__gte": "2021-01-01"})) == [
        new["id"]
    ]


def test_x_tz_offset_shifts_a_bare_datetime(client, three_days):
    # 08:00 at -4 is 12:00 UTC: exactly the second SMS's date_created.
    params = {"date_created__gte": "2026-01-02T08:00:00"}
    assert len(ids(client.get("activity/sms/", params=params, headers={"x-tz-offset": "-4"}))) == 2
    params = {"date_created__gte": "2026-01-02T08:00:01"}
    assert len(ids(client.get("activity/sms/", params=params, headers={"x-tz-offset": "-4"}))) == 1


def test_x_tz_offset_shifts_a_bare_date(client, make_sms, clock):
    clock.advance(11.5 * 3600)  # 2026-01-01T23:30Z, already Jan 2 at +5.5
    sms = make_sms()
    params = {"date_created__gte": "2026-01-02"}
    assert ids(client.get("activity/sms/", params=params)) == []
    assert ids(client.get("activity/sms/", params=params, headers={"x-tz-offset": "5.5"})) == [
        sms["id"]
    ]


def test_an_explicit_offset_beats_x_tz_offset(client, three_days):
    params = {"date_created__gte": "2026-01-02T12:00:00+00:00"}
    assert len(ids(client.get("activity/sms/", params=params, headers={"x-tz-offset": "9"}))) == 2


def test_minus_zero_tz_offset_is_utc(client, three_days):
    params = {"date_created__gt": "2026-01-02T12:00:00"}
    assert (
        len(ids(client.get("activity/sms/", params=params, headers={"x-tz-offset": "-0.0"}))) == 1
    )


def test_filters_by_lead_contact_user_and_id(client, make_sms, make_lead):
    one, two = make_lead("One"), make_lead("Two")
    a = make_sms(lead_id=one["id"])
    b = make_sms(contact_id=two["contacts"][0]["id"])
    c = make_sms()
    assert ids(client.get("activity/sms/", params={"lead_id": one["id"]})) == [a["id"]]
    both = f"{one['id']},{two['id']}"
    assert set(ids(client.get("activity/sms/", params={"lead_id": both}))) == {a["id"], b["id"]}
    contact = two["contacts"][0]["id"]
    assert ids(client.get("activity/sms/", params={"contact_id": contact})) == [b["id"]]
    assert len(ids(client.get("activity/sms/", params={"user_id": "user_reference_a"}))) == 3
    assert ids(client.get("activity/sms/", params={"user_id": "user_other"})) == []
    assert set(ids(client.get("activity/sms/", params={"id__in": f"{a['id']},{c['id']}"}))) == {
        a["id"],
        c["id"],
    }


def test_pagination_walk_has_no_duplicates_or_gaps(client, make_sms, clock):
    made = []
    for index in range(23):
        made.append(make_sms(text=str(index))["id"])
        if index % 3 == 0:
            clock.advance(1)  # leave some ties on date_created
    seen, skip = [], 0
    while True:
        page = client.get("activity/sms/", params={"_skip": skip, "_limit": 5}).json()
        seen += [item["id"] for item in page["data"]]
        skip += 5
        if not page["has_more"]:
            break
        assert len(page["data"]) == 5
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen)) == 23


def test_has_more_is_false_on_an_exactly_full_last_page(client, make_sms):
    for _ in range(4):
        make_sms()
    assert client.get("activity/sms/", params={"_limit": 4}).json()["has_more"] is False
    assert client.get("activity/sms/", params={"_limit": 3}).json()["has_more"] is True


def test_default_limit_is_100(client, make_sms):
    for _ in range(101):
        make_sms()
    page = client.get("activity/sms/").json()
    assert (len(page["data"]), page["has_more"]) == (100, True)


@pytest.mark.parametrize(
    ("param", "value"),
    [("_limit", "101"), ("_limit", "-1"), ("_limit", "ten"), ("_skip", "-3"), ("_skip", "1.5")],
)
def test_bad_pagination_values_are_rejected_naming_the_param(client, field_errors, param, value):
    assert param in field_errors(client.get("activity/sms/", params={param: value}))


@pytest.mark.parametrize("param", ["date_created__gt", "activity_at__lte"])
def test_bad_date_filters_are_rejected(client, field_errors, param):
    assert param in field_errors(client.get("activity/sms/", params={param: "last week"}))


def test_bad_x_tz_offset_is_rejected(client, field_errors):
    assert "x-tz-offset" in field_errors(client.get("activity/sms/", headers={"x-tz-offset": "z"}))


def test_unknown_params_are_ignored(client, make_sms):
    make_sms()
    assert len(ids(client.get("activity/sms/", params={"colour": "red", "_type": "Call"}))) == 1


def test_fields_trims_list_items_and_get_one(client, make_sms):
    sms = make_sms()
    page = client.get("activity/sms/", params={"_fields": "id,text,nope"}).json()
    assert page["data"] == [{"id": sms["id"], "text": "hi"}]
    one = client.get(f"activity/sms/{sms['id']}/", params={"_fields": "status"}).json()
    assert one == {"status": "draft"}
