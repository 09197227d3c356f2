"""Sanity tests of the rule catalogue, in the spirit of JSON-Schema-Test-Suite's SanityTests."""

from __future__ import annotations

import textwrap
from dataclasses import FrozenInstanceError

import pytest

from conformance.catalogue import (
    CATALOGUE,
    Catalogue,
    CatalogueError,
    Level,
    Rule,
    UnknownRule,
    load_catalogue,
)

SOURCE = """
[sources.D-create]
title = "Create an SMS activity"
url = "https://developer.close.com/api/resources/activities/sms/create"
"""

VALID_RULE = """
[[rule]]
id = "sms/create/status-draft"
level = "MUST"
statement = "A create with status draft MUST be answered 200."
section = "1.3 Create, rule 1"
source = "D-create"
quote = "create a draft"
"""


def catalogue_text(*rules: str, sources: str = SOURCE) -> str:
    return textwrap.dedent(sources) + "".join(textwrap.dedent(rule) for rule in rules)


def rule_with(**changes: str) -> str:
    """Return VALID_RULE with the given keys replaced (a value of "" drops the key)."""
    lines = []
    for line in textwrap.dedent(VALID_RULE).splitlines():
        key = line.split(" = ", 1)[0]
        if key in changes:
            if changes[key] == "":
                continue
            line = f"{key} = {changes.pop(key)}"
        lines.append(line)
    lines.extend(f"{key} = {value}" for key, value in changes.items() if value)
    return "\n".join(lines) + "\n"


# --- The packaged catalogue -------------------------------------------------------------------


def test_packaged_catalogue_loads_and_is_not_empty():
    assert isinstance(CATALOGUE, Catalogue)
    assert len(CATALOGUE) > 0


def test_rule_ids_are_unique():
    ids = CATALOGUE.ids()
    assert len(ids) == len(set(ids)) == len(CATALOGUE)


def test_every_quote_and_statement_is_non_empty():
    for rule in CATALOGUE.values():
        assert rule.quote.strip(), rule.id
        assert rule.statement.strip(), rule.id
        assert rule.section.strip(), rule.id


def test_every_level_is_known():
    assert {rule.level for rule in CATALOGUE.values()} <= set(Level)


def test_every_source_has_an_https_url():
    for source in CATALOGUE.sources.values():
        assert source.url.startswith("https://"), source.key
        assert source.title.strip(), source.key


def test_every_source_is_cited_by_a_rule():
    cited = {rule.source.key for rule in CATALOGUE.values()}
    assert cited == set(CATALOGUE.sources)


def test_statements_use_the_modal_of_their_level():
    for rule in CATALOGUE.values():
        if rule.level is Level.UNSPECIFIED:
            assert rule.statement.endswith("observed behaviour is reported."), rule.id
        else:
            assert rule.level.value in rule.statement, rule.id


def test_statements_are_one_line_and_never_say_should_or_test_that():
    for rule in CATALOGUE.values():
        assert "\n" not in rule.statement, rule.id
        assert " should " not in rule.statement, rule.id
        assert "test that" not in rule.statement.lower(), rule.id


def test_untested_is_only_set_with_a_reason():
    for rule in CATALOGUE.values():
        assert rule.untested is None or rule.untested.strip(), rule.id


@pytest.mark.parametrize("status", ["inbox", "draft", "scheduled", "outbox", "sent"])
def test_each_create_status_has_a_rule(status):
    rule = CATALOGUE[f"sms/create/status-{status}"]
    assert rule.level is Level.MUST
    assert status in rule.statement


def test_rule_url_is_its_source_url():
    rule = CATALOGUE["sms/create/scheduled-requires-date-scheduled"]
    assert rule.url == rule.source.url == CATALOGUE.sources["D-create"].url


def test_rules_are_frozen():
    rule = next(iter(CATALOGUE.values()))
    with pytest.raises(FrozenInstanceError):
        rule.id = "other/id"  # type: ignore[misc]


# --- Lookup ------------------------------------------------------------------------------------


def test_unknown_id_lookup_suggests_the_close_match():
    with pytest.raises(UnknownRule) as excinfo:
        CATALOGUE["sms/create/status-drafts"]
    assert isinstance(excinfo.value, KeyError)
    assert "sms/create/status-draft" in excinfo.value.suggestions
    assert "sms/create/status-draft" in str(excinfo.value)


def test_unknown_id_without_a_close_match_has_no_suggestion():
    with pytest.raises(UnknownRule) as excinfo:
        CATALOGUE["zzz/qqq"]
    assert excinfo.value.suggestions == []


def test_contains_and_iteration_follow_file_order():
    catalogue = load_catalogue(catalogue_text(VALID_RULE, rule_with(id='"sms/create/a-second"')))
    assert list(catalogue) == ["sms/create/status-draft", "sms/create/a-second"]
    assert "sms/create/a-second" in catalogue
    assert "sms/create/absent" not in catalogue
    assert len(catalogue) == 2


def test_by_prefix_matches_whole_segments_only():
    catalogue = load_catalogue(
        catalogue_text(
            VALID_RULE,
            rule_with(id='"sms/created/other"'),
            rule_with(id='"sms/update/partial"'),
        )
    )
    assert [r.id for r in catalogue.by_prefix("sms/create")] == ["sms/create/status-draft"]
    assert [r.id for r in catalogue.by_prefix("sms/")] == [
        "sms/create/status-draft",
        "sms/created/other",
        "sms/update/partial",
    ]
    assert catalogue.by_prefix("auth") == []


def test_a_valid_rule_loads_with_its_source():
    rule = load_catalogue(catalogue_text(VALID_RULE))["sms/create/status-draft"]
    assert isinstance(rule, Rule)
    assert rule.level is Level.MUST
    assert rule.source.key == "D-create"
    assert rule.untested is None


def test_untested_reason_is_loaded():
    text = catalogue_text(rule_with(untested='"not observable"'))
    assert load_catalogue(text)["sms/create/status-draft"].untested == "not observable"


def test_needs_and_paraphrase_are_loaded_and_default_to_none():
    rule = load_catalogue(catalogue_text(VALID_RULE))["sms/create/status-draft"]
    assert (rule.needs, rule.paraphrase) == ((), False)
    text = catalogue_text(rule_with(needs='["send"]', paraphrase="true"))
    rule = load_catalogue(text)["sms/create/status-draft"]
    assert (rule.needs, rule.paraphrase) == (("send",), True)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [("needs", '["sned"]', "'needs' must be a list of"), ("paraphrase", '"yes"', "true or false")],
)
def test_a_need_or_a_paraphrase_flag_the_catalogue_does_not_know_is_rejected(key, value, says):
    assert_rejected(catalogue_text(rule_with(**{key: value})), "sms/create/status-draft", says)


def test_every_rule_about_sending_needs_send_and_every_isolation_rule_a_second_key():
    for rule in CATALOGUE.values():
        if rule.id.startswith("sms/send/"):
            assert "send" in rule.needs, rule.id
        if rule.id.startswith("isolation/"):
            assert "second-api-key" in rule.needs, rule.id


# --- load_catalogue error cases ------------------------------------------------------------------


def assert_rejected(text: str, *fragments: str) -> None:
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(text)
    for fragment in fragments:
        assert fragment in str(excinfo.value)


def test_duplicate_id_is_rejected():
    assert_rejected(catalogue_text(VALID_RULE, VALID_RULE), "sms/create/status-draft", "duplicate")


def test_unknown_level_is_rejected():
    assert_rejected(catalogue_text(rule_with(level='"MAY"')), "sms/create/status-draft", "'MAY'")


def test_lower_case_level_is_rejected():
    assert_rejected(catalogue_text(rule_with(level='"must"')), "unknown level")


def test_unknown_source_is_rejected():
    assert_rejected(catalogue_text(rule_with(source='"D-nowhere"')), "status-draft", "D-nowhere")


@pytest.mark.parametrize("key", ["quote", "statement"])
def test_empty_quote_or_statement_is_rejected(key):
    assert_rejected(catalogue_text(rule_with(**{key: '"  "'})), "status-draft", key)


@pytest.mark.parametrize("key", ["id", "level", "statement", "section", "source", "quote"])
def test_missing_field_is_rejected(key):
    assert_rejected(catalogue_text(rule_with(**{key: ""})), key)


@pytest.mark.parametrize(
    "rule_id",
    ["sms", "Sms/create/draft", "sms/create/", "/sms/create", "sms//create", "sms/create/a_b"],
)
def test_malformed_id_is_rejected(rule_id):
    assert_rejected(catalogue_text(rule_with(id=f'"{rule_id}"')), "malformed id", rule_id)


def test_unknown_key_in_a_rule_is_rejected():
    assert_rejected(catalogue_text(rule_with(severity='"high"')), "status-draft", "severity")


def test_unknown_key_in_a_source_is_rejected():
    sources = SOURCE + 'kind = "official"\n'
    assert_rejected(catalogue_text(VALID_RULE, sources=sources), "D-create", "kind")


def test_source_without_https_url_is_rejected():
    sources = SOURCE.replace("https://", "http://")
    assert_rejected(catalogue_text(VALID_RULE, sources=sources), "D-create", "https://")


def test_statement_with_lower_case_should_is_rejected():
    statement = '"A create with status draft should be answered 200."'
    assert_rejected(catalogue_text(rule_with(statement=statement)), "status-draft", "should")


def test_statement_with_test_that_is_rejected():
    statement = '"Check and test that a create MUST be answered 200."'
    assert_rejected(catalogue_text(rule_with(statement=statement)), "status-draft", "test that")


def test_invalid_toml_is_rejected():
    assert_rejected("[[rule]\nid = ", "not valid TOML")


def test_unknown_top_level_key_is_rejected():
    assert_rejected(catalogue_text(VALID_RULE) + "\n[extra]\nx = 1\n", "extra")


# --- Open points ------------------------------------------------------------------------------

VALID_POINT = """
[[open_point]]
id = "empty-send"
question = "Whether an empty SMS may be sent."
section = "6 Open questions, 1"
source = "D-create"
quote = "`text` | string or null | no"
default = "accept"
rules = ["sms/create/status-draft"]

[open_point.alternatives]
accept = "accepted"
reject = "answered 400"
"""


def test_every_packaged_open_point_names_its_sentence_and_two_readings_or_more():
    assert CATALOGUE.open_points
    for point in CATALOGUE.open_points.values():
        assert point.quote and point.question and point.source.url.startswith("https://")
        assert len(point.alternatives) >= 2 and point.default in point.alternatives
        assert all(rule in CATALOGUE for rule in point.rules)


def test_a_valid_open_point_loads_with_its_alternatives():
    point = load_catalogue(catalogue_text(VALID_RULE, VALID_POINT)).open_points["empty-send"]
    assert point.default == "accept"
    assert dict(point.alternatives) == {"accept": "accepted", "reject": "answered 400"}
    assert point.rules == ("sms/create/status-draft",)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('default = "accept"', 'default = "maybe"'), "default 'maybe' is not one of"),
        (('reject = "answered 400"\n', ""), "two or more"),
        (('rules = ["sms/create/status-draft"]', 'rules = ["sms/create/status-drafts"]'),
         "did you mean 'sms/create/status-draft'"),
        (('source = "D-create"\nquote', 'source = "D-nope"\nquote'), "unknown source 'D-nope'"),
        (('id = "empty-send"', 'id = "Empty Send"'), "malformed id"),
        (('quote = "`text` | string or null | no"\n', ""), "'quote' is missing"),
        (('default = "accept"', 'default = "accept"\ncolour = "red"'), "unknown key"),
    ],
)  # fmt: skip
def test_a_malformed_open_point_is_rejected_naming_the_fix(change, says):
    old, new = change
    text = textwrap.dedent(VALID_POINT)
    assert old in text
    with pytest.raises(CatalogueError, match=says):
        load_catalogue(catalogue_text(VALID_RULE, text.replace(old, new)))


def test_a_duplicate_open_point_is_rejected():
    with pytest.raises(CatalogueError, match="duplicate id"):
        load_catalogue(catalogue_text(VALID_RULE, VALID_POINT, VALID_POINT))


# --- Boundaries -------------------------------------------------------------------------------


def test_boundaries_are_loaded_in_order_and_default_to_none():
    rule = load_catalogue(catalogue_text(VALID_RULE))["sms/create/status-draft"]
    assert rule.boundaries == ()
    text = catalogue_text(rule_with(boundaries='["send_in=59", "send_in=0"]'))
    rule = load_catalogue(text)["sms/create/status-draft"]
    assert rule.boundaries == ("send_in=59", "send_in=0")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('["send_in=59", "send_in=59"]', "'send_in=59' is listed twice"),
        ('"send_in=59"', "'boundaries' must be a list of names"),
        ("[59]", "'boundaries' must be a list of names"),
        ('[""]', "non-empty name"),
        ('[" send_in=59"]', "no leading or trailing spaces"),
    ],
)
def test_a_duplicate_empty_or_mistyped_boundary_is_rejected(value, says):
    assert_rejected(catalogue_text(rule_with(boundaries=value)), "sms/create/status-draft", says)


def test_an_untested_rule_may_list_no_boundary():
    text = catalogue_text(rule_with(boundaries='["send_in=59"]', untested='"not observable"'))
    assert_rejected(text, "sms/create/status-draft", "no boundary a check can reach")


def test_the_rules_issue_13_names_list_their_boundaries():
    listed = {rule.id: rule.boundaries for rule in CATALOGUE.values()}
    assert {"send_in=0", "send_in=59"} <= set(listed["sms/create/send-in-accepted"])
    assert "send_in=60" in listed["sms/create/send-in-below-60"]
    assert "__gt exactly at an SMS's date" in listed["sms/list/filter-date-created"]
    assert "a page exactly full" in listed["sms/list/pagination"]
    assert "a cancel in the last second before due" in listed["sms/update/cancel-scheduled"]
