"""A target that implements only the SMS endpoints (a mock of the SMS API, as CI gates
use): the run goes as far as what the user names lets it, judges every rule it can, and
reports the others not-run naming the endpoint the target lacks.

The target is the reference server behind :class:`~conformance.refserver.sms_only.SmsOnly`
(404 outside ``/activity/sms/``); the lead, contact and internal number the user would name
are the server's own, made beforehand the way an account's owner would.
"""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_USAGE, main
from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.target import (
    ConfigurationError,
    GivenFixtures,
    Target,
    embedded_target,
)

from .hostile import BASE_URL, SECRET, HostileApi, hostile_target

TEMPLATE_RULES = ("sms/create/template-renders", "sms/create/template-and-text")


def sms_only_target(
    *,
    faults: tuple[str, ...] = (),
    lead: bool = True,
    contact: bool = True,
    local_phone: bool = True,
    user_id: bool = False,
) -> Target:
    """The reference server with only its SMS endpoints, and the fixtures named for it."""
    target = embedded_target(faults=faults, sms_only=True)
    server = target.server
    owner = server.client()  # the account's owner, straight to the server
    made = owner.post(
        "lead/",
        json={
            "name": "Acme",
            "contacts": [
                {"name": "Ada Lovelace", "phones": [{"type": "mobile", "phone": "+12015550123"}]}
            ],
        },
    ).json()
    me = owner.get("me/").json()
    target.given = GivenFixtures(
        lead_ids=(made["id"],) if lead else (),
        contact_ids=(made["contacts"][0]["id"],) if contact else (),
        local_phones=(server.orgs[0].internal_numbers[0],) if local_phone else (),
        user_id=me["id"] if user_id else None,
    )
    return target


def test_the_mock_answers_404_outside_the_sms_endpoints_and_serves_them():
    target = sms_only_target()
    http = target.api.http
    auth = httpx.BasicAuth(target.api.credentials.api_key, "")
    for path in ("me/", "phone_number/", "lead/", "sms_template/"):
        assert http.get(path, auth=auth).status_code == 404, path
    assert http.get("activity/sms/", auth=auth).status_code == 200
    target.close()


def test_discovery_notes_each_missing_endpoint_and_what_it_keeps_from_being_judged():
    target = sms_only_target()
    fixtures = target.discover()
    assert target.missing == {
        "GET /me/": 404,
        "GET /lead/{id}/": 404,
        "POST /sms_template/": 404,
    }
    assert fixtures.leads == ((target.given.lead_ids[0], target.given.contact_ids[0]),)
    assert fixtures.user_id is None and fixtures.template_id is None
    assert target.lacking["sms/list/filter-user-id"] == (
        "needs GET /me/ (the target answered 404) to learn the API key's user: give --user-id"
    )
    for rule in TEMPLATE_RULES:
        assert target.lacking[rule].startswith(
            "needs POST /sms_template/ (the target answered 404) to create a template"
        )
        assert "--template-id" in target.lacking[rule]
    assert target.created == []  # nothing to delete: the run made no fixture
    target.close()


def test_a_given_user_id_stands_in_for_get_me():
    target = sms_only_target(user_id=True)
    fixtures = target.discover()
    assert fixtures.user_id == target.given.user_id
    assert "sms/list/filter-user-id" not in target.lacking
    target.close()


@pytest.mark.parametrize(
    ("missing", "option"),
    [
        ({"lead": False, "contact": False}, "--lead-id"),
        ({"contact": False}, "--contact-id"),
        ({"local_phone": False}, "--local-phone"),
    ],
)
def test_without_what_every_sms_needs_discovery_is_a_configuration_error_naming_the_option(
    missing, option
):
    target = sms_only_target(**missing)
    with pytest.raises(ConfigurationError, match=option) as caught:
        target.discover()
    assert "404" in str(caught.value)
    target.close()


@pytest.mark.slow  # a quick run: ~10 s
def test_a_run_against_the_sms_endpoints_alone_passes_the_clean_server_naming_what_it_skipped():
    target = sms_only_target()
    report = run_target(target, profile=PROFILES["quick"], seed_value=1)
    assert report.verdict == "pass", report.reason
    rules = {rule.id: rule for rule in report.rules}
    assert not [rule.id for rule in report.rules if rule.status in ("fail", "warning")]
    for rule in (*TEMPLATE_RULES, "sms/list/filter-user-id"):
        assert rules[rule].status == "not-run"
    assert "needs GET /me/" in rules["sms/list/filter-user-id"].reason
    for rule in TEMPLATE_RULES:
        assert "needs POST /sms_template/" in rules[rule].reason
    # Rules on the SMS endpoints were judged: creates, reads, lists.
    for rule in ("sms/create/answers-200", "sms/get/returns-object", "sms/list/filter-lead-id"):
        assert rules[rule].status == "pass", rule


@pytest.mark.slow  # a quick run: ~10 s
def test_a_faulty_variant_on_an_sms_rule_is_still_caught_on_the_sms_endpoints_alone():
    target = sms_only_target(faults=("create-answers-201",))
    report = run_target(target, profile=PROFILES["quick"], seed_value=1)
    assert report.verdict == "fail", report.reason
    assert "sms/create/answers-200" in {failure.rule for failure in report.failures}


def sms_only(request: httpx.Request, reference) -> httpx.Response:
    if request.url.path.startswith("/api/v1/activity/sms/"):
        return reference(request)
    return httpx.Response(404, json={"error": "Not found"})


def test_run_against_an_sms_only_target_without_lead_id_exits_2_naming_the_option(
    tmp_path, monkeypatch
):
    api = HostileApi(sms_only, everywhere=True)
    with hostile_target(sms_only, monkeypatch, api=api) as hostile:
        result = CliRunner().invoke(
            main,
            [
                *("run", "--base-url", BASE_URL, "--api-key", SECRET, "--profile", "quick"),
                *("--local-phone", api.server.orgs[0].internal_numbers[0]),
                *("--report-dir", str(tmp_path)),
            ],
            catch_exceptions=False,
        )
    assert result.exit_code == EXIT_USAGE, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "POST /lead/ answered 404" in errors[0]
    assert "--lead-id" in errors[0]
    assert {request.url.path for request in hostile.requests} <= {
        "/api/v1/me/",
        "/api/v1/lead/",
    }


def test_run_against_an_sms_only_target_with_the_named_fixtures_gets_past_set_up(
    tmp_path, monkeypatch
):
    """Over HTTP, with --lead-id, --contact-id and --local-phone: the run sets up, spends its
    small request budget on the SMS endpoints (inconclusive, exit 3, for the budget alone),
    and the report names the endpoints behind the rules it could not judge."""
    api = HostileApi(sms_only, everywhere=True)
    made = api.as_customer(
        "POST", "lead/", {"name": "Acme", "contacts": [{"name": "Ada Lovelace"}]}
    ).json()
    with hostile_target(sms_only, monkeypatch, api=api) as hostile:
        result = CliRunner().invoke(
            main,
            [
                *("run", "--base-url", BASE_URL, "--api-key", SECRET, "--profile", "quick"),
                *("--lead-id", made["id"], "--contact-id", made["contacts"][0]["id"]),
                *("--local-phone", api.server.orgs[0].internal_numbers[0]),
                *("--max-requests", "40", "--seed", "1", "--report-dir", str(tmp_path)),
            ],
            catch_exceptions=False,
        )
    assert result.exit_code == 3, result.output
    assert "cannot set up fixtures" not in result.output
    assert "verdict: inconclusive - the request budget of 40 is spent" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    reasons = {rule["id"]: rule["reason"] for rule in report["rules"]}
    assert reasons["sms/list/filter-user-id"].startswith("needs GET /me/ (the target answered 404)")
    assert reasons["sms/create/template-renders"].startswith("needs POST /sms_template/")
    sms_requests = [r for r in hostile.requests if r.url.path.startswith("/api/v1/activity/sms/")]
    assert len(sms_requests) > 10


def test_a_given_template_that_cannot_be_read_is_not_used_naming_the_endpoint():
    target = sms_only_target()
    target.given = replace(target.given, template_id="smstmpl_given")
    fixtures = target.discover()
    assert fixtures.template_id is None
    assert target.lacking["sms/create/template-renders"] == (
        "needs GET /sms_template/{id}/ (the target answered 404) to read the text of "
        "--template-id smstmpl_given"
    )
    target.close()


def test_a_target_that_answers_404_on_the_sms_list_too_is_no_sms_api(monkeypatch):
    target = sms_only_target()
    send = target.api.send

    def nothing_anywhere(method, path, **kwargs):
        return send(method, "nowhere/" + path, **kwargs)

    monkeypatch.setattr(target.api, "send", nothing_anywhere)
    with pytest.raises(ConfigurationError, match="check --base-url") as caught:
        target.discover()
    assert str(caught.value).startswith("GET activity/sms/ answered 404, as GET /me/, GET")
    assert "GET /me/, GET /lead/{id}/" in str(caught.value)
    target.close()
