"""Strategies the state machine draws at every step are built once per arguments: a strategy
built afresh is validated afresh, which cost the engine more than the draws themselves."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis.errors import InvalidArgument

from strategies import (
    attachments,
    create_payloads,
    datetimes_with_offsets,
    e164_numbers,
    invalid_attachments,
    invalid_create_payloads,
    malformed_phone_numbers,
    texts,
    tz_offsets,
    update_payloads,
)
from tests.strategies.test_payloads import FIXTURES, NOW

BUILT_TWICE = {
    "texts": lambda: texts(),
    "texts(edge_whitespace)": lambda: texts(edge_whitespace=True),
    "attachments": lambda: attachments(min_size=1),
    "datetimes_with_offsets": lambda: datetimes_with_offsets(min_value=NOW, max_value=NOW),
    "e164_numbers": e164_numbers,
    "malformed_phone_numbers": malformed_phone_numbers,
    "tz_offsets": tz_offsets,
    "invalid_attachments": invalid_attachments,
    "create_payloads": lambda: create_payloads(FIXTURES, now=NOW, status="draft"),
    "update_payloads": lambda: update_payloads(FIXTURES, now=NOW),
    "invalid_create_payloads": lambda: invalid_create_payloads(FIXTURES, now=NOW),
}


@pytest.mark.parametrize("name", BUILT_TWICE)
def test_the_same_arguments_give_the_same_strategy_object(name):
    build = BUILT_TWICE[name]
    assert build() is build()


def test_other_arguments_give_another_strategy():
    assert texts() is not texts(fidelity=False)
    assert attachments(min_size=1) is not attachments()
    assert create_payloads(FIXTURES, now=NOW) is not create_payloads(
        FIXTURES, now=NOW + timedelta(seconds=1)
    )
    other = replace(FIXTURES, internal_phones=FIXTURES.internal_phones[:1])
    assert create_payloads(FIXTURES, now=NOW) is not create_payloads(other, now=NOW)


def test_arguments_are_still_checked_before_anything_is_reused():
    with pytest.raises(InvalidArgument):
        texts(fidelity="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        attachments(min_size=2, max_size=1)
    with pytest.raises(InvalidArgument):
        create_payloads(FIXTURES, now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidArgument):
        create_payloads(FIXTURES, now=NOW, status="error")
