"""The spec's vocabulary is written once, and it is the one both schemas give: the suite's
OpenAPI document and the official excerpt in docs/reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance import vocabulary

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {
    "suite": ROOT / "conformance" / "openapi" / "close-sms.yaml",
    "official": ROOT / "docs" / "reference" / "close-sms-schema.yaml",
}


def components(which: str) -> dict:
    return yaml.safe_load(SCHEMAS[which].read_text(encoding="utf-8"))["components"]["schemas"]


@pytest.mark.parametrize("which", sorted(SCHEMAS))
@pytest.mark.parametrize(
    ("schema", "values"),
    [
        ("MessageStatus", vocabulary.STATUSES),
        ("PhoneActivityDirection", vocabulary.DIRECTIONS),
        ("PhoneActivitySource", vocabulary.SOURCES),
    ],
)
def test_each_enum_is_the_schemas_in_the_schemas_order(which, schema, values):
    assert tuple(components(which)[schema]["enum"]) == values


def attachment_types(which: str) -> tuple[str, ...]:
    schemas = components(which)
    content_type = schemas["SMSAttachmentInput"]["properties"]["content_type"]
    if "$ref" in content_type:
        content_type = schemas[content_type["$ref"].rsplit("/", 1)[1]]
    return tuple(content_type["enum"])


@pytest.mark.parametrize("which", sorted(SCHEMAS))
def test_the_attachment_content_types_are_the_schemas(which):
    assert attachment_types(which) == vocabulary.ATTACHMENT_CONTENT_TYPES


def test_the_create_statuses_are_the_enum_without_error_which_no_rule_describes():
    assert tuple(s for s in vocabulary.STATUSES if s != "error") == vocabulary.CREATE_STATUSES
    assert set(vocabulary.SENDING) | set(vocabulary.LOGGED) | {"draft"} == set(
        vocabulary.CREATE_STATUSES
    )


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("+12015550123", True),
        ("+442071838750", True),
        ("+1", False),  # a country code alone
        ("12015550123", False),  # no +
        ("+02015550123", False),  # no country code starts with 0
        ("+1201555012345678", False),  # 16 digits
        ("+1 201 555 0123", False),
        (12015550123, False),
    ],
)
def test_e164_is_a_plus_then_up_to_fifteen_digits(number, e164):
    assert vocabulary.is_e164(number) is e164
