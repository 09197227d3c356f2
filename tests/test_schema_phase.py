"""The schemathesis-backed schema phase: the OpenAPI document, a clean run, faults caught."""

from __future__ import annotations

import json

import pytest
import schemathesis

from conformance.catalogue import CATALOGUE
from conformance.openapi import OPENAPI_PATH, SMS_PATHS, load_openapi
from conformance.schema_phase import CHECK_RULES, run_schema_phase
from conformance.target import embedded_target

SMALL = 5  # max_examples for the fast runs


def test_document_loads_as_openapi_31():
    document = load_openapi()
    assert OPENAPI_PATH.name == "close-sms.yaml"
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {
        "GET /activity/sms/",
        "POST /activity/sms/",
        "GET /activity/sms/{id}/",
        "PUT /activity/sms/{id}/",
        "DELETE /activity/sms/{id}/",
        "GET /me/",
        "GET /phone_number/",
        "POST /lead/",
        "GET /lead/{id}/",
        "POST /sms_template/",
        "GET /sms_template/{id}/",
    } <= labels
    for operation in operations:
        assert operation.definition.raw["responses"], operation.label


def test_create_answers_200_and_links_to_get_update_delete():
    create = load_openapi()["paths"]["/activity/sms/"]["post"]
    assert "200" in create["responses"] and "201" not in create["responses"]
    links = create["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"getSms", "updateSms", "deleteSms"}
    assert all(link["parameters"] == {"id": "$response.body#/id"} for link in links.values())


def test_request_bodies_accept_prose_fields_and_unknown_fields():
    schemas = load_openapi()["components"]["schemas"]
    create, update = schemas["CreateSMSActivity"], schemas["UpdateSMSActivity"]
    assert {"date_scheduled", "send_in"} <= create["properties"].keys()
    assert "date_scheduled" in update["properties"]
    assert "additionalProperties" not in create and "additionalProperties" not in update
    assert create["required"] == ["status"]


def test_sms_operations_document_the_general_status_codes():
    paths = load_openapi()["paths"]
    for path in SMS_PATHS:
        for method, operation in paths[path].items():
            if method == "parameters":
                continue
            assert {"400", "401", "404", "405", "415", "429"} <= operation["responses"].keys()


def test_every_mapped_rule_is_in_the_catalogue():
    for rule in CHECK_RULES.values():
        assert rule in CATALOGUE


@pytest.fixture
def clean_result():
    target = embedded_target()
    target.discover()
    try:
        yield run_schema_phase(target, seed=1, max_examples=SMALL), target
    finally:
        target.close()


def test_clean_server_gives_no_failures(clean_result):
    result, target = clean_result
    assert result.failures == []
    assert result.requests > 0
    rules = {finding.rule for finding in result.findings}
    assert {"protocol/no-5xx", "sms/object/schema", "protocol/invalid-input-rejected"} <= rules
    assert all(finding.ok for finding in result.findings)


def test_created_sms_are_deleted(clean_result):
    result, target = clean_result
    assert result.created
    for sms_id in result.created:
        exchange, _ = target.api.send("GET", f"activity/sms/{sms_id}/")
        assert exchange.response is not None and exchange.response.status_code == 404


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("non-string-text-500", "protocol/no-5xx"),
        ("not-found-html", "protocol/json-content-type"),
        ("users-missing", "sms/object/schema"),
        ("missing-credentials-accepted", "auth/missing-rejected"),
        ("create-answers-201", "protocol/documented-status-code"),
        ("unknown-status-draft", "protocol/invalid-input-rejected"),
    ],
)
def test_a_faulty_server_fails_the_mapped_rule(fault, rule):
    target = embedded_target(faults=[fault])
    target.discover()
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL)
    finally:
        target.close()
    assert rule in {failure.rule for failure in result.failures}
    assert any(not f.ok and f.rule == rule for f in result.findings)


def test_failures_never_hold_a_credential():
    target = embedded_target(faults=["missing-credentials-accepted", "non-string-text-500"])
    target.discover()
    secrets = target.api.credentials.secrets()
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL)
    finally:
        target.close()
    assert result.failures
    text = json.dumps([repr(failure) for failure in result.failures])
    for secret in secrets:
        assert secret not in text
    import base64

    for secret in secrets:
        assert base64.b64encode(f"{secret}:".encode()).decode() not in text
    for failure in result.failures:
        for step in failure.steps:
            assert "authorization" not in step.request.headers
